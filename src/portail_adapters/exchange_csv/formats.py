"""The four files the billing system sends (§7 of the design): their columns, and each record
read into the domain's typed row.

What a cell must look like (a date, a number, a text of at most N characters on one line) is
checked here; what a row means (an invoice due before it is issued, a contract nobody holds) is
the domain's (``portail_domain.services.exchange``).
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from portail_domain.model.contracts import ReadingSource, Service
from portail_domain.model.exchange import (
    AttachedFile,
    ContractRow,
    ImportRow,
    InvoiceRow,
    ReadingRow,
    SubscriberRow,
)
from portail_domain.model.values import EmailAddress, MeterIndex, Money

from .cells import CellReader, Record, choice


class RowReader(CellReader):
    """Reads the records of one file into typed rows; ``base_dir`` anchors ``pdf_file`` paths."""

    def __init__(self, columns: frozenset[str], base_dir: Path | None) -> None:
        super().__init__()
        self.columns = columns
        self.base_dir = base_dir

    # Each reader reads every cell (so every wrong one is named), then builds the row only when
    # none was wrong: a None it holds is then an empty optional cell, never a bad one.

    def subscriber(self, record: Record) -> SubscriberRow | None:
        before = len(self.problems)
        number, name, phone, address, postal_code, city = (
            self.text(record, "subscriber_number", max_length=32, required=True),
            self.text(record, "name", max_length=200, required=True),
            self.text(record, "phone", max_length=40),
            self.text(record, "address", max_length=300),
            self.text(record, "postal_code", max_length=10),
            self.text(record, "city", max_length=100),
        )
        email = self.value(record, "email", EmailAddress.parse) if record.cells.get("email", "").strip() else None
        code = record.cells.get("activation_code", "").strip() or None  # its rule is the domain's
        if len(self.problems) > before:
            return None
        return SubscriberRow(record.line, number, name, email, phone, address, postal_code, city, code)  # type: ignore[arg-type]

    def contract(self, record: Record) -> ContractRow | None:
        before = len(self.problems)
        cells = (
            self.text(record, "contract_number", max_length=32, required=True),
            self.text(record, "subscriber_number", max_length=32, required=True),
            self.value(record, "service", _service),
            self.text(record, "supply_address", max_length=300, required=True),
            self.text(record, "meter_number", max_length=32, required=True),
            self.date(record, "start_date"),
            self.date(record, "end_date", required=False),
        )
        return ContractRow(record.line, *cells) if len(self.problems) == before else None  # type: ignore[arg-type]

    def reading(self, record: Record) -> ReadingRow | None:
        before = len(self.problems)
        cells = (
            self.text(record, "contract_number", max_length=32, required=True),
            self.text(record, "meter_number", max_length=32, required=True),
            self.date(record, "read_on"),
            self.value(record, "index", MeterIndex.parse),
            self.value(record, "source", _source, default=ReadingSource.AGENT.value)
            if "source" in self.columns else None,
        )
        return ReadingRow(record.line, *cells) if len(self.problems) == before else None  # type: ignore[arg-type]

    def invoice(self, record: Record) -> InvoiceRow | None:
        before = len(self.problems)
        cells = (
            self.text(record, "invoice_number", max_length=32, required=True),
            self.text(record, "contract_number", max_length=32, required=True),
            self.date(record, "issued_on"),
            self.date(record, "due_on"),
            self.value(record, "amount", Money.parse),
            self.value(record, "amount_paid", Money.parse, default="0"),
            self.pdf_file(record),
        )
        return InvoiceRow(record.line, *cells) if len(self.problems) == before else None  # type: ignore[arg-type]

    def pdf_file(self, record: Record) -> AttachedFile | None:
        """The file ``pdf_file`` names, relative to the CSV file; what it holds is the domain's check."""
        reference = self.text(record, "pdf_file", max_length=500)
        if not reference:
            return None
        relative = Path(reference)
        if relative.is_absolute() or self.base_dir is None:
            self.add(record.line, "pdf_file", "give a path relative to the CSV file")
            return None
        path = self.base_dir / relative
        try:
            is_file = stat.S_ISREG(path.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):
            is_file = False
        except OSError as exc:
            self.add(record.line, "pdf_file", f"cannot read {reference!r} ({exc.strerror})")
            return None
        if not is_file:
            self.add(record.line, "pdf_file", f"no file {reference!r} next to the CSV file")
            return None
        return AttachedFile(reference, path.name, lambda: path.open("rb"))


_service = choice(Service)
_source = choice(ReadingSource)


@attrs.frozen
class Format:
    """One kind of file: its columns (natural key first), the ones it must have, how a record reads."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    read: Callable[[RowReader, Record], ImportRow | None]
    fields: Mapping[str, str] = attrs.field(factory=dict)  # column -> the row's field, where they differ

    def fields_of(self, header: list[str]) -> frozenset[str]:
        """The row fields a file with this header carries."""
        return frozenset(self.fields.get(column, column) for column in header)


FORMATS: dict[str, Format] = {
    "subscribers": Format(
        ("subscriber_number", "name", "email", "phone", "address", "postal_code", "city", "activation_code"),
        ("subscriber_number", "name"),
        RowReader.subscriber,
        {"subscriber_number": "number"},
    ),
    "contracts": Format(
        ("contract_number", "subscriber_number", "service", "supply_address", "meter_number", "start_date",
         "end_date"),
        ("contract_number", "subscriber_number", "service", "supply_address", "meter_number", "start_date"),
        RowReader.contract,
        {"contract_number": "number", "start_date": "start_on", "end_date": "end_on"},
    ),
    "readings": Format(
        ("contract_number", "meter_number", "read_on", "index", "source"),
        ("contract_number", "meter_number", "read_on", "index"),
        RowReader.reading,
    ),
    "invoices": Format(
        ("invoice_number", "contract_number", "issued_on", "due_on", "amount", "amount_paid", "pdf_file"),
        ("invoice_number", "contract_number", "issued_on", "due_on", "amount"),
        RowReader.invoice,
        {"invoice_number": "number", "pdf_file": "pdf"},
    ),
}
