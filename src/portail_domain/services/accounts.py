"""Logging in and out, sessions, and the subscriber's own personal data."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from datetime import datetime

import attrs

from ..model import errors
from ..model.accounts import (
    Account,
    Identity,
    InvalidLanguage,
    Language,
    LoginFailed,
    LoginThrottled,
    PersonalData,
    Subscriber,
    WebSession,
    hash_token,
    normalise_password,
)
from ..model.privacy import SecurityEvent, SecurityEventKind
from ..model.throttling import PER_CLIENT, PER_EMAIL, ThrottlePolicy, client_key, device_key, email_key
from ..model.values import normalise_email
from ..portal import Portal
from ..ports import PasswordHasher, UnitOfWork


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


def open_session(uow: UnitOfWork, portal: Portal, account: Account, *, user_agent: str = "", ip: str = "",
                 second_factor: bool = False) -> str:
    """Start a session for ``account`` (past the second factor when ``second_factor``); returns the
    token for the cookie (never stored)."""
    token = portal.secrets.token(32)
    now = portal.clock.now()
    uow.sessions.add(WebSession(hash_token(token), account.id, now, now, user_agent=user_agent[:200], ip=ip[:45],
                                second_factor=second_factor))
    return token


def check_throttles(uow: UnitOfWork, keys: Sequence[tuple[str, ThrottlePolicy]], now: datetime) -> None:
    """Raise ``LoginThrottled`` when any of these counters asks to wait (passwords and staff codes alike).

    The counters stay locked until ``uow`` ends (``ThrottleRepository.lock``): a caller that
    counts the try in the same unit of work (``hit``) does so atomically, across workers."""
    for key, policy in keys:
        attempts = uow.throttles.lock(key, now)
        wait = policy.wait(attempts, now)
        if wait:
            raise LoginThrottled(retry_after=max(1, int(wait.total_seconds() + 0.999)),
                                 blocked=policy.blocks(attempts), key=key)


@attrs.frozen
class SessionLookup:
    """What ``look_up_session`` found: the identity (None when unknown, dead or disabled) and the
    write it leaves to ``keep_up_session``: remove a dead session, or record when it was last seen."""

    identity: Identity | None
    token_hash: str = ""
    remove: bool = False
    seen_at: datetime | None = None

    @property
    def needs_writing(self) -> bool:
        return self.remove or self.seen_at is not None


def resolve_session(portal: Portal, token: str) -> Identity | None:
    """The identity behind a session token, or None if unknown, expired or revoked.

    One query in a read-only unit of work (the session with its account and owner, no write
    lock); a writing one is opened only when something changes: a dead session is removed,
    and "last seen" is written at most once a minute.
    """
    found = look_up_session(portal, token)
    keep_up_session(portal, found)
    return found.identity


def look_up_session(portal: Portal, token: str) -> SessionLookup:
    """The reading half of ``resolve_session``: one query in a read-only unit of work, no write.
    Its identity is final; ``keep_up_session`` does the write it may leave (``needs_writing``)."""
    if not token or len(token) > 128:
        return SessionLookup(None)
    token_hash = hash_token(token)
    with portal.uow(read_only=True) as uow:
        identity = uow.sessions.identity(token_hash)
    if identity is None:
        return SessionLookup(None)
    now = portal.clock.now()
    session = identity.session
    if not session.alive(now, portal.config.limits, staff=identity.staff is not None):
        return SessionLookup(None, token_hash, remove=True)
    if identity.staff is not None and not identity.staff.active:
        return SessionLookup(None)
    if session.needs_touch(now):
        session.last_seen_at = now
        return SessionLookup(identity, token_hash, seen_at=now)
    return SessionLookup(identity)


def keep_up_session(portal: Portal, found: SessionLookup) -> None:
    """The write ``look_up_session`` left, if any: remove the dead session, or record when it was seen."""
    if not found.needs_writing:
        return
    with portal.uow() as uow:
        if found.remove:
            uow.sessions.remove(found.token_hash)
        elif found.seen_at is not None:
            uow.sessions.touch(found.token_hash, found.seen_at)
        uow.commit()


def log_out(portal: Portal, token: str) -> None:
    """End the session on the server: its cookie is worthless from now on."""
    with portal.uow() as uow:
        uow.sessions.remove(hash_token(token))
        uow.commit()


def log_in(
    portal: Portal, email: str, password: str, *, client: str = "", user_agent: str = "", old_token: str = "",
    device: str = "",
) -> tuple[Account, str]:
    """Log in with throttling: (account, new session token) or ``LoginFailed`` / ``LoginThrottled``.

    ``device`` is the id of a device cookie that the caller has checked was issued to this
    e-mail (a browser that signed in to it before): its tries are counted on the device's own
    key instead of the e-mail's, so failures from elsewhere never lock it out.

    Each try is counted before the password is checked: the counters are read and raised in
    one short transaction that holds them (``ThrottleRepository.lock``), so N simultaneous
    tries count N, across workers. A refused try counts nothing (the window does not move).
    The password check (argon2, a few hundred milliseconds) then runs outside any transaction,
    so logins do not hold a database lock (SQLite) or a pooled connection while hashing. A
    success gives the client's slot back, forgets the e-mail's failures and replaces the old
    session with a new id.
    """
    passwords, clock = portal.passwords, portal.clock
    account_key = device_key(device) if device else email_key(normalise_email(email))
    keys = ((account_key, PER_EMAIL), (client_key(client), PER_CLIENT))
    with portal.uow() as work:
        now = clock.now()
        check_throttles(work, keys, now)
        for key, policy in keys:
            work.throttles.hit(key, now, policy.window)
        account = find_account_for_login(work, email)
        work.commit()
    value = normalise_password(password)
    checked_hash = account.password_hash if account is not None else _dummy_hash(passwords)
    ok = passwords.verify(checked_hash, value) and account is not None
    if not ok:
        if account is not None:
            with portal.uow() as work:
                record_event(work, portal, SecurityEventKind.LOGIN_FAILED, account, ip=client)
                work.commit()
        raise LoginFailed()  # already counted
    assert account is not None
    rehashed = passwords.hash(value) if passwords.needs_rehash(checked_hash) else None
    with portal.uow() as work:
        current = work.accounts.get(account.id)
        if current is None or current.password_hash != checked_hash:  # changed meanwhile
            raise LoginFailed()
        if rehashed is not None:
            current.password_hash = rehashed
        current.last_login_at, current.unused_warned_at = clock.now(), None  # used: not closed as unused
        work.accounts.update(current)
        record_event(work, portal, SecurityEventKind.LOGIN, current, ip=client)
        work.throttles.clear(keys[0][0])
        work.throttles.release(keys[1][0])
        if old_token:
            work.sessions.remove(hash_token(old_token))  # a new id at every login
        token = open_session(work, portal, current, user_agent=user_agent, ip=client)
        work.commit()
    return current, token


def record_event(uow: UnitOfWork, portal: Portal, kind: SecurityEventKind, account: Account, *, ip: str = "") -> None:
    """Write one line of the account's security log (exported with the subscriber's data, kept a year)."""
    uow.privacy.add_event(SecurityEvent(kind, portal.clock.now(), account.subscriber_id, account.staff_id, ip[:45]))


def active_sessions(portal: Portal, identity: Identity) -> list[WebSession]:
    """The account's live sessions, most recently used first."""
    now = portal.clock.now()
    with portal.uow(read_only=True) as uow:
        return [s for s in uow.sessions.for_account(identity.account.id)
                if s.alive(now, portal.config.limits, staff=identity.staff is not None)]


def end_other_sessions(portal: Portal, identity: Identity) -> int:
    """Log out everywhere else ("Déconnecter les autres appareils"); returns how many ended."""
    ended = 0
    with portal.uow() as uow:
        for session in uow.sessions.for_account(identity.account.id):
            if session.token_hash != identity.session.token_hash:
                uow.sessions.remove(session.token_hash)
                ended += 1
        uow.commit()
    return ended


def purge_expired(portal: Portal) -> int:
    """Delete dead sessions, expired link tokens and forgotten throttle counters; returns how many."""
    now = portal.clock.now()
    limits = portal.config.limits
    with portal.uow() as uow:
        removed = uow.sessions.remove_dead(now - limits.session_idle, now - limits.session_absolute)
        removed += uow.tokens.remove_expired(now)
        removed += uow.throttles.remove_idle(now - max(PER_EMAIL.window, PER_CLIENT.window))
        uow.commit()
    return removed


def set_language(portal: Portal, subscriber_id: uuid.UUID, language: str) -> None:
    """Save the subscriber's language (pages and e-mails); ``InvalidLanguage`` for an unknown one."""
    if language not in {choice.value for choice in Language}:
        raise InvalidLanguage(field="language")
    with portal.uow() as uow:
        subscriber = uow.subscribers.get(subscriber_id)
        if subscriber is None:
            raise errors.NotFound()
        subscriber.language = Language(language)
        uow.subscribers.update(subscriber)
        uow.commit()


def update_personal_data(portal: Portal, subscriber_id: uuid.UUID, data: PersonalData) -> Subscriber:
    """Save the changeable fields of the subscriber; nothing else moves."""
    clean = data.checked()
    with portal.uow() as uow:
        subscriber = uow.subscribers.get(subscriber_id)
        if subscriber is None:
            raise errors.NotFound()
        subscriber.phone = clean.phone
        subscriber.address = clean.address
        subscriber.postal_code = clean.postal_code
        subscriber.city = clean.city
        subscriber.language = Language(clean.language)
        subscriber.paperless = clean.paperless
        subscriber.reminders = clean.reminders
        uow.subscribers.update(subscriber)
        uow.commit()
    return subscriber
