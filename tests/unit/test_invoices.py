import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.billing import Invoice, InvoiceStatus, Payment, PaymentStatus
from portail_domain.model.errors import InvoiceAlreadyPaid, InvoiceCancelled, PaymentMismatch
from portail_domain.model.values import Money

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def invoice(amount: int, paid: int = 0, cancelled: bool = False) -> Invoice:
    return Invoice("F1", uuid.uuid4(), date(2026, 1, 1), date(2026, 2, 1), Money(amount), Money(paid), cancelled)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_status_follows_the_amounts(amount, paid):
    inv = invoice(amount, paid)
    expected = (InvoiceStatus.PAID if paid >= amount else InvoiceStatus.PARTLY_PAID if paid
                else InvoiceStatus.TO_PAY)
    assert inv.status == expected
    assert inv.remaining == Money(max(amount - paid, 0))


def test_cancelled_invoice_owes_nothing_and_cannot_be_paid():
    inv = invoice(1000, cancelled=True)
    assert inv.status == InvoiceStatus.CANCELLED and inv.remaining == Money(0)
    with pytest.raises(InvoiceCancelled):
        inv.record_payment(Money(1000))


@given(st.integers(min_value=1, max_value=10**7), st.lists(st.integers(min_value=1, max_value=10**7), max_size=8))
def test_an_invoice_is_never_paid_more_than_it_owes(amount, attempts):
    inv = invoice(amount)
    for attempt in attempts:
        try:
            inv.record_payment(Money(attempt))
        except (InvoiceAlreadyPaid, PaymentMismatch):
            pass
        assert 0 <= inv.amount_paid.cents <= amount


def test_paid_invoice_refuses_a_second_payment():
    inv = invoice(500)
    inv.record_payment(Money(500))
    with pytest.raises(InvoiceAlreadyPaid):
        inv.record_payment(Money(500))


statuses = st.sampled_from(list(PaymentStatus))


@given(st.lists(statuses, max_size=10))
def test_payment_state_machine_pays_at_most_once_and_final_is_final(events):
    payment = Payment(uuid.uuid4(), Money(100), "fake", "REF", NOW)
    credited = 0
    first_final = None
    for status in events:
        if payment.settle(status, NOW):
            credited += 1
        if first_final is None and payment.is_final:
            first_final = payment.status
    assert credited <= 1
    assert credited == (1 if first_final == PaymentStatus.PAID else 0)
    if first_final is not None:
        assert payment.status == first_final  # a later "refused" never undoes "paid"
