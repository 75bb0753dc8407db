"""Fakes of the non-storage ports: clock, secrets, passwords, links, mail, payment, files."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import attrs

from portail_domain.model.billing import GatewayResult, PaymentOrder, PaymentStatus, StartedPayment
from portail_domain.model.errors import GatewayError, NotFound, StorageError
from portail_domain.model.files import StoredObject
from portail_domain.model.links import Link
from portail_domain.model.mail import Mail, OutgoingMail
from portail_domain.model.mandates import BankAccount, BicRequired, InvalidBic, InvalidIban, MandateDocument
from portail_domain.ports import Clock, Links

PARIS = ZoneInfo("Europe/Paris")


@attrs.define
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.astimezone(PARIS).date()

    def advance(self, **delta: float) -> None:
        self.current = self.current + timedelta(**delta)


@attrs.define
class SequenceSecrets:
    """Predictable but distinct tokens (``tok-1``, ``tok-2``…) padded to the asked length."""

    counter: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def token(self, nbytes: int = 32) -> str:
        return f"tok-{next(self.counter)}".ljust(nbytes, "x")


class PlainPasswordHasher:
    """A fast, deterministic hasher for tests (salted SHA-256; never use it for real)."""

    prefix = "plain$"

    def hash(self, password: str) -> str:
        return self.prefix + hashlib.sha256(b"salt" + password.encode()).hexdigest()

    def verify(self, stored_hash: str, password: str) -> bool:
        return hmac.compare_digest(stored_hash, self.hash(password))

    def needs_rehash(self, stored_hash: str) -> bool:
        return not stored_hash.startswith(self.prefix)


@attrs.frozen
class PlainLinks:
    """Links without a front end: ``BASE/ROUTE/PATH-PARAMS?QUERY`` (the real ones are the web's routes)."""

    base_url: str

    def url(self, link: Link) -> str:
        parts = [self.base_url.rstrip("/"), quote(link.route, safe=""),
                 *(quote(str(value), safe="") for value in link.path.values())]
        return "/".join(parts) + ("?" + urlencode(dict(link.query)) if link.query else "")


@attrs.frozen
class PlainComposer:
    """Mails without templates: the kind as subject, one ``name: value`` line per parameter."""

    links: Links

    def compose(self, mail: Mail) -> OutgoingMail:
        lines = [f"{name}: {self.links.url(value) if isinstance(value, Link) else value}"
                 for name, value in mail.params.items()]
        return OutgoingMail(to=mail.to, subject=f"{mail.kind.value} ({mail.language})", text="\n".join(lines) + "\n")


@attrs.define
class MemoryMailer:
    """Keeps what it was asked to send; ``fail`` makes it raise like a server that is down."""

    sent: list[OutgoingMail] = attrs.field(factory=list)
    fail: bool = False

    def send(self, mail: OutgoingMail) -> None:
        if self.fail:
            raise ConnectionError("mail server unavailable")
        self.sent.append(mail)


@attrs.define
class FakeGateway:
    """A payment gateway whose results the test decides (``decide(op, status)``)."""

    name: str = "fake"
    client_number: str = "000000"
    results: dict[str, GatewayResult] = attrs.field(factory=dict)
    orders: dict[str, PaymentOrder] = attrs.field(factory=dict)
    down: bool = False
    _ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def start(self, order: PaymentOrder) -> StartedPayment:
        if self.down:
            raise GatewayError("gateway unavailable")
        op = f"op{next(self._ids)}"
        self.orders[op] = order
        self.results[op] = GatewayResult(op, PaymentStatus.PENDING.value, order.amount, order.reference,
                                         self.client_number)
        return StartedPayment(op, self.redirect_url(op))

    def redirect_url(self, operation_id: str) -> str:
        return f"https://gateway.invalid/pay?op={operation_id}"

    def decide(self, operation_id: str, status: PaymentStatus, /, **changes: Any) -> None:
        self.results[operation_id] = attrs.evolve(self.results[operation_id], status=status.value, **changes)

    def fetch_result(self, operation_id: str) -> GatewayResult:
        if self.down:
            raise GatewayError("gateway unavailable")
        if operation_id not in self.results:
            return GatewayResult(operation_id, PaymentStatus.EXPIRED.value)
        return self.results[operation_id]


@attrs.define
class MemoryFileStore:
    """Objects in a dict; ``clock`` stamps when each was written (the real time when None)."""

    objects: dict[str, bytes] = attrs.field(factory=dict)
    content_types: dict[str, str] = attrs.field(factory=dict)
    down: bool = False
    clock: Clock | None = None
    modified: dict[str, datetime] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def put(self, key: str, data: BinaryIO, *, content_type: str, size: int | None = None) -> None:
        if self.down:
            raise StorageError("file store unavailable")
        with self._lock:
            self.objects[key] = data.read()
            self.content_types[key] = content_type
            self.modified[key] = self._now()

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.objects[key]
        except KeyError:
            raise NotFound(key=key) from None
        return iter([body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""])

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)
            self.content_types.pop(key, None)
            self.modified.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.objects

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        if self.down:
            raise StorageError("file store unavailable")
        with self._lock:  # a snapshot: puts and deletes may go on while the caller iterates
            now = self._now()  # an object set in ``objects`` by hand has no time: as if just written
            listed = [StoredObject(key, len(body), self.modified.get(key, now))
                      for key, body in sorted(self.objects.items()) if key.startswith(prefix)]
        return iter(listed)


_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class PlainBankDirectory:
    """IBANs checked by their check digits only (no registry: any country, no bank known, so the
    BIC is always asked); the real one is ``portail_adapters.banking.SchwiftyBankDirectory``."""

    def account(self, iban: str, bic: str = "") -> BankAccount:
        compact = "".join(iban.split()).upper()
        if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
            raise InvalidIban(field="iban")
        if int("".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])) % 97 != 1:
            raise InvalidIban(field="iban")
        bic = "".join(bic.split()).upper()
        if not bic:
            raise BicRequired(field="bic")
        if not _BIC.match(bic):
            raise InvalidBic(field="bic")
        return BankAccount(compact, bic)


class PlainPrinter:
    """A one-page PDF that only names the document (the real one is ``portail_web.printing.PdfPrinter``)."""

    def mandate(self, document: MandateDocument) -> bytes:
        return f"%PDF-1.4\n% mandate {document.mandate.rum}\n%%EOF\n".encode()
