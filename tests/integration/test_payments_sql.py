"""Payments on the real databases: concurrent notifications, the simulator end to end, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from portail_adapters.memory import FakeGateway
from portail_adapters.payment import SimulatorGateway
from portail_adapters.settings import load_settings
from portail_adapters.sql.tables import outbox
from portail_domain.model.billing import PaymentStatus
from portail_domain.model.values import Money
from portail_web import create_app
from portail_web.wiring import web_portal
from tests.support import BASE_URL, CSRF, WebClient, add_invoice, add_subscriber, payment_desk

PASSWORD = "une-phrase-de-passe-solide"
THREADS = 10


class SlowGateway(FakeGateway):
    """Every caller gets its answer only once all callers are waiting: the widest possible race."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=20)

    def fetch_result(self, operation_id):
        result = super().fetch_result(operation_id)
        self.barrier.wait()
        return result


def outbox_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(outbox)).scalar_one()


def test_ten_concurrent_notifications_credit_one_payment(engine, sql_portal):
    gateway = SlowGateway(THREADS)
    sql_portal.payments = gateway
    marie = add_subscriber(sql_portal)
    add_invoice(sql_portal, marie, amount=7500)
    desk = payment_desk(sql_portal)
    op = desk.start_payment(marie.id, "F2026-0001").rsplit("op=", 1)[1]
    gateway.decide(op, PaymentStatus.PAID)
    errors: list[BaseException] = []

    def notify() -> None:
        try:
            payment_desk(sql_portal).handle_notification(op)  # each call: its own units of work
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=notify) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with sql_portal.uow() as uow:
        invoice = uow.invoices.by_number("F2026-0001")
        payments = uow.payments.for_invoice(invoice.id)
    assert invoice.amount_paid == Money(7500) and invoice.status == "paid"
    assert [p.status for p in payments] == [PaymentStatus.PAID] and payments[0].flag is None
    assert outbox_count(engine) == 1  # one receipt


class SlowStartGateway(FakeGateway):
    """Both clicks reach the gateway before either stores its payment."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=20)

    def start(self, order):
        started = super().start(order)
        self.barrier.wait()
        return started


def double_click(portal) -> list[str]:
    """Two clicks on "Régler" at once, both reaching the gateway before either stores anything."""
    portal.payments = SlowStartGateway()
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=7500)
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(payment_desk(portal).start_payment(
        marie.id, "F2026-0001"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return urls


def test_a_double_click_sends_both_to_one_operation_and_keeps_the_spare_known(sql_portal):
    urls = double_click(sql_portal)
    with sql_portal.uow() as uow:
        payments = uow.payments.for_invoice(uow.invoices.by_number("F2026-0001").id)
    assert len(urls) == 2 and urls[0] == urls[1]
    used = urls[0].rsplit("op=", 1)[1]
    assert sorted(p.operation_id for p in payments) == ["op1", "op2"] and used in ("op1", "op2")
    assert {p.status for p in payments} == {PaymentStatus.PENDING}


@pytest.mark.parametrize("used_paid", [True, False], ids=["both-paid", "spare-paid"])
def test_a_paid_spare_operation_credits_the_invoice_once_or_is_flagged_for_refund(sql_portal, used_paid):
    urls = double_click(sql_portal)
    used = urls[0].rsplit("op=", 1)[1]
    spare = "op2" if used == "op1" else "op1"
    gateway = sql_portal.payments
    paid = [used, spare] if used_paid else [spare]
    for operation in paid:
        gateway.decide(operation, PaymentStatus.PAID)
        payment_desk(sql_portal).handle_notification(operation)
    with sql_portal.uow() as uow:
        invoice = uow.invoices.by_number("F2026-0001")
        payments = {p.operation_id: p for p in uow.payments.for_invoice(invoice.id)}
    assert invoice.amount_paid == Money(7500) and invoice.status == "paid"
    assert payments[spare].status == PaymentStatus.PAID
    if used_paid:
        assert payments[spare].flag == "paid while the invoice no longer owed this amount: refund"
    else:
        assert payments[spare].flag is None


@pytest.fixture
def simulated(engine, sql_portal, clock):
    sql_portal.payments = SimulatorGateway(engine, clock, BASE_URL)
    marie = add_subscriber(sql_portal, password=PASSWORD)
    add_invoice(sql_portal, marie, "F2026-0001", amount=12345)
    add_invoice(sql_portal, marie, "F2026-0002", amount=500, issued="2026-03-01", due="2026-04-01")
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", PASSWORD)
        yield web


def pay_with_simulator(web, number: str, decision: str):
    response = web.submit(f"/factures/{number}", f"/factures/{number}/payer")
    assert response.status_code == 303
    simulator_url = response.headers["location"]
    assert simulator_url.startswith(f"{BASE_URL}/simulateur-paiement/")
    page = web.get(simulator_url)
    assert page.status_code == 200 and "Ceci est une simulation" in page.text
    token = CSRF.search(page.text).group(1)
    back = web.post(simulator_url, data={"csrf_token": token, "decision": decision}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].startswith(f"{BASE_URL}/paiement/retour?idop=")
    return simulator_url, web.get(back.headers["location"])


def test_simulator_flow_pays_and_the_invoice_leaves_the_a_payer_tab(engine, simulated):
    web = simulated
    tab = web.get("/factures?onglet=a-payer").text
    assert "F2026-0001" in tab and "F2026-0002" in tab
    simulator_url, result = pay_with_simulator(web, "F2026-0001", "paid")
    assert result.status_code == 200 and "est accepté" in result.text
    tab = web.get("/factures?onglet=a-payer").text
    assert "F2026-0001" not in tab and "F2026-0002" in tab
    assert outbox_count(engine) == 1
    # Deciding again on the same operation changes nothing (the operation is over).
    page = web.get(simulator_url)
    assert "Cette opération est terminée." in page.text and 'name="decision"' not in page.text


@pytest.mark.parametrize("decision, message", [
    ("refused", "Le paiement a été refusé."),
    ("abandoned", "pas été effectué. Vous pouvez régler la facture plus tard."),
])
def test_simulator_refused_or_abandoned_leaves_the_invoice_to_pay(engine, simulated, decision, message):
    web = simulated
    _url, result = pay_with_simulator(web, "F2026-0001", decision)
    assert message in result.text
    assert "F2026-0001" in web.get("/factures?onglet=a-payer").text
    assert outbox_count(engine) == 0
    # and the subscriber can try again: a new operation
    again = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer")
    assert again.headers["location"] != _url


def test_simulator_refuses_a_decision_it_does_not_know(simulated):
    web = simulated
    url = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer").headers["location"]
    token = CSRF.search(web.get(url).text).group(1)
    response = web.post(url, data={"csrf_token": token, "decision": "free"}, follow_redirects=False)
    assert response.status_code == 400 and "Choisissez le résultat" in response.text
    assert web.post(url, data={"decision": "paid"}, follow_redirects=False).status_code == 403  # no token
    assert web.get(f"{BASE_URL}/simulateur-paiement/unknown").status_code == 404
    assert "F2026-0001" in web.get("/factures?onglet=a-payer").text


def test_payments_reconcile_command_settles_a_payment_whose_notification_never_came(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"PORTAIL_DATABASE_URL": f"sqlite:///{tmp_path}/portail.db", "PORTAIL_SECRET_KEY": "s" * 40}
    portal = web_portal(load_settings(env), run_migrations=True)
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=2500)
    op = payment_desk(portal).start_payment(marie.id, "F2026-0001").rsplit("/", 1)[1]
    portal.payments.decide(op, "paid")  # the payer paid; the portal was never told
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")} | env
    result = subprocess.run([sys.executable, "-m", "portail_web.cli", "payments", "reconcile", "--older-than", "0"],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 checked, 1 paid" in result.stdout
    with portal.uow() as uow:
        assert uow.invoices.by_number("F2026-0001").status == "paid"
    bad = subprocess.run([sys.executable, "-m", "portail_web.cli", "payments", "refund"], cwd=tmp_path,
                         env=environment, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0


def test_simulator_operation_expires_after_its_lifetime(engine, clock):
    gateway = SimulatorGateway(engine, clock, BASE_URL)
    from portail_domain.model.billing import PaymentOrder

    started = gateway.start(PaymentOrder("F20260001", "Facture", Money(100), "a@b.example", "r", "n"))
    assert gateway.fetch_result(started.operation_id).status == "pending"
    clock.advance(minutes=15)
    assert gateway.fetch_result(started.operation_id).status == "expired"
    assert gateway.decide(started.operation_id, "paid").status == "pending"  # too late to pay
    assert gateway.fetch_result("nope").status == "expired"
