"""Exchange with the billing system: the rows a file brings, problems, summaries and export lines.

The file format (CSV, its columns, dates and decimals as written) belongs to the adapter that
reads it (``portail_adapters.exchange_csv``); the domain sees typed rows whose cells are parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import BinaryIO, ClassVar, NamedTuple

import attrs

from . import errors
from .contracts import ReadingSource, ReadingStatus, Service
from .schedules import InstalmentStatus
from .values import EmailAddress, MeterIndex, Money

IMPORT_KINDS = ("subscribers", "contracts", "readings", "invoices", "schedules")
EXPORT_KINDS = ("payments", "readings", "requests", "audit", "mandates", "relief")


@attrs.frozen
class ImportLimits:
    """How an import uses memory and how much it says; the defaults suit a whole utility."""

    chunk_rows: int = 5000  # rows checked and written together; bounds memory
    alert_chunk: int = 500  # contracts checked for over-consumption together (their whole history is loaded)
    max_problems: int = 50  # problems reported in full; the rest are only counted
    max_pdf_size: int | None = None  # an invoice's PDF comes from the utility: not bound like an upload


# --- the rows of each kind, as the adapter parsed them (§7 of the design) -------------------
# NamedTuples: hundreds of thousands are built per file, and a tuple is the cheapest to build.
# Which optional columns a file has is said once per file (``fields``): a column left out of
# the file leaves that field as it is, an empty cell empties it.


class SubscriberRow(NamedTuple):
    line: int
    number: str
    name: str
    email: EmailAddress | None
    phone: str
    address: str
    postal_code: str
    city: str
    activation_code: str | None


class ContractRow(NamedTuple):
    line: int
    number: str
    subscriber_number: str
    service: Service
    supply_address: str
    meter_number: str
    start_on: date
    end_on: date | None


class ReadingRow(NamedTuple):
    line: int
    contract_number: str
    meter_number: str
    read_on: date
    index: MeterIndex  # type: ignore[assignment]  # a field may shadow tuple.index; mypy takes it for the method
    source: ReadingSource | None  # None: the file has no source column


@attrs.frozen
class AttachedFile:
    """A file a row names (an invoice's PDF): how the row wrote it, its own name, how to open it."""

    reference: str
    filename: str
    open: Callable[[], BinaryIO]


class InvoiceRow(NamedTuple):
    line: int
    number: str
    contract_number: str
    issued_on: date
    due_on: date
    amount: Money
    amount_paid: Money  # 0 for an empty cell
    pdf: AttachedFile | None


class InstalmentRow(NamedTuple):
    line: int
    contract_number: str
    due_on: date
    amount: Money
    status: InstalmentStatus


ImportRow = SubscriberRow | ContractRow | ReadingRow | InvoiceRow | InstalmentRow


@attrs.frozen
class FileHeader:
    """What a file's header row says: the row fields the file has a column for, or why it cannot be read."""

    fields: frozenset[str]
    problems: Sequence[Problem] = ()


@attrs.frozen
class RowChunk:
    """Rows read together, and what was wrong with the cells of the others."""

    rows: Sequence[ImportRow]
    problems: Sequence[Problem] = ()


@attrs.frozen
class Problem:
    """One thing wrong with a file: ``FILE:LINE: column: what is wrong``."""

    line: int | None
    column: str
    message: str

    def render(self, name: str) -> str:
        where = f"{name}:{self.line}" if self.line is not None else name
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class ImportRejected(errors.DomainError):
    """The file was refused: nothing was imported. ``lines()`` says why, one line per problem."""

    code = "import_rejected"

    def __init__(self, name: str, problems: Sequence[Problem], more: int = 0) -> None:
        super().__init__(f"{name}: {len(problems) + more} problem(s), nothing imported")
        self.name = name
        self.problems = list(problems)
        self.more = more

    def lines(self) -> list[str]:
        rendered = [p.render(self.name) for p in self.problems]
        if self.more:
            rendered.append(f"{self.name}: … and {self.more} more problem(s)")
        return rendered


@attrs.frozen
class ImportSummary:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    alerts: int = 0  # over-consumption alerts the imported readings raised (e-mails queued)
    mails: int = 0  # "your invoice is available" e-mails the new invoices queued

    def __str__(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.alerts:
            counts += f"; {self.alerts} over-consumption alert(s) queued"
        if self.mails:
            counts += f"; {self.mails} invoice e-mail(s) queued"
        return counts


def _moment(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else ""


@attrs.frozen
class PaymentLine:
    """A payment the gateway confirmed (status paid)."""

    header: ClassVar[tuple[str, ...]] = ("invoice_number", "contract_number", "amount", "gateway", "operation_id",
                                         "gateway_reference", "paid_at")
    invoice_number: str
    contract_number: str
    amount: Money
    gateway: str
    operation_id: str | None
    gateway_reference: str | None
    paid_at: datetime

    def cells(self) -> list[str]:
        return [self.invoice_number, self.contract_number, str(self.amount), self.gateway, self.operation_id or "",
                self.gateway_reference or "", _moment(self.paid_at)]


@attrs.frozen
class ReadingLine:
    """A reading a subscriber submitted on the portal, with where it stands."""

    header: ClassVar[tuple[str, ...]] = ("contract_number", "meter_number", "read_on", "index", "source", "status",
                                         "recorded_at")
    contract_number: str
    meter_number: str
    read_on: date
    index: MeterIndex
    source: ReadingSource
    status: ReadingStatus
    recorded_at: datetime | None

    def cells(self) -> list[str]:
        return [self.contract_number, self.meter_number, self.read_on.isoformat(), str(self.index),
                self.source.value, self.status.value, _moment(self.recorded_at)]


@attrs.frozen
class RequestLine:
    """A request (demande) filed on the portal."""

    header: ClassVar[tuple[str, ...]] = ("reference", "subscriber_number", "contract_number", "category", "status",
                                         "subject", "created_at", "updated_at", "assignee", "closing_reason",
                                         "move_on", "index", "new_address", "occupant")
    reference: str
    subscriber_number: str
    contract_number: str | None
    category: str
    status: str
    subject: str
    created_at: datetime
    updated_at: datetime | None
    assignee: str | None = None  # the staff member's e-mail
    closing_reason: str | None = None
    # A moving-out or moving-in form's fields (empty for other requests)
    move_on: date | None = None
    index: MeterIndex | None = None
    new_address: str | None = None
    occupant: str | None = None

    def cells(self) -> list[str]:
        return [self.reference, self.subscriber_number, self.contract_number or "", self.category, self.status,
                self.subject, _moment(self.created_at), _moment(self.updated_at), self.assignee or "",
                self.closing_reason or "",
                self.move_on.isoformat() if self.move_on else "", str(self.index) if self.index is not None else "",
                self.new_address or "", self.occupant or ""]


@attrs.frozen(repr=False)
class MandateLine:
    """A direct-debit mandate signed on the portal, and its revocation if any (the IBAN whole:
    the billing system collects with it)."""

    header: ClassVar[tuple[str, ...]] = ("rum", "contract_number", "holder", "iban", "bic", "mode", "signed_at",
                                         "revoked_at", "status")
    rum: str
    contract_number: str
    holder: str
    iban: str
    bic: str
    mode: str
    signed_at: datetime | None
    revoked_at: datetime | None
    status: str

    def cells(self) -> list[str]:
        return [self.rum, self.contract_number, self.holder, self.iban, self.bic, self.mode, _moment(self.signed_at),
                _moment(self.revoked_at), self.status]

    def __repr__(self) -> str:  # never the IBAN in a log or a traceback
        return f"MandateLine({self.rum!r}, {self.contract_number!r}, {self.status!r})"
