"""Payment reminders (relances): one before an unpaid invoice falls due, one after; each sent once."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta

import attrs

from .accounts import Subscriber
from .billing import Invoice


class ReminderKind(enum.StrEnum):
    BEFORE = "before"  # N days before the due date
    AFTER = "after"  # N days after it, still unpaid


@attrs.frozen
class ReminderPolicy:
    """When reminders go out (settings ``PORTAIL_REMINDER_DAYS_BEFORE`` / ``_AFTER``)."""

    days_before: int = 5
    days_after: int = 3
    # A run missed (the timer was down) still sends a late reminder for this long; an older
    # debt (a first import of the whole history) is left to the utility's own dunning.
    catch_up: timedelta = timedelta(days=7)

    def kind_due(self, due_on: date, today: date) -> ReminderKind | None:
        """The reminder an unpaid invoice due on ``due_on`` calls for today, if any."""
        before = due_on - timedelta(days=self.days_before)
        if before <= today < due_on:
            return ReminderKind.BEFORE
        after = due_on + timedelta(days=self.days_after)
        if after <= today < after + self.catch_up:
            return ReminderKind.AFTER
        return None

    def due_window(self, today: date) -> tuple[date, date, date, date]:
        """(first, last) due dates calling for a "before" reminder today, then for an "after" one."""
        return (today + timedelta(days=1), today + timedelta(days=self.days_before),
                today - timedelta(days=self.days_after) - self.catch_up + timedelta(days=1),
                today - timedelta(days=self.days_after))


@attrs.frozen
class SentReminder:
    """The record that a reminder went out: unique by (invoice, kind), so it goes out once."""

    invoice_id: uuid.UUID
    kind: ReminderKind
    sent_at: datetime
    emailed_to: str


@attrs.frozen
class ReminderCandidate:
    """An unpaid invoice whose due date is in a reminder window, with who would be told."""

    invoice: Invoice
    contract_number: str
    subscriber: Subscriber


@attrs.frozen
class ReminderSummary:
    sent: int = 0
    skipped: int = 0  # direct debit, no e-mail, reminders turned off, or already sent

    def __str__(self) -> str:
        return f"{self.sent} reminder(s) queued, {self.skipped} skipped"
