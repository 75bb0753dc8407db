"""argon2id password hashing, with a bound on how many hashes run at once.

One verification costs tens of milliseconds and tens of MiB: an unbounded burst of logins
would exhaust memory, so at most ``max_concurrent`` run together; the others wait.
"""

from __future__ import annotations

import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
        max_concurrent: int = 4,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @classmethod
    def fast_for_tests(cls) -> Argon2Hasher:
        """Real argon2id with tiny parameters: for test suites, never for production."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        with self._slots:
            try:
                return self._hasher.verify(stored_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
