"""Subscriber support on SQLite and PostgreSQL: the card in a fixed number of queries, the
actions, and the back office pages through the web app."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from portail_domain.model.accounts import StaffUser
from portail_domain.model.billing import Payment, PaymentStatus
from portail_domain.model.throttling import PER_EMAIL
from portail_domain.model.values import Money
from portail_domain.services.accounts import log_in, resolve_session
from portail_domain.services.requests import open_request
from portail_domain.services.support import end_subscriber_sessions, subscriber_card, unblock_login
from portail_web import create_app
from tests.support import (
    BASE_URL,
    WebClient,
    add_contract,
    add_invoice,
    add_staff,
    add_subscriber,
    sign_in_staff,
    statements,
)

PASSWORD = "une phrase de passe solide"

@pytest.fixture
def staff(sql_portal) -> StaffUser:
    return add_staff(sql_portal, password=PASSWORD, totp_secret="JBSWY3DPEHPK3PXP")



def _selects(engine, action) -> int:
    with statements(engine, "SELECT") as seen:
        action()
    return len(seen)


def _grow(portal, subscriber, contracts: int) -> None:
    for n in range(contracts):
        invoice = add_invoice(portal, subscriber, f"F-{n}", contract_number=f"C-{n}")
        with portal.uow() as uow:
            uow.payments.add(Payment(invoice.id, Money(100), "simulator", f"F-{n}", portal.clock.now(), f"op-{n}",
                                     PaymentStatus.PAID))
            uow.commit()
        open_request(portal, subscriber.id, category="other", subject=f"Question {n}", message="Bonjour")


def test_the_card_costs_the_same_queries_whatever_the_subscriber_holds(sql_portal, engine, staff):
    marie = add_subscriber(sql_portal, password=PASSWORD)
    log_in(sql_portal, "marie@example.org", PASSWORD)
    _grow(sql_portal, marie, 1)
    small = _selects(engine, lambda: subscriber_card(sql_portal, staff, "100001"))
    for n in range(3):
        add_contract(sql_portal, marie, f"R-{n}", periods=20)
    for n in range(1, 6):
        invoice = add_invoice(sql_portal, marie, f"G-{n}", contract_number=f"R-{n % 3}")
        with sql_portal.uow() as uow:
            uow.payments.add(Payment(invoice.id, Money(100), "simulator", f"G-{n}", sql_portal.clock.now(),
                                     f"oq-{n}", PaymentStatus.PAID))
            uow.commit()
    big = _selects(engine, lambda: subscriber_card(sql_portal, staff, "100001"))
    card = subscriber_card(sql_portal, staff, "100001")
    assert len(card.contracts) == 4 and len(card.invoices) == 6
    assert sum(len(v.payments) for v in card.invoices) == 6
    # subscriber, account, sessions, throttle, contracts, readings, invoices, payments, documents, requests
    assert big == small == 10


def test_unblock_and_end_sessions_on_the_database(sql_portal, clock, staff):
    add_subscriber(sql_portal, password=PASSWORD)
    for _ in range(PER_EMAIL.block_at):
        try:
            log_in(sql_portal, "marie@example.org", "wrong password here")
        except Exception:  # noqa: BLE001,S110 - LoginFailed or LoginThrottled: each counts or waits
            pass
        clock.advance(minutes=2)
    assert subscriber_card(sql_portal, staff, "100001").account.blocked_until is not None
    assert unblock_login(sql_portal, staff, "100001") == PER_EMAIL.block_at
    _account, token = log_in(sql_portal, "marie@example.org", PASSWORD)
    card = subscriber_card(sql_portal, staff, "100001")
    assert card.account.blocked_until is None and card.account.active_sessions == 1
    assert card.account.last_login_at == clock.now()
    assert end_subscriber_sessions(sql_portal, staff, "100001") == 1
    assert resolve_session(sql_portal, token) is None
    with sql_portal.uow(read_only=True) as uow:
        actions = sorted(e.action.value for e in uow.audit.since(None))
    assert actions == ["subscriber.end_sessions", "subscriber.unblock", "subscriber.view", "subscriber.view"]


def test_search_card_and_letter_through_the_web_app(sql_portal, staff):
    from portail_domain.model.accounts import Subscriber

    with sql_portal.uow() as uow:
        uow.subscribers.add(Subscriber(number="100003", name="Élodie Bernard", address="7 chemin des Vignes",
                                       postal_code="34230", city="Paulhan"))
        uow.commit()
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, sql_portal, staff)
        found = client.get("/agent/abonnes", params={"q": "bernard"})
        assert 'href="/agent/abonnes/100003"' in found.text
        letter = client.submit("/agent/abonnes/100003", "/agent/abonnes/100003/code-activation")
        assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(letter.content)).pages[0].extract_text()
        assert re.search(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", text) and "7 chemin des Vignes" in text
        assert "un code envoyé n'a pas encore servi" in client.get("/agent/abonnes/100003").text
