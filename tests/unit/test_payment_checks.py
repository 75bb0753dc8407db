"""Paiements à vérifier (on fakes): the queue, and that no resolution credits an invoice without the
gateway's confirmed, matching result."""

from __future__ import annotations

import re

import pytest

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.billing import InvoiceStatus, PaymentStatus
from portail_domain.model.errors import GatewayError
from portail_domain.model.review import CancelRefused, InvalidResolution, PaymentResolved, SettleRefused
from portail_domain.model.values import Money
from portail_domain.services.billing import start_payment
from portail_domain.services.payment_checks import payments_to_check, recheck_payment, resolve_payment
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_invoice, add_staff, add_subscriber, payment_desk, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


@pytest.fixture
def started(memory_portal):
    """An invoice of 123,45 € and a payment started on it: (invoice, payment)."""
    marie = add_subscriber(memory_portal)
    invoice = add_invoice(memory_portal, marie)
    start_payment(memory_portal, marie.id, invoice.number)
    with memory_portal.uow(read_only=True) as uow:
        (payment,) = uow.payments.for_invoice(invoice.id)
    return invoice, payment


def _state(portal, invoice, payment):
    with portal.uow(read_only=True) as uow:
        return uow.invoices.get(invoice.id), uow.payments.get(payment.id)


def _audit(portal):
    with portal.uow(read_only=True) as uow:
        return list(uow.audit.search(AuditQuery(), 50))


def test_the_queue_holds_flagged_and_long_pending_payments(memory_portal, started, clock):
    invoice, payment = started
    assert payments_to_check(memory_portal) == []  # pending for a minute: not yet staff's business
    clock.advance(minutes=61)
    (line,) = payments_to_check(memory_portal)
    assert line.payment.id == payment.id and line.why == "pending" and line.subscriber.number == "100001"
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PAID, amount=Money(1))
    payment_desk(memory_portal).confirm_payment(payment.operation_id)  # the gateway checks flag the mismatch
    (line,) = payments_to_check(memory_portal)
    assert "amount differs" in line.why
    stored_invoice, _ = _state(memory_portal, invoice, payment)
    assert stored_invoice.status == InvoiceStatus.TO_PAY


def test_settled_credits_only_a_confirmed_matching_payment_and_once(memory_portal, started, agent, clock):
    invoice, payment = started
    clock.advance(hours=2)
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PAID, amount=Money(1))
    with pytest.raises(SettleRefused):  # the gateway says paid, but not this amount
        resolve_payment(memory_portal, agent, payment.id, "settled", "")
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PENDING, amount=payment.amount)
    with pytest.raises(SettleRefused):  # no result yet
        resolve_payment(memory_portal, agent, payment.id, "settled", "")
    assert _state(memory_portal, invoice, payment)[0].amount_paid == Money(0) and _audit(memory_portal) == []
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PAID, transaction_reference="T-1")
    resolve_payment(memory_portal, agent, payment.id, "settled", "vu avec la DGFiP")
    stored_invoice, stored = _state(memory_portal, invoice, payment)
    assert stored_invoice.status == InvoiceStatus.PAID and stored.status == PaymentStatus.PAID
    assert (stored.resolution, stored.resolution_note) == ("settled", "vu avec la DGFiP")
    with pytest.raises(PaymentResolved):
        resolve_payment(memory_portal, agent, payment.id, "settled", "")
    (entry,) = _audit(memory_portal)
    assert entry.action == AuditAction.PAYMENT_RESOLUTION and entry.after["resolution"] == "settled"
    assert payments_to_check(memory_portal) == []


def test_money_taken_twice_is_refunded_never_credited(memory_portal, started, agent, clock):
    invoice, payment = started
    with memory_portal.uow() as uow:  # paid by another means meanwhile
        paid = uow.invoices.get(invoice.id)
        paid.record_payment(paid.remaining)
        uow.invoices.update(paid)
        uow.commit()
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PAID)
    payment_desk(memory_portal).confirm_payment(payment.operation_id)
    (line,) = payments_to_check(memory_portal)
    assert "refund" in line.why
    for refused, error in (("settled", SettleRefused), ("cancelled", CancelRefused), ("rembourse", InvalidResolution)):
        with pytest.raises(error):
            resolve_payment(memory_portal, agent, payment.id, refused, "")
    resolve_payment(memory_portal, agent, payment.id, "refunded", "virement retour du 12/03")
    stored_invoice, stored = _state(memory_portal, invoice, payment)
    assert stored_invoice.amount_paid == invoice.amount and stored.resolution == "refunded"
    assert payments_to_check(memory_portal) == []


def test_cancelled_ends_a_payment_without_money_and_never_moves_the_invoice(memory_portal, started, agent, clock):
    invoice, payment = started
    clock.advance(hours=1, minutes=5)
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.PAID)
    with pytest.raises(CancelRefused):  # the gateway says it was paid: never cancel that
        resolve_payment(memory_portal, agent, payment.id, "cancelled", "")
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.REFUSED)
    resolve_payment(memory_portal, agent, payment.id, "cancelled", "")
    stored_invoice, stored = _state(memory_portal, invoice, payment)
    assert stored.status == PaymentStatus.EXPIRED and stored.resolution == "cancelled"
    assert stored_invoice.status == InvoiceStatus.TO_PAY and "status=refused" in stored.gateway_answer


def test_recheck_keeps_the_gateway_answer_and_an_unreachable_gateway_changes_nothing(memory_portal, started, agent,
                                                                                   clock):
    invoice, payment = started
    clock.advance(hours=2)
    assert recheck_payment(memory_portal, agent, payment.id).startswith("status=pending amount=")
    memory_portal.payments.down = True
    with pytest.raises(GatewayError):
        resolve_payment(memory_portal, agent, payment.id, "cancelled", "")
    _, stored = _state(memory_portal, invoice, payment)
    assert stored.resolution is None and len(_audit(memory_portal)) == 1


def test_the_page_lists_and_resolves(memory_portal, started, agent, clock):
    invoice, payment = started
    clock.advance(hours=2)
    memory_portal.payments.decide(payment.operation_id, PaymentStatus.REFUSED)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, agent)
        page = client.get("/agent/paiements")
        assert page.status_code == 200 and invoice.number in page.text and "toujours en attente" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        action = f"/agent/paiements/{payment.id}"
        bad = client.post(action, data={"csrf_token": token, "resolution": "paid"}, follow_redirects=False)
        assert bad.status_code == 400 and "Choisissez un traitement" in bad.text
        asked = client.post(f"{action}/verifier", data={"csrf_token": token}, follow_redirects=False)
        assert asked.status_code == 303 and "status=refused" in client.get(asked.headers["location"]).text
        done = client.post(action, data={"csrf_token": token, "resolution": "cancelled", "note": "abandon"},
                           follow_redirects=False)
        assert done.status_code == 303 and "Aucun paiement à vérifier" in client.get(done.headers["location"]).text
        again = client.post(action, data={"csrf_token": token, "resolution": "refunded"}, follow_redirects=False)
        assert again.status_code == 409
