"""Relances: an e-mail a few days before an unpaid invoice falls due, and one a few days after.

Meant for a daily timer (``portail reminders send``) and run once a day by the web process too:
each reminder is recorded under a unique (invoice, kind) in the same transaction as its e-mail,
so two runs on one day, or two workers at once, send it once.
"""

from __future__ import annotations

import logging

from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.reminders import ReminderCandidate, ReminderKind, ReminderPolicy, ReminderSummary, SentReminder
from ..portal import Portal
from .mail import queue_mails
from .mandates import direct_debits

log = logging.getLogger("portail.reminders")

BATCH = 500  # reminders claimed and queued per transaction


def reminder_mail(candidate: ReminderCandidate, kind: ReminderKind) -> Mail:
    subscriber, invoice = candidate.subscriber, candidate.invoice
    assert subscriber.email is not None
    return Mail(MailKind.PAYMENT_REMINDER, subscriber.email.address, subscriber.language.value, {
        "name": subscriber.name, "kind": kind.value, "number": invoice.number, "amount": invoice.remaining,
        "due_on": invoice.due_on, "link": Link("invoice", {"number": invoice.number})})


def send_reminders(portal: Portal, policy: ReminderPolicy | None = None) -> ReminderSummary:
    """Queue today's reminders: for each unpaid invoice not on direct debit whose due date is
    ``policy.days_before`` days ahead (or ``days_after`` days past), once per invoice and kind,
    to subscribers with an e-mail on file who did not turn reminders off."""
    policy = policy or portal.config.reminders
    today = portal.clock.today()
    first_before, last_before, first_after, last_after = policy.due_window(today)
    with portal.uow(read_only=True) as uow:
        candidates = list(uow.reminders.candidates((first_before, last_before), (first_after, last_after)))
        sent = uow.reminders.sent([c.invoice.id for c in candidates])
        # An invoice a mandate collects: the bank takes it on its due date, nobody is asked to pay it.
        debited = direct_debits(uow, [c.invoice for c in candidates], today)
        todo: list[tuple[ReminderCandidate, ReminderKind]] = []
        skipped = 0
        for candidate in candidates:
            kind = policy.kind_due(candidate.invoice.due_on, today)
            if kind is None or (candidate.invoice.id, kind) in sent or candidate.invoice.id in debited:
                skipped += 1
            else:
                todo.append((candidate, kind))
    queued = 0
    for start in range(0, len(todo), BATCH):
        with portal.uow() as uow:
            now = portal.clock.now()
            mails: list[Mail] = []
            for candidate, kind in todo[start:start + BATCH]:
                to = candidate.subscriber.email.address if candidate.subscriber.email else ""
                # Claimed before its mail is queued: a concurrent run that claimed it first wins.
                if uow.reminders.claim(SentReminder(candidate.invoice.id, kind, now, to)):
                    mails.append(reminder_mail(candidate, kind))
                else:
                    skipped += 1
            queue_mails(uow, portal, mails)
            uow.commit()
        queued += len(mails)
    if queued:
        log.info("reminders_queued count=%d skipped=%d", queued, skipped)
    return ReminderSummary(queued, skipped)
