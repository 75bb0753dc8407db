"""Mail: queueing a message (the one way the domain sends mail), and delivering the outbox."""

from __future__ import annotations

import logging
import time
import uuid

from ..model import errors
from ..model.mail import LEASE, DeliveryReport, Mail, backoff
from ..portal import Portal
from ..ports import UnitOfWork

log = logging.getLogger("portail.mail")


def queue_mail(uow: UnitOfWork, portal: Portal, mail: Mail) -> None:
    """Render ``mail`` (``portal.composer``) into the outbox of ``uow``: it leaves once ``uow`` commits.

    Rendered now, so what was queued is what is sent, whatever the templates become meanwhile.
    """
    uow.outbox.add(portal.composer.compose(mail), portal.clock.now())


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
            retry_at = clock.now() + backoff(entry.attempts)
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
            log.warning("mail_failed id=%s attempts=%d retry_at=%s error=%s", entry.id, entry.attempts,
                        retry_at.isoformat(), reason)
            with uow() as work:
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
