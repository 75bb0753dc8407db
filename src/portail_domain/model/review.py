"""The back office's work queues: readings staff validate, payments staff check."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

import attrs

from .accounts import Subscriber
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
