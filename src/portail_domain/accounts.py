"""Subscribers (abonnés), staff users and what identifies them."""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
import uuid
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from . import errors
from .throttling import PER_CLIENT, PER_EMAIL, client_key, email_key
from .values import EmailAddress, normalise_email

if TYPE_CHECKING:
    from .ports import Clock, PasswordHasher, Secrets, UnitOfWork, UnitOfWorkFactory


class Language(enum.StrEnum):
    FR = "fr"
    EN = "en"


@attrs.define(eq=False)
class Subscriber:
    """A subscriber of the utility, as the billing system knows them."""

    number: str  # numéro d'abonné, printed on every bill: not a secret
    name: str
    email: EmailAddress | None = None  # the e-mail on file: the only one that ever gets a link
    phone: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    language: Language = Language.FR
    paperless: bool = False  # facture électronique
    activation_code_hash: str | None = None  # a utility-issued random code, hashed
    # The e-mail the billing system sent last, as it sent it ("" when its cell was empty; None
    # before any import carried an e-mail): an import applies the file's e-mail only when it
    # differs from this one, so a change the subscriber made on the portal is not reverted.
    billing_email: str | None = None
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


@attrs.define(eq=False)
class StaffUser:
    """A member of the utility's staff: separate from subscribers."""

    email: EmailAddress
    name: str
    role: StaffRole = StaffRole.AGENT
    active: bool = True
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


@attrs.define(eq=False)
class Account:
    """Login credentials of a subscriber or a staff user (exactly one of the two)."""

    password_hash: str
    created_at: datetime
    subscriber_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    password_changed_at: datetime | None = None
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def is_staff(self) -> bool:
        return self.staff_id is not None


SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
SESSION_TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most once a minute


@attrs.define(eq=False)
class WebSession:
    """A server-side login session. Only a hash of its token is stored."""

    token_hash: str
    account_id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    user_agent: str = ""
    ip: str = ""

    def alive(self, now: datetime) -> bool:
        return now - self.last_seen_at <= SESSION_IDLE and now - self.created_at <= SESSION_ABSOLUTE

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= SESSION_TOUCH_EVERY


def hash_token(token: str) -> str:
    """Tokens (session ids, e-mailed links) are stored as SHA-256: a database leak gives none."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """Activation codes are compared without case, spaces or dashes (``ab12-cd34`` = ``AB12CD34``)."""
    return re.sub(r"[\s\-_.]", "", code).upper()


def hash_activation_code(code: str) -> str:
    """The stored form of a utility-issued activation code (import and checks use this)."""
    return hash_token("activation|" + normalise_code(code))


class LoginFailed(errors.DomainError):
    """One generic error for a wrong e-mail, a wrong password or an account not activated."""

    code = "login_failed"


class LoginThrottled(LoginFailed):
    """Too many failures for this e-mail or this client: try again later (``retry_after`` seconds).

    Keyed on the typed e-mail whether or not an account has it, so it tells nothing either."""

    code = "login_throttled"

    def __init__(self, *, retry_after: int, blocked: bool, key: str) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after
        self.blocked = blocked
        self.key = key


@attrs.frozen
class Identity:
    """Who a live session belongs to."""

    account: Account
    subscriber: Subscriber | None
    staff: StaffUser | None
    session: WebSession


def find_account_for_login(uow: UnitOfWork, email: str) -> Account | None:
    """The account whose login e-mail matches (subscriber first, then staff), or None."""
    normalised = normalise_email(email)
    for subscriber in uow.subscribers.by_email(normalised):
        account = uow.accounts.for_subscriber(subscriber.id)
        if account is not None:
            return account
    staff = uow.staff.by_email(normalised)
    if staff is not None and staff.active:
        return uow.accounts.for_staff(staff.id)
    return None


# A real hash of a throwaway password: verifying against it costs what a real check costs,
# so a wrong e-mail takes as long as a wrong password. Hashed once per hasher, not per login
# (hashing then verifying would make unknown addresses twice as slow, which is a tell).
_DUMMY_PASSWORD = "not-a-real-password-" + "x" * 16
_dummy_hashes: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _dummy_hash(passwords: PasswordHasher) -> str:
    stored = _dummy_hashes.get(passwords)
    if stored is None:
        stored = _dummy_hashes[passwords] = passwords.hash(_DUMMY_PASSWORD)
    return stored


def authenticate(uow: UnitOfWork, passwords: PasswordHasher, email: str, password: str) -> Account:
    """Check an e-mail and password; raise ``LoginFailed`` (never saying which was wrong)."""
    account = find_account_for_login(uow, email)
    if account is None:
        passwords.verify(_dummy_hash(passwords), password)
        raise LoginFailed()
    if not passwords.verify(account.password_hash, normalise_password(password)):
        raise LoginFailed()
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(normalise_password(password))
        uow.accounts.update(account)
    return account


def normalise_password(password: str) -> str:
    """Passwords are compared after NFKC, so the same characters typed on two keyboards match."""
    return unicodedata.normalize("NFKC", password)


def open_session(
    uow: UnitOfWork, secrets: Secrets, clock: Clock, account: Account, *, user_agent: str = "", ip: str = ""
) -> str:
    """Start a session for ``account``; returns the token for the cookie (never stored)."""
    token = secrets.token(32)
    now = clock.now()
    uow.sessions.add(
        WebSession(hash_token(token), account.id, now, now, user_agent=user_agent[:200], ip=ip[:45])
    )
    return token


def resolve_session(uow: UnitOfWork, clock: Clock, token: str) -> Identity | None:
    """The identity behind a session token, or None if unknown, expired or revoked.

    Removes a dead session and writes the last-seen time when it is due: run it in a writing
    unit of work (``identify`` does, only when needed)."""
    identity = uow.sessions.identity(hash_token(token)) if _plausible(token) else None
    if identity is None:
        return None
    now = clock.now()
    session = identity.session
    if not session.alive(now):
        uow.sessions.remove(session.token_hash)
        return None
    if session.needs_touch(now):
        session.last_seen_at = now
        uow.sessions.touch(session.token_hash, now)
    return _unless_disabled(identity)


def identify(uow: UnitOfWorkFactory, clock: Clock, token: str) -> Identity | None:
    """``resolve_session`` in a read-only unit of work (one query, no write lock); a writing
    one is opened only when the session must be removed or its last-seen time is due (at most
    once a minute per session)."""
    if not _plausible(token):
        return None
    with uow(read_only=True) as work:
        identity = work.sessions.identity(hash_token(token))
    if identity is None:
        return None
    now = clock.now()
    if identity.session.alive(now) and not identity.session.needs_touch(now):
        return _unless_disabled(identity)
    with uow() as work:
        identity = resolve_session(work, clock, token)
        work.commit()
    return identity


def _plausible(token: str) -> bool:
    return bool(token) and len(token) <= 128


def _unless_disabled(identity: Identity) -> Identity | None:
    return identity if identity.staff is None or identity.staff.active else None


def close_session(uow: UnitOfWork, token: str) -> None:
    uow.sessions.remove(hash_token(token))


def log_in(
    uow: Callable[[], UnitOfWork], passwords: PasswordHasher, secrets: Secrets, clock: Clock, email: str,
    password: str, *, client: str = "", user_agent: str = "", old_token: str = "",
) -> tuple[Account, str]:
    """Log in with throttling: (account, new session token) or ``LoginFailed`` / ``LoginThrottled``.

    Takes the unit-of-work factory, not a unit of work: the password check (argon2, a few
    hundred milliseconds) runs between two short transactions, never while one is open, so
    logins do not hold a database lock (SQLite) or a pooled connection while hashing.
    Failures are committed before the error is raised; a success forgets the e-mail's
    failures and replaces the old session with a new id.
    """
    keys = ((email_key(normalise_email(email)), PER_EMAIL), (client_key(client), PER_CLIENT))
    with uow() as work:
        now = clock.now()
        for key, policy in keys:
            attempts = work.throttles.get(key)
            wait = policy.wait(attempts, now)
            if wait:
                raise LoginThrottled(retry_after=max(1, int(wait.total_seconds() + 0.999)),
                                     blocked=policy.blocks(attempts), key=key)
        account = find_account_for_login(work, email)
    value = normalise_password(password)
    checked_hash = account.password_hash if account is not None else _dummy_hash(passwords)
    ok = passwords.verify(checked_hash, value) and account is not None
    rehashed = passwords.hash(value) if ok and passwords.needs_rehash(checked_hash) else None
    with uow() as work:
        current = work.accounts.get(account.id) if ok and account is not None else None
        if current is None or current.password_hash != checked_hash:  # wrong, or changed meanwhile
            for key, policy in keys:
                work.throttles.hit(key, clock.now(), policy.window)
            work.commit()
            raise LoginFailed()
        if rehashed is not None:
            current.password_hash = rehashed
            work.accounts.update(current)
        work.throttles.clear(keys[0][0])
        if old_token:
            close_session(work, old_token)  # a new id at every login
        token = open_session(work, secrets, clock, current, user_agent=user_agent, ip=client)
        work.commit()
    return current, token


def active_sessions(uow: UnitOfWork, clock: Clock, identity: Identity) -> list[WebSession]:
    """The account's live sessions, most recently used first."""
    now = clock.now()
    return [s for s in uow.sessions.for_account(identity.account.id) if s.alive(now)]


def end_other_sessions(uow: UnitOfWork, identity: Identity) -> int:
    """Log out everywhere else ("Déconnecter les autres appareils"); returns how many ended."""
    ended = 0
    for session in uow.sessions.for_account(identity.account.id):
        if session.token_hash != identity.session.token_hash:
            uow.sessions.remove(session.token_hash)
            ended += 1
    return ended


def purge_expired(uow: UnitOfWork, clock: Clock) -> int:
    """Delete dead sessions, expired link tokens and forgotten throttle counters; returns how many."""
    now = clock.now()
    removed = uow.sessions.remove_dead(now - SESSION_IDLE, now - SESSION_ABSOLUTE)
    removed += uow.tokens.remove_expired(now)
    removed += uow.throttles.remove_idle(now - max(PER_EMAIL.window, PER_CLIENT.window))
    return removed
