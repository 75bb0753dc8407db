"""Mail: queueing a message (the one way the domain sends mail), and delivering the outbox."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from ..model import errors
from ..model.accounts import StaffUser
from ..model.audit import AuditAction
from ..model.mail import LEASE, OUTBOX_PAGE, DeliveryReport, Mail, OutboxEntry, backoff, gives_up
from ..portal import Portal
from ..ports import UnitOfWork
from .audit import record_audit

log = logging.getLogger("portail.mail")


def queue_mail(uow: UnitOfWork, portal: Portal, mail: Mail) -> None:
    """Render ``mail`` (``portal.composer``) into the outbox of ``uow``: it leaves once ``uow`` commits.

    Rendered now, so what was queued is what is sent, whatever the templates become meanwhile.
    """
    uow.outbox.add(portal.composer.compose(mail), portal.clock.now())


def queue_mails(uow: UnitOfWork, portal: Portal, mails: Sequence[Mail]) -> None:
    """``queue_mail`` for many at once (an import's, a reminder run's): one batched write."""
    if mails:
        uow.outbox.add_many([portal.composer.compose(mail) for mail in mails], portal.clock.now())


def deliver_outbox(portal: Portal, *, limit: int = 50) -> DeliveryReport:
    """Deliver the due entries (at most ``limit``); failures wait for their next attempt.

    Delivery is at least once: if the process dies between sending and marking, the lease
    runs out and the entry is sent again; it is never dropped.
    """
    uow, mailer, clock = portal.uow, portal.mailer, portal.clock
    if mailer is None:
        raise errors.NotConfigured(what="mailer")
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
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            with uow() as work:
                if gives_up(entry.attempts, exc):  # shown in the back office's outbox; never retried alone
                    log.error("mail_gave_up id=%s attempts=%d error=%s", entry.id, entry.attempts, reason)
                    work.outbox.give_up(entry.id, clock.now(), reason)
                else:
                    retry_at = clock.now() + backoff(entry.attempts)
                    log.warning("mail_failed id=%s attempts=%d retry_at=%s error=%s", entry.id, entry.attempts,
                                retry_at.isoformat(), reason)
                    work.outbox.mark_failed(entry.id, retry_at, reason)
                work.commit()
            continue
        _mark_sent(portal, entry.id)
        sent += 1
    return DeliveryReport(sent, failed)


# Seconds between tries to record a mail as sent: a database that restarts for a few seconds
# must not make a sent mail go out again when its lease runs out.
MARK_SENT_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0)


def _mark_sent(portal: Portal, entry_id: uuid.UUID) -> None:
    for n, wait in enumerate((0.0, *MARK_SENT_WAITS)):
        time.sleep(wait)
        try:
            with portal.uow() as work:
                work.outbox.mark_sent(entry_id, portal.clock.now())
                work.commit()
            return
        except Exception as exc:
            if n == len(MARK_SENT_WAITS):
                raise  # the lease will run out and the mail go out again: at least once, never lost
            log.warning("mail_sent_not_recorded id=%s error=%s", entry_id, type(exc).__name__)


def waiting_mail(portal: Portal) -> int:
    """How many e-mails wait in the outbox (not delivered yet)."""
    with portal.uow(read_only=True) as uow:
        return len(uow.outbox.pending())


def unsent_mail(portal: Portal) -> list[OutboxEntry]:
    """The back office's outbox: mail not delivered (waiting, failed, discarded), newest first."""
    with portal.uow(read_only=True) as uow:
        return list(uow.outbox.unsent(OUTBOX_PAGE))


def act_on_mail(portal: Portal, staff: StaffUser, entry_id: uuid.UUID, action: str) -> None:
    """``retry`` (due now, attempts counted afresh) or ``discard`` an undelivered mail, audited.

    Raises ``NotFound`` (unknown or already sent), ``InvalidValue`` for another action.
    """
    if action not in ("retry", "discard"):
        raise errors.InvalidValue(action=action[:20])
    now = portal.clock.now()
    with portal.uow() as uow:
        entry = uow.outbox.get(entry_id)
        if entry is None:
            raise errors.NotFound(mail=str(entry_id))
        before = {"status": entry.status.value, "attempts": entry.attempts, "last_error": entry.last_error or ""}
        target = f"{entry.mail.to} {entry.mail.subject[:80]}"
        if not (uow.outbox.retry(entry_id, now) if action == "retry" else uow.outbox.discard(entry_id, now)):
            raise errors.NotFound(mail=str(entry_id))  # sent (or discarded) meanwhile
        record_audit(uow, portal, staff, AuditAction.MAIL_RETRY if action == "retry" else AuditAction.MAIL_DISCARD,
                     target=target, before=before)
        uow.commit()
