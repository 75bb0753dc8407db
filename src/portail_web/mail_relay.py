"""The outbox relay inside the web process: a background task started by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from portail_domain.mail import DeliveryReport, deliver_outbox
from portail_domain.portal import Portal

log = logging.getLogger("portail.mail")

RELAY_EVERY = 5.0  # seconds between two looks at the outbox


def deliver_now(portal: Portal) -> DeliveryReport:
    """Deliver what is due (the CLI's ``portail mail send`` and the background task)."""
    if portal.mailer is None:
        raise RuntimeError("no mailer configured")
    return deliver_outbox(portal.uow, portal.mailer, portal.clock)


async def relay_forever(portal: Portal, every: float = RELAY_EVERY) -> None:
    """Deliver due mail every ``every`` seconds until cancelled; a failing round is logged, never fatal."""
    while True:
        try:
            report = await run_in_threadpool(deliver_now, portal)
            if report.sent or report.failed:
                log.info("mail relay: %d sent, %d failed (will retry)", report.sent, report.failed)
        except Exception:  # noqa: BLE001 - the database may be down for a while: try again later
            log.exception("mail relay round failed")
        await asyncio.sleep(every)
