"""Mes factures and Régler la facture: invoice views, and payments driven by the gateway's answers."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

from ..model import errors
from ..model.billing import (
    OPERATION_LIFETIME,
    RECONCILE_AFTER,
    GatewayResult,
    Invoice,
    InvoiceDetail,
    InvoiceLine,
    InvoiceOverview,
    Payment,
    PaymentOrder,
    PaymentStatus,
    ReconcileSummary,
    _open,
    _reusable,
    payment_label,
    payment_reference,
    result_problems,
)
from ..model.contracts import Contract
from ..model.documents import Download
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.values import Money
from ..portal import Portal
from ..ports import PaymentGateway, UnitOfWork
from .documents import download
from .mail import queue_mail
from .mandates import debits_by, direct_debits


def invoice_overview(portal: Portal, subscriber_id: uuid.UUID, *, unpaid_only: bool = False) -> InvoiceOverview:
    """All invoices of all the subscriber's contracts, newest first (one query, whatever the count).

    ``unpaid_only`` keeps the "À payer" tab: invoices to pay or partly paid. The total due
    and the next due date always count every unpaid invoice.
    """
    today = portal.clock.today()
    with portal.uow(read_only=True) as uow:
        return overview_in(uow, subscriber_id, today, unpaid_only=unpaid_only)


def overview_in(uow: UnitOfWork, subscriber_id: uuid.UUID, today: date, *,
                unpaid_only: bool = False) -> InvoiceOverview:
    """``invoice_overview`` inside the caller's unit of work (one query: the invoices with their
    contracts' numbers and those contracts' mandates)."""
    numbered, mandates = uow.invoices.listing(subscriber_id)
    invoices = [invoice for invoice, _number in numbered]
    debits = debits_by(mandates, invoices, today)
    unpaid = [i for i in invoices if i.payable]
    total = Money(sum(i.remaining.cents for i in unpaid))
    next_due = min((i.due_on for i in unpaid), default=None)
    lines = [InvoiceLine(i, number, debits.get(i.id)) for i, number in numbered if i.payable or not unpaid_only]
    return InvoiceOverview(lines, total, next_due, today)


def _owned_invoice(uow: UnitOfWork, subscriber_id: uuid.UUID, number: str) -> tuple[Invoice, Contract]:
    """The invoice ``number`` with its contract; ``NotFound`` when absent or someone else's."""
    if not number.isprintable():  # not a number ever issued (and PostgreSQL refuses a NUL in a query)
        raise errors.NotFound(what="invoice")
    invoice = uow.invoices.by_number(number)
    contract = uow.contracts.get(invoice.contract_id) if invoice is not None else None
    if invoice is None or contract is None or contract.subscriber_id != subscriber_id:
        raise errors.NotFound(what="invoice")
    return invoice, contract


def invoice_detail(portal: Portal, subscriber_id: uuid.UUID, number: str) -> InvoiceDetail:
    """One of the subscriber's invoices with its online payments; ``NotFound`` if not theirs."""
    with portal.uow(read_only=True) as uow:
        invoice, contract = _owned_invoice(uow, subscriber_id, number)
        debit = direct_debits(uow, [invoice], portal.clock.today()).get(invoice.id)
        return InvoiceDetail(invoice, contract, list(uow.payments.for_invoice(invoice.id)), debit)


def invoice_pdf(portal: Portal, subscriber_id: uuid.UUID, number: str) -> Download:
    """The stored PDF of one of the subscriber's invoices, to send back; ``NotFound`` when there is none."""
    with portal.uow(read_only=True) as uow:
        invoice, _contract = _owned_invoice(uow, subscriber_id, number)
        document = uow.documents.get(invoice.pdf_document_id) if invoice.pdf_document_id else None
    if document is None or document.subscriber_id != subscriber_id:
        raise errors.NotFound(what="invoice pdf")
    return download(portal, document)


log = logging.getLogger("portail.payments")

# A result may still come after the operation's life (a payer who started at minute 14): the portal
# keeps asking for 2 hours in all, as eopayment does against the real service. Sources: docs/payfip.md.
RESULT_WINDOW = timedelta(hours=2)


def _operation_key(operation_id: str) -> str:
    """The operation id as looked up, or "" for one no gateway issues (control characters:
    PostgreSQL refuses a NUL in a query)."""
    key = operation_id.strip()[:64]
    return key if key.isprintable() else ""


def _gateway(portal: Portal) -> PaymentGateway:
    if portal.payments is None:
        raise errors.GatewayError("no payment gateway is configured")
    return portal.payments


# --- start -------------------------------------------------------------------------


def start_payment(portal: Portal, subscriber_id: uuid.UUID, invoice_number: str) -> str:
    """Where to send the payer's browser to pay what the invoice still owes.

    Refused for a paid or cancelled invoice, and for one a direct-debit mandate pays
    (``InvoiceOnDirectDebit``: it would be paid twice). A second click within the operation's
    lifetime reuses the pending payment; older pending ones are first re-checked with
    the gateway (one of them may have been paid after all).
    """
    gateway = _gateway(portal)
    now = portal.clock.now()
    with portal.uow() as uow:
        invoice, _contract = _owned_invoice(uow, subscriber_id, invoice_number)
        invoice.ensure_payable()
        if direct_debits(uow, [invoice], portal.clock.today()):
            raise errors.InvoiceOnDirectDebit(number=invoice.number)
        payments = uow.payments.for_invoice(invoice.id)
        reusable = _reusable(payments, gateway.name, invoice, now)
        if reusable is not None:
            return gateway.redirect_url(reusable)
        stale = [p.operation_id for p in payments if p.operation_id is not None and _watched(p, gateway.name, now)]
        subscriber = uow.subscribers.get(subscriber_id)
    for operation_id in stale:
        try:
            confirm_payment(portal, operation_id)
        except errors.GatewayError:
            log.warning("payment_recheck_failed operation=%s", operation_id)
    with portal.uow() as uow:
        invoice, _contract = _owned_invoice(uow, subscriber_id, invoice_number)
        invoice.ensure_payable()
    email = subscriber.email.address if subscriber and subscriber.email else portal.config.utility.email
    order = PaymentOrder(
        reference=payment_reference(invoice.number),
        label=payment_label(invoice, portal.config.utility.name),
        amount=invoice.remaining,
        email=email,
        return_url=portal.links.url(Link("payment_return")),
        notify_url=portal.links.url(Link("payment_notification")),
        year=invoice.issued_on.year,
    )
    started = gateway.start(order)  # outside any transaction: never hold a lock over the network
    with portal.uow() as uow:
        locked = uow.invoices.lock(invoice.id)
        assert locked is not None
        locked.ensure_payable()
        reusable = _reusable(uow.payments.for_invoice(locked.id), gateway.name, locked, now)
        # A concurrent click (a double click on "Régler") won: its operation is the one to use.
        # Ours is stored all the same, so that if it is ever paid it is a known payment: it
        # credits the invoice if the other was not paid, else it is flagged for refund.
        uow.payments.add(Payment(
            invoice_id=locked.id,
            amount=order.amount,
            gateway=gateway.name,
            reference=order.reference,
            created_at=now,
            operation_id=started.operation_id,
        ))
        uow.commit()
    if reusable is not None:
        log.warning("payment_spare_operation invoice=%s operation=%s used=%s", invoice.number,
                    started.operation_id, reusable)
        return gateway.redirect_url(reusable)
    log.info("payment_started invoice=%s operation=%s amount=%s", invoice.number, started.operation_id,
             order.amount)
    return started.redirect_url


# --- confirm -----------------------------------------------------------------------


def confirm_payment(portal: Portal, operation_id: str) -> Payment | None:
    """Re-ask the gateway about ``operation_id`` and apply its answer, at most once.

    Returns the payment as stored afterwards, or None for an operation the portal never
    started (nothing is done for those). Raises ``GatewayError`` when the gateway cannot
    be reached (the payment stays pending; the reconcile job asks again later).
    """
    gateway = _gateway(portal)
    operation_id = _operation_key(operation_id)
    if not operation_id:
        return None
    with portal.uow() as uow:
        payment = uow.payments.by_operation(gateway.name, operation_id)
    if payment is None:
        log.warning("payment_unknown_operation operation=%s", operation_id)
        return None
    if payment.is_closed:
        return payment  # replayed notification: nothing to ask, nothing to change
    result = gateway.fetch_result(operation_id)
    with portal.uow() as uow:
        # Lock first, then read the payment again: a concurrent confirmation that got the
        # lock before us has already moved it, and we must see that.
        invoice = uow.invoices.lock(payment.invoice_id)
        payment = uow.payments.by_operation(gateway.name, operation_id)
        assert invoice is not None and payment is not None
        if payment.is_closed:
            return payment
        if _apply(portal, uow, gateway, result, payment, invoice):
            uow.payments.update(payment)
            uow.commit()
        return payment


def _apply(portal: Portal, uow: UnitOfWork, gateway: PaymentGateway, result: GatewayResult, payment: Payment,
           invoice: Invoice) -> bool:
    """Move ``payment`` (and ``invoice``) per ``result``; True when something changed."""
    now = portal.clock.now()
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
    _queue_receipt(portal, uow, invoice, payment)
    log.info("payment_paid operation=%s invoice=%s amount=%s", payment.operation_id, invoice.number,
             payment.amount)
    return True


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


def _watched(payment: Payment, gateway_name: str, now: datetime) -> bool:
    """Pending, or abandoned while its operation may still be paid: worth asking the gateway."""
    if payment.status == PaymentStatus.ABANDONED and now - payment.created_at < RESULT_WINDOW:
        return (payment.gateway == gateway_name and payment.operation_id is not None and payment.flag is None)
    return _open(payment, gateway_name)


def _queue_receipt(portal: Portal, uow: UnitOfWork, invoice: Invoice, payment: Payment) -> None:
    contract = uow.contracts.get(invoice.contract_id)
    subscriber = uow.subscribers.get(contract.subscriber_id) if contract else None
    if subscriber is None or subscriber.email is None:
        return
    paid_at = payment.paid_at or payment.created_at
    queue_mail(uow, portal, Mail(
        MailKind.PAYMENT_RECEIPT, subscriber.email.address, subscriber.language.value,
        {"name": subscriber.name, "number": invoice.number, "amount": payment.amount, "paid_on": paid_at.date(),
         "transaction": payment.gateway_reference or payment.operation_id or "-"},
    ))


# --- the two ways a gateway calls back ------------------------------------------------


def handle_notification(portal: Portal, operation_id: str) -> Payment | None:
    """The gateway's server-to-server notice: it only triggers a re-check."""
    return confirm_payment(portal, operation_id)


def handle_return(portal: Portal, subscriber_id: uuid.UUID, operation_id: str) -> tuple[Payment, Invoice]:
    """The payer's browser is back: re-check, then show the payment if it is theirs."""
    gateway = _gateway(portal)
    try:
        confirm_payment(portal, operation_id)
    except errors.GatewayError:
        log.warning("payment_return_unconfirmed operation=%s", operation_id)
    key = _operation_key(operation_id)
    with portal.uow() as uow:
        payment = uow.payments.by_operation(gateway.name, key) if key else None
        invoice = uow.invoices.get(payment.invoice_id) if payment else None
        contract = uow.contracts.get(invoice.contract_id) if invoice else None
        if payment is None or invoice is None or contract is None or contract.subscriber_id != subscriber_id:
            raise errors.NotFound(what="payment")
        return payment, invoice


# --- the periodic re-check --------------------------------------------------------------


def reconcile_pending(portal: Portal, older_than: timedelta = RECONCILE_AFTER) -> ReconcileSummary:
    """Re-ask the gateway about pending payments older than ``older_than``.

    Settles those whose notification never came; those the gateway no longer knows
    (PayFiP P1) expire once past the operation's lifetime, those it still has no result for
    (PayFiP P5) once past ``RESULT_WINDOW``. Abandoned ones are asked again while their
    operation may still be paid. Flagged payments are left to staff.
    """
    gateway = _gateway(portal)
    now = portal.clock.now()
    cutoff = now - older_than
    with portal.uow() as uow:
        due = [p for p in uow.payments.pending(abandoned_since=now - RESULT_WINDOW)
               if p.gateway == gateway.name and p.operation_id and p.flag is None and p.created_at <= cutoff]
    counts = {"checked": 0, "paid": 0, "settled": 0, "still_pending": 0, "flagged": 0, "unreachable": 0}
    for payment in due:
        counts["checked"] += 1
        try:
            after = confirm_payment(portal, payment.operation_id or "")
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
