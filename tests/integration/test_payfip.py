"""The PayFiP adapter against the local stand-in speaking PayFiP's SOAP (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import re
import socket

import pytest

from portail_adapters.memory import MemoryDatabase
from portail_adapters.payment import soap
from portail_adapters.payment.payfip import PayfipGateway
from portail_adapters.payment.payfip_standin import StandinServer, fault_xml
from portail_domain.model.billing import PaymentStatus
from portail_domain.model.errors import GatewayError
from portail_domain.model.values import Money
from portail_domain.ports import PaymentOrder
from portail_web import create_app
from tests.support import BASE_URL, WebClient, add_invoice, add_subscriber, make_portal, payment_desk

NUMCLI = "123456"


@pytest.fixture(scope="module")
def standin():
    server = StandinServer(0, {NUMCLI}).start()
    yield server
    server.stop()


@pytest.fixture
def gateway(standin, clock):
    return PayfipGateway(standin.service_url, NUMCLI, "T", clock, timeout=5)


@pytest.fixture
def portal(gateway, clock):
    portal = make_portal(MemoryDatabase(), clock)
    portal.payments = gateway
    return portal


def order(**changes) -> PaymentOrder:
    values = dict(reference="F20260001", label="Facture F2026-0001 Régie des Eaux d'Hérault", amount=Money(12345),
                  email="marie@example.org", return_url=f"{BASE_URL}/paiement/retour",
                  notify_url=f"{BASE_URL}/paiement/notification", year=2026)
    values.update(changes)
    return PaymentOrder(**values)


def test_creer_paiement_sends_payfip_fields_and_redirects_to_paiementws(standin, gateway):
    started = gateway.start(order())
    assert started.redirect_url == f"{standin.base_url}/tpa/paiementws.web?idop={started.operation_id}"
    operation, fields = standin.state.calls[-1]
    assert operation == "creerPaiementSecurise"
    assert fields == {"exer": "2026", "mel": "marie@example.org", "montant": "12345", "numcli": NUMCLI,
                      "objet": "Facture F2026 0001 Regie des Eaux d Herault", "refdet": "F20260001", "saisie": "T",
                      "urlnotif": f"{BASE_URL}/paiement/notification", "urlredirect": f"{BASE_URL}/paiement/retour"}


@pytest.mark.parametrize("resultrans, status", [
    ("P", PaymentStatus.PAID), ("V", PaymentStatus.PAID), ("R", PaymentStatus.REFUSED),
    ("Z", PaymentStatus.REFUSED), ("A", PaymentStatus.ABANDONED),
])
def test_recuperer_detail_maps_resultrans(standin, gateway, resultrans, status):
    started = gateway.start(order())
    standin.decide(started.operation_id, resultrans)
    result = gateway.fetch_result(started.operation_id)
    assert result.status == status.value
    assert (result.operation_id, result.amount, result.reference, result.client_number) == (
        started.operation_id, Money(12345), "F20260001", NUMCLI)
    # numauto (the bank's authorisation, paid only) then the transaction's date and time
    pattern = r"\d{6} \d{12}" if status == PaymentStatus.PAID else r"\d{12}"
    assert re.fullmatch(pattern, result.transaction_reference)


def test_p5_while_running_then_paid(standin, gateway):
    started = gateway.start(order())
    assert gateway.fetch_result(started.operation_id).status == "pending"  # P5 fault
    standin.decide(started.operation_id, "P")
    assert gateway.fetch_result(started.operation_id).status == "paid"


def test_unknown_idop_is_p1_expired(standin, gateway):
    assert gateway.fetch_result("0" * 32).status == "expired"
    started = gateway.start(order())
    standin.decide(started.operation_id, "P1")  # the nightly clean-up forgot it
    assert gateway.fetch_result(started.operation_id).status == "expired"


@pytest.mark.parametrize("changes, client", [
    ({"amount": Money(50)}, NUMCLI),  # below PayFiP's minimum
    ({"amount": Money(100_000_01)}, NUMCLI),  # above its maximum
    ({}, "999999"),  # unknown client number
    ({"email": "a@b"}, NUMCLI),
])
def test_creation_faults_become_gateway_errors(standin, clock, changes, client):
    gateway = PayfipGateway(standin.service_url, client, "W", clock, timeout=5)
    with pytest.raises(GatewayError):
        gateway.start(order(**changes))


def test_our_own_checks_before_calling(gateway):
    with pytest.raises(ValueError):
        gateway.start(order(reference="F-1"))
    with pytest.raises(ValueError):
        PayfipGateway("https://x.example/tpa/services/securite", NUMCLI, "Q", None)


def test_unreachable_service_is_a_gateway_error(clock):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = PayfipGateway(f"http://127.0.0.1:{port}/tpa/services/securite", NUMCLI, "T", clock, timeout=2)
    with pytest.raises(GatewayError):
        gateway.fetch_result("abc")


def test_soap_parsing_refuses_dtds_and_non_soap():
    with pytest.raises(soap.SoapTransportError):
        soap.parse_response(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(soap.SoapTransportError):
        soap.parse_response(b"<html>proxy error</html>")
    with pytest.raises(soap.SoapFault) as fault:
        soap.parse_response(fault_xml("P5", "Résultat de la transaction non connu"))
    assert fault.value.code == "P5" and fault.value.kind == "FonctionnelleErreur"


def test_a_malformed_envelope_gets_a_protocol_fault(standin):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(standin.service_url, data=b"not xml", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    with pytest.raises(soap.SoapFault) as fault:
        soap.parse_response(error.value.read())
    assert fault.value.kind == "TechProtocolaireErreur"


# --- the use cases over the adapter over the stand-in ------------------------------------------


def test_full_flow_paid_through_the_web_app(standin, portal):
    marie = add_subscriber(portal, password="une-phrase-de-passe-solide")
    add_invoice(portal, marie, amount=4321)
    with WebClient(create_app(portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", "une-phrase-de-passe-solide")
        page = web.get("/factures/F2026-0001")
        assert standin.base_url in page.headers["content-security-policy"]  # the form may go to PayFiP
        location = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer").headers["location"]
        assert location.startswith(f"{standin.base_url}/tpa/paiementws.web?idop=")
        idop = location.rsplit("=", 1)[1]
        assert web.post("/paiement/notification", data={"idOp": idop}).status_code == 200  # P5: nothing yet
        assert "F2026-0001" in web.get("/factures?onglet=a-payer").text
        standin.decide(idop, "P")
        assert web.post("/paiement/notification", data={"idOp": idop}).status_code == 200
        assert "F2026-0001" not in web.get("/factures?onglet=a-payer").text
        assert "est accepté" in web.get(f"/paiement/retour?idop={idop}").text


def test_tampered_amount_is_flagged_and_pays_nothing(standin, portal):
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=4321)
    desk = payment_desk(portal)
    idop = desk.start_payment(marie.id, "F2026-0001").rsplit("=", 1)[1]
    standin.decide(idop, "P", montant="100")
    payment = desk.handle_notification(idop)
    assert payment.status == "pending" and "amount differs" in payment.flag
    with portal.uow() as uow:
        assert uow.invoices.by_number("F2026-0001").amount_paid == Money(0)


def test_refused_then_abandoned_then_paid(standin, portal):
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=4321)
    desk = payment_desk(portal)
    for resultrans, status in (("R", "refused"), ("A", "abandoned"), ("V", "paid")):
        idop = desk.start_payment(marie.id, "F2026-0001").rsplit("=", 1)[1]
        standin.decide(idop, resultrans)
        assert desk.handle_notification(idop).status == status
    with portal.uow() as uow:
        assert uow.invoices.by_number("F2026-0001").status == "paid"


# --- a real portal process, PayFiP mode, the stand-in notifying it over HTTP --------------------


def test_portail_serve_in_payfip_mode_is_paid_by_the_standins_server_notification(standin, tmp_path, monkeypatch):
    import http.cookiejar
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    from portail_adapters.settings import load_settings
    from portail_web.wiring import web_portal
    from tests.support import CSRF

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {"PORTAIL_DATABASE_URL": f"sqlite:///{tmp_path}/portail.db", "PORTAIL_SECRET_KEY": "s" * 40,
           "PORTAIL_BASE_URL": base, "PORTAIL_PAYMENT": "payfip", "PORTAIL_PAYFIP_NUMCLI": NUMCLI,
           "PORTAIL_PAYFIP_MODE": "X", "PORTAIL_PAYFIP_URL": standin.service_url}
    monkeypatch.chdir(tmp_path)
    portal = web_portal(load_settings(env), run_migrations=True)
    assert isinstance(portal.payments, PayfipGateway) and portal.payments.mode == "X"
    marie = add_subscriber(portal, password="une-phrase-de-passe-solide")
    add_invoice(portal, marie, amount=6789)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")} | env
    server = subprocess.Popen([sys.executable, "-m", "portail_web.cli", "serve", "--port", str(port)], cwd=tmp_path,
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Stay)

        def call(path, data=None):
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            try:
                with browser.open(urllib.request.Request(base + path, data=body, headers={"Origin": base}),
                                  timeout=10) as response:
                    return response.status, response.headers, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.headers, error.read().decode()

        deadline = time.monotonic() + 30
        while True:
            try:
                page = call("/connexion")[2]
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        status, _, _ = call("/connexion", {"email": "marie@example.org", "password": "une-phrase-de-passe-solide",
                                           "csrf_token": CSRF.search(page).group(1)})
        assert status == 303
        detail = call("/factures/F2026-0001")[2]
        status, headers, _ = call("/factures/F2026-0001/payer", {"csrf_token": CSRF.search(detail).group(1)})
        assert status == 303 and headers["location"].startswith(f"{standin.base_url}/tpa/paiementws.web?idop=")
        idop = headers["location"].rsplit("=", 1)[1]
        operation, fields = standin.state.calls[-1]
        assert fields["saisie"] == "X" and fields["urlnotif"] == f"{base}/paiement/notification"
        standin.decide(idop, "P", notify="1")  # the stand-in POSTs idOp to urlnotif, as PayFiP does
        with portal.uow() as uow:
            assert uow.invoices.by_number("F2026-0001").status == "paid"
        assert "est accepté" in call(f"/paiement/retour?idop={idop}")[2]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_payfip_settings_are_checked_with_one_line_each():
    from portail_adapters.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as error:
        load_settings({"PORTAIL_PAYMENT": "payfip", "PORTAIL_PAYFIP_URL": "ftp://x", "PORTAIL_PAYFIP_MODE": "P",
                       "PORTAIL_SECRET_KEY": "s" * 40})
    problems = error.value.problems
    assert any(p.startswith("PORTAIL_PAYFIP_URL: unknown scheme ftp://") for p in problems)
    assert any(p.startswith("PORTAIL_PAYFIP_MODE:") for p in problems)
    assert any(p.startswith("PORTAIL_PAYFIP_NUMCLI:") for p in problems)
