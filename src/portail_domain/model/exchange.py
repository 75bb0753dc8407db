"""Exchange with the billing system: CSV values, problems, summaries and export lines."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

import attrs

from . import errors
from .contracts import ReadingSource, ReadingStatus
from .values import MeterIndex, Money

UTILITY_TZ = ZoneInfo("Europe/Paris")  # an export's --since DATE starts at midnight there
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> date:
    """``2026-03-10`` or ``10/03/2026`` → date; ``ValueError`` (with a readable reason) otherwise."""
    value = text.strip()
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value)
        match = _FR_DATE.match(value)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def format_date(value: date, style: str = "iso") -> str:
    """The two spellings ``parse_date`` reads: ``iso`` (2026-03-10) or ``fr`` (10/03/2026)."""
    return value.isoformat() if style == "iso" else f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def detect_delimiter(header: str, known: Iterable[str] = ()) -> str:
    """``;`` or ``,``: the one that splits the header into more known column names.

    Without known names (or on a tie) the one that occurs more often wins, ``;`` first.
    """
    names = {n.lower() for n in known}
    best, best_score = ";", (-1, -1)
    for delimiter in (";", ","):
        cells = next(csv.reader([header], delimiter=delimiter), [])
        score = (sum(c.strip().lower() in names for c in cells), len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def parse_since(text: str) -> datetime:
    """``--since``: a date (midnight, utility time) or an ISO datetime with its offset."""
    value = text.strip()
    try:
        return datetime.combine(parse_date(value), time(0), UTILITY_TZ)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTILITY_TZ)


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

    def __str__(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return f"{counts}; {self.alerts} over-consumption alert(s) queued" if self.alerts else counts


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
                                         "subject", "created_at", "updated_at")
    reference: str
    subscriber_number: str
    contract_number: str | None
    category: str
    status: str
    subject: str
    created_at: datetime
    updated_at: datetime | None

    def cells(self) -> list[str]:
        return [self.reference, self.subscriber_number, self.contract_number or "", self.category, self.status,
                self.subject, _moment(self.created_at), _moment(self.updated_at)]
