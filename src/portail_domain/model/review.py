"""The back office's work queues: readings staff validate, payments staff check."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from .accounts import Subscriber
from .billing import GatewayResult, Invoice, Payment
from .contracts import Contract, ImpliedConsumption, MeterReading, ReadingStatus
from .errors import DomainError, InvalidValue

MAX_REASON = 500  # characters of a rejection reason or a resolution note
RECENT_READINGS = 6  # of the contract's history shown next to a reading to validate
QUEUE_PAGE = 50  # entries a queue page shows (oldest first: the longest waiting come first)


class ReadingDecision(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class ReasonRequired(DomainError):
    """Rejecting a reading needs a reason: the subscriber is told it."""

    code = "reason_required"


class AlreadyReviewed(DomainError):
    """The reading is no longer to review (another member of staff decided meanwhile)."""

    code = "already_reviewed"


class InvalidDecision(InvalidValue):
    code = "invalid_decision"


def parse_decision(text: str) -> ReadingDecision:
    try:
        return ReadingDecision(text.strip())
    except ValueError:
        raise InvalidDecision(value=text[:20]) from None


def clean_note(text: str) -> str:
    """A reason or note as kept: one line of words, bounded."""
    return " ".join(text.split())[:MAX_REASON]


@attrs.frozen
class ReadingReview:
    """What staff decided about a reading "to review": its new status, when, and why (a rejection)."""

    status: ReadingStatus
    reviewed_at: datetime
    reason: str | None = None

    def applied_to(self, reading: MeterReading) -> MeterReading:
        return attrs.evolve(reading, status=self.status, reviewed_at=self.reviewed_at, review_reason=self.reason)


def decide_reading(reading: MeterReading, decision: ReadingDecision, reason: str, now: datetime) -> ReadingReview:
    """Accept (it counts: consumption, export) or reject (with a reason) a reading "to review"."""
    if reading.status != ReadingStatus.TO_REVIEW:
        raise AlreadyReviewed()
    reason = clean_note(reason)
    if decision is ReadingDecision.REJECT and not reason:
        raise ReasonRequired()
    status = ReadingStatus.VALIDATED if decision is ReadingDecision.ACCEPT else ReadingStatus.REJECTED
    return ReadingReview(status, now, reason or None)


@attrs.frozen
class ReadingToReview:
    """One line of the readings queue: the reading, whose it is, the recent history, what it implies."""

    reading: MeterReading
    contract: Contract
    subscriber: Subscriber | None
    recent: Sequence[MeterReading]  # the contract's latest readings before it, newest first
    implied: ImpliedConsumption


PENDING_TOO_LONG = timedelta(hours=1)  # a payment still pending after this is for staff to check


class PaymentResolution(enum.StrEnum):
    REFUNDED = "refunded"  # staff gave the money back (outside the portal): the invoice does not move
    SETTLED = "settled"  # the gateway confirms it paid: the invoice is credited, once
    CANCELLED = "cancelled"  # no money was taken: the payment ends, the invoice does not move


class InvalidResolution(InvalidValue):
    code = "invalid_resolution"


class PaymentResolved(DomainError):
    """The payment was already resolved (by another member of staff, or earlier)."""

    code = "payment_resolved"


class SettleRefused(DomainError):
    """The gateway does not confirm a payment that matches: the invoice is not credited."""

    code = "settle_refused"


class CancelRefused(DomainError):
    """Money was taken for this payment: refund it (or settle it), never cancel it."""

    code = "cancel_refused"


def parse_resolution(text: str) -> PaymentResolution:
    try:
        return PaymentResolution(text.strip())
    except ValueError:
        raise InvalidResolution(value=text[:20]) from None


def answer_summary(result: GatewayResult) -> str:
    """The gateway's answer in one line, as staff read it."""
    parts = [f"status={result.status}", f"amount={result.amount}" if result.amount is not None else "",
             f"reference={result.reference}" if result.reference else "",
             f"client={result.client_number}" if result.client_number else "",
             f"transaction={result.transaction_reference}" if result.transaction_reference else ""]
    return " ".join(p for p in parts if p)[:300]


@attrs.frozen
class PaymentToCheck:
    """One line of the payments queue: the payment, its invoice, whose it is."""

    payment: Payment
    invoice: Invoice | None
    subscriber: Subscriber | None
    why: str  # the gateway checks' flag, or "pending"
