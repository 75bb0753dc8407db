"""Fuzzing the web app: its routes, the fields each one reads, hostile text, and a world to send it to.

The routes come from the app itself (a new route is fuzzed without touching this file); the
fields each route reads come from DESIGN.md §5 and the templates (``FIELDS``); a route missing
from that table gets every known field name at once. A case fuzzes one field (or text path
parameter) while the others hold plausible values, so the hostile text gets as deep as it can.
Used by ``tests/unit/test_fuzz_routes.py`` (fakes) and ``tests/integration/test_fuzz_routes_sql.py``.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from datetime import date
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import strategies as st
from starlette.routing import Route

from portail_domain.model.accounts import Identity
from portail_domain.model.documents import FolderKind
from portail_domain.model.requests import Attachment
from portail_domain.portal import Portal
from portail_domain.services.accounts import log_in
from portail_domain.services.activation import request_email_change, request_password_link
from portail_domain.services.billing import start_payment
from portail_domain.services.contracts import submit_reading
from portail_domain.services.documents import document_tree
from portail_domain.services.requests import open_request
from portail_web import create_app
from portail_web.app import all_routes
from portail_web.security import csrf_token_for
from tests.support import (
    BASE_URL,
    WebClient,
    add_contract,
    add_invoice,
    add_staff,
    add_subscriber,
    sign_mandate_for,
    staff_session,
    start_mandate_for,
)

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation " * 50 + b"\n%%EOF\n"
ANONYMOUS_BINDING = "a" * 43  # what an anonymous visitor's CSRF cookie holds (>= 32 characters)

# The fields (form fields for POST, query parameters for GET) each route reads.
FIELDS: dict[str, tuple[str, ...]] = {
    "GET /": (),
    "GET /a-propos": (),
    "GET /accessibilite": (),
    "GET /mentions-legales": (),
    "GET /confidentialite": (),
    "GET /healthz": (),
    "GET /langue": ("code", "next"),
    "POST /langue": ("code", "next"),
    "GET /connexion": ("next", "mot-de-passe", "compte"),
    "POST /connexion": ("email", "password", "next"),
    "POST /deconnexion": (),
    "GET /mot-de-passe": (),
    "POST /mot-de-passe": ("email", "code"),
    "GET /mot-de-passe/nouveau": ("jeton",),
    "POST /mot-de-passe/nouveau": ("password", "password_confirm"),
    "GET /contrats": (),
    "GET /contrats/{contract_number}": ("releve",),
    "GET /contrats/{contract_number}/consommations.csv": (),
    "GET /contrats/{contract_number}/releve": ("date",),
    "POST /contrats/{contract_number}/releve": ("index", "read_on", "photo"),
    "GET /factures": ("onglet",),
    "GET /factures/{number}": (),
    "GET /factures/{number}/pdf": (),
    "POST /factures/{number}/payer": (),
    "GET /paiement/retour": ("idop", "idOp", "idoperation"),
    "POST /paiement/retour": ("idop", "idOp", "idoperation"),
    "POST /paiement/notification": ("idop", "idOp", "idoperation"),
    "GET /simulateur-paiement/{operation_id}": (),
    "POST /simulateur-paiement/{operation_id}": ("decision",),
    "GET /documents": (),
    "GET /documents/dossiers/{folder_id}": ("envoye",),
    "POST /documents/dossiers/{folder_id}/envoyer": ("file",),
    "GET /documents/{document_id}": (),
    "GET /demandes": (),
    "GET /demandes/nouvelle": ("categorie", "contrat"),
    "POST /demandes/nouvelle": ("category", "subject", "message", "contract", "attachment", "move_on", "index",
                                "new_address", "occupant"),
    "GET /demandes/{request_id}": ("envoyee", "message"),
    "POST /demandes/{request_id}/messages": ("message", "attachment"),
    "GET /agent/demandes": ("statut", "categorie", "agent", "retard", "page"),
    "GET /agent/demandes/{request_id}": ("fait", "modele"),
    "POST /agent/demandes/{request_id}/reponse": ("message", "status", "reason", "attachment"),
    "POST /agent/demandes/{request_id}/note": ("note",),
    "POST /agent/demandes/{request_id}/attribuer": ("assignee",),
    "POST /agent/demandes/{request_id}/ecretement": ("decision", "reason"),
    "GET /agent/demandes/modeles": ("fait",),
    "POST /agent/demandes/modeles": ("category", "title", "body", "template", "action"),
    "GET /agent/demandes/{request_id}/pieces/{document_id}": (),
    "GET /agent": (),
    "GET /agent/releves": ("fait",),
    "POST /agent/releves/{reading_id}": ("decision", "reason"),
    "GET /agent/paiements": ("fait",),
    "POST /agent/paiements/{payment_id}": ("resolution", "note"),
    "POST /agent/paiements/{payment_id}/verifier": (),
    "GET /agent/documents": ("audience", "subscriber_number", "postal_code", "folder", "publie", "courriels"),
    "POST /agent/documents": ("audience", "subscriber_number", "postal_code", "folder", "file"),
    "GET /agent/courriels": ("fait",),
    "POST /agent/courriels/{mail_id}": ("action",),
    "GET /agent/equipe": ("fait",),
    "POST /agent/equipe": ("email", "name", "role"),
    "POST /agent/equipe/{staff_id}": ("action", "role"),
    "GET /agent/securite": ("secours",),
    "POST /agent/securite": ("code",),
    "GET /agent/journal": ("agent", "abonne", "depuis", "page"),
    "GET /connexion/code": ("next",),
    "POST /connexion/code": ("code", "next"),
    "GET /donnees-personnelles": ("fait",),
    "POST /donnees-personnelles": ("phone", "address", "postal_code", "city", "language", "paperless",
                                   "reminders"),
    "GET /donnees-personnelles/mot-de-passe": (),
    "POST /donnees-personnelles/mot-de-passe": ("current_password", "password", "password_confirm"),
    "POST /donnees-personnelles/e-mail": ("email", "password"),
    "GET /donnees-personnelles/e-mail/confirmer": ("jeton",),
    "POST /donnees-personnelles/e-mail/confirmer": (),
    "POST /donnees-personnelles/sessions/fermer": (),
    "GET /agent/abonnes": ("q",),
    "GET /agent/abonnes/{subscriber_number}": ("fait",),
    "POST /agent/abonnes/{subscriber_number}/code-activation": (),
    "POST /agent/abonnes/{subscriber_number}/debloquer": (),
    "POST /agent/abonnes/{subscriber_number}/sessions/fermer": (),
    "GET /donnees-personnelles/export": (),
    "POST /donnees-personnelles/fermer": ("password",),
    "GET /prelevement": ("fait",),
    "POST /prelevement": ("contract", "mode", "holder", "iban", "bic"),
    "POST /prelevement/signer": ("code",),
    "POST /prelevement/{rum}/revoquer": (),
}
ALL_FIELDS = tuple(sorted({name for names in FIELDS.values() for name in names}))
FILE_FIELDS = frozenset({"photo", "file", "attachment"})
# A value each field accepts, so that fuzzing one field reaches the code behind the others.
PLAUSIBLE = {
    "email": "marie@example.org", "password": PASSWORD, "password_confirm": PASSWORD,
    "current_password": PASSWORD, "next": "/factures", "code": "100001", "index": "1300",
    "read_on": "2026-03-01", "category": "other", "subject": "Fuite", "message": "Bonjour,\nune fuite.",
    "contract": "C1", "phone": "06 00 00 00 00", "address": "1 rue de la Fontaine", "postal_code": "34230",
    "city": "Paulhan", "language": "fr", "paperless": "1", "decision": "paid", "status": "answered",
    "onglet": "a-payer", "categorie": "ecretement", "contrat": "C1", "statut": "new", "fait": "enregistre",
    "agent": "agent@eau-test.example", "abonne": "100001", "depuis": "2026-01-01", "page": "2",
    "name": "Nina Nouvelle", "role": "agent", "action": "role", "secours": "9",
    "mode": "echeance", "holder": "Marie Dupont", "iban": "FR76 3000 6000 0000 0100 0123 420", "bic": "AGRIFRPP",
    "q": "dupont",
    "resolution": "cancelled",
    "move_on": "2026-03-01", "new_address": "4 avenue du Port, 34200 Sète", "occupant": "Lucie Bernard",
    "reminders": "1",
    "note": "Rappeler l'abonné", "assignee": "collegue@eau-test.example", "reason": "Réglé", "retard": "1",
    "title": "Relance", "body": "Bonjour,\nnous revenons vers vous.", "template": "", "modele": "",
    "subscriber_number": "100001", "audience": "", "folder": "letters", "publie": "3", "courriels": "1",
}
NEAR_MISSES = [
    "", " ", "0", "-1", "1e309", "NaN", "Infinity", "9" * 400, "0x1F", "1_000", "١٢٣", "²", "½", "１２３",
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "10/03/2026", "2026-03-10T10:00",
    "../../etc/passwd", "//evil.example", "/\\evil", "javascript:alert(1)", "%00", "%zz", "\x00",
    "<script>alert(1)</script>", "{{ 7 * 7 }}", "' OR 1=1 --", "a@b", "@", "x" * 255 + "@example.org",
    "C1\x00", "C1/../C2", "é", "\ufeff", "\u202e", "\r\n", "\ud800", "\udfff",
]

characters = st.characters(exclude_categories=())  # every code point, lone surrogates and controls included
hostile_text = st.one_of(
    st.sampled_from(NEAR_MISSES),
    st.text(characters, max_size=30),
    st.text(st.characters(max_codepoint=0x9F, exclude_categories=()) | st.sampled_from("\u2028\u2029\ufeff\u202e"),
            max_size=30),
    st.builds(lambda text, times: (text or "x") * times, st.text(characters, max_size=3),
              st.sampled_from([300, 3_000, 30_000])),
    st.just("x" * 1_100_000),  # past the multipart parser's 1 MB per field
)
MAX_IN_URL = 1_000  # characters of values put in a URL: servers refuse longer request lines themselves
ENCODINGS = ("urlencoded", "multipart", "raw")


def key(route: Route, method: str) -> str:
    return f"{method} {route.path_format}"


def app_routes() -> Iterator[tuple[str, Route]]:
    """(method, route) for every route of the app, HEAD aside (Starlette answers it as GET)."""
    for route in all_routes():
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route


def fuzzable_params(route: Route) -> tuple[str, ...]:
    # A UUID parameter that is not a UUID matches no route (404): only text parameters are fuzzed.
    return tuple(name for name, convertor in route.param_convertors.items()
                 if type(convertor).__name__ in ("StringConvertor", "PathConvertor"))


def cases() -> Iterator[object]:
    """(identity, method, route, target): target is a field, a ``{path parameter}``, or ``*``
    (every field hostile at once; for a route that reads none, every known field name)."""
    for method, route in app_routes():
        identities = ["anonymous", "subscriber"] + (["staff"] if route.path.startswith("/agent") else [])
        fields = FIELDS.get(key(route, method), ())
        targets = [*(fields if len(fields) > 1 else ()), *(f"{{{p}}}" for p in fuzzable_params(route)), "*"]
        for identity in identities:
            for target in targets:
                yield pytest.param(identity, method, route, target, id=f"{identity}-{key(route, method)}-{target}")


LOGINS = {"subscriber": "marie@example.org", "staff": "agent@eau-test.example"}


class World:
    """A portal with one of everything a page may show (a subscriber and their contract, invoice,
    pending payment, request, document; a member of staff; live e-mailed links), and a client."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        marie = add_subscriber(portal, password=PASSWORD)
        staff = self.staff = add_staff(portal, password=PASSWORD, role="admin", totp_secret="JBSWY3DPEHPK3PXP" * 2)
        colleague = add_staff(portal, "collegue@eau-test.example", password=PASSWORD, name="Nina Collègue")
        add_contract(portal, marie, "C1", periods=4)
        invoice = add_invoice(portal, marie, "F2026-0001", contract_number="C1")
        start_payment(portal, marie.id, invoice.number)
        filed = open_request(portal, marie.id, category="other", subject="Fuite", message="Bonjour",
                             attachment=Attachment("photo.pdf", io.BytesIO(PDF)))
        mandate = sign_mandate_for(portal, marie, "C1")  # one to revoke
        start_mandate_for(portal, marie, "C1")  # one waiting for its code
        folder = next(n.folder for n in document_tree(portal, marie.id) if n.folder.kind is FolderKind.UPLOADS)
        to_review = submit_reading(portal, subscriber_id=marie.id, contract_number="C1", index_text="1009,2",
                                   read_on=date(2026, 3, 1)).reading  # implausible: "to review"
        with portal.uow() as uow:
            document = uow.documents.for_subscriber(marie.id)[0]
            operation = uow.payments.for_invoice(invoice.id)[0].operation_id
            payment_id = uow.payments.for_invoice(invoice.id)[0].id
            mail_id = uow.outbox.pending()[0].id
            self.accounts = {"subscriber": uow.accounts.for_subscriber(marie.id),
                             "staff": uow.accounts.for_staff(staff.id)}
        self.params = {"contract_number": "C1", "subscriber_number": "100001", "number": "F2026-0001",
                       "operation_id": operation, "folder_id": folder.id, "request_id": filed.id,
                       "document_id": document.id, "staff_id": colleague.id, "rum": mandate.rum,
                       "reading_id": to_review.id, "payment_id": payment_id, "mail_id": mail_id}
        self.link_cookies = {"portail_jeton": self._password_link(), "portail_jeton_email": self._email_link()}
        self.client = self.new_client()

    def new_client(self) -> WebClient:
        return WebClient(create_app(self.portal), base_url=BASE_URL, raise_server_exceptions=False)

    def _password_link(self) -> str:
        request_password_link(self.portal, "marie@example.org", "100001")
        with self.portal.uow() as uow:
            return _link_token(uow, "/mot-de-passe/nouveau")

    def _email_link(self) -> str:
        account = self.accounts["subscriber"]
        with self.portal.uow() as uow:
            identity = Identity(account, uow.subscribers.get(account.subscriber_id), None, None)
        request_email_change(self.portal, identity, "marie.nouvelle@example.org", PASSWORD)
        with self.portal.uow() as uow:
            return _link_token(uow, "/donnees-personnelles/e-mail/confirmer")

    def visit(self, identity: str) -> str:
        """Cookies for ``identity`` (a fresh session each time: an example may log out); its CSRF token."""
        self.client.cookies.clear()
        for name, value in self.link_cookies.items():
            self.client.cookies.set(name, value)
        if identity == "anonymous":
            self.client.cookies.set("portail_csrf", ANONYMOUS_BINDING)
            return csrf_token_for(self.portal.config.secret_key, ANONYMOUS_BINDING)
        if identity == "staff":  # past the second factor: the back office's pages, not the code step
            token = staff_session(self.portal, self.staff)
        else:
            _account, token = log_in(self.portal, LOGINS[identity], PASSWORD)
        self.client.cookies.set("portail_session", token)
        return csrf_token_for(self.portal.config.secret_key, token)

    def send(self, identity: str, method: str, route: Route, target: str, value: str, encoding: str,
             csrf: str | None = None):  # noqa: ANN201 - httpx.Response
        token = self.visit(identity)
        fields = FIELDS.get(key(route, method), ())
        values: dict[str, str] = {name: PLAUSIBLE.get(name, "1") for name in fields}
        params = {name: str(v) for name, v in self.params.items()}
        if target == "*":  # a route that reads no field gets every known name, the value cut to keep the body small
            values = dict.fromkeys(fields, value) if fields else dict.fromkeys(ALL_FIELDS, value[:MAX_IN_URL])
        elif target.startswith("{"):
            params[target.strip("{}")] = value[:MAX_IN_URL]
        elif target:
            values[target] = value
        path = route.path_format.format(**{name: _escape(params[name]) for name in route.param_convertors})
        if method != "POST":
            each = MAX_IN_URL // max(1, len(values))
            query = "&".join(f"{_escape(k)}={_escape(v[:each])}" for k, v in values.items())
            return self.client.request(method, f"{path}?{query}" if query else path, follow_redirects=False)
        values["csrf_token"] = token if csrf is None else csrf
        body, content_type = encode(values, encoding)
        return self.client.request(method, path, content=body, headers={"content-type": content_type},
                                   follow_redirects=False)



def _link_token(uow, path: str) -> str:  # noqa: ANN001 - a UnitOfWork
    """The token of the queued e-mail that links to ``path``."""
    for queued in uow.outbox.pending():
        found = re.search(re.escape(path) + r"\?jeton=([\w-]+)", queued.mail.text)
        if found:
            return found.group(1)
    raise AssertionError(f"no link to {path} was queued")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate travels as the (invalid) bytes it would be


def _escape(text: str) -> str:
    return quote_from_bytes(_bytes(text), safe="")


def encode(values: dict[str, str], encoding: str) -> tuple[bytes, str]:
    if encoding == "raw":  # not escaped at all: stray "&", "=", "%" and "+" reach the parser as they are
        return b"&".join(_bytes(k) + b"=" + _bytes(v) for k, v in values.items()), "application/x-www-form-urlencoded"
    if encoding == "urlencoded":
        return "&".join(f"{quote(k)}={_escape(v)}" for k, v in values.items()).encode(), \
            "application/x-www-form-urlencoded"
    boundary = "fuzz-" + uuid.UUID(int=20).hex
    parts = []
    for name, value in values.items():
        if name in FILE_FIELDS:  # the hostile text is the file's name; its content a real PDF
            head = f'Content-Disposition: form-data; name="{name}"; filename="{value}"\r\nContent-Type: application/pdf'
            content = PDF
        else:
            head, content = f'Content-Disposition: form-data; name="{name}"', _bytes(value)
        parts.append(b"--" + boundary.encode() + b"\r\n" + _bytes(head) + b"\r\n\r\n" + content + b"\r\n")
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"
