"""Échéancier: the subscriber's instalment schedules, as the billing system planned them."""

from __future__ import annotations

import uuid

from ..model.schedules import Schedule, schedules_of
from ..portal import Portal


def subscriber_schedules(portal: Portal, subscriber_id: uuid.UUID) -> list[Schedule]:
    """The schedule of each of the subscriber's contracts that has one (two queries)."""
    with portal.uow(read_only=True) as uow:
        contracts = {c.id: c.number for c in uow.contracts.for_subscriber(subscriber_id)}
        instalments = uow.instalments.for_contracts(list(contracts)) if contracts else []
    return schedules_of(contracts, instalments, portal.clock.today())

