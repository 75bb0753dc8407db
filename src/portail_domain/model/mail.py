"""Mail: the messages the portal sends (kind + values), as rendered for sending, and the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum, auto
from fractions import Fraction

import attrs

from .links import Link
from .values import Money


class MailKind(StrEnum):
    """Every message the portal sends (values: ``password_link``…); each kind has its templates in the front end."""

    PASSWORD_LINK = auto()  # Créer / Renouveler mot de passe: account, link, validity_minutes
    PASSWORD_CHANGED = auto()  # account
    EMAIL_CHANGE = auto()  # to the new address: account, link, validity_minutes
    EMAIL_CHANGE_NOTICE = auto()  # to the old address: account, new
    OVERCONSUMPTION = auto()  # name, number, address, start, end, litres, lpd, usual, link, contract_link
    PAYMENT_RECEIPT = auto()  # name, number, amount, paid_on, transaction
    REQUEST_RECEIVED = auto()  # reference, subject, link
    REQUEST_ANSWERED = auto()  # reference, subject, link
    INVOICE_AVAILABLE = auto()  # name, count, number (the first), amount (total), due_on (the first), link
    PAYMENT_REMINDER = auto()  # name, kind (before / after), number, amount (still owed), due_on, link
    ACCOUNT_CLOSED = auto()  # name, number, link (to activate again)
    ACCOUNT_UNUSED = auto()  # name, number, closes_on, link (to log in)
    STAFF_INVITATION = auto()  # name, inviter, role, link, validity_hours
    MANDATE_CODE = auto()  # code, rum, contract, creditor, validity_minutes
    MANDATE_SIGNED = auto()  # name, rum, contract, mode, iban (masked), creditor, signed_at
    MANDATE_REVOKED = auto()  # name, rum, contract, revoked_at
    READING_REJECTED = auto()  # name, number, read_on, index, reason, link
    REQUEST_FOLLOW_UP = auto()  # to staff: reference, subject, name, link (the staff page of the request)
    RELIEF_DECISION = auto()  # reference, number, granted (1/0), capped, billed, reason, link
    DOCUMENT_PUBLISHED = auto()  # filename, folder (standard folder's French name), link (no name: one text for all)


MailValue = str | int | Decimal | Fraction | date | datetime | Money | Link


@attrs.frozen
class Mail:
    """A message as the domain means it: its kind, recipient, language and values (never its wording).

    ``ports.MailComposer`` renders it into an ``OutgoingMail`` in ``language``; the utility's
    contact card is the composer's, not a parameter.
    """

    kind: MailKind
    to: str
    language: str  # "fr", "en"
    params: Mapping[str, MailValue] = attrs.field(factory=dict)


@attrs.frozen
class OutgoingMail:
    """A message rendered for sending. Header values are single lines (adapters refuse anything else)."""

    to: str
    subject: str
    text: str
    html: str | None = None


LEASE = timedelta(minutes=5)  # a claimed entry is not claimed again before this, unless marked
# Waits after each failed attempt: quick at first (a relay restarting), then spread so that the
# MAX_ATTEMPTS-th attempt comes about a day after the first; after it, the mail has failed.
RETRY_WAITS = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4),
               timedelta(hours=1), timedelta(hours=4), timedelta(hours=18))
MAX_ATTEMPTS = len(RETRY_WAITS) + 1  # 8 attempts over ~23 hours
OUTBOX_PAGE = 100


class PermanentFailure(Exception):
    """The mail server refused the message for good (SMTP 5xx): retrying cannot help."""


class OutboxStatus(StrEnum):
    PENDING = auto()
    SENT = auto()
    FAILED = auto()  # gave up: too many attempts, or refused for good
    DISCARDED = auto()  # staff dropped it


@attrs.define(eq=False)
class OutboxEntry:
    """One queued message and its delivery state."""

    mail: OutgoingMail
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    failed_at: datetime | None = None  # the relay gave up on it (never retried unless staff ask)
    discarded_at: datetime | None = None  # staff dropped it
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def status(self) -> OutboxStatus:
        if self.sent_at is not None:
            return OutboxStatus.SENT
        if self.discarded_at is not None:
            return OutboxStatus.DISCARDED
        if self.failed_at is not None:
            return OutboxStatus.FAILED
        return OutboxStatus.PENDING


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones (``RETRY_WAITS``)."""
    return RETRY_WAITS[min(max(attempts, 1), len(RETRY_WAITS)) - 1]


def gives_up(attempts: int, error: Exception) -> bool:
    """Whether a failed delivery is the last: a permanent refusal, or the last allowed attempt."""
    return isinstance(error, PermanentFailure) or attempts >= MAX_ATTEMPTS


@attrs.frozen
class DeliveryReport:
    sent: int
    failed: int
