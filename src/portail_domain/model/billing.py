"""Invoices (factures) and the online payments that settle them."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from hashlib import sha256

import attrs

from . import errors
from .contracts import Contract
from .values import Money


class InvoiceStatus(enum.StrEnum):
    TO_PAY = "to_pay"  # à payer
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


@attrs.define(eq=False)
class Invoice:
    """An invoice issued by the billing system; the portal only records payments on it."""

    number: str
    contract_id: uuid.UUID
    issued_on: date
    due_on: date
    amount: Money
    amount_paid: Money = Money(0)
    cancelled: bool = False
    pdf_document_id: uuid.UUID | None = None
    pdf_file: str | None = None  # reference given by the billing system, until stored
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def remaining(self) -> Money:
        """What the subscriber still owes (never negative)."""
        if self.cancelled:
            return Money(0)
        return Money(max(self.amount.cents - self.amount_paid.cents, 0))

    @property
    def status(self) -> InvoiceStatus:
        if self.cancelled:
            return InvoiceStatus.CANCELLED
        if self.amount_paid.cents >= self.amount.cents:
            return InvoiceStatus.PAID
        if self.amount_paid.cents > 0:
            return InvoiceStatus.PARTLY_PAID
        return InvoiceStatus.TO_PAY

    @property
    def payable(self) -> bool:
        return self.status in (InvoiceStatus.TO_PAY, InvoiceStatus.PARTLY_PAID)

    def is_overdue(self, today: date) -> bool:
        return self.payable and self.due_on < today

    def ensure_payable(self) -> None:
        if self.status == InvoiceStatus.CANCELLED:
            raise errors.InvoiceCancelled(number=self.number)
        if self.status == InvoiceStatus.PAID:
            raise errors.InvoiceAlreadyPaid(number=self.number)

    def record_payment(self, amount: Money) -> None:
        """Credit a confirmed payment. Never more than what is owed: no invoice is paid twice."""
        self.ensure_payable()
        if not amount.is_positive:
            raise errors.InvalidAmount("a payment is a positive amount", value=str(amount))
        if amount > self.remaining:
            raise errors.PaymentMismatch("payment exceeds what is owed", number=self.number)
        self.amount_paid = self.amount_paid + amount


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    ABANDONED = "abandoned"
    EXPIRED = "expired"


FINAL_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.REFUSED, PaymentStatus.ABANDONED, PaymentStatus.EXPIRED})
# Nothing the gateway says later changes these; an abandoned operation may still be paid with the
# same operation id while it lives (PayFiP keeps the idOp usable after an abandon).
CLOSED_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.REFUSED})


@attrs.define(eq=False)
class Payment:
    """One attempt to pay an invoice through a gateway. Unique by (gateway, operation_id)."""

    invoice_id: uuid.UUID
    amount: Money
    gateway: str
    reference: str  # what the gateway knows the debt as (PayFiP: refdet)
    created_at: datetime
    operation_id: str | None = None  # the gateway's id (PayFiP: idOp)
    status: PaymentStatus = PaymentStatus.PENDING
    updated_at: datetime | None = None
    paid_at: datetime | None = None
    flag: str | None = None  # why a result was not trusted (mismatch), for staff
    gateway_reference: str | None = None  # the gateway's transaction reference, for exports
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def is_final(self) -> bool:
        """The gateway has given a result (or the portal gave up waiting for one)."""
        return self.status in FINAL_STATUSES

    @property
    def is_closed(self) -> bool:
        """Paid or refused: no later answer from the gateway can change it."""
        return self.status in CLOSED_STATUSES

    def settle(self, status: PaymentStatus, now: datetime) -> bool:
        """Move to a final status. Returns True only when this call made it paid.

        Paid, refused and expired never change again: a replayed or late "refused" never
        undoes "paid", and a second "paid" credits nothing. Abandoned may still become paid
        or refused: the payer went back to the gateway with the same operation (the caller
        asks only while that operation lives).
        """
        if status == PaymentStatus.PENDING or status == self.status:
            return False
        reopened = self.status == PaymentStatus.ABANDONED and status in CLOSED_STATUSES
        if self.is_final and not reopened:
            return False
        self.status = status
        self.updated_at = now
        if status == PaymentStatus.PAID:
            self.paid_at = now
            return True
        return False


@attrs.frozen
class DirectDebit:
    """An invoice a direct-debit mandate pays on its due date (prélèvement à l'échéance)."""

    on: date  # the due date: when the bank is asked for the money
    debited: bool  # that day has come ("prélevée le …"); before it, "Prélèvement automatique"


@attrs.frozen
class InvoiceLine:
    """One row of the invoice list: the invoice, the number of its contract, and its direct debit if any."""

    invoice: Invoice
    contract_number: str
    direct_debit: DirectDebit | None = None

    @property
    def pay_online(self) -> bool:
        """"Régler la facture" is offered: something is owed and no mandate collects it."""
        return self.invoice.payable and self.direct_debit is None


@attrs.frozen
class InvoiceOverview:
    """The subscriber's invoices (newest first), what they owe and when it is next due."""

    lines: Sequence[InvoiceLine]
    total_due: Money
    next_due_on: date | None
    today: date | None = None  # when given, ``overdue`` says whether the next due date is past

    @property
    def overdue(self) -> bool:
        return self.today is not None and self.next_due_on is not None and self.next_due_on < self.today

    @property
    def unpaid(self) -> list[InvoiceLine]:
        return [line for line in self.lines if line.invoice.payable]

    @property
    def overdue_total(self) -> Money:
        """What is still owed on the listed invoices whose due date is past (needs ``today``)."""
        if self.today is None:
            return Money(0)
        today = self.today
        return Money(sum(line.invoice.remaining.cents for line in self.lines if line.invoice.is_overdue(today)))

    @property
    def first_to_pay(self) -> Invoice | None:
        """The listed unpaid invoice due first: the one a "pay" button settles."""
        return min((line.invoice for line in self.unpaid), key=lambda i: (i.due_on, i.number), default=None)


@attrs.frozen
class InvoiceDetail:
    invoice: Invoice
    contract: Contract
    payments: Sequence[Payment]  # oldest first
    direct_debit: DirectDebit | None = None

    @property
    def has_pdf(self) -> bool:
        return self.invoice.pdf_document_id is not None

    @property
    def pay_online(self) -> bool:
        """"Régler la facture" is offered: something is owed and no mandate collects it."""
        return self.invoice.payable and self.direct_debit is None


@attrs.frozen
class PaymentOrder:
    """What the portal asks a gateway to collect."""

    reference: str  # PayFiP refdet
    label: str  # PayFiP objet
    amount: Money
    email: str
    return_url: str
    notify_url: str
    year: int | None = None  # the debt's year, for gateways that want it (PayFiP's exer is the payment's year)


@attrs.frozen
class StartedPayment:
    operation_id: str  # PayFiP idOp
    redirect_url: str


@attrs.frozen
class GatewayResult:
    """The gateway's own, server-side account of an operation."""

    operation_id: str
    status: str  # a PaymentStatus value
    amount: Money | None = None
    reference: str | None = None
    client_number: str | None = None
    transaction_reference: str | None = None


OPERATION_LIFETIME = timedelta(minutes=15)  # a PayFiP idOp lives 15 minutes
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


def _open(payment: Payment, gateway_name: str) -> bool:
    return (payment.status == PaymentStatus.PENDING and payment.gateway == gateway_name
            and payment.operation_id is not None and payment.flag is None)


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
