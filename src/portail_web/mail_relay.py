"""The outbox relay inside the web process: a background task started by the app's lifespan.

Besides delivering mail, it purges expired account rows every few minutes and queues the
payment reminders once a day (idempotent: every worker may do it, each reminder goes once).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from starlette.concurrency import run_in_threadpool

from portail_adapters.files.local import LocalFileStore
from portail_domain.model.mail import DeliveryReport
from portail_domain.model.reminders import ReminderSummary
from portail_domain.portal import Portal
from portail_domain.services.accounts import purge_expired
from portail_domain.services.mail import deliver_outbox
from portail_domain.services.reminders import send_reminders

log = logging.getLogger("portail.mail")

RELAY_EVERY = 5.0  # seconds between two looks at the outbox
PURGE_EVERY = 600.0  # seconds between two purges of expired sessions, links and counters


def deliver_now(portal: Portal) -> DeliveryReport:
    """Deliver what is due (the CLI's ``portail mail send`` and the background task)."""
    if portal.mailer is None:
        raise RuntimeError("no mailer configured")
    return deliver_outbox(portal)


def purge_now(portal: Portal) -> int:
    """Housekeeping: dead sessions, expired links, forgotten throttle counters, and the temp files
    of uploads a killed worker left on a local file store."""
    removed = purge_expired(portal)
    if isinstance(portal.files, LocalFileStore):
        removed += portal.files.remove_partial()
    return removed


def remind_now(portal: Portal) -> ReminderSummary:
    """Queue today's payment reminders (the CLI's ``portail reminders send`` and the daily round)."""
    return send_reminders(portal)


async def relay_forever(portal: Portal, every: float = RELAY_EVERY) -> None:
    """Deliver due mail every ``every`` seconds until cancelled, purge expired account rows every
    ``PURGE_EVERY`` seconds, and queue the payment reminders on the first round of each day;
    a failing round is logged, never fatal."""
    rounds_between_purges = max(1, int(PURGE_EVERY / every))
    round_number = 0
    reminded_on: date | None = None
    while True:
        try:
            today = portal.clock.today()
            if reminded_on != today:  # queued before delivering: today's reminders leave this round
                await run_in_threadpool(remind_now, portal)
                reminded_on = today
            report = await run_in_threadpool(deliver_now, portal)
            if report.sent or report.failed:
                log.info("mail relay: %d sent, %d failed (will retry)", report.sent, report.failed)
            if round_number % rounds_between_purges == 0:
                await run_in_threadpool(purge_now, portal)
        except Exception:  # noqa: BLE001 - the database may be down for a while: try again later
            log.exception("mail relay round failed")
        round_number += 1
        await asyncio.sleep(every)
