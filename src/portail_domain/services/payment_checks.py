"""The back office's payments queue (paiements à vérifier): what the gateway checks flagged, and
payments pending too long; staff re-ask the gateway and resolve each one, audited.

Only the gateway's own confirmed result ever credits an invoice: "settled" re-asks it and
credits only a matching "paid"; "refunded" and "cancelled" never move an invoice.
"""

from __future__ import annotations

import uuid

from ..model import errors
from ..model.accounts import StaffUser
from ..model.audit import AuditAction
from ..model.billing import GatewayResult, Invoice, Payment, PaymentStatus, result_problems
from ..model.review import (
    PENDING_TOO_LONG,
    QUEUE_PAGE,
    CancelRefused,
    PaymentResolution,
    PaymentResolved,
    PaymentToCheck,
    SettleRefused,
    answer_summary,
    clean_note,
    parse_resolution,
)
from ..portal import Portal
from ..ports import UnitOfWork
from .audit import record_audit
from .billing import _gateway, _queue_receipt


def payments_to_check(portal: Portal, limit: int = QUEUE_PAGE) -> list[PaymentToCheck]:
    """Flagged or long-pending payments not resolved yet, oldest first, with invoice and subscriber."""
    now = portal.clock.now()
    with portal.uow(read_only=True) as uow:
        lines = []
        for payment in uow.payments.to_check(now - PENDING_TOO_LONG, limit):
            invoice = uow.invoices.get(payment.invoice_id)
            contract = uow.contracts.get(invoice.contract_id) if invoice else None
            subscriber = uow.subscribers.get(contract.subscriber_id) if contract else None
            lines.append(PaymentToCheck(payment, invoice, subscriber, payment.flag or "pending"))
    return lines


def _ask(portal: Portal, payment: Payment) -> GatewayResult:
    """The gateway's answer now (outside any transaction: never hold a lock over the network)."""
    if payment.operation_id is None:
        raise SettleRefused(why="no operation")
    return _gateway(portal).fetch_result(payment.operation_id)


def _load(uow: UnitOfWork, payment_id: uuid.UUID) -> tuple[Payment, Invoice]:
    payment = uow.payments.get(payment_id)
    invoice = uow.invoices.lock(payment.invoice_id) if payment is not None else None
    if payment is None or invoice is None:
        raise errors.NotFound(payment=str(payment_id))
    return payment, invoice


def recheck_payment(portal: Portal, staff: StaffUser, payment_id: uuid.UUID) -> str:
    """Re-ask the gateway about a payment and keep its answer for the queue (audited); moves nothing."""
    with portal.uow(read_only=True) as uow:
        payment = uow.payments.get(payment_id)
    if payment is None:
        raise errors.NotFound(payment=str(payment_id))
    answer = answer_summary(_ask(portal, payment))
    with portal.uow() as uow:
        payment, invoice = _load(uow, payment_id)
        payment.gateway_answer = answer
        uow.payments.update(payment)
        record_audit(uow, portal, staff, AuditAction.PAYMENT_RESOLUTION, target=f"{invoice.number} "
                     f"{payment.operation_id}", after={"gateway": answer})
        uow.commit()
    return answer


def resolve_payment(portal: Portal, staff: StaffUser, payment_id: uuid.UUID, resolution_text: str,
                    note: str) -> Payment:
    """Close a payment of the queue as refunded, settled or cancelled, audited, once.

    ``settled`` credits the invoice only when the gateway, asked now, confirms a "paid" that
    matches the payment (amount, reference, client number) and the invoice still owes it;
    ``cancelled`` is refused when money was taken. Raises ``NotFound``, ``InvalidResolution``,
    ``PaymentResolved``, ``SettleRefused``, ``CancelRefused`` or ``GatewayError``.
    """
    resolution = parse_resolution(resolution_text)
    with portal.uow(read_only=True) as uow:
        found = uow.payments.get(payment_id)
    if found is None:
        raise errors.NotFound(payment=str(payment_id))
    if found.resolution is not None:
        raise PaymentResolved()
    result = _ask(portal, found) if resolution is not PaymentResolution.REFUNDED else None
    now = portal.clock.now()
    with portal.uow() as uow:
        payment, invoice = _load(uow, payment_id)  # the invoice locked: concurrent resolutions wait
        if payment.resolution is not None:
            raise PaymentResolved()
        before = {"status": payment.status.value, "invoice_paid": invoice.amount_paid}
        if result is not None:
            payment.gateway_answer = answer_summary(result)
        if resolution is PaymentResolution.SETTLED:
            assert result is not None
            _settle(portal, uow, payment, invoice, result)
        elif resolution is PaymentResolution.CANCELLED:
            assert result is not None
            _cancel(payment, result)
        payment.resolution, payment.resolved_at = resolution.value, now
        payment.resolution_note = clean_note(note) or None
        payment.updated_at = now
        uow.payments.update(payment)
        record_audit(uow, portal, staff, AuditAction.PAYMENT_RESOLUTION, target=f"{invoice.number} "
                     f"{payment.operation_id}", before=before,
                     after={"status": payment.status.value, "invoice_paid": invoice.amount_paid,
                            "resolution": resolution.value, "note": payment.resolution_note or "",
                            "gateway": payment.gateway_answer or ""})
        uow.commit()
    return payment


def _cancel(payment: Payment, result: GatewayResult) -> None:
    """End a payment no money was taken for; refused when the payment or the gateway says paid."""
    if payment.status == PaymentStatus.PAID or result.status == PaymentStatus.PAID.value:
        raise CancelRefused()
    if not payment.is_final:
        payment.status = PaymentStatus.EXPIRED


def _settle(portal: Portal, uow: UnitOfWork, payment: Payment, invoice: Invoice, result: GatewayResult) -> None:
    """Credit the invoice from the gateway's confirmed, matching "paid" — never otherwise, never twice."""
    gateway = _gateway(portal)
    if result.status != PaymentStatus.PAID.value or result_problems(result, payment, gateway.client_number):
        raise SettleRefused(why=answer_summary(result))
    if payment.status == PaymentStatus.PAID:
        raise SettleRefused(why="already paid: the invoice was credited or the money must be refunded")
    try:
        invoice.record_payment(payment.amount)
    except (errors.InvoiceNotPayable, errors.PaymentMismatch):
        raise SettleRefused(why="the invoice no longer owes this amount: refund") from None
    payment.status, payment.paid_at = PaymentStatus.PAID, portal.clock.now()
    payment.gateway_reference = (result.transaction_reference or "")[:64] or None
    uow.invoices.update(invoice)
    _queue_receipt(portal, uow, invoice, payment)
