"""The PayFiP adapter against the local stand-in speaking PayFiP's SOAP (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portail_adapters.memory import MemoryDatabase
from portail_adapters.payment import soap
from portail_adapters.payment.payfip import (
    PayfipAmountOutOfRange,
    PayfipEmailUnusable,
    PayfipGateway,
    PayfipOrderRefused,
)
from portail_adapters.payment.payfip_standin import StandinServer, fault_xml, response_xml
from portail_domain.model.billing import PaymentOrder, PaymentStatus
from portail_domain.model.errors import GatewayError
from portail_domain.model.values import Money
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


def test_creation_faults_from_the_service_become_gateway_errors(standin, clock):
    gateway = PayfipGateway(standin.service_url, "999999", "W", clock, timeout=5)  # a client it does not know
    with pytest.raises(GatewayError) as error:
        gateway.start(order())
    assert standin.state.calls[-1][0] == "creerPaiementSecurise"
    assert not isinstance(error.value, PayfipOrderRefused)  # asked, and the service said no


@pytest.mark.parametrize("changes, client, refusal", [
    ({"amount": Money(99)}, NUMCLI, PayfipAmountOutOfRange),  # below PayFiP's 1 €
    ({"amount": Money(100_000_01)}, NUMCLI, PayfipAmountOutOfRange),  # above its 100 000 €
    ({"email": "a@b.f"}, NUMCLI, PayfipEmailUnusable),  # 5 characters
    ({"email": "m" * 69 + "@example.org"}, NUMCLI, PayfipEmailUnusable),  # 81 characters
    ({}, "12345", PayfipOrderRefused),  # numcli is 6 digits
    ({}, "12345A", PayfipOrderRefused),
])
def test_what_payfip_would_refuse_is_refused_before_calling(standin, clock, changes, client, refusal):
    gateway = PayfipGateway(standin.service_url, client, "T", clock, timeout=5)
    calls = len(standin.state.calls)
    with pytest.raises(refusal):
        gateway.start(order(**changes))
    assert len(standin.state.calls) == calls  # no call made


@pytest.mark.parametrize("changes", [
    {"amount": Money(100)}, {"amount": Money(100_000_00)}, {"email": "a@b.fr"}, {"email": "m" * 68 + "@example.org"},
])
def test_the_limits_themselves_are_accepted(standin, gateway, changes):
    assert gateway.start(order(**changes)).operation_id


def test_objet_is_left_out_when_nothing_of_the_label_survives_and_the_standin_answers(standin, gateway):
    started = gateway.start(order(label="€ — ¿?"))
    _operation, fields = standin.state.calls[-1]
    assert "objet" not in fields  # absent, as in the recorded exchanges, rather than empty
    standin.decide(started.operation_id, "A")
    assert gateway.fetch_result(started.operation_id).status == "abandoned"


@pytest.mark.parametrize("utc, exer", [
    (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), "2026"),
    (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "2027"),  # already 1 January in Paris
])
def test_exer_is_the_year_of_the_payment_in_paris(standin, clock, utc, exer):
    clock.current = utc
    gateway = PayfipGateway(standin.service_url, NUMCLI, "T", clock, timeout=5)
    gateway.start(order(year=2025))  # an invoice issued in 2025, paid now
    assert standin.state.calls[-1][1]["exer"] == exer


def test_a_refusal_before_calling_is_a_message_the_subscriber_understands(standin, portal):
    marie = add_subscriber(portal, password="une-phrase-de-passe-solide")
    add_invoice(portal, marie, amount=100_000_01)
    calls = len(standin.state.calls)
    with WebClient(create_app(portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", "une-phrase-de-passe-solide")
        page = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer")
        assert page.status_code == 400
        assert "Le paiement en ligne accepte les montants de 1 € à 100 000 €" in page.text
    assert len(standin.state.calls) == calls
    with portal.uow() as uow:
        assert uow.payments.for_invoice(uow.invoices.by_number("F2026-0001").id) == []


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


def test_the_envelope_has_the_shape_the_real_service_was_recorded_accepting():
    sent = soap.envelope("recupererDetailPaiementSecurise", {"idOp": "cc0cb210-1cd4-11ea-8cca-0213ad91a103"})
    assert not sent.startswith(b"<?xml") and b"Header" not in sent  # neither appears in any recording
    root = ElementTree.fromstring(sent)
    assert root.tag == f"{{{soap.SOAP_ENV}}}Envelope" and [child.tag for child in root] == [f"{{{soap.SOAP_ENV}}}Body"]
    (call,) = root[0]
    assert call.tag == f"{{{soap.SERVICE_NS}}}recupererDetailPaiementSecurise"
    assert [(arg.tag, [(field.tag, field.text) for field in arg]) for arg in call] == [
        ("arg0", [("idOp", "cc0cb210-1cd4-11ea-8cca-0213ad91a103")])]  # unqualified, as recorded


# --- XML from the gateway: no DTD, hence no entity, whatever the encoding ------------------------

PAID_ANSWER = response_xml("recupererDetailPaiementSecurise", {
    "idOp": "op-1", "montant": "12345", "numcli": NUMCLI, "refdet": "F20260001", "resultrans": "P"}).decode()
BODY = PAID_ANSWER.split("?>", 1)[1]  # the answer without its XML declaration
DTDS = {  # each spells resultrans "P" through an entity: believing it would pay an invoice
    "internal entity": '<!DOCTYPE e [<!ENTITY r "P">]>',
    "external entity": '<!DOCTYPE e [<!ENTITY r SYSTEM "file:///etc/hostname">]>',
    "parameter entity": '<!DOCTYPE e [<!ENTITY % p "<!ENTITY r \'P\'>"> %p;]>',
    "external DTD": '<!DOCTYPE e SYSTEM "http://127.0.0.1:9/evil.dtd">',
}


def spelled_through_an_entity(encoding: str, dtd: str) -> bytes:
    document = f'<?xml version="1.0" encoding="{encoding}"?>{dtd}' + BODY.replace(">P<", ">&r;<")
    return document.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("dtd", DTDS.values(), ids=DTDS.keys())
def test_an_answer_carrying_a_dtd_is_refused_in_any_encoding(encoding, dtd):
    with pytest.raises(soap.SoapTransportError):
        soap.parse_response(spelled_through_an_entity(encoding, dtd))


def test_the_same_answer_without_a_dtd_is_read_in_utf_8_and_utf_16():
    for encoding in ("utf-8", "utf-16"):
        document = f'<?xml version="1.0" encoding="{encoding}"?>{BODY}'.encode(encoding)
        assert soap.parse_response(document)["resultrans"] == "P"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_a_gateway_answering_with_a_dtd_is_not_believed(clock, encoding):
    """End to end: the adapter asks a server that answers "paid" through an entity."""
    answer = spelled_through_an_entity(encoding, DTDS["internal entity"])

    class Hostile(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", f"text/xml; charset={encoding}")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway = PayfipGateway(f"http://127.0.0.1:{server.server_address[1]}/tpa/services/securite", NUMCLI, "T",
                                clock, timeout=5)
        with pytest.raises(GatewayError):
            gateway.fetch_result("op-1")
    finally:
        server.shutdown()
        server.server_close()


def test_a_malformed_envelope_gets_a_protocol_fault(standin):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(standin.service_url, data=b"not xml", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    with pytest.raises(soap.SoapFault) as fault:
        soap.parse_response(error.value.read())
    assert fault.value.kind == "TechProtocolaireErreur"


# --- the stand-in answers as the real service was recorded answering ----------------------------

RECORDED_CREATION = {"exer": "2019", "mel": "john.doe@example.com", "montant": "1000", "numcli": NUMCLI,
                     "refdet": "201912261758460053903194", "saisie": "T",
                     "urlnotif": "https://notif.payfip.example.com/", "urlredirect": "https://redirect.payfip.example.com/"}


@pytest.fixture
def standin_clock(standin, clock):
    """The stand-in reads the test's clock (and gets its own back afterwards)."""
    own = standin.state.now
    standin.state.now = clock.now
    yield clock
    standin.state.now = own


def test_a_creation_without_objet_is_answered_and_its_detail_has_no_objet(standin):
    answer = soap.call(standin.service_url, "creerPaiementSecurise", RECORDED_CREATION, timeout=5)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", answer["idOp"])
    assert "objet" not in standin.state.calls[-1][1]
    standin.decide(answer["idOp"], "A")
    detail = soap.call(standin.service_url, "recupererDetailPaiementSecurise", {"idOp": answer["idOp"]}, timeout=5)
    # as recorded for an abandon: no objet (none was sent), no numauto (nothing was paid)
    assert sorted(detail) == ["dattrans", "exer", "heurtrans", "idOp", "mel", "montant", "numcli", "refdet",
                              "resultrans", "saisie"]
    assert detail["resultrans"] == "A"


@pytest.mark.parametrize("changes, code, libelle", [
    ({"mel": "john.doeexample.com", "montant": "9990000001"}, "A2", "Adresse mél incorrecte."),
    ({"refdet": "ABCD"}, "R3", "Le format du paramètre REFDET n'est pas conforme"),
])
def test_the_standins_creation_faults_are_the_recorded_ones(standin, changes, code, libelle):
    with pytest.raises(soap.SoapFault) as fault:
        soap.call(standin.service_url, "creerPaiementSecurise", {**RECORDED_CREATION, **changes}, timeout=5)
    assert (fault.value.kind, fault.value.code, fault.value.message.strip()) == ("FonctionnelleErreur", code, libelle)


def test_the_standin_forgets_an_operation_without_result_after_a_day(standin_clock, standin, gateway):
    started = gateway.start(order())
    standin_clock.advance(hours=23, minutes=59)
    assert gateway.fetch_result(started.operation_id).status == "pending"  # P5
    standin_clock.advance(minutes=1)
    assert gateway.fetch_result(started.operation_id).status == "expired"  # P1 after the nightly clean-up


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def paris_wall_clock(moment: datetime) -> datetime:
    """Paris time by the EU rule (summer time from the last Sunday of March to the last Sunday of
    October, 01:00 UTC both), independent of the zoneinfo database the stand-in uses."""
    summer = (datetime.combine(_last_sunday(moment.year, 3), time(1), tzinfo=UTC) <= moment
              < datetime.combine(_last_sunday(moment.year, 10), time(1), tzinfo=UTC))
    return (moment + timedelta(hours=2 if summer else 1)).replace(tzinfo=None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)))
@example(moment=datetime(2026, 3, 29, 0, 59, tzinfo=UTC))  # 01:59 in Paris, then the clocks jump to 03:00
@example(moment=datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
@example(moment=datetime(2026, 10, 25, 0, 59, tzinfo=UTC))  # 02:59 summer time, then 02:00 again
@example(moment=datetime(2026, 10, 25, 1, 0, tzinfo=UTC))
@example(moment=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # already next year in Paris
def test_dattrans_and_heurtrans_are_paris_time_across_dst_changes(standin, gateway, moment):
    own = standin.state.now
    standin.state.now = lambda: moment
    try:
        started = gateway.start(order())
        standin.decide(started.operation_id, "P")
        detail = soap.call(standin.service_url, "recupererDetailPaiementSecurise", {"idOp": started.operation_id},
                           timeout=5)
    finally:
        standin.state.now = own
    expected = paris_wall_clock(moment)
    assert (detail["dattrans"], detail["heurtrans"]) == (expected.strftime("%d%m%Y"), expected.strftime("%H%M"))
    # and the adapter keeps that stamp (Paris time) in the transaction reference
    assert gateway.fetch_result(started.operation_id).transaction_reference.endswith(
        expected.strftime("%Y%m%d%H%M"))


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


def test_abandon_then_pay_with_the_same_idop_pays_the_invoice_once(standin_clock, standin, portal):
    marie = add_subscriber(portal, password="une-phrase-de-passe-solide")
    add_invoice(portal, marie, amount=4321)
    with WebClient(create_app(portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", "une-phrase-de-passe-solide")
        idop = web.submit("/factures/F2026-0001", "/factures/F2026-0001/payer").headers["location"].rsplit("=", 1)[1]
        standin.decide(idop, "A")
        assert web.post("/paiement/notification", data={"idOp": idop}).status_code == 200
        assert "Le paiement n'a pas été effectué" in web.get(f"/paiement/retour?idop={idop}").text
        standin_clock.advance(minutes=4)  # back to PayFiP's page (the idOp lives on), and paid this time
        standin.decide(idop, "P")
        for _ in range(3):  # the notification, replayed
            assert web.post("/paiement/notification", data={"idOp": idop}).status_code == 200
        assert "est accepté" in web.get(f"/paiement/retour?idop={idop}").text
        assert "F2026-0001" not in web.get("/factures?onglet=a-payer").text
    with portal.uow() as uow:
        invoice = uow.invoices.by_number("F2026-0001")
        assert invoice.amount_paid == Money(4321)
        assert [p.status for p in uow.payments.for_invoice(invoice.id)] == ["paid"]


def test_p5_past_the_idops_life_is_expired_by_reconciliation_and_a_late_payment_is_flagged(standin_clock, standin,
                                                                                            portal):
    marie = add_subscriber(portal)
    add_invoice(portal, marie, amount=4321)
    desk = payment_desk(portal)
    idop = desk.start_payment(marie.id, "F2026-0001").rsplit("=", 1)[1]
    standin_clock.advance(minutes=16)  # past the idOp's 15 minutes, still P5
    summary = desk.reconcile_pending()
    assert (summary.checked, summary.still_pending) == (1, 1)  # a result may still come
    standin_clock.advance(hours=2)
    summary = desk.reconcile_pending()
    assert (summary.checked, summary.settled) == (1, 1)
    with portal.uow() as uow:
        assert uow.payments.by_operation("payfip", idop).status == "expired"
    standin.decide(idop, "P")  # the service reports it paid after all, and notifies
    payment = desk.handle_notification(idop)
    assert payment.status == "expired" and "paid after the portal had it expired" in payment.flag
    with portal.uow() as uow:
        assert uow.invoices.by_number("F2026-0001").amount_paid == Money(0)  # for staff to credit or refund


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
