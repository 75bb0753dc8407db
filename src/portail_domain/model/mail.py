"""Mail: messages to send and the outbox they wait in."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import attrs


@attrs.frozen
class OutgoingMail:
    """A message to send. Header values are single lines (adapters refuse anything else)."""

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
    return min(FIRST_RETRY * 2**exponent, LONGEST_WAIT)


@attrs.frozen
class DeliveryReport:
    sent: int
    failed: int
