"""Online payment of invoices (Régler la facture): start, confirm, reconcile.

The rule that matters: only the gateway's own, server-side account of an operation moves
an invoice. The browser's return and the server notification only *trigger* a re-check
(``PaymentGateway.fetch_result``); the result must name the stored payment's amount,
reference and the portal's client number, else the payment is flagged for staff and
nothing is paid. The invoice row is locked while a result is applied, so duplicate,
replayed or concurrent notifications change nothing twice.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from hashlib import sha256
from typing import TYPE_CHECKING

import attrs

from . import errors
from .accounts import Language
from .invoices import Invoice, Payment, PaymentStatus, owned_invoice
from .ports import GatewayResult, OutgoingMail, PaymentOrder

if TYPE_CHECKING:
    from .portal import Portal, PortalConfig
    from .ports import Clock, PaymentGateway, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("portail.payments")

OPERATION_LIFETIME = timedelta(minutes=15)  # a PayFiP idOp lives 15 minutes
# A result may still come after that (a payer who started at minute 14): the portal keeps asking
# for 2 hours in all, as eopayment does against the real service. Sources: docs/payfip.md.
RESULT_WINDOW = timedelta(hours=2)
RECONCILE_AFTER = timedelta(minutes=5)  # leave the notification time to arrive first

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def payment_reference(invoice_number: str) -> str:
    """The debt's reference as the gateway knows it (PayFiP refdet: 6 to 30 letters or digits).

    Deterministic, so every attempt on one invoice carries the same reference; a long
    number keeps its start and gains a short hash, so two invoices never share one.
    """
    cleaned = _NOT_ALNUM.sub("", invoice_number.upper())
    if len(cleaned) > 30:
        cleaned = cleaned[:22] + sha256(invoice_number.encode()).hexdigest()[:8].upper()
    return cleaned.rjust(6, "0")


def payment_label(invoice: Invoice, utility_name: str) -> str:
    """What the payer reads on the gateway's page (PayFiP objet; the adapter narrows the charset)."""
    return f"Facture {invoice.number} {utility_name}"[:100]


@attrs.frozen
class ReconcileSummary:
    checked: int = 0
    paid: int = 0
    settled: int = 0  # refused, abandoned or expired
    still_pending: int = 0
    flagged: int = 0
    unreachable: int = 0


@attrs.define
class PaymentDesk:
    """The payment use cases, over the ports they need (``PaymentDesk.of(portal)``)."""

    uows: UnitOfWorkFactory
    gateway: PaymentGateway | None
    clock: Clock
    config: PortalConfig

    @classmethod
    def of(cls, portal: Portal) -> PaymentDesk:
        return cls(portal.uow, portal.payments, portal.clock, portal.config)

    def _gateway(self) -> PaymentGateway:
        if self.gateway is None:
            raise errors.GatewayError("no payment gateway is configured")
        return self.gateway

    # --- start -------------------------------------------------------------------------

    def start_payment(self, subscriber_id: uuid.UUID, invoice_number: str) -> str:
        """Where to send the payer's browser to pay what the invoice still owes.

        Refused for a paid or cancelled invoice. A second click within the operation's
        lifetime reuses the pending payment; older pending ones are first re-checked with
        the gateway (one of them may have been paid after all).
        """
        gateway = self._gateway()
        now = self.clock.now()
        with self.uows() as uow:
            invoice, _contract = owned_invoice(uow, subscriber_id, invoice_number)
            invoice.ensure_payable()
            payments = uow.payments.for_invoice(invoice.id)
            reusable = _reusable(payments, gateway.name, invoice, now)
            if reusable is not None:
                return gateway.redirect_url(reusable)
            stale = [p.operation_id for p in payments if _watched(p, gateway.name, now)]
            subscriber = uow.subscribers.get(subscriber_id)
        for operation_id in stale:
            try:
                self.confirm(operation_id)
            except errors.GatewayError:
                log.warning("payment_recheck_failed operation=%s", operation_id)
        with self.uows() as uow:
            invoice, _contract = owned_invoice(uow, subscriber_id, invoice_number)
            invoice.ensure_payable()
        email = subscriber.email.address if subscriber and subscriber.email else self.config.utility.email
        order = PaymentOrder(
            reference=payment_reference(invoice.number),
            label=payment_label(invoice, self.config.utility.name),
            amount=invoice.remaining,
            email=email,
            return_url=self.config.link("/paiement/retour"),
            notify_url=self.config.link("/paiement/notification"),
            year=invoice.issued_on.year,
        )
        started = gateway.start(order)  # outside any transaction: never hold a lock over the network
        with self.uows() as uow:
            invoice = uow.invoices.lock(invoice.id)
            assert invoice is not None
            invoice.ensure_payable()
            reusable = _reusable(uow.payments.for_invoice(invoice.id), gateway.name, invoice, now)
            if reusable is not None:  # a concurrent click won: its operation is the one to use
                return gateway.redirect_url(reusable)
            uow.payments.add(Payment(
                invoice_id=invoice.id,
                amount=order.amount,
                gateway=gateway.name,
                reference=order.reference,
                created_at=now,
                operation_id=started.operation_id,
            ))
            uow.commit()
        log.info("payment_started invoice=%s operation=%s amount=%s", invoice.number, started.operation_id,
                 order.amount)
        return started.redirect_url

    # --- confirm -----------------------------------------------------------------------

    def confirm(self, operation_id: str) -> Payment | None:
        """Re-ask the gateway about ``operation_id`` and apply its answer, at most once.

        Returns the payment as stored afterwards, or None for an operation the portal never
        started (nothing is done for those). Raises ``GatewayError`` when the gateway cannot
        be reached (the payment stays pending; the reconcile job asks again later).
        """
        gateway = self._gateway()
        operation_id = operation_id.strip()[:64]
        if not operation_id:
            return None
        with self.uows() as uow:
            payment = uow.payments.by_operation(gateway.name, operation_id)
        if payment is None:
            log.warning("payment_unknown_operation operation=%s", operation_id)
            return None
        if payment.is_closed:
            return payment  # replayed notification: nothing to ask, nothing to change
        result = gateway.fetch_result(operation_id)
        with self.uows() as uow:
            # Lock first, then read the payment again: a concurrent confirmation that got the
            # lock before us has already moved it, and we must see that.
            invoice = uow.invoices.lock(payment.invoice_id)
            payment = uow.payments.by_operation(gateway.name, operation_id)
            assert invoice is not None and payment is not None
            if payment.is_closed:
                return payment
            if self._apply(uow, gateway, result, payment, invoice):
                uow.payments.update(payment)
                uow.commit()
            return payment

    def _apply(self, uow: UnitOfWork, gateway: PaymentGateway, result: GatewayResult, payment: Payment,
               invoice: Invoice) -> bool:
        """Move ``payment`` (and ``invoice``) per ``result``; True when something changed."""
        now = self.clock.now()
        problems = result_problems(result, payment, gateway.client_number)
        if problems:
            flag = "; ".join(problems)[:200]
            log.error("payment_flagged operation=%s invoice=%s problems=%s", payment.operation_id, invoice.number,
                      flag)
            if payment.flag == flag:
                return False
            payment.flag = flag
            payment.updated_at = now
            return True
        status = PaymentStatus(result.status)
        age = now - payment.created_at
        if payment.status == PaymentStatus.EXPIRED or (
                payment.status == PaymentStatus.ABANDONED and age >= RESULT_WINDOW):
            return _flag_late_payment(payment, invoice, result, now)
        if status == PaymentStatus.PENDING:
            if age < RESULT_WINDOW:
                return False  # no result yet (PayFiP P5): the payer may still be at it
            status = PaymentStatus.EXPIRED  # still none past the operation's life and margin: none will come
        if status == PaymentStatus.EXPIRED and age < OPERATION_LIFETIME:
            return False  # not known yet but still alive: the payer may be on the gateway's page
        before = payment.status
        if not payment.settle(status, now):
            if payment.status == before:
                return False
            log.info("payment_settled operation=%s status=%s", payment.operation_id, status)
            return True
        payment.gateway_reference = (result.transaction_reference or "")[:64] or None
        try:
            invoice.record_payment(payment.amount)
        except (errors.InvoiceNotPayable, errors.PaymentMismatch):
            # Money was taken but the invoice no longer owes it (paid by another means meanwhile):
            # never credit twice; staff refund it.
            payment.flag = "paid while the invoice no longer owed this amount: refund"
            log.error("payment_paid_twice operation=%s invoice=%s", payment.operation_id, invoice.number)
            return True
        uow.invoices.update(invoice)
        self._queue_receipt(uow, invoice, payment)
        log.info("payment_paid operation=%s invoice=%s amount=%s", payment.operation_id, invoice.number,
                 payment.amount)
        return True

    def _queue_receipt(self, uow: UnitOfWork, invoice: Invoice, payment: Payment) -> None:
        contract = uow.contracts.get(invoice.contract_id)
        subscriber = uow.subscribers.get(contract.subscriber_id) if contract else None
        if subscriber is None or subscriber.email is None:
            return
        uow.outbox.add(receipt_mail(subscriber.email.address, subscriber.name, subscriber.language, invoice,
                                    payment, self.config.utility.name), self.clock.now())

    # --- the two ways a gateway calls back ------------------------------------------------

    def handle_notification(self, operation_id: str) -> Payment | None:
        """The gateway's server-to-server notice: it only triggers a re-check."""
        return self.confirm(operation_id)

    def handle_return(self, subscriber_id: uuid.UUID, operation_id: str) -> tuple[Payment, Invoice]:
        """The payer's browser is back: re-check, then show the payment if it is theirs."""
        gateway = self._gateway()
        try:
            self.confirm(operation_id)
        except errors.GatewayError:
            log.warning("payment_return_unconfirmed operation=%s", operation_id)
        with self.uows() as uow:
            payment = uow.payments.by_operation(gateway.name, operation_id.strip()[:64])
            invoice = uow.invoices.get(payment.invoice_id) if payment else None
            contract = uow.contracts.get(invoice.contract_id) if invoice else None
            if payment is None or invoice is None or contract is None or contract.subscriber_id != subscriber_id:
                raise errors.NotFound(what="payment")
            return payment, invoice

    # --- the periodic re-check --------------------------------------------------------------

    def reconcile_pending(self, older_than: timedelta = RECONCILE_AFTER) -> ReconcileSummary:
        """Re-ask the gateway about pending payments older than ``older_than``.

        Settles those whose notification never came; those the gateway no longer knows
        (PayFiP P1) expire once past the operation's lifetime, those it still has no result for
        (PayFiP P5) once past ``RESULT_WINDOW``. Abandoned ones are asked again while their
        operation may still be paid. Flagged payments are left to staff.
        """
        gateway = self._gateway()
        now = self.clock.now()
        cutoff = now - older_than
        with self.uows() as uow:
            due = [p for p in uow.payments.pending(abandoned_since=now - RESULT_WINDOW)
                   if p.gateway == gateway.name and p.operation_id and p.flag is None and p.created_at <= cutoff]
        counts = {"checked": 0, "paid": 0, "settled": 0, "still_pending": 0, "flagged": 0, "unreachable": 0}
        for payment in due:
            counts["checked"] += 1
            try:
                after = self.confirm(payment.operation_id or "")
            except errors.GatewayError:
                counts["unreachable"] += 1
                continue
            if after is None or after.flag:
                counts["flagged"] += 1
            elif after.status == PaymentStatus.PAID:
                counts["paid"] += 1
            elif after.status != payment.status:
                counts["settled"] += 1
            else:  # still pending, or abandoned while its operation may still be paid
                counts["still_pending"] += 1
        return ReconcileSummary(**counts)


def _flag_late_payment(payment: Payment, invoice: Invoice, result: GatewayResult, now: datetime) -> bool:
    """A "paid" for an operation the portal gave up on (expired, or abandoned past its window):
    never lost, never credited behind the subscriber's back; staff credit or refund it."""
    if result.status != PaymentStatus.PAID.value:
        return False
    flag = f"paid after the portal had it {payment.status.value}: credit the invoice or refund"
    if payment.flag == flag:
        return False
    payment.flag = flag
    payment.updated_at = now
    payment.gateway_reference = (result.transaction_reference or "")[:64] or None
    log.error("payment_paid_late operation=%s invoice=%s status=%s", payment.operation_id, invoice.number,
              payment.status)
    return True


def _open(payment: Payment, gateway_name: str) -> bool:
    return (payment.status == PaymentStatus.PENDING and payment.gateway == gateway_name
            and payment.operation_id is not None and payment.flag is None)


def _watched(payment: Payment, gateway_name: str, now: datetime) -> bool:
    """Pending, or abandoned while its operation may still be paid: worth asking the gateway."""
    if payment.status == PaymentStatus.ABANDONED and now - payment.created_at < RESULT_WINDOW:
        return (payment.gateway == gateway_name and payment.operation_id is not None and payment.flag is None)
    return _open(payment, gateway_name)


def _reusable(payments: Sequence[Payment], gateway_name: str, invoice: Invoice, now: datetime) -> str | None:
    """The operation id of a pending payment the payer can still use for this amount."""
    for payment in reversed(payments):
        if (_open(payment, gateway_name) and payment.amount == invoice.remaining
                and now - payment.created_at < OPERATION_LIFETIME):
            return payment.operation_id
    return None


def result_problems(result: GatewayResult, payment: Payment, client_number: str) -> list[str]:
    """Why a gateway result cannot be trusted for ``payment`` (empty when it can).

    A "paid" result must state the amount, the reference and the client number, and each
    must be the stored one; any other result must not contradict them.
    """
    problems: list[str] = []
    if result.operation_id != payment.operation_id:
        problems.append("operation id differs")
    if result.status not in {s.value for s in PaymentStatus}:
        problems.append(f"unknown status {result.status[:20]!r}")
        return problems
    must = result.status == PaymentStatus.PAID.value
    checks = (("amount", result.amount, payment.amount), ("reference", result.reference, payment.reference),
              ("client number", result.client_number, client_number))
    for name, got, expected in checks:
        if got is None:
            if must:
                problems.append(f"{name} missing")
        elif got != expected:
            problems.append(f"{name} differs ({str(got)[:30]} instead of {expected})")
    return problems


# --- the receipt (in the subscriber's language) -----------------------------------------

_RECEIPT = {
    Language.FR: (
        "Paiement reçu pour la facture {number}",
        "Bonjour {name},\n\nNous avons bien reçu votre paiement de {amount} pour la facture {number}, "
        "le {date}.\nRéférence de la transaction : {transaction}.\n\nMerci.\n{utility}\n",
    ),
    Language.EN: (
        "Payment received for invoice {number}",
        "Hello {name},\n\nWe have received your payment of {amount} for invoice {number} on {date}.\n"
        "Transaction reference: {transaction}.\n\nThank you.\n{utility}\n",
    ),
}


def _amount_text(amount: object, language: Language) -> str:
    whole, _, cents = str(amount).partition(".")
    return f"{whole},{cents} €" if language == Language.FR else f"€{whole}.{cents}"


def receipt_mail(to: str, name: str, language: Language, invoice: Invoice, payment: Payment,
                 utility_name: str) -> OutgoingMail:
    subject, body = _RECEIPT.get(language, _RECEIPT[Language.FR])
    paid_at = payment.paid_at or payment.created_at
    date = paid_at.strftime("%d/%m/%Y") if language == Language.FR else paid_at.date().isoformat()
    values = {
        "number": invoice.number,
        "name": name,
        "amount": _amount_text(payment.amount, language),
        "date": date,
        "transaction": payment.gateway_reference or payment.operation_id or "-",
        "utility": utility_name,
    }
    return OutgoingMail(to=to, subject=subject.format(**values), text=body.format(**values))
