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
    ACCOUNT_CLOSED = auto()  # name, number, link (to activate again)
    ACCOUNT_UNUSED = auto()  # name, number, closes_on, link (to log in)
    STAFF_INVITATION = auto()  # name, inviter, role, link, validity_hours
    REQUEST_FOLLOW_UP = auto()  # to staff: reference, subject, name, link (the staff page of the request)
    RELIEF_DECISION = auto()  # reference, number, granted (1/0), capped, billed, reason, link


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
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


@attrs.define(eq=False)
class OutboxEntry:
    """One queued message and its delivery state."""

    mail: OutgoingMail
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min… at most 1 h."""
    exponent = min(max(attempts, 1) - 1, 20)
    return min(FIRST_RETRY * (1 << exponent), LONGEST_WAIT)


@attrs.frozen
class DeliveryReport:
    sent: int
    failed: int
