"""Invoices (factures) and online payments (paiements)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import attrs

from . import errors
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
        return self.status in FINAL_STATUSES

    def settle(self, status: PaymentStatus, now: datetime) -> bool:
        """Move to a final status. Returns True only when this call made it paid.

        A final payment never changes again: a replayed or late "refused" never undoes
        "paid", and a second "paid" credits nothing.
        """
        if status == PaymentStatus.PENDING:
            return False
        if self.is_final:
            return False
        self.status = status
        self.updated_at = now
        if status == PaymentStatus.PAID:
            self.paid_at = now
            return True
        return False
