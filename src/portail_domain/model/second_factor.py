"""The staff's second factor: TOTP codes (RFC 6238) and single-use recovery codes.

The check is written here with the standard library (HMAC-SHA1, 30-second steps, 6 digits,
RFC 4226 dynamic truncation), so the domain depends on no OTP package and reads the time from
the Clock port; the web layer uses ``pyotp`` for the ``otpauth://`` URI the phone scans, and the
tests check this code against ``pyotp``'s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from datetime import datetime

from . import errors
from .accounts import hash_token, normalise_code

STEP_SECONDS = 30
DIGITS = 6
TOLERANCE = 1  # steps either side of now: a phone's clock a little off still works
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
RECOVERY_LENGTH = 10  # 50 bits each
_TOTP_SHAPE = re.compile(r"[0-9]{6}")


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def new_secret(random_bytes: bytes) -> str:
    """A base32 TOTP secret (what authenticator apps take) from ``SECRET_BYTES`` random bytes."""
    return base64.b32encode(random_bytes[:SECRET_BYTES]).decode("ascii").rstrip("=")


def totp_at(secret: str, step: int) -> str:
    """The code of ``step`` for ``secret`` (RFC 6238 with SHA-1, 6 digits)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` is valid for (now ± ``TOLERANCE``), never one at or before ``last_step``
    (a code seen once is dead, and so are older ones); None when it matches none."""
    if not _TOTP_SHAPE.fullmatch(code):
        return None
    current = time_step(now)
    for step in range(current - TOLERANCE, current + TOLERANCE + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp_at(secret, step), code):
            return step
    return None


def looks_like_totp(code: str) -> bool:
    """Six digits once spaces are gone (``123 456``): a TOTP code; anything else is tried as a recovery code."""
    return _TOTP_SHAPE.fullmatch(code.replace(" ", "")) is not None


def recovery_code(random_bytes: bytes) -> str:
    """A recovery code, grouped for reading (``ABCDE-FGHJK``), from ``RECOVERY_LENGTH`` random bytes."""
    letters = "".join(RECOVERY_ALPHABET[b % len(RECOVERY_ALPHABET)] for b in random_bytes[:RECOVERY_LENGTH])
    return f"{letters[:5]}-{letters[5:]}"


def hash_recovery_code(code: str) -> str:
    """The stored form: case, spaces and dashes do not matter when it is typed back."""
    return hash_token("recovery|" + normalise_code(code))


class SecondFactorFailed(errors.DomainError):
    """A wrong, reused or expired code (one answer for all)."""

    code = "second_factor_failed"


class NotEnrolled(errors.DomainError):
    """The member has no second factor yet: they enrol first."""

    code = "not_enrolled"
