"""The embedded payment simulator (``PORTAIL_PAYMENT=simulator``, the default).

It plays the gateway inside the portal: ``start`` records the operation in the database
(table ``payment_simulator_operations``, so every worker sees it) and sends the browser to
``/simulateur-paiement/<operation>``, a page clearly labelled as a simulation where the
tester decides paid / refused / abandoned. After the decision the web layer behaves like
PayFiP towards the portal: a server notification (the notification use case, in-process),
then the browser's return to ``/paiement/retour?idop=…``. The portal then asks this
adapter's ``fetch_result`` for the truth, exactly as it asks PayFiP.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import attrs
from sqlalchemy import Engine, insert, select, update

from portail_domain.model.billing import GatewayResult, PaymentOrder, PaymentStatus, StartedPayment
from portail_domain.model.errors import NotFound
from portail_domain.model.values import Money
from portail_domain.ports import Clock

from ..sql.tables import payment_simulator_operations as table

OPERATION_LIFETIME = timedelta(minutes=15)
DECISIONS = {"paid": PaymentStatus.PAID, "refused": PaymentStatus.REFUSED, "abandoned": PaymentStatus.ABANDONED}
PAGE_PATH = "/simulateur-paiement/"


@attrs.frozen
class SimulatedOperation:
    operation_id: str
    reference: str
    label: str
    amount: Money
    email: str
    return_url: str
    notify_url: str
    status: PaymentStatus
    expired: bool


class SimulatorGateway:
    """A ``PaymentGateway`` whose payer is whoever uses the simulator page."""

    name = "simulator"
    client_number = "SIMULATEUR"

    def __init__(self, engine: Engine, clock: Clock, base_url: str) -> None:
        self.engine = engine
        self.clock = clock
        self.base_url = base_url.rstrip("/")

    def start(self, order: PaymentOrder) -> StartedPayment:
        operation_id = secrets.token_urlsafe(24)
        with self.engine.begin() as connection:
            connection.execute(insert(table).values(
                operation_id=operation_id, reference=order.reference, label=order.label[:200],
                amount_cents=order.amount.cents, email=order.email[:254], return_url=order.return_url,
                notify_url=order.notify_url, status=PaymentStatus.PENDING.value, created_at=self.clock.now(),
            ))
        return StartedPayment(operation_id, self.redirect_url(operation_id))

    def redirect_url(self, operation_id: str) -> str:
        return f"{self.base_url}{PAGE_PATH}{operation_id}"

    def operation(self, operation_id: str) -> SimulatedOperation:
        if not operation_id.isprintable():  # never one of ours (and PostgreSQL refuses a NUL in a query)
            raise NotFound(what="simulated operation")
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.operation_id == operation_id[:64])).mappings().first()
        if row is None:
            raise NotFound(what="simulated operation")
        status = PaymentStatus(row["status"])
        expired = status == PaymentStatus.PENDING and self.clock.now() - row["created_at"] >= OPERATION_LIFETIME
        return SimulatedOperation(row["operation_id"], row["reference"], row["label"], Money(row["amount_cents"]),
                                  row["email"], row["return_url"], row["notify_url"], status, expired)

    def decide(self, operation_id: str, decision: str) -> SimulatedOperation:
        """Play the payer's choice; a decided or expired operation never changes."""
        status = DECISIONS[decision]
        operation = self.operation(operation_id)
        if operation.status == PaymentStatus.PENDING and not operation.expired:
            with self.engine.begin() as connection:
                connection.execute(
                    update(table)
                    .where(table.c.operation_id == operation.operation_id, table.c.status == PaymentStatus.PENDING)
                    .values(status=status.value, decided_at=self.clock.now())
                )
        return self.operation(operation_id)

    def fetch_result(self, operation_id: str) -> GatewayResult:
        try:
            operation = self.operation(operation_id)
        except NotFound:
            return GatewayResult(operation_id, PaymentStatus.EXPIRED.value)
        status = PaymentStatus.EXPIRED if operation.expired else operation.status
        return GatewayResult(
            operation_id=operation.operation_id,
            status=status.value,
            amount=operation.amount,
            reference=operation.reference,
            client_number=self.client_number,
            transaction_reference=f"SIM-{operation.operation_id[:12]}" if status == PaymentStatus.PAID else None,
        )
