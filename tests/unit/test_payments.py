"""Paying an invoice online, on fakes: start, confirm, replay, tampering, reconcile."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portail_adapters.memory import FakeGateway, FixedClock, MemoryDatabase
from portail_adapters.payment.payfip import payfip_objet
from portail_domain.model.accounts import Language
from portail_domain.model.billing import PaymentStatus, payment_reference
from portail_domain.model.errors import GatewayError, InvoiceAlreadyPaid, InvoiceCancelled, NotFound
from portail_domain.model.values import Money
from tests.support import add_invoice, add_subscriber, make_portal, payment_desk

PAID, REFUSED, ABANDONED, EXPIRED, PENDING = (PaymentStatus.PAID, PaymentStatus.REFUSED, PaymentStatus.ABANDONED,
                                              PaymentStatus.EXPIRED, PaymentStatus.PENDING)


@pytest.fixture
def marie(memory_portal):
    return add_subscriber(memory_portal)


@pytest.fixture
def desk(memory_portal):
    """The billing use cases, each called with the test's portal."""
    return payment_desk(memory_portal)


def stored(portal, number="F2026-0001"):
    with portal.uow() as uow:
        invoice = uow.invoices.by_number(number)
        return invoice, list(uow.payments.for_invoice(invoice.id))


def outbox(portal):
    return [entry.mail for entry in portal.uow.tables.get("outbox", {}).values()]


def op_of(url: str) -> str:
    return url.rsplit("op=", 1)[1]


def test_start_asks_the_gateway_for_what_remains_and_stores_a_pending_payment(memory_portal, marie, desk):
    add_invoice(memory_portal, marie, amount=12345, paid=2345)
    url = desk.start_payment(marie.id, "F2026-0001")
    assert url.startswith("https://gateway.invalid/pay?op=")
    order = memory_portal.payments.orders[op_of(url)]
    assert order.amount == Money(10000) and order.reference == "F20260001" and order.year == 2026
    assert order.email == "marie@example.org" and order.notify_url == "http://127.0.0.1:8000/paiement/notification"
    _invoice, payments = stored(memory_portal)
    assert [(p.status, p.amount, p.operation_id) for p in payments] == [(PENDING, Money(10000), op_of(url))]


def test_a_second_click_within_the_lifetime_reuses_the_pending_payment(memory_portal, marie, desk, clock):
    add_invoice(memory_portal, marie)
    first = desk.start_payment(marie.id, "F2026-0001")
    clock.advance(minutes=14, seconds=59)
    assert desk.start_payment(marie.id, "F2026-0001") == first
    clock.advance(seconds=1)  # 15 minutes: that operation is dead at the gateway
    third = desk.start_payment(marie.id, "F2026-0001")
    assert third != first
    assert len(stored(memory_portal)[1]) == 2


def test_paid_cancelled_and_someone_elses_invoices_cannot_be_paid(memory_portal, marie, desk):
    other = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_invoice(memory_portal, marie, "F1", amount=500, paid=500)
    add_invoice(memory_portal, marie, "F2", cancelled=True)
    add_invoice(memory_portal, other, "F3")
    with pytest.raises(InvoiceAlreadyPaid):
        desk.start_payment(marie.id, "F1")
    with pytest.raises(InvoiceCancelled):
        desk.start_payment(marie.id, "F2")
    with pytest.raises(NotFound):
        desk.start_payment(marie.id, "F3")
    with pytest.raises(NotFound):
        desk.start_payment(marie.id, "F404")
    assert memory_portal.payments.orders == {}


def test_only_the_gateways_confirmation_pays_and_a_replay_changes_nothing(memory_portal, marie, desk):
    add_invoice(memory_portal, marie, amount=4200)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    # The browser comes back claiming success, but the gateway has not confirmed anything yet.
    payment, invoice = desk.handle_return(marie.id, op)
    assert payment.status == PENDING and invoice.remaining == Money(4200)
    memory_portal.payments.decide(op, PAID, transaction_reference="AUTO42")
    assert desk.handle_notification(op).status == PAID
    for _ in range(3):  # replays, and the browser's return after the notification
        desk.handle_notification(op)
        desk.handle_return(marie.id, op)
    invoice, payments = stored(memory_portal)
    assert invoice.status == "paid" and invoice.amount_paid == Money(4200)
    assert payments[0].gateway_reference == "AUTO42" and payments[0].paid_at is not None
    mails = outbox(memory_portal)
    assert len(mails) == 1 and mails[0].to == "marie@example.org"
    assert mails[0].subject == "Paiement reçu pour la facture F2026-0001" and "42,00\u00a0€" in mails[0].text


def test_a_later_refusal_never_undoes_paid(memory_portal, marie, desk):
    add_invoice(memory_portal, marie)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.decide(op, PAID)
    desk.handle_notification(op)
    memory_portal.payments.decide(op, REFUSED)
    desk.handle_notification(op)
    invoice, payments = stored(memory_portal)
    assert payments[0].status == PAID and invoice.status == "paid"


@pytest.mark.parametrize("change, flag", [
    ({"amount": Money(1)}, "amount differs"),
    ({"reference": "OTHERREF"}, "reference differs"),
    ({"client_number": "999999"}, "client number differs"),
    ({"amount": None}, "amount missing"),
    ({"operation_id": "op-other"}, "operation id differs"),
])
def test_a_result_that_does_not_match_the_payment_is_flagged_and_pays_nothing(memory_portal, marie, desk, change,
                                                                               flag):
    add_invoice(memory_portal, marie)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.decide(op, PAID, **change)
    payment = desk.handle_notification(op)
    assert payment.status == PENDING and flag in payment.flag
    invoice, _ = stored(memory_portal)
    assert invoice.amount_paid == Money(0) and outbox(memory_portal) == []
    page_payment, _invoice = desk.handle_return(marie.id, op)
    assert page_payment.flag  # the return page says staff will check


def test_refused_and_abandoned_settle_without_paying(memory_portal, marie, desk):
    add_invoice(memory_portal, marie)
    for status in (REFUSED, ABANDONED):
        op = op_of(desk.start_payment(marie.id, "F2026-0001"))
        memory_portal.payments.decide(op, status)
        assert desk.handle_notification(op).status == status
    invoice, payments = stored(memory_portal)
    assert invoice.amount_paid == Money(0) and [p.status for p in payments] == [REFUSED, ABANDONED]


def test_unknown_to_the_gateway_stays_pending_within_the_lifetime_then_expires(memory_portal, marie, desk, clock):
    add_invoice(memory_portal, marie)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.results.pop(op)  # the gateway says P1 (unknown)
    assert desk.handle_notification(op).status == PENDING
    clock.advance(minutes=15)
    assert desk.handle_notification(op).status == EXPIRED


def test_money_taken_twice_is_never_credited_twice_but_flagged_for_refund(memory_portal, marie, desk, clock):
    add_invoice(memory_portal, marie, amount=1000)
    first = op_of(desk.start_payment(marie.id, "F2026-0001"))
    clock.advance(minutes=20)
    second = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.decide(first, PAID)
    memory_portal.payments.decide(second, PAID)
    desk.handle_notification(second)
    desk.handle_notification(first)
    invoice, payments = stored(memory_portal)
    assert invoice.amount_paid == Money(1000)
    assert [p.status for p in payments] == [PAID, PAID]
    assert "refund" in payments[0].flag and payments[1].flag is None


def test_an_old_pending_payment_is_rechecked_before_asking_for_money_again(memory_portal, marie, desk, clock):
    add_invoice(memory_portal, marie)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.decide(op, PAID)  # paid, but the notification never came
    clock.advance(minutes=30)
    with pytest.raises(InvoiceAlreadyPaid):
        desk.start_payment(marie.id, "F2026-0001")


def test_notification_for_an_operation_the_portal_never_started_does_nothing(memory_portal, marie, desk):
    assert desk.handle_notification("forged") is None
    assert desk.handle_notification("") is None
    with pytest.raises(NotFound):
        desk.handle_return(marie.id, "forged")


def test_the_return_page_of_someone_elses_payment_is_not_found(memory_portal, marie, desk):
    other = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_invoice(memory_portal, marie)
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    with pytest.raises(NotFound):
        desk.handle_return(other.id, op)


def test_gateway_down_on_start_stores_nothing_and_on_notification_keeps_pending(memory_portal, marie, desk):
    add_invoice(memory_portal, marie)
    memory_portal.payments.down = True
    with pytest.raises(GatewayError):
        desk.start_payment(marie.id, "F2026-0001")
    assert stored(memory_portal)[1] == []
    memory_portal.payments.down = False
    op = op_of(desk.start_payment(marie.id, "F2026-0001"))
    memory_portal.payments.decide(op, PAID)
    memory_portal.payments.down = True
    with pytest.raises(GatewayError):
        desk.handle_notification(op)
    assert stored(memory_portal)[1][0].status == PENDING


def test_reconcile_settles_what_the_notification_missed(memory_portal, marie, desk, clock):
    add_invoice(memory_portal, marie, "F1")
    add_invoice(memory_portal, marie, "F2")
    add_invoice(memory_portal, marie, "F3")
    ops = [op_of(desk.start_payment(marie.id, n)) for n in ("F1", "F2", "F3")]
    memory_portal.payments.decide(ops[0], PAID)
    memory_portal.payments.decide(ops[1], REFUSED)
    assert desk.reconcile_pending().checked == 0  # too recent: the notification may still come
    clock.advance(minutes=6)
    summary = desk.reconcile_pending()
    assert (summary.checked, summary.paid, summary.settled, summary.still_pending) == (3, 1, 1, 1)
    assert stored(memory_portal, "F1")[0].status == "paid"
    memory_portal.payments.results.pop(ops[2])  # forgotten by the gateway (P1)
    clock.advance(minutes=10)
    assert desk.reconcile_pending().settled == 1
    assert stored(memory_portal, "F3")[1][0].status == EXPIRED
    memory_portal.payments.down = True
    assert desk.reconcile_pending().checked == 0  # nothing pending any more


def test_receipt_in_the_subscribers_language(memory_portal, desk):
    john = add_subscriber(memory_portal, "100009", email="john@example.org")
    with memory_portal.uow() as uow:
        subscriber = uow.subscribers.get(john.id)
        subscriber.language = Language.EN
        uow.subscribers.update(subscriber)
        uow.commit()
    add_invoice(memory_portal, john, "F9", amount=123456)
    op = op_of(desk.start_payment(john.id, "F9"))
    memory_portal.payments.decide(op, PAID)
    desk.handle_notification(op)
    (mail,) = outbox(memory_portal)
    assert mail.subject == "Payment received for invoice F9" and "€1,234.56" in mail.text


# --- properties -----------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.sampled_from(["decide", "notify", "return", "tamper", "advance", "start"]),
        st.integers(min_value=0, max_value=2),
        st.sampled_from([PAID, REFUSED, ABANDONED, PENDING]),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_no_sequence_of_gateway_answers_pays_an_invoice_twice(steps):
    clock = FixedClock()
    portal = make_portal(MemoryDatabase(), clock)
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=5000)
    desk = payment_desk(portal)
    gateway: FakeGateway = portal.payments
    ops: list[str] = []
    clean_paid_words: set[str] = set()  # operations the gateway once reported paid, untampered
    for action, index, status in steps:
        if action == "start" or not ops:
            try:
                ops.append(op_of(desk.start_payment(marie.id, "F2026-0001")))
            except InvoiceAlreadyPaid:
                pass
            continue
        op = ops[index % len(ops)]
        if action == "decide":
            gateway.decide(op, status)
            if status == PAID and gateway.results[op].amount == gateway.orders[op].amount:
                clean_paid_words.add(op)
        elif action == "tamper":
            gateway.decide(op, status, amount=Money(1))
        elif action == "notify":
            desk.handle_notification(op)
        elif action == "return":
            desk.handle_return(marie.id, op)
        else:
            clock.advance(minutes=8)
    invoice, payments = stored(portal)
    credited = [p for p in payments if p.status == PAID and not p.flag]
    assert invoice.amount_paid.cents in (0, 5000)
    assert len(credited) == (1 if invoice.amount_paid.cents else 0)
    assert len(outbox(portal)) == len(credited)
    assert {p.operation_id for p in payments if p.status == PAID} <= clean_paid_words


@given(st.text(min_size=1, max_size=32))
def test_payment_reference_is_always_within_payfip_refdet_format(number):
    reference = payment_reference(number)
    assert re.fullmatch(r"[A-Z0-9]{6,30}", reference)
    assert payment_reference(number) == reference


@given(st.text(max_size=300))
def test_objet_is_always_within_payfip_format(label):
    assert re.fullmatch(r"[A-Za-z0-9 ]{0,100}", payfip_objet(label))


def test_objet_keeps_the_words():
    assert payfip_objet("Facture F2026-100001 Régie des Eaux d'Hérault (démo)") == \
        "Facture F2026 100001 Regie des Eaux d Herault demo"

