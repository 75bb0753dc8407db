"""/prelevement through the web app, on fakes: the flow, the attacks (another's contract or RUM, a
replayed code, no CSRF token), and the IBAN kept out of pages, mails and logs."""

from __future__ import annotations

import io
import logging
import re

import pytest

from portail_adapters.exchange_csv import export_csv
from portail_domain.model.mandates import MandateStatus
from tests.support import IBAN_FR, add_contract, add_invoice, add_subscriber, last_signing_code

PASSWORD = "une-phrase-de-passe-solide"
FORMATTED = "FR76 3000 6000 0000 0100 0123 420"
MASKED = "FR76 •••• •••• 3420"


@pytest.fixture
def marie(web, memory_portal):
    subscriber = add_subscriber(memory_portal, password=PASSWORD)
    add_contract(memory_portal, subscriber, "C1", periods=1)
    web.login("marie@example.org", PASSWORD)
    return subscriber


@pytest.fixture
def paul(memory_portal):
    subscriber = add_subscriber(memory_portal, "100002", email="paul@example.org", name="Paul Martin")
    add_contract(memory_portal, subscriber, "C2", periods=1)
    return subscriber


def start(web, **fields):
    data = {"contract": "C1", "mode": "echeance", "holder": "Marie Dupont", "iban": FORMATTED, **fields}
    return web.submit("/prelevement", data=data)


def mandates(portal, subscriber):
    with portal.uow() as uow:
        return list(uow.mandates.for_subscriber(subscriber.id))


def test_the_page_needs_a_login(web):
    assert web.get("/prelevement", follow_redirects=False).headers["location"] == "/connexion?next=/prelevement"


def test_the_whole_flow(web, memory_portal, marie, caplog):
    caplog.set_level(logging.DEBUG)
    page = web.get("/prelevement").text
    assert "Mettre en place le prélèvement" in page and '<option value="C1"' in page and "FR72ZZZ123456" not in page
    response = start(web)
    assert response.status_code == 303 and response.headers["location"] == "/prelevement?fait=code"
    page = web.get("/prelevement?fait=code").text
    rum = re.search(r'<dd id="rum">([^<]+)</dd>', page).group(1)
    assert "Un code de signature vient de vous être envoyé" in page
    assert "Régie des Eaux de Test" in page and "FR72ZZZ123456" in page  # the creditor and its ICS
    assert "vous autorisez Régie des Eaux de Test à envoyer des instructions à votre banque" in page
    assert "8 semaines" in page and MASKED in page and "AGRIFRPPXXX" in page

    response = web.submit("/prelevement", "/prelevement/signer", {"code": last_signing_code(memory_portal)})
    assert response.status_code == 303 and response.headers["location"] == "/prelevement?fait=signe"
    page = web.get("/prelevement?fait=signe").text
    assert "Votre mandat est signé" in page and rum in page and "Actif" in page
    documents = web.get("/documents").text
    assert "Contrats" in documents

    out = io.StringIO()
    export_csv(memory_portal, "mandates", out)
    assert f"{rum};C1;Marie Dupont;{IBAN_FR};AGRIFRPPXXX;echeance;2026-03-10T09:30:00+00:00;;active" in out.getvalue()

    response = web.submit("/prelevement", f"/prelevement/{rum}/revoquer")
    assert response.status_code == 303 and response.headers["location"] == "/prelevement?fait=revoque"
    assert "Révoqué le" in web.get("/prelevement").text
    assert mandates(memory_portal, marie)[0].status is MandateStatus.REVOKED

    # The IBAN whole went to the billing export and the PDF only: no log line, no page, no e-mail.
    with memory_portal.uow() as uow:
        mails = "".join(e.mail.subject + e.mail.text + (e.mail.html or "") for e in uow.outbox.pending())
    for shown in (caplog.text, mails, page, documents):
        assert IBAN_FR not in shown and FORMATTED not in shown and "0001000123420" not in shown
    assert "mandate_signed rum=" in caplog.text  # the flow was logged, by RUM


def test_a_bad_iban_keeps_nothing_and_is_not_echoed(web, memory_portal, marie):
    response = start(web, iban="FR76 3000 6000 0000 0100 0123 421")
    assert response.status_code == 400
    assert "Cet IBAN n'est pas valide" in response.text and 'aria-invalid="true"' in response.text
    assert "0123 421" not in response.text and "Marie Dupont" in response.text  # typed again, never echoed
    assert mandates(memory_portal, marie) == []


def test_an_unknown_bank_asks_for_its_bic(web, memory_portal, marie):
    unknown = "FR76 9999 9000 0000 0123 4567 824"  # a bank code no registry knows
    response = start(web, iban=unknown)
    assert response.status_code == 400 and "saisissez son BIC" in response.text and 'name="bic"' in response.text
    assert start(web, iban=unknown, bic="BNPAFRPP").status_code == 303
    assert mandates(memory_portal, marie)[0].account.bic == "BNPAFRPP"


def test_a_wrong_code_says_how_many_tries_are_left(web, memory_portal, marie):
    start(web)
    code = last_signing_code(memory_portal)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = web.submit("/prelevement", "/prelevement/signer", {"code": wrong})
    assert response.status_code == 400 and "Ce code est incorrect. Essais restants : 4." in response.text


def test_a_replayed_code_is_refused(web, memory_portal, marie):
    start(web)
    code = last_signing_code(memory_portal)
    assert web.submit("/prelevement", "/prelevement/signer", {"code": code}).status_code == 303
    replay = web.submit("/prelevement", "/prelevement/signer", {"code": code})
    assert replay.status_code == 400 and "Aucun mandat n'attend de signature" in replay.text
    assert [m.status for m in mandates(memory_portal, marie)] == [MandateStatus.ACTIVE]


def test_another_subscribers_contract_and_rum_are_not_found(web, memory_portal, marie, paul):
    from tests.support import sign_mandate_for

    theirs = sign_mandate_for(memory_portal, paul, "C2")
    assert start(web, contract="C2").status_code == 404
    assert mandates(memory_portal, marie) == []
    assert web.submit("/prelevement", f"/prelevement/{theirs.rum}/revoquer").status_code == 404
    assert mandates(memory_portal, paul)[0].status is MandateStatus.ACTIVE
    assert theirs.rum not in web.get("/prelevement").text


def test_without_csrf_token_nothing_happens(web, memory_portal, marie):
    for path, data in [("/prelevement", {"contract": "C1", "mode": "echeance", "holder": "M", "iban": IBAN_FR}),
                       ("/prelevement/signer", {"code": "123456"}), ("/prelevement/PORTAIL-C1-X/revoquer", {})]:
        assert web.post(path, data=data, follow_redirects=False).status_code == 403
        assert web.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert mandates(memory_portal, marie) == []
    cross_site = web.post("/prelevement/signer", data={"code": "1"}, headers={"origin": "https://evil.example"})
    assert cross_site.status_code == 403


def test_invoices_on_direct_debit_show_it_and_hide_regler(web, memory_portal, marie, clock):
    start(web)
    web.submit("/prelevement", "/prelevement/signer", {"code": last_signing_code(memory_portal)})
    add_invoice(memory_portal, marie, "F-DD", issued="2026-03-10", due="2026-04-10", contract_number="C1")
    add_invoice(memory_portal, marie, "F-OLD", issued="2026-02-01", due="2026-03-01", contract_number="C1")
    listing = web.get("/factures").text
    assert "Prélèvement automatique le 10 avr. 2026" in listing
    page = web.get("/factures/F-DD").text
    assert "sera prélevée le 10 avr. 2026" in page and "Régler la facture" not in page
    assert "Régler la facture" in web.get("/factures/F-OLD").text
    assert web.submit("/factures/F-DD", "/factures/F-DD/payer").status_code == 400
    clock.advance(days=31)
    web.login("marie@example.org", PASSWORD)  # a month later: a new session
    assert "Prélevée le 10 avr. 2026" in web.get("/factures").text
    assert "a été prélevée le 10 avr. 2026" in web.get("/factures/F-DD").text
