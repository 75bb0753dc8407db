"""Invoices (factures) and online payments (paiements)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from . import errors
from .values import Money

if TYPE_CHECKING:
    from .contracts import Contract
    from .documents import Document
    from .ports import UnitOfWork


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


# --- use cases: what the subscriber sees (Mes factures) ----------------------------------


@attrs.frozen
class InvoiceLine:
    """One row of the invoice list: the invoice and the number of its contract."""

    invoice: Invoice
    contract_number: str


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


def invoice_overview(uow: UnitOfWork, subscriber_id: uuid.UUID, *, unpaid_only: bool = False,
                     today: date | None = None) -> InvoiceOverview:
    """All invoices of all the subscriber's contracts, newest first (two queries, whatever the count).

    ``unpaid_only`` keeps the "À payer" tab: invoices to pay or partly paid. The total due
    and the next due date always count every unpaid invoice.
    """
    contracts = {c.id: c.number for c in uow.contracts.for_subscriber(subscriber_id)}
    invoices = [i for i in uow.invoices.for_subscriber(subscriber_id) if i.contract_id in contracts]
    unpaid = [i for i in invoices if i.payable]
    total = Money(sum(i.remaining.cents for i in unpaid))
    next_due = min((i.due_on for i in unpaid), default=None)
    shown = unpaid if unpaid_only else invoices
    return InvoiceOverview([InvoiceLine(i, contracts[i.contract_id]) for i in shown], total, next_due, today)


def owned_invoice(uow: UnitOfWork, subscriber_id: uuid.UUID, number: str) -> tuple[Invoice, Contract]:
    """The invoice ``number`` with its contract; ``NotFound`` when absent or someone else's."""
    invoice = uow.invoices.by_number(number)
    contract = uow.contracts.get(invoice.contract_id) if invoice is not None else None
    if invoice is None or contract is None or contract.subscriber_id != subscriber_id:
        raise errors.NotFound(what="invoice")
    return invoice, contract


@attrs.frozen
class InvoiceDetail:
    invoice: Invoice
    contract: Contract
    payments: Sequence[Payment]  # oldest first

    @property
    def has_pdf(self) -> bool:
        return self.invoice.pdf_document_id is not None


def invoice_detail(uow: UnitOfWork, subscriber_id: uuid.UUID, number: str) -> InvoiceDetail:
    invoice, contract = owned_invoice(uow, subscriber_id, number)
    return InvoiceDetail(invoice, contract, list(uow.payments.for_invoice(invoice.id)))


def invoice_pdf(uow: UnitOfWork, subscriber_id: uuid.UUID, number: str) -> Document:
    """The stored PDF of one of the subscriber's invoices; ``NotFound`` when there is none."""
    invoice, _contract = owned_invoice(uow, subscriber_id, number)
    document = uow.documents.get(invoice.pdf_document_id) if invoice.pdf_document_id else None
    if document is None or document.subscriber_id != subscriber_id:
        raise errors.NotFound(what="invoice pdf")
    return document
