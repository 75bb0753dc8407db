"""The subscriber's data rights through the web app, on fakes: the export, closing the account."""

from __future__ import annotations

import io
import re

from portail_domain.model.accounts import Language
from portail_domain.model.contracts import OverconsumptionNotice
from portail_domain.model.mandates import BankAccount, Mandate, MandateMode, MandateStatus, SignatureEvidence
from portail_domain.model.privacy import EXPORT_SECTIONS
from portail_domain.model.requests import Attachment
from portail_domain.services.billing import start_payment
from portail_domain.services.requests import open_move_request, open_request
from tests.support import add_contract, add_invoice, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation " * 20 + b"\n%%EOF\n"


def subscriber_with_everything(portal, number: str, email: str, contract: str, invoice: str):
    """A subscriber with one of each kind of record: account, contract, readings, invoice, payment, request with a
    message and attachment (a document), a moving-out form, a signed mandate, a session and security events
    (logins)."""
    subscriber = add_subscriber(portal, number, email=email, password=PASSWORD, name=f"Abonné {number}")
    contract_entity, readings = add_contract(portal, subscriber, contract, periods=3, leak=True)
    with portal.uow() as uow:  # the over-consumption alert of the leak's period (loi Warsmann)
        uow.overconsumption_notices.claim(OverconsumptionNotice(
            contract_entity.id, "M1", readings[-2].read_on, readings[-1].read_on, 109_200, portal.clock.now(), email))
        uow.commit()
    add_invoice(portal, subscriber, invoice, contract_number=contract)
    start_payment(portal, subscriber.id, invoice)
    open_request(portal, subscriber.id, category="ecretement", subject=f"Fuite {number}", message="Bonjour",
                 attachment=Attachment(f"attestation-{number}.pdf", io.BytesIO(PDF)))
    moved_at = int(readings[-1].index.m3) + 5
    open_move_request(portal, subscriber.id, category="demenagement", subject=f"Départ {number}",
                      contract_number=contract, move_on=portal.clock.today(), index=str(moved_at),
                      new_address=f"2 rue {number}")
    now = portal.clock.now()
    with portal.uow() as uow:  # a signed direct-debit mandate
        uow.mandates.add(Mandate(f"PORTAIL-{contract}-0123456789", subscriber.id, contract_entity.id,
                                 MandateMode.ECHEANCE, f"Abonné {number}",
                                 BankAccount(f"FR76300060000112345678{number[:3]}89", "AGRIFRPP"), now,
                                 status=MandateStatus.ACTIVE,
                                 evidence=SignatureEvidence(now, "192.0.2.7", "Firefox", "digest")))
        uow.commit()
    return subscriber


def test_the_export_holds_every_kind_of_record_and_nothing_of_another_subscriber(web, memory_portal):
    subscriber_with_everything(memory_portal, "100001", "marie@example.org", "C1", "F1")
    subscriber_with_everything(memory_portal, "200002", "paul@example.org", "C2", "F2")
    web.post("/connexion", data={"email": "marie@example.org", "password": "wrong-password-123",
                                 "csrf_token": web.csrf()})  # a failure is a security event too
    web.login("marie@example.org", PASSWORD)
    response = web.get("/donnees-personnelles/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert re.fullmatch(r'attachment; filename="mes-donnees-100001-\d{4}-\d{2}-\d{2}\.json"',
                        response.headers["content-disposition"])
    assert "no-store" in response.headers["cache-control"]
    data = response.json()
    assert set(EXPORT_SECTIONS) <= set(data["key"]) and all(data["key"][s] for s in EXPORT_SECTIONS)
    for section in EXPORT_SECTIONS:
        assert data[section], f"section {section} is empty"
    assert data["personal_data"]["subscriber_number"] == "100001"
    assert data["account"]["login"] == "marie@example.org"
    assert [c["number"] for c in data["contracts"]] == ["C1"]
    assert {r["contract"] for r in data["readings"]} == {"C1"} and len(data["readings"]) == 4
    assert [i["number"] for i in data["invoices"]] == ["F1"] and data["invoices"][0]["amount_eur"] == "123.45"
    assert [p["invoice"] for p in data["payments"]] == ["F1"]
    request, moving = sorted(data["requests"], key=lambda r: r["category"] != "ecretement")
    assert request["subject"] == "Fuite 100001" and request["messages"][0]["text"] == "Bonjour"
    assert request["moving_form"] is None
    assert moving["moving_form"]["new_address"] == "2 rue 100001" and float(moving["moving_form"]["index_m3"]) > 0
    assert data["personal_data"]["payment_reminders"] is True
    [mandate] = data["mandates"]
    assert (mandate["rum"], mandate["contract"], mandate["status"]) == ("PORTAIL-C1-0123456789", "C1", "active")
    assert mandate["iban"].startswith("FR76 ") and "•" in mandate["iban"] and mandate["signed_from"] == "192.0.2.7"
    assert [d["filename"] for d in data["documents"]] == ["attestation-100001.pdf"]
    assert {e["kind"] for e in data["security_events"]} == {"login", "login_failed"}
    assert data["sessions"][0]["last_seen_at"]
    text = response.text
    assert "FR76300060000112345678" not in text  # the whole IBAN stays in the signed PDF
    for foreign in ("200002", "paul@example.org", "C2", "F2", "Fuite 200002", "attestation-200002", "PORTAIL-C2"):
        assert foreign not in text
    for secret in ("password_hash", "plain$", "token_hash"):
        assert secret not in text


def test_the_export_key_is_in_the_visitors_language(web, memory_portal):
    marie = add_subscriber(memory_portal, password=PASSWORD)
    marie.language = Language.EN  # chosen in Mes données personnelles
    with memory_portal.uow() as uow:
        uow.subscribers.update(marie)
        uow.commit()
    web.login("marie@example.org", PASSWORD)
    data = web.get("/donnees-personnelles/export").json()
    assert data["key"]["invoices"] == "Your invoices: amounts in euros, dates, status."
    assert data["contracts"] == [] and data["account"]["created_at"]


def test_the_export_needs_login(web):
    response = web.get("/donnees-personnelles/export", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion?next=")


def test_closing_the_account_ends_login_keeps_billing_data_and_activation_works_again(web, memory_portal):
    marie = subscriber_with_everything(memory_portal, "100001", "marie@example.org", "C1", "F1")
    web.login("marie@example.org", PASSWORD)
    page = web.get("/donnees-personnelles").text
    assert "Fermer mon compte" in page and 'href="/donnees-personnelles/export"' in page
    refused = web.submit("/donnees-personnelles", "/donnees-personnelles/fermer", data={"password": "pas-le-bon-mdp"})
    assert refused.status_code == 400 and "Le mot de passe actuel saisi est incorrect." in refused.text
    closed = web.submit("/donnees-personnelles", "/donnees-personnelles/fermer", data={"password": PASSWORD})
    assert closed.status_code == 303 and closed.headers["location"] == "/connexion?compte=ferme"
    told = web.get("/connexion?compte=ferme").text
    assert "Votre compte du portail est fermé" in told and "restent enregistrés" in told
    # The session ended on the server, and the login is refused.
    assert web.get("/factures", follow_redirects=False).status_code == 303
    again = web.post("/connexion", data={"email": "marie@example.org", "password": PASSWORD,
                                         "csrf_token": web.csrf()}, follow_redirects=False)
    assert again.status_code == 400
    with memory_portal.uow() as uow:
        assert uow.accounts.for_subscriber(marie.id) is None
        assert uow.subscribers.get(marie.id) is not None  # billing data kept
        assert [i.number for i in uow.invoices.for_subscriber(marie.id)] == ["F1"]
        assert len(uow.requests.for_subscriber(marie.id)) == 2 and uow.documents.for_subscriber(marie.id)
        assert [m.rum for m in uow.mandates.for_subscriber(marie.id)] == ["PORTAIL-C1-0123456789"]
        mail = uow.outbox.pending()[-1].mail
    assert mail.to == "marie@example.org" and "Ce qui est conservé, et pourquoi" in mail.text
    assert "http://127.0.0.1:8000/mot-de-passe" in mail.text
    # Activating again: the usual "Créer / Renouveler mot de passe" with e-mail and subscriber number.
    web.submit("/mot-de-passe", data={"email": "marie@example.org", "code": "100001"})
    with memory_portal.uow() as uow:
        link = re.search(r"/mot-de-passe/nouveau\?jeton=[\w-]+", uow.outbox.pending()[-1].mail.text).group(0)
    web.get(link)
    new = "un-nouveau-depart-fleuri"
    assert web.submit("/mot-de-passe/nouveau", data={"password": new, "password_confirm": new}).status_code == 303
    web.login("marie@example.org", new)
    assert "F1" in web.get("/factures").text
