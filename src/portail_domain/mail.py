"""Mail that must not be lost: the outbox entry and the relay that delivers it.

A change and the mail it causes are written in the same unit of work (the outbox table);
the relay delivers later, claiming due entries so that several relays never send the same
one twice at once, retrying with an exponential backoff, and never deleting an entry that
was not delivered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from .ports import Clock, Mailer, OutgoingMail, UnitOfWork

log = logging.getLogger("portail.mail")

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


def deliver_outbox(uow: Callable[[], UnitOfWork], mailer: Mailer, clock: Clock, *, limit: int = 50) -> DeliveryReport:
    """Deliver the due entries (at most ``limit``); failures wait for their next attempt.

    Delivery is at least once: if the process dies between sending and marking, the lease
    runs out and the entry is sent again; it is never dropped.
    """
    now = clock.now()
    with uow() as work:
        entries = work.outbox.claim(now, now + LEASE, limit)
        work.commit()
    sent = failed = 0
    for entry in entries:
        try:
            mailer.send(entry.mail)
        except Exception as exc:  # noqa: BLE001 - any failure: keep the entry, retry later
            failed += 1
            retry_at = clock.now() + backoff(entry.attempts)
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            log.warning("mail_failed id=%s attempts=%d retry_at=%s error=%s", entry.id, entry.attempts,
                        retry_at.isoformat(), reason)
            with uow() as work:
                work.outbox.mark_failed(entry.id, retry_at, reason)
                work.commit()
            continue
        with uow() as work:
            work.outbox.mark_sent(entry.id, clock.now())
            work.commit()
        sent += 1
    return DeliveryReport(sent, failed)
