"""Mail: queueing a message (the one way the domain sends mail), and delivering the outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence

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


def waiting_mail(portal: Portal) -> int:
    """How many e-mails wait in the outbox (not delivered yet)."""
    with portal.uow(read_only=True) as uow:
        return len(uow.outbox.pending())
