"""Créer / Renouveler mot de passe, and the other e-mailed links of an account.

A link carries a random token (256 bits) of which only a hash is stored. It lives 10
minutes by the Clock (alive at exactly +10:00, dead one second later), works once, and a
newer link of the same kind kills the older ones. Setting a password kills every link and
every session of the account and sends a confirmation e-mail.

Who gets a link (``/mot-de-passe``, e-mail + code):

- the code is the subscriber number (printed on every bill, so no secret) or the random
  activation code the utility issued (stored hashed);
- when the subscriber has an e-mail on file, the typed e-mail must be that one and the
  link goes there, never elsewhere;
- when no e-mail is on file, only the random activation code can claim the account: the
  link goes to the typed address, and that address becomes the e-mail on file (and the
  code is used up) only when the password is set through the link — receiving the link
  proves the address. An address that is already another account's login is refused.

Whatever matched, the caller shows the same answer page; the outcome is only logged.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from ..model import errors
from ..model.accounts import (
    TOKEN_BYTES,
    Account,
    AccountToken,
    EmailUnavailable,
    Identity,
    LinkInvalid,
    LoginThrottled,
    PasswordSet,
    StaffInvitation,
    StaffRole,
    StaffUser,
    Subscriber,
    TokenPurpose,
    WrongPassword,
    hash_activation_code,
    hash_token,
    normalise_code,
    normalise_password,
)
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.password_policy import check_password
from ..model.privacy import SecurityEventKind
from ..model.throttling import LINKS_PER_HOUR, LINKS_PER_HOUR_ALL_CLIENTS, LINKS_WINDOW, PER_EMAIL, email_key, link_key
from ..model.values import EmailAddress
from ..portal import Portal
from ..ports import Clock, PasswordHasher, Secrets, UnitOfWork
from .accounts import record_event
from .mail import queue_mail

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_activation_code(secrets: Secrets) -> str:
    """A random code to print on a letter: 16 characters (80 bits), in groups of four."""
    raw = secrets.token(32)
    digest = hashlib.sha256(raw.encode()).digest()
    chars = "".join(_CODE_ALPHABET[b % len(_CODE_ALPHABET)] for b in digest[:16])
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def _issue(
    uow: UnitOfWork, secrets: Secrets, clock: Clock, purpose: TokenPurpose, *, subscriber_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None, email: str | None = None, validity: timedelta,
) -> str:
    """A new token of ``purpose`` for the subject; older ones of that purpose die."""
    uow.tokens.remove_for(subscriber_id=subscriber_id, staff_id=staff_id, purpose=purpose)
    token = secrets.token(TOKEN_BYTES)
    now = clock.now()
    uow.tokens.add(AccountToken(hash_token(token), purpose, now, now + validity, subscriber_id=subscriber_id,
                                staff_id=staff_id, email=email))
    return token


def _login_taken(uow: UnitOfWork, normalised: str, *, besides: uuid.UUID | None = None) -> bool:
    """True when ``normalised`` is already the login of an account (other than subscriber ``besides``)."""
    for other in uow.subscribers.by_email(normalised):
        if other.id != besides and uow.accounts.for_subscriber(other.id) is not None:
            return True
    return uow.staff.by_email(normalised) is not None


def _match(uow: UnitOfWork, typed: EmailAddress, code: str) -> tuple[Subscriber, str, str | None] | None:
    """(subscriber, address the link goes to, address that becomes the e-mail on file) or None."""
    by_number = uow.subscribers.by_number(code.strip()) if code.strip() else None
    if by_number is not None and by_number.email is not None and by_number.email.normalised == typed.normalised:
        return by_number, by_number.email.address, None
    normalised_code = normalise_code(code)
    if len(normalised_code) < 8:  # activation codes are long; anything shorter cannot be one
        return None
    by_code = uow.subscribers.by_activation_code(hash_activation_code(code))
    if by_code is None:
        return None
    if by_code.email is not None:
        if by_code.email.normalised != typed.normalised:
            return None
        return by_code, by_code.email.address, None
    if _login_taken(uow, typed.normalised, besides=by_code.id):
        return None
    return by_code, typed.address, typed.address


def request_password_link(portal: Portal, email: str, code: str, *, client: str = "") -> str:
    """Queue a set-password link if ``email`` and ``code`` match a subscriber; return the outcome
    (``sent``, ``no_match``, ``too_many``) for the log only: the visitor sees the same page.

    Throttled per subscriber and ``client`` (the requester's address), and per subscriber from
    all addresses with a higher ceiling; a refused request is not counted."""
    clock, secrets, config = portal.clock, portal.secrets, portal.config
    with portal.uow() as uow:
        try:
            typed = EmailAddress.parse(email)
        except errors.InvalidEmail:
            return "no_match"
        found = _match(uow, typed, code[:100])
        if found is None:
            return "no_match"
        subscriber, send_to, claim = found
        now = clock.now()
        limits = ((link_key(subscriber.id, client), LINKS_PER_HOUR),
                  (link_key(subscriber.id), LINKS_PER_HOUR_ALL_CLIENTS))
        for key, most in limits:
            sent = uow.throttles.lock(key, now)
            if sent is not None and sent.failures >= most and now - sent.last_failure_at <= LINKS_WINDOW:
                return "too_many"
        for key, _most in limits:
            uow.throttles.hit(key, now, LINKS_WINDOW)
        token = _issue(uow, secrets, clock, TokenPurpose.PASSWORD, subscriber_id=subscriber.id, email=claim,
                       validity=config.limits.link_validity)
        queue_mail(uow, portal, Mail(MailKind.PASSWORD_LINK, send_to, subscriber.language.value, {
            "account": send_to, "link": password_link(token),
            "validity_minutes": _minutes(config.limits.link_validity)}))
        uow.commit()
        return "sent"


def password_link(token: str) -> Link:
    """The e-mailed (or printed) link that sets a password with ``token``."""
    return Link("password_new", query={"jeton": token})


def _minutes(validity: timedelta) -> int:
    return int(validity.total_seconds() // 60)


def _live_token(uow: UnitOfWork, clock: Clock, token: str, purpose: TokenPurpose) -> AccountToken:
    """The live token of ``purpose``, or ``LinkInvalid``. Does not use it up."""
    if not token or len(token) > 128:
        raise LinkInvalid()
    found = uow.tokens.get(hash_token(token))
    if found is None or found.purpose != purpose:
        raise LinkInvalid()
    if not found.alive(clock.now()):
        uow.tokens.remove(found.token_hash)
        raise LinkInvalid()
    return found


def check_link(portal: Portal, token: str, purpose: TokenPurpose) -> AccountToken:
    """The live token of ``purpose`` (the link's form may be shown), or ``LinkInvalid``; uses nothing up."""
    with portal.uow() as uow:
        try:
            return _live_token(uow, portal.clock, token, purpose)
        except LinkInvalid:
            uow.commit()  # an expired token is deleted on sight
            raise


def set_password_with_link(portal: Portal, token: str, password: str, confirm: str) -> PasswordSet:
    """Use the link: check the policy, set the password, end every link and session, confirm by e-mail."""
    utility_name = portal.config.utility.name
    with portal.uow() as uow:
        found = _live_token(uow, portal.clock, token, TokenPurpose.PASSWORD)
        subscriber, staff = _link_owner(uow, found)
        new_login = EmailAddress.parse(found.email) if found.email else None
        if subscriber is not None:
            login = _subscriber_login(uow, subscriber, new_login)
            value = check_password(password, confirm, subscriber_number=subscriber.number, email=login.address,
                                   utility_name=utility_name)
            account = uow.accounts.for_subscriber(subscriber.id)
            language = subscriber.language.value
        else:
            assert staff is not None
            login = staff.email
            value = check_password(password, confirm, email=login.address, utility_name=utility_name)
            account = uow.accounts.for_staff(staff.id)
            language = "fr"
        account = _save_password(uow, account, portal.passwords.hash(value), portal.clock.now(), subscriber, staff)
        if subscriber is not None and new_login is not None:
            subscriber.email = new_login
            subscriber.activation_code_hash = None  # the code has done its job
            uow.subscribers.update(subscriber)
        uow.tokens.remove_for(subscriber_id=found.subscriber_id, staff_id=found.staff_id)
        uow.sessions.remove_for_account(account.id)
        uow.throttles.clear(email_key(login.normalised))
        queue_mail(uow, portal, Mail(MailKind.PASSWORD_CHANGED, login.address, language, {"account": login.address}))
        uow.commit()
        return PasswordSet(account, login.address)


def _link_owner(uow: UnitOfWork, found: AccountToken) -> tuple[Subscriber | None, StaffUser | None]:
    """Whom a password link is for: a subscriber, or else an active staff member (``LinkInvalid``)."""
    subscriber = uow.subscribers.get(found.subscriber_id) if found.subscriber_id else None
    staff = uow.staff.get(found.staff_id) if found.staff_id else None
    if subscriber is None and (staff is None or not staff.active):
        raise LinkInvalid()
    return subscriber, staff


def _subscriber_login(uow: UnitOfWork, subscriber: Subscriber, new_login: EmailAddress | None) -> EmailAddress:
    """The address the subscriber logs in with once the link is used: the link's new one, if free."""
    login = new_login or subscriber.email
    if login is None:
        raise LinkInvalid()
    if new_login is not None and _login_taken(uow, new_login.normalised, besides=subscriber.id):
        raise EmailUnavailable(field="email")
    return login


def _save_password(uow: UnitOfWork, account: Account | None, hashed: str, now: datetime,
                   subscriber: Subscriber | None, staff: StaffUser | None) -> Account:
    """Set the password on the account, created on first use."""
    if account is None:
        account = Account(password_hash=hashed, created_at=now, subscriber_id=subscriber.id if subscriber else None,
                          staff_id=staff.id if staff else None, password_changed_at=now)
        uow.accounts.add(account)
    else:
        account.password_hash = hashed
        account.password_changed_at = now
        uow.accounts.update(account)
    return account


def check_current_password(
    uow: UnitOfWork, passwords: PasswordHasher, clock: Clock, identity: Identity, password: str
) -> None:
    """The logged-in user's current password, counted like login failures (a stolen session
    cannot guess it faster than the login form could)."""
    login = identity.subscriber.email if identity.subscriber else identity.staff.email if identity.staff else None
    key = email_key(login.normalised if login else str(identity.account.id))
    now = clock.now()
    attempts = uow.throttles.lock(key, now)  # held until this unit of work ends: no parallel guesses
    wait = PER_EMAIL.wait(attempts, now)
    if wait:
        raise LoginThrottled(retry_after=max(1, int(wait.total_seconds() + 0.999)), blocked=PER_EMAIL.blocks(attempts),
                             key=key)
    if not passwords.verify(identity.account.password_hash, normalise_password(password)):
        uow.throttles.hit(key, now, PER_EMAIL.window)
        uow.commit()
        raise WrongPassword()


def change_password(portal: Portal, identity: Identity, current: str, password: str, confirm: str) -> None:
    """Change the password of a logged-in user: needs the current one; ends the other sessions."""
    clock, passwords, config = portal.clock, portal.passwords, portal.config
    with portal.uow() as uow:
        account = identity.account
        check_current_password(uow, passwords, clock, identity, current)
        login = identity.subscriber.email if identity.subscriber else identity.staff.email if identity.staff else None
        number = identity.subscriber.number if identity.subscriber else None
        value = check_password(password, confirm, subscriber_number=number, email=login.address if login else None,
                               utility_name=config.utility.name)
        now = clock.now()
        account.password_hash = passwords.hash(value)
        account.password_changed_at = now
        uow.accounts.update(account)
        for session in uow.sessions.for_account(account.id):
            if session.token_hash != identity.session.token_hash:
                uow.sessions.remove(session.token_hash)
        uow.tokens.remove_for(subscriber_id=account.subscriber_id, staff_id=account.staff_id)
        record_event(uow, portal, SecurityEventKind.PASSWORD_CHANGED, account)
        if login is not None:
            language = identity.subscriber.language.value if identity.subscriber else "fr"
            queue_mail(uow, portal, Mail(MailKind.PASSWORD_CHANGED, login.address, language,
                                         {"account": login.address}))
        uow.commit()


def request_email_change(portal: Portal, identity: Identity, new_email: str, password: str) -> EmailAddress:
    """Send a confirmation link to the new address and a notice to the old one; nothing changes yet."""
    clock, passwords, secrets, config = portal.clock, portal.passwords, portal.secrets, portal.config
    with portal.uow() as uow:
        subscriber = identity.subscriber
        if subscriber is None:
            raise errors.NotFound()
        new = EmailAddress.parse(new_email)
        check_current_password(uow, passwords, clock, identity, password)
        if (subscriber.email is not None and subscriber.email.normalised == new.normalised) or _login_taken(
            uow, new.normalised, besides=subscriber.id
        ):
            raise EmailUnavailable(field="email")
        token = _issue(uow, secrets, clock, TokenPurpose.EMAIL, subscriber_id=subscriber.id, email=new.address,
                       validity=config.limits.link_validity)
        account = subscriber.email.address if subscriber.email else subscriber.number
        language = subscriber.language.value
        queue_mail(uow, portal, Mail(MailKind.EMAIL_CHANGE, new.address, language, {
            "account": account, "link": Link("email_confirm", query={"jeton": token}),
            "validity_minutes": _minutes(config.limits.link_validity)}))
        if subscriber.email is not None:
            queue_mail(uow, portal, Mail(MailKind.EMAIL_CHANGE_NOTICE, subscriber.email.address, language,
                                         {"account": account, "new": new.address}))
        uow.commit()
        return new


def confirm_email_change(portal: Portal, token: str) -> Subscriber:
    """Use an e-mail change link: the new address becomes the e-mail on file (and the login)."""
    clock = portal.clock
    with portal.uow() as uow:
        found = _live_token(uow, clock, token, TokenPurpose.EMAIL)
        subscriber = uow.subscribers.get(found.subscriber_id) if found.subscriber_id else None
        if subscriber is None or not found.email:
            raise LinkInvalid()
        new = EmailAddress.parse(found.email)
        if _login_taken(uow, new.normalised, besides=subscriber.id):
            raise EmailUnavailable(field="email")
        subscriber.email = new
        uow.subscribers.update(subscriber)
        uow.tokens.remove(found.token_hash)
        uow.commit()
        return subscriber


def invite_staff(portal: Portal, email: str, role: StaffRole, name: str = "") -> StaffInvitation:
    """Create (or find) a staff user and return a one-time set-password link for them."""
    with portal.uow() as uow:
        invitation = issue_staff_invitation(uow, portal, email, role, name)
        uow.commit()
        return invitation


def issue_staff_invitation(uow: UnitOfWork, portal: Portal, email: str, role: StaffRole,
                           name: str = "") -> StaffInvitation:
    """In the caller's unit of work: create (or find) the staff user and a set-password link valid
    ``limits.staff_invitation_validity``; an older link of theirs dies."""
    address = EmailAddress.parse(email)
    staff = uow.staff.by_email(address.normalised)
    created = staff is None
    if staff is None:
        if any(uow.accounts.for_subscriber(s.id) for s in uow.subscribers.by_email(address.normalised)):
            raise EmailUnavailable(field="email")
        staff = StaffUser(email=address, name=name or address.address.split("@")[0], role=role)
        uow.staff.add(staff)
    token = _issue(uow, portal.secrets, portal.clock, TokenPurpose.PASSWORD, staff_id=staff.id,
                   validity=portal.config.limits.staff_invitation_validity)
    return StaffInvitation(staff, password_link(token), created)


