"""The staff's second factor: enrolment (TOTP secret + recovery codes) and the code step of a sign-in.

A staff sign-in opens a session with the password only (``WebSession.second_factor`` false);
the back office stays closed until a code is given here, and the session that passes is a new
one (new id). Failed codes count like failed passwords (same policy, same stored counters: per
member and per client); the member's code counter is not the password's, so signing in again
with the password does not forgive wrong codes.
"""

from __future__ import annotations

import hashlib

import attrs

from ..model.accounts import Identity, StaffUser, hash_token
from ..model.audit import AuditAction
from ..model.second_factor import (
    RECOVERY_CODES,
    NotEnrolled,
    SecondFactorFailed,
    accepted_step,
    hash_recovery_code,
    looks_like_totp,
    new_secret,
    recovery_code,
)
from ..model.throttling import PER_CLIENT, PER_EMAIL, ThrottlePolicy, client_key
from ..portal import Portal
from ..ports import UnitOfWork
from .accounts import check_throttles, open_session
from .audit import record_audit


@attrs.frozen
class Enrolled:
    token: str  # the new session's, past the second factor
    recovery_codes: list[str]  # shown once, stored hashed


@attrs.frozen
class CodeAccepted:
    token: str  # the new session's, past the second factor
    staff: StaffUser
    recovery_codes_left: int | None  # when a recovery code was used: how many remain


def code_key(staff: StaffUser) -> str:
    """The member's counter of wrong codes (not the password's: a password success does not clear it)."""
    return "totp:" + staff.email.normalised[:250]


def _keys(staff: StaffUser, client: str) -> tuple[tuple[str, ThrottlePolicy], ...]:
    return (code_key(staff), PER_EMAIL), (client_key(client), PER_CLIENT)


def _random(portal: Portal) -> bytes:
    """32 random bytes from the Secrets port (its tokens carry at least 256 random bits)."""
    return hashlib.sha256(portal.secrets.token(32).encode()).digest()


def _staff_of(uow: UnitOfWork, portal: Portal, token: str) -> tuple[Identity, StaffUser]:
    """The live staff identity of this session token, read again inside the transaction."""
    identity = uow.sessions.identity(hash_token(token)) if token and len(token) <= 128 else None
    if identity is None or identity.staff is None or not identity.staff.active or \
            not identity.session.alive(portal.clock.now(), portal.config.limits, staff=True):
        raise SecondFactorFailed()
    return identity, identity.staff


def _failed(uow: UnitOfWork, portal: Portal, staff: StaffUser, client: str) -> SecondFactorFailed:
    now = portal.clock.now()
    for key, policy in _keys(staff, client):
        uow.throttles.hit(key, now, policy.window)
    uow.commit()
    return SecondFactorFailed()


def _pass(uow: UnitOfWork, portal: Portal, identity: Identity, staff: StaffUser, client: str) -> str:
    """Replace the password-only session by one past the second factor; forget the wrong codes."""
    uow.sessions.remove(identity.session.token_hash)
    uow.throttles.clear(code_key(staff))
    return open_session(uow, portal, identity.account, user_agent=identity.session.user_agent, ip=client,
                        second_factor=True)


def enrolment_secret(portal: Portal, token: str) -> str:
    """The secret to show for enrolment, kept until a code confirms it. ``SecondFactorFailed`` when
    the session is no staff's or the member already has a second factor (an admin resets it first)."""
    with portal.uow() as uow:
        _identity, staff = _staff_of(uow, portal, token)
        if staff.enrolled:
            raise SecondFactorFailed()
        if staff.totp_pending_secret is None:
            staff.totp_pending_secret = new_secret(_random(portal))
            uow.staff.update(staff)
            uow.commit()
        return staff.totp_pending_secret


def confirm_enrolment(portal: Portal, token: str, code: str, *, client: str = "") -> Enrolled:
    """A correct current code for the shown secret enrols the member: the secret is kept, ten
    recovery codes are issued (returned once, stored hashed), and the session passes the second factor."""
    with portal.uow() as uow:
        identity, staff = _staff_of(uow, portal, token)
        check_throttles(uow, _keys(staff, client), portal.clock.now())
        pending = staff.totp_pending_secret
        step = accepted_step(pending, code.replace(" ", ""), portal.clock.now(), None) if pending else None
        if staff.enrolled or step is None:
            raise _failed(uow, portal, staff, client)
        staff.totp_secret, staff.totp_pending_secret, staff.totp_last_step = pending, None, step
        uow.staff.update(staff)
        codes = [recovery_code(_random(portal)) for _ in range(RECOVERY_CODES)]
        uow.recovery_codes.replace(staff.id, [hash_recovery_code(c) for c in codes])
        record_audit(uow, portal, staff, AuditAction.STAFF_ENROL, target=staff.email.address)
        new_token = _pass(uow, portal, identity, staff, client)
        uow.commit()
    return Enrolled(new_token, codes)


def verify_code(portal: Portal, token: str, code: str, *, client: str = "") -> CodeAccepted:
    """The code step: a TOTP code (now ± 30 s, each step accepted once) or an unused recovery code.

    Raises ``NotEnrolled`` (enrol first), ``LoginThrottled`` or ``SecondFactorFailed``.
    """
    with portal.uow() as uow:
        identity, staff = _staff_of(uow, portal, token)
        if staff.totp_secret is None:
            raise NotEnrolled()
        now = portal.clock.now()
        check_throttles(uow, _keys(staff, client), now)
        left: int | None = None
        if looks_like_totp(code):
            step = accepted_step(staff.totp_secret, code.replace(" ", ""), now, staff.totp_last_step)
            # advance_totp_step is one conditional UPDATE: of two requests with the same code, one wins.
            if step is None or not uow.staff.advance_totp_step(staff.id, step):
                raise _failed(uow, portal, staff, client)
        else:
            if not code.strip() or len(code) > 64 or \
                    not uow.recovery_codes.use(staff.id, hash_recovery_code(code), now):
                raise _failed(uow, portal, staff, client)
            left = uow.recovery_codes.remaining(staff.id)
            record_audit(uow, portal, staff, AuditAction.STAFF_RECOVERY_CODE, target=staff.email.address,
                         after={"recovery_codes_left": left})
        new_token = _pass(uow, portal, identity, staff, client)
        uow.commit()
    return CodeAccepted(new_token, staff, left)


def recovery_codes_left(portal: Portal, staff: StaffUser) -> int:
    with portal.uow(read_only=True) as uow:
        return uow.recovery_codes.remaining(staff.id)
