"""Subscribers (abonnés), staff users, their accounts, sessions and e-mailed links."""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
import uuid
from datetime import datetime, timedelta

import attrs

from . import errors
from .limits import Limits
from .links import Link
from .values import EmailAddress


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
    # The TOTP secret (RFC 6238, base32) once enrolled; None until then, and after an admin's reset.
    totp_secret: str | None = attrs.field(default=None, repr=False)
    totp_last_step: int | None = None  # the last time step a code was accepted for: never accepted twice
    totp_pending_secret: str | None = attrs.field(default=None, repr=False)  # shown for enrolment, not yet confirmed
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN

    @property
    def enrolled(self) -> bool:
        """Whether the member has a second factor (else they enrol at their next sign-in)."""
        return self.totp_secret is not None


@attrs.define(eq=False)
class Account:
    """Login credentials of a subscriber or a staff user (exactly one of the two)."""

    password_hash: str
    created_at: datetime
    subscriber_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None  # an account unused for years is closed (Retention)
    unused_warned_at: datetime | None = None  # when the "unused account" warning e-mail went
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def last_used_at(self) -> datetime:
        return self.last_login_at or self.created_at

    @property
    def is_staff(self) -> bool:
        return self.staff_id is not None


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
    # A staff session is opened with the password only: the back office stays closed until the
    # second factor is given, and the session that passes it is a new one (new id).
    second_factor: bool = False

    def alive(self, now: datetime, limits: Limits, *, staff: bool = False) -> bool:
        """Within the idle and absolute timeouts (the staff's are shorter)."""
        idle, absolute = (limits.staff_session_idle, limits.staff_session_absolute) if staff else \
            (limits.session_idle, limits.session_absolute)
        return now - self.last_seen_at <= idle and now - self.created_at <= absolute

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


def normalise_password(password: str) -> str:
    """Passwords are compared after NFKC, so the same characters typed on two keyboards match."""
    return unicodedata.normalize("NFKC", password)




TOKEN_BYTES = 32  # 256 random bits


class TokenPurpose(enum.StrEnum):
    PASSWORD = "password"  # noqa: S105 - set a password (activation, renewal, staff invitation)
    EMAIL = "email"  # confirm a new login e-mail


@attrs.define(eq=False)
class AccountToken:
    """An e-mailed link's token (jeton), stored as its hash."""

    token_hash: str
    purpose: TokenPurpose
    created_at: datetime
    expires_at: datetime
    subscriber_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    email: str | None = None  # the address that becomes the login e-mail when the link is used

    def alive(self, now: datetime) -> bool:
        return now <= self.expires_at


class LinkInvalid(errors.DomainError):
    """The link is unknown, already used, replaced by a newer one or expired (never say which)."""

    code = "link_invalid"


class WrongPassword(errors.DomainError):
    code = "wrong_password"


class EmailUnavailable(errors.InvalidValue):
    """The address is already another account's login (or is the current one)."""

    code = "email_unavailable"


@attrs.frozen
class PasswordSet:
    account: Account
    login: str  # the e-mail to log in with


@attrs.frozen
class StaffInvitation:
    staff: StaffUser
    link: Link  # the one-time set-password link, for the client to print (``Portal.links``)
    created: bool


_PHONE = re.compile(r"^\+?[0-9][0-9 .\-()]{5,24}$")
_POSTAL_CODE = re.compile(r"^[0-9]{5}$")  # French postal codes (DOM and Monaco included): five digits


class InvalidPhone(errors.InvalidValue):
    code = "invalid_phone"


class InvalidPostalCode(errors.InvalidValue):
    code = "invalid_postal_code"


class InvalidLanguage(errors.InvalidValue):
    code = "invalid_language"


class ValueTooLong(errors.InvalidValue):
    code = "value_too_long"


@attrs.frozen
class PersonalData:
    """What the form may change, parsed at the edge into plain values."""

    phone: str
    address: str
    postal_code: str
    city: str
    language: str
    paperless: bool

    def checked(self) -> PersonalData:
        """The same data, cleaned; raises ``InvalidFields`` naming every bad field at once."""
        phone = " ".join(self.phone.split())
        postal_code = "".join(self.postal_code.split())
        address, city = " ".join(self.address.split()), " ".join(self.city.split())
        problems: list[errors.InvalidValue] = []
        if phone and (not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 6):
            problems.append(InvalidPhone(field="phone"))
        if len(address) > 300:
            problems.append(ValueTooLong(field="address", maximum=300))
        if postal_code and not _POSTAL_CODE.match(postal_code):
            problems.append(InvalidPostalCode(field="postal_code"))
        if len(city) > 100:
            problems.append(ValueTooLong(field="city", maximum=100))
        if self.language not in {language.value for language in Language}:
            problems.append(InvalidLanguage(field="language"))
        if problems:
            raise errors.InvalidFields(problems)
        return PersonalData(phone, address, postal_code, city, self.language, self.paperless)
