"""A local stand-in for PayFiP's web service, for tests and for trying the adapter by hand.

It answers ``creerPaiementSecurise`` and ``recupererDetailPaiementSecurise`` the way the
real service was recorded answering (SOAP 1.1 over HTTP POST, HTTP 500 with a
``FonctionnelleErreur`` fault detail for business errors; the codes and wordings the
recordings show: A2 for a bad mel, R3 for a bad refdet, P5 while no result is known, P1 for
an unknown idOp), stamps ``dattrans``/``heurtrans`` in Europe/Paris time, forgets an
operation that never got a result after a day (the nightly clean-up: P5 turns into P1),
serves a bare payer page at ``/tpa/paiementws.web?idop=…``, and offers a test-only
``POST /standin/decide`` (form fields ``idop``, ``resultrans`` = P, V, R, Z, A or P1 to
forget the operation, optional ``montant`` to tamper with the reported amount, optional
``notify=1`` to POST ``idOp`` to the operation's urlnotif). A decision may follow an "A":
the real idOp stays usable after an abandon. Sources: docs/payfip.md.

Run by hand: ``python -m portail_adapters.payment.payfip_standin --port 8899 --numcli 123456``.
Standard library only; one thread per request.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import threading
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from .soap import SERVICE_NS, SOAP_ENV, parse_call

FAULT_STRING = "fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur"
REFDET = re.compile(r"^[A-Za-z0-9]{6,30}$")
OBJET = re.compile(r"^[A-Za-z0-9 ]{0,100}$")
MIN_CENTS, MAX_CENTS = 100, 10_000_000  # 1 € to 100 000 €
RESULTS = ("P", "V", "R", "Z", "A")
PARIS = ZoneInfo("Europe/Paris")
FORGOTTEN_AFTER = timedelta(days=1)  # P5 turns into P1 "after one day" (eopayment's account of the clean-up)
# What the real service checks, in an order consistent with the recordings (a bad mel with a bad
# montant got A2). Codes A2 and R3 and their wordings are recorded; the others are not public, so
# the stand-in names them STANDIN-… rather than invent codes that look like PayFiP's.
UNKNOWN_CLIENT = ("STANDIN-NUMCLI", "Numéro client inconnu")
BAD_SAISIE = ("STANDIN-SAISIE", "Type de saisie incorrect")
BAD_EXER = ("STANDIN-EXER", "Exercice incorrect")
BAD_REFDET = ("R3", "Le format du paramètre REFDET n'est pas conforme")
BAD_MEL = ("A2", "Adresse mél incorrecte. ")
BAD_MONTANT = ("STANDIN-MONTANT", "Montant incorrect")
BAD_OBJET = ("STANDIN-OBJET", "Objet incorrect")
BAD_URL = ("STANDIN-URL", "URL incorrecte")
UNKNOWN_IDOP = ("P1", "IdOp incorrect.")
NO_RESULT_YET = ("P5", "Résultat de la transaction non connu.")


def transaction_stamp(moment: datetime) -> tuple[str, str]:
    """``dattrans`` (DDMMYYYY) and ``heurtrans`` (HHMM) of an instant, in Paris time as PayFiP gives them."""
    local = moment.astimezone(PARIS)
    return local.strftime("%d%m%Y"), local.strftime("%H%M")


class Standin:
    """The stand-in's state: operations by idOp, the client numbers it knows, its clock."""

    def __init__(self, client_numbers: set[str], now: Callable[[], datetime] | None = None) -> None:
        self.client_numbers = client_numbers
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))  # tests point it at their clock
        self.operations: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []  # what the portal sent, for tests
        self.lock = threading.Lock()

    def create(self, fields: dict[str, str]) -> dict[str, str]:
        problems = self._check(fields)
        if problems:
            raise StandinFault(*problems[0])
        idop = str(uuid.uuid4())  # the real idOp is a UUID in its 36-character form
        with self.lock:
            self.operations[idop] = {**fields, "idOp": idop, "created": self.now(), "resultrans": None}
        return {"idOp": idop}

    def _check(self, f: dict[str, str]) -> list[tuple[str, str]]:
        problems = []
        if f.get("numcli") not in self.client_numbers:
            problems.append(UNKNOWN_CLIENT)
        if f.get("saisie") not in ("T", "X", "W"):
            problems.append(BAD_SAISIE)
        if not re.fullmatch(r"\d{4}", f.get("exer", "")):
            problems.append(BAD_EXER)
        if not REFDET.match(f.get("refdet", "")):
            problems.append(BAD_REFDET)
        mel = f.get("mel", "")
        if "@" not in mel or not 6 <= len(mel) <= 80:
            problems.append(BAD_MEL)
        montant = f.get("montant", "")
        if not montant.isdigit() or not MIN_CENTS <= int(montant) <= MAX_CENTS:
            problems.append(BAD_MONTANT)
        if not OBJET.match(f.get("objet", "")):  # absent is fine: the recordings show it accepted
            problems.append(BAD_OBJET)
        if any(urlsplit(f.get(name, "")).scheme not in ("http", "https") for name in ("urlnotif", "urlredirect")):
            problems.append(BAD_URL)
        return problems

    def detail(self, idop: str) -> dict[str, str]:
        with self.lock:
            op = self.operations.get(idop)
            if op is not None and op["resultrans"] is None and self.now() - op["created"] >= FORGOTTEN_AFTER:
                del self.operations[idop]  # the nightly clean-up
                op = None
            if op is None:
                raise StandinFault(*UNKNOWN_IDOP)
            if op["resultrans"] is None:
                raise StandinFault(*NO_RESULT_YET)
            # Only what the operation has: no objet when none was sent, no numauto unless paid.
            names = ("dattrans", "exer", "heurtrans", "idOp", "mel", "numauto", "numcli", "objet", "refdet",
                     "resultrans", "saisie")
            answer = {name: op[name] for name in names if op.get(name)}
            answer["montant"] = op.get("reported_montant") or op["montant"]
            return answer

    def decide(self, idop: str, resultrans: str, montant: str | None = None) -> dict[str, Any]:
        with self.lock:
            op = self.operations.get(idop)
            if op is None:
                raise KeyError(idop)
            if resultrans == "P1":  # forgotten, as the nightly clean-up does
                del self.operations[idop]
                return op
            if resultrans not in RESULTS:
                raise ValueError(resultrans)
            dattrans, heurtrans = transaction_stamp(self.now())
            op.update(resultrans=resultrans, dattrans=dattrans, heurtrans=heurtrans,
                      numauto=f"{uuid.uuid4().int % 10**6:06d}" if resultrans in ("P", "V") else "")
            if montant:
                op["reported_montant"] = montant
            return op


class StandinFault(Exception):
    def __init__(self, code: str, libelle: str) -> None:
        super().__init__(code, libelle)
        self.code = code
        self.libelle = libelle


def _envelope(content: ET.Element) -> bytes:
    ET.register_namespace("soapenv", SOAP_ENV)  # the same prefixes as soap.envelope: one registry
    ET.register_namespace("pai", SERVICE_NS)
    root = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    ET.SubElement(root, f"{{{SOAP_ENV}}}Body").append(content)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def response_xml(operation: str, fields: dict[str, str]) -> bytes:
    answer = ET.Element(f"{{{SERVICE_NS}}}{operation}Response")
    returned = ET.SubElement(answer, "return")
    for name, value in sorted(fields.items()):
        ET.SubElement(returned, name).text = value
    return _envelope(answer)


def fault_xml(code: str, libelle: str, *, kind: str = "FonctionnelleErreur",
              faultcode: str = "soapenv:Server") -> bytes:
    fault = ET.Element(f"{{{SOAP_ENV}}}Fault")
    ET.SubElement(fault, "faultcode").text = faultcode
    ET.SubElement(fault, "faultstring").text = FAULT_STRING if kind == "FonctionnelleErreur" else kind
    detail = ET.SubElement(ET.SubElement(fault, "detail"), f"{{{SERVICE_NS}}}{kind}")
    # As recorded: an empty descriptif, the wording in libelle.
    for name, value in (("code", code), ("descriptif", ""), ("libelle", libelle), ("severite", "2")):
        ET.SubElement(detail, name).text = value
    return _envelope(fault)


class _Handler(BaseHTTPRequestHandler):
    server: StandinServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 1 << 20))

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/tpa/services/securite":
            self._soap(self._body())
        elif path == "/standin/decide":
            self._decide(parse_qs(self._body().decode()))
        else:
            self._send(404, b"not found", "text/plain")

    def _soap(self, data: bytes) -> None:
        state = self.server.state
        xml = "text/xml; charset=utf-8"
        try:
            operation, fields = parse_call(data)
        except (ValueError, ET.ParseError):
            self._send(500, fault_xml("STANDIN-ENVELOPPE", "Message SOAP invalide",
                                      kind="TechProtocolaireErreur", faultcode="soapenv:Client"), xml)
            return
        state.calls.append((operation, fields))
        try:
            if operation == "creerPaiementSecurise":
                self._send(200, response_xml(operation, state.create(fields)), xml)
            elif operation == "recupererDetailPaiementSecurise":
                self._send(200, response_xml(operation, state.detail(fields.get("idOp", ""))), xml)
            else:
                self._send(500, fault_xml("STANDIN-OPERATION", f"Opération inconnue {operation}",
                                          kind="TechProtocolaireErreur", faultcode="soapenv:Client"), xml)
        except StandinFault as fault:
            self._send(500, fault_xml(fault.code, fault.libelle), xml)

    def _decide(self, form: dict[str, list[str]]) -> None:
        one = {k: v[0] for k, v in form.items()}
        try:
            op = self.server.state.decide(one.get("idop", ""), one.get("resultrans", ""), one.get("montant"))
        except KeyError:
            self._send(404, b"unknown idop", "text/plain")
            return
        except ValueError:
            self._send(400, b"resultrans is one of P, V, R, Z, A, P1", "text/plain")
            return
        if one.get("notify") == "1":
            request = urllib.request.Request(op["urlnotif"], data=urlencode({"idOp": op["idOp"]}).encode(),  # noqa: S310
                                             method="POST")
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - a test server posts to the portal
                pass
        body = json.dumps({"idOp": op["idOp"], "urlredirect": op["urlredirect"]}).encode()
        self._send(200, body, "application/json")

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != "/tpa/paiementws.web":
            self._send(404, b"not found", "text/plain")
            return
        idop = parse_qs(url.query).get("idop", [""])[0]
        op = self.server.state.operations.get(idop)
        if op is None:
            self._send(404, "<p>Opération inconnue ou expirée</p>".encode(), "text/html; charset=utf-8")
            return
        page = (f"<h1>PayFiP (stand-in)</h1><p>{html.escape(op.get('objet', ''))}</p>"
                f"<p>{int(op['montant']) / 100:.2f} EUR</p>")
        self._send(200, page.encode(), "text/html; charset=utf-8")


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, client_numbers: set[str], now: Callable[[], datetime] | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = Standin(client_numbers, now)
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def service_url(self) -> str:
        return self.base_url + "/tpa/services/securite"

    def start(self) -> StandinServer:
        self.thread = threading.Thread(target=self.serve_forever, name="payfip-standin", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def decide(self, idop: str, resultrans: str, **extra: str) -> dict[str, Any]:
        """Over HTTP, as a test (or a human) would."""
        data = urlencode({"idop": idop, "resultrans": resultrans, **extra}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.base_url + "/standin/decide", data=data),  # noqa: S310
                                    timeout=10) as response:
            return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description="A local stand-in for PayFiP's web service")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--numcli", action="append", default=[], help="a client number it knows (repeatable)")
    args = parser.parse_args()
    server = StandinServer(args.port, set(args.numcli or ["123456"]))
    print(f"PayFiP stand-in at {server.service_url}")
    server.serve_forever()


if __name__ == "__main__":
    main()
