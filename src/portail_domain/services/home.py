"""The subscriber's home page: invoices to pay, over-consumption alerts, each contract at a glance.

One read-only unit of work and five queries (contracts, invoices, mandates, readings, alerts sent),
where the three use cases it gathers would take three transactions and eight queries.
"""

from __future__ import annotations

import uuid

import attrs

from ..model.billing import InvoiceOverview
from ..model.contracts import ContractGlance, OverconsumptionAlert
from ..portal import Portal
from .billing import overview_in
from .contracts import alerts_in, glances_of


@attrs.frozen
class HomePage:
    invoices: InvoiceOverview  # the "À payer" view: total due, next due date, unpaid invoices
    alerts: list[OverconsumptionAlert]
    glances: list[ContractGlance]


def home_page(portal: Portal, subscriber_id: uuid.UUID) -> HomePage:
    """What the home page shows, read at once (``invoice_overview(unpaid_only=True)``,
    ``overconsumption_alerts`` and ``contracts_at_a_glance`` give the same, one by one)."""
    today = portal.clock.today()
    with portal.uow(read_only=True) as uow:
        contracts = list(uow.contracts.for_subscriber(subscriber_id))
        invoices = overview_in(uow, subscriber_id, today, unpaid_only=True)
        active = [c for c in contracts if c.is_active(today)]
        readings = uow.readings.for_contracts([c.id for c in active]) if active else []
        alerts = alerts_in(uow, active, readings, today)
    return HomePage(invoices, alerts, glances_of(active, readings))
