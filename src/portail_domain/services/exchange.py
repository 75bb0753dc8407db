"""Exchange with the billing system (logiciel de facturation): CSV import and export.

The billing system is the source of truth for subscribers, contracts, readings and invoices;
it feeds the portal with ``import_csv`` and takes back what subscribers did with
``export_csv``. Both are use cases any embedding system can call without the CLI.

An import is all or nothing: the file is streamed in chunks inside ONE transaction, every
row is checked by the domain's rules, valid rows are written in batches (so later rows are
checked against earlier ones), and any problem rolls everything back. Memory stays bounded
by the chunk size, not by the file size: rows already seen are remembered by the storage
(``ExchangeRepository.remember_keys``), not in a Python set.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import heapq
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NamedTuple, TextIO

import attrs

from ..model import errors
from ..model.accounts import Subscriber, hash_activation_code, normalise_code
from ..model.billing import Invoice
from ..model.contracts import Contract, MeterReading, ReadingSource, ReadingStatus, Service, alert_period
from ..model.documents import AddedBy, FolderKind
from ..model.exchange import (
    ImportRejected,
    ImportSummary,
    PaymentLine,
    Problem,
    ReadingLine,
    RequestLine,
    detect_delimiter,
    parse_date,
)
from ..model.values import EmailAddress, MeterIndex, Money, normalise_email
from ..portal import Portal
from ..ports import UnitOfWork
from .contracts import notify_overconsumption
from .documents import ensure_default_folders, store_document

security_log = logging.getLogger("portail.security")
IMPORT_KINDS = ("subscribers", "contracts", "readings", "invoices")
EXPORT_KINDS = ("payments", "readings", "requests")
CHUNK_ROWS = 5000  # rows validated and written together; bounds memory
ALERT_CHUNK = 500  # contracts checked for over-consumption together (their whole history is loaded)
MAX_PROBLEMS = 50  # problems reported in full; the rest are only counted


MIN_ACTIVATION_CODE = 8  # utility-issued random codes: shorter ones are guessable


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Progress = Callable[[int, int, int], None]  # (bytes read, total bytes or 0, rows read)


class _Problems:
    """Counts every problem, keeps the ``limit`` first ones in file order."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.kept: list[tuple[int, int, Problem]] = []  # a max-heap on (line, arrival)
        self.count = 0
        self.limit = limit

    def add(self, line: int | None, column: str, message: str) -> None:
        self.count += 1
        item = (-(line or 0), -self.count, Problem(line, column, message))
        if len(self.kept) < self.limit:
            heapq.heappush(self.kept, item)
        elif item[:2] > self.kept[0][:2]:
            heapq.heapreplace(self.kept, item)

    def __bool__(self) -> bool:
        return self.count > 0

    def rejected(self, name: str) -> ImportRejected:
        kept = [problem for *_, problem in sorted(self.kept, reverse=True)]
        return ImportRejected(name, kept, self.count - len(kept))


class _NotUtf8(Exception):
    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line


class _Lines:
    """Decodes a binary stream line by line (UTF-8, BOM dropped), counting bytes for progress."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.number += 1
            self.bytes_read += len(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _NotUtf8(self.number, f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}") from None
            if self.number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text


def import_csv(
    portal: Portal,
    kind: str,
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one billing-system CSV file of ``kind`` (§7 of the design), all or nothing.

    Returns what changed; raises ``ImportRejected`` (nothing imported) listing each problem.
    """
    path = Path(path)
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportRejected(name, [Problem(None, "", f"cannot read the file ({exc.strerror})")]) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        return import_stream(portal, kind, handle, name=name, base_dir=path.parent, size=size, progress=progress)


def import_stream(
    portal: Portal,
    kind: str,
    stream: BinaryIO,
    *,
    name: str,
    base_dir: Path | None = None,
    size: int = 0,
    progress: Progress | None = None,
) -> ImportSummary:
    """``import_csv`` on an open binary stream; ``base_dir`` anchors invoice ``pdf_file`` paths."""
    if kind not in _IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r} (one of {', '.join(IMPORT_KINDS)})")
    problems = _Problems()
    lines = _Lines(stream)
    with portal.uow() as uow:
        importer = _IMPORTERS[kind](uow, portal, problems, base_dir)
        try:
            rows = importer.run(lines, size, progress)
            if problems:
                raise problems.rejected(name)
            importer.finish()  # in the same transaction: all or nothing still holds
            uow.commit()
        except _NotUtf8 as exc:
            importer.discard()
            raise ImportRejected(name, [Problem(exc.line, "", f"the file is not UTF-8 text ({exc}); "
                                                              "save it as UTF-8")]) from None
        except BaseException:
            importer.discard()
            raise
    importer.committed()
    return ImportSummary(kind, rows, importer.created, importer.updated, importer.unchanged, importer.alerts)


class _Row(NamedTuple):
    line: int
    cells: dict[str, str]


class _Importer:
    """Reads rows in chunks, checks them, writes the valid ones in batches."""

    kind: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    key_column: ClassVar[str]  # where a duplicate row is reported

    def __init__(self, uow: UnitOfWork, portal: Portal, problems: _Problems, base_dir: Path | None) -> None:
        self.uow = uow
        self.exchange = uow.exchange
        self.portal = portal
        self.problems = problems
        self.base_dir = base_dir
        self.now = portal.clock.now()
        self.today = portal.clock.today()
        self.created = self.updated = self.unchanged = self.alerts = 0
        self.present: set[str] = set()  # the columns the file has; a missing one leaves a field as it is
        self._writer: ThreadPoolExecutor
        self._pending: Future[None] | None = None

    # -- driving

    def run(self, lines: _Lines, size: int, progress: Progress | None) -> int:
        iterator = iter(lines)
        header_line = next(iterator, None)
        while header_line is not None and not header_line.strip():
            header_line = next(iterator, None)
        if header_line is None:
            self.problems.add(None, "", "the file is empty (a header row naming the columns is expected)")
            return 0
        delimiter = detect_delimiter(header_line, self.columns)
        header = [c.strip().lower() for c in next(csv.reader([header_line], delimiter=delimiter))]
        if not self._check_header(header, lines.number):
            return 0
        self.present = set(header)
        self.exchange.start_import()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as self._writer:
            try:
                return self._rows(csv.reader(iterator, delimiter=delimiter), header, lines, size, progress)
            finally:
                self._flush()

    def _rows(self, reader: Any, header: list[str], lines: _Lines, size: int, progress: Progress | None) -> int:
        chunk: list[_Row] = []
        rows = 0
        end = lines.number  # a record starts on the line after the previous one ends
        try:
            for cells in reader:
                line, end = end + 1, lines.number
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                rows += 1
                if len(cells) != len(header):
                    self.problems.add(line, "", f"{len(cells)} cells where the header names {len(header)}")
                    continue
                chunk.append(_Row(line, dict(zip(header, cells, strict=True))))
                if len(chunk) >= CHUNK_ROWS:
                    self._chunk(chunk)
                    chunk = []
                    if progress:
                        progress(lines.bytes_read, size, rows)
        except csv.Error as exc:
            self.problems.add(lines.number, "", f"not readable as CSV ({exc})")
        if chunk:
            self._chunk(chunk)
        if progress:
            progress(lines.bytes_read, size, rows)
        return rows

    def _check_header(self, header: list[str], line: int) -> bool:
        unknown = [c or f"(no name, column {n})" for n, c in enumerate(header, 1) if c not in self.columns]
        missing = [c for c in self.required if c not in header]
        twice = sorted({c for c in header if header.count(c) > 1})
        if unknown:
            self.problems.add(line, "header", f"unknown column(s): {', '.join(unknown)} "
                                              f"(expected: {', '.join(self.columns)})")
        if missing:
            self.problems.add(line, "header", f"missing column(s): {', '.join(missing)}")
        if twice:
            self.problems.add(line, "header", f"column(s) named twice: {', '.join(twice)}")
        return not (unknown or missing or twice)

    def _chunk(self, rows: list[_Row]) -> None:
        parsed = []
        for row in rows:
            record = self.parse(row)
            if record is not None:
                parsed.append(record)
        self._flush()  # reading and parsing this chunk overlapped the previous chunk's write
        parsed = self._without_duplicates(parsed)
        if parsed:
            self.apply(parsed)

    def _without_duplicates(self, records: list[Any]) -> list[Any]:
        """Drop (and report) rows whose natural key an earlier row of the file already had."""
        first: dict[str, int] = {}
        unique = []
        for record in records:
            key = self.key(record)
            if key in first:
                self.problems.add(record.line, self.key_column,
                                  f"{self.describe(record)} is already on line {first[key]} of this file")
                continue
            first[key] = record.line
            unique.append(record)
        earlier = self.exchange.remember_keys(self.kind, first)
        if not earlier:
            return unique
        for record in unique:
            line = earlier.get(self.key(record))
            if line is not None:
                self.problems.add(record.line, self.key_column,
                                  f"{self.describe(record)} is already on line {line} of this file")
        return [r for r in unique if self.key(r) not in earlier]

    def _write(self, save: Callable[..., None], *batches: Sequence[Any]) -> None:
        """Write a chunk in the background while the next one is read; the unit of work is
        never used by two threads at once (``_flush`` comes before any other use)."""
        self._flush()
        self._pending = self._writer.submit(save, *batches)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()  # re-raises a failed write here

    def finish(self) -> None:
        """Every row is written and valid: what follows from the whole file, before the commit."""

    def discard(self) -> None:
        """The import failed: undo what cannot roll back with the transaction (stored files)."""

    def committed(self) -> None:
        """The import is committed: do what must wait for it."""

    # -- per kind

    def parse(self, row: _Row) -> Any:
        raise NotImplementedError

    def key(self, record: Any) -> str:
        """The row's natural key, as one string."""
        return record.number

    def describe(self, record: Any) -> str:
        return f"{self.kind[:-1]} {record.number}"

    def apply(self, records: list[Any]) -> None:
        raise NotImplementedError

    # -- cell readers: each reports its own problem and returns None when the cell is bad

    def text(self, row: _Row, column: str, *, max_length: int, required: bool = False) -> str | None:
        value = row.cells.get(column, "").strip()
        if required and not value:
            self.problems.add(row.line, column, "required, but empty")
            return None
        if len(value) > max_length:
            self.problems.add(row.line, column, f"longer than {max_length} characters")
            return None
        if _CONTROL.search(value):
            self.problems.add(row.line, column, "contains a control character (line break, tab…)")
            return None
        return value

    def date(self, row: _Row, column: str, *, required: bool = True) -> date | None | bool:
        """A date, ``None`` for an empty optional cell, ``False`` when the cell is wrong."""
        value = row.cells.get(column, "").strip()
        if not value:
            if required:
                self.problems.add(row.line, column, "required, but empty")
                return False
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.problems.add(row.line, column, str(exc))
            return False

    def value(self, row: _Row, column: str, parse: Callable[[str], Any], *, default: str | None = None) -> Any:
        value = row.cells.get(column, "").strip()
        if not value:
            if default is None:
                self.problems.add(row.line, column, "required, but empty")
                return None
            value = default
        try:
            return parse(value)
        except (errors.InvalidValue, ValueError) as exc:
            self.problems.add(row.line, column, _reason(exc))
            return None

    def given(self, values: dict[str, Any], columns: dict[str, str] | None = None) -> dict[str, Any]:
        """Only the fields whose column the file has (``columns`` maps field -> column)."""
        columns = columns or {}
        return {k: v for k, v in values.items() if columns.get(k, k) in self.present}

    def count(self, created: bool | None) -> None:
        if created is None:
            self.unchanged += 1
        elif created:
            self.created += 1
        else:
            self.updated += 1


def _reason(exc: Exception) -> str:
    return (str(exc.args[0]) if exc.args else "") or "not valid"


def _choice(enum_type: Any) -> Callable[[str], Any]:
    members = {e.value: e for e in enum_type}

    def parse(text: str) -> Any:
        try:
            return members[text.strip().lower()]
        except KeyError:
            raise ValueError(f"{text!r} is not one of {', '.join(members)}") from None

    return parse


def _changed(entity: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``entity``; True when any of them differed."""
    changed = False
    for field, value in values.items():
        if getattr(entity, field) != value:
            setattr(entity, field, value)
            changed = True
    return changed


@attrs.frozen
class _SubscriberRow:
    line: int
    number: str
    values: dict[str, Any]
    code: str | None


def _mask(email: EmailAddress | None) -> str:
    if email is None:
        return "(none)"
    local, _, domain = email.address.partition("@")
    return f"{local[:1]}***@{domain}"


def _sent(email: EmailAddress | None) -> str:
    """How ``Subscriber.billing_email`` keeps what the billing system sent ("" for an empty cell)."""
    return email.address if email is not None else ""


def _spelling(email: EmailAddress | None) -> str | None:
    return email.address if email is not None else None


class _SubscribersImport(_Importer):
    kind = "subscribers"
    key_column = "subscriber_number"
    columns = ("subscriber_number", "name", "email", "phone", "address", "postal_code", "city", "activation_code")
    required = ("subscriber_number", "name")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.email_changes: list[tuple[str, str, str]] = []

    def parse(self, row: _Row) -> _SubscriberRow | None:
        before = self.problems.count
        number = self.text(row, "subscriber_number", max_length=32, required=True)
        values = {
            "name": self.text(row, "name", max_length=200, required=True),
            "phone": self.text(row, "phone", max_length=40),
            "address": self.text(row, "address", max_length=300),
            "postal_code": self.text(row, "postal_code", max_length=10),
            "city": self.text(row, "city", max_length=100),
        }
        email_text = row.cells.get("email", "").strip()
        values["email"] = self.value(row, "email", EmailAddress.parse) if email_text else None
        values = self.given(values)
        code = row.cells.get("activation_code", "").strip() or None
        if code is not None and not MIN_ACTIVATION_CODE <= len(normalise_code(code)) <= 128:
            self.problems.add(row.line, "activation_code",
                              f"an activation code has {MIN_ACTIVATION_CODE} to 128 characters")
        if self.problems.count > before or number is None:
            return None
        return _SubscriberRow(row.line, number, values, code)

    def apply(self, records: list[_SubscriberRow]) -> None:
        existing = self.exchange.subscribers_by_number([r.number for r in records])
        codes = self._hash_codes(records, existing)
        new: list[Subscriber] = []
        changed: list[Subscriber] = []
        for record in records:
            subscriber = existing.get(record.number)
            code_hash = codes.get(record.number)
            if subscriber is None:
                billing_email = _sent(record.values["email"]) if "email" in record.values else None
                new.append(Subscriber(number=record.number, activation_code_hash=code_hash,
                                      billing_email=billing_email, **record.values))
                self.count(True)
                continue
            values = dict(record.values)
            has_email = "email" in values
            sent = values.pop("email", None)
            differs = _changed(subscriber, values)
            remembered = False  # only what billing sent changed: written, but not an update of the data
            if has_email:
                shown, remembered = self._merge_email(subscriber, sent)
                differs = differs or shown
            if code_hash is not None:
                subscriber.activation_code_hash = code_hash
                differs = True
            if differs or remembered:
                changed.append(subscriber)
            self.count(False if differs else None)
        self._write(self.exchange.save_subscribers, new, changed)

    def _merge_email(self, subscriber: Subscriber, sent: EmailAddress | None) -> tuple[bool, bool]:
        """A three-way merge of the e-mail on file: (the e-mail on file changed, what billing sent changed).

        The file's e-mail is applied only when it differs from what the billing system sent
        last time (it changed it on purpose); otherwise the e-mail on file stays, so a change the
        subscriber made on the portal survives the nightly import. Before any import carried an
        e-mail (``billing_email`` unknown), the file's e-mail is applied, as it always was.
        """
        last = subscriber.billing_email
        old = subscriber.email
        differs = False
        if last is None or normalise_email(last) != (sent.normalised if sent else ""):
            if old != sent:  # EmailAddress compares the normalised forms
                self.email_changes.append((subscriber.number, _mask(old), _mask(sent)))
            if _spelling(old) != _spelling(sent):
                subscriber.email = sent
                differs = True
        elif old is not None and old == sent and old.address != sent.address:  # type: ignore[union-attr]
            subscriber.email = sent  # billing's new spelling of the same address
            differs = True
        remembered = last != _sent(sent)
        subscriber.billing_email = _sent(sent)
        return differs, remembered

    def _hash_codes(self, records: list[_SubscriberRow], existing: dict[str, Subscriber]) -> dict[str, str]:
        """The stored form of the codes that are new or differ.

        A code only serves to claim an account: once the subscriber has one, the file's code
        is ignored, so a nightly file never re-arms a code that was used (and cleared).
        """
        todo = [r for r in records if r.code is not None]
        if not todo:
            return {}
        claimed = self.exchange.with_account([s.id for s in existing.values()])
        hashes = {}
        for record in todo:
            current = existing.get(record.number)
            if current is not None and current.id in claimed:
                continue
            code_hash = hash_activation_code(record.code)  # type: ignore[arg-type]
            if current is None or current.activation_code_hash != code_hash:
                hashes[record.number] = code_hash
        return hashes

    def committed(self) -> None:
        for number, old, new in self.email_changes:
            security_log.info("import: e-mail on file of subscriber %s changed from %s to %s", number, old, new)


@attrs.frozen
class _ContractRow:
    line: int
    number: str
    subscriber_number: str
    values: dict[str, Any]


class _ContractsImport(_Importer):
    kind = "contracts"
    key_column = "contract_number"
    columns = ("contract_number", "subscriber_number", "service", "supply_address", "meter_number", "start_date",
               "end_date")
    required = ("contract_number", "subscriber_number", "service", "supply_address", "meter_number", "start_date")

    def parse(self, row: _Row) -> _ContractRow | None:
        before = self.problems.count
        number = self.text(row, "contract_number", max_length=32, required=True)
        subscriber_number = self.text(row, "subscriber_number", max_length=32, required=True)
        values = {
            "service": self.value(row, "service", _choice(Service)),
            "supply_address": self.text(row, "supply_address", max_length=300, required=True),
            "meter_number": self.text(row, "meter_number", max_length=32, required=True),
            "start_on": self.date(row, "start_date"),
            "end_on": self.date(row, "end_date", required=False),
        }
        if self.problems.count > before or number is None or subscriber_number is None:
            return None
        if values["end_on"] is not None and values["end_on"] < values["start_on"]:
            self.problems.add(row.line, "end_date", "before the start date")
            return None
        values = self.given(values, {"start_on": "start_date", "end_on": "end_date"})
        return _ContractRow(row.line, number, subscriber_number, values)

    def apply(self, records: list[_ContractRow]) -> None:
        subscribers = self.exchange.subscribers_by_number({r.subscriber_number for r in records})
        existing = self.exchange.contracts_by_number([r.number for r in records])
        new: list[Contract] = []
        changed: list[Contract] = []
        for record in records:
            subscriber = subscribers.get(record.subscriber_number)
            if subscriber is None:
                self.problems.add(record.line, "subscriber_number",
                                  f"unknown subscriber {record.subscriber_number!r} (import subscribers first)")
                continue
            contract = existing.get(record.number)
            if contract is None:
                new.append(Contract(number=record.number, subscriber_id=subscriber.id, **record.values))
                self.count(True)
            elif contract.subscriber_id != subscriber.id:
                # A contract never changes holder: the new one would see the old one's history.
                self.problems.add(record.line, "subscriber_number",
                                  f"contract {record.number} belongs to another subscriber")
            elif _changed(contract, record.values):
                changed.append(contract)
                self.count(False)
            else:
                self.count(None)
        self._write(self.exchange.save_contracts, new, changed)


class _ReadingRow(NamedTuple):  # the hot path: a tuple is cheaper to build than a frozen class
    line: int
    contract_number: str
    meter_number: str
    read_on: date
    index: MeterIndex
    source: ReadingSource | None  # None: the file has no source column


class _MeterTimeline:
    """The counted readings of one meter of one contract, by date, for the "index never goes down" rule."""

    def __init__(self, readings: Iterable[MeterReading]) -> None:
        self.by_day: dict[date, MeterReading] = {}
        self.days: list[date] = []
        self.litres: dict[date, int] = {}
        for reading in readings:
            self.by_day[reading.read_on] = reading
            if reading.counts:
                self.litres[reading.read_on] = reading.index.litres
        self.days = sorted(self.litres)

    def neighbours(self, day: date) -> tuple[date | None, date | None]:
        """The counted readings just before and just after ``day`` (``day`` itself excluded)."""
        at = bisect.bisect_left(self.days, day)
        before = self.days[at - 1] if at > 0 else None
        after_at = at + 1 if at < len(self.days) and self.days[at] == day else at
        after = self.days[after_at] if after_at < len(self.days) else None
        return before, after

    def put(self, reading: MeterReading) -> None:
        if reading.read_on not in self.litres:
            bisect.insort(self.days, reading.read_on)
        self.litres[reading.read_on] = reading.index.litres
        self.by_day[reading.read_on] = reading


class _ReadingsImport(_Importer):
    kind = "readings"
    key_column = "read_on"
    columns = ("contract_number", "meter_number", "read_on", "index", "source")
    required = ("contract_number", "meter_number", "read_on", "index")
    _source = staticmethod(_choice(ReadingSource))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # The contracts whose readings this file created or changed (numbers: bounded by the
        # utility's contracts, not by the file's rows), for the over-consumption check at the end:
        # True when it must look (an alert seen already, or a history not all in memory).
        self.touched: dict[str, bool] = {}

    def finish(self) -> None:
        """Over-consumption (loi Warsmann): the alert e-mail for each contract the file touched
        whose latest period is abnormal and not told yet, ``ALERT_CHUNK`` contracts at a time.

        A contract whose whole history was in memory while its chunk was written, and showed no
        alert, is not loaded again (``notify_overconsumption`` would find nothing either)."""
        numbers = sorted(n for n, look in self.touched.items() if look)
        for start in range(0, len(numbers), ALERT_CHUNK):
            contracts = self.exchange.contracts_by_number(numbers[start:start + ALERT_CHUNK])
            notices = notify_overconsumption(self.uow, self.portal, contracts.values())
            self.alerts += len(notices)

    def parse(self, row: _Row) -> _ReadingRow | None:
        before = self.problems.count
        number = self.text(row, "contract_number", max_length=32, required=True)
        meter = self.text(row, "meter_number", max_length=32, required=True)
        read_on = self.date(row, "read_on")
        index = self.value(row, "index", MeterIndex.parse)
        source = self.value(row, "source", self._source, default=ReadingSource.AGENT.value) \
            if "source" in self.present else None
        if self.problems.count > before or number is None or meter is None:
            return None
        return _ReadingRow(row.line, number, meter, read_on, index, source)  # type: ignore[arg-type]

    def key(self, record: _ReadingRow) -> str:
        return f"{record.contract_number}\x1f{record.meter_number}\x1f{record.read_on.isoformat()}"

    def describe(self, record: _ReadingRow) -> str:
        return f"the reading of meter {record.meter_number} on {record.read_on.isoformat()}"

    def apply(self, records: list[_ReadingRow]) -> None:
        contracts = self.exchange.contracts_by_number({r.contract_number for r in records})
        checked: list[tuple[_ReadingRow, Contract]] = []
        for record in records:
            contract = contracts.get(record.contract_number)
            if contract is None:
                self.problems.add(record.line, "contract_number",
                                  f"unknown contract {record.contract_number!r} (import contracts first)")
            elif self._dates_fit(record, contract):
                checked.append((record, contract))
        timelines, complete = self._timelines(checked)
        new: list[MeterReading] = []
        changed: list[MeterReading] = []
        for record, contract in checked:
            timeline = timelines[(contract.id, record.meter_number)]
            if not self._index_fits(record, timeline):
                continue
            reading = timeline.by_day.get(record.read_on)
            if reading is None:
                reading = MeterReading(contract_id=contract.id, meter_number=record.meter_number,
                                       read_on=record.read_on, index=record.index,
                                       source=record.source or ReadingSource.AGENT,
                                       status=ReadingStatus.VALIDATED, recorded_at=self.now)
                new.append(reading)
                self.count(True)
                self.touched[record.contract_number] = True
            elif _changed(reading, {"index": record.index, "source": record.source or reading.source,
                                    "status": ReadingStatus.VALIDATED}):
                changed.append(reading)
                self.count(False)
                self.touched[record.contract_number] = True
            else:
                self.count(None)
            timeline.put(reading)
        self._screen(checked, timelines, complete)
        self._write(self.exchange.save_readings, new, changed)

    def _screen(self, checked: list[tuple[_ReadingRow, Contract]],
                timelines: dict[tuple[uuid.UUID, str], _MeterTimeline], complete: set[uuid.UUID]) -> None:
        """Spare ``finish`` the reload of a contract this chunk touched when its whole history is
        in memory (no reading before, or all of it loaded, earlier chunks' writes included) and
        shows no over-consumption. Any other touched contract is looked at in ``finish``."""
        histories: dict[uuid.UUID, list[MeterReading]] = {}
        for (contract_id, _meter), timeline in timelines.items():
            histories.setdefault(contract_id, []).extend(timeline.by_day.values())
        for number, contract_id in {(r.contract_number, c.id) for r, c in checked}:
            if number in self.touched and contract_id in complete:
                self.touched[number] = alert_period(histories[contract_id], self.today) is not None

    def _dates_fit(self, record: _ReadingRow, contract: Contract) -> bool:
        """The contract's rules on the date (and on the index's digits, for its current meter)."""
        reason = None
        if record.read_on > self.today:
            reason = "read_on", f"{record.read_on.isoformat()} is in the future"
        elif record.read_on < contract.start_on:
            reason = "read_on", f"before the start of contract {contract.number} ({contract.start_on.isoformat()})"
        elif contract.end_on is not None and record.read_on > contract.end_on:
            reason = "read_on", f"after the end of contract {contract.number} ({contract.end_on.isoformat()})"
        elif (record.meter_number == contract.meter_number
              and record.index.litres >= 10 ** (contract.meter_digits + 3)):
            reason = "index", f"more than the {contract.meter_digits} digits of meter {contract.meter_number}"
        if reason:
            self.problems.add(record.line, *reason)
        return reason is None

    def _index_fits(self, record: _ReadingRow, timeline: _MeterTimeline) -> bool:
        """The index never goes down on a meter: it lies between its neighbours' indexes."""
        before, after = timeline.neighbours(record.read_on)
        litres = record.index.litres
        if before is not None and litres < timeline.litres[before]:
            other = MeterIndex(timeline.litres[before])
            self.problems.add(record.line, "index", f"{record.index} m³ is below the index {other} m³ "
                                                    f"read on {before.isoformat()} (the index never goes down)")
            return False
        if after is not None and litres > timeline.litres[after]:
            other = MeterIndex(timeline.litres[after])
            self.problems.add(record.line, "index", f"{record.index} m³ is above the index {other} m³ "
                                                    f"read later, on {after.isoformat()}")
            return False
        return True

    def _timelines(self, checked: list[tuple[_ReadingRow, Contract]],
                   ) -> tuple[dict[tuple[uuid.UUID, str], _MeterTimeline], set[uuid.UUID]]:
        """What each meter already has: its latest reading, or its whole history when a row
        of the chunk is not after that latest reading (an update, or a reading slotted in).
        Also the contracts whose every reading is in these timelines (every meter with
        readings had none, or all of them loaded)."""
        meters = {(c.id, r.meter_number) for r, c in checked}
        latest = self.exchange.latest_readings({cid for cid, _ in meters})
        full = {
            (c.id, r.meter_number) for r, c in checked
            if (last := latest.get((c.id, r.meter_number))) is not None
            and (r.read_on <= last.read_on or not last.counts)
        }
        history: dict[tuple[uuid.UUID, str], list[MeterReading]] = {m: [] for m in full}
        if full:
            for reading in self.exchange.readings_of({cid for cid, _ in full}):
                pair = (reading.contract_id, reading.meter_number)
                if pair in history:
                    history[pair].append(reading)
        timelines = {
            m: _MeterTimeline(history[m] if m in full else [r for r in [latest.get(m)] if r is not None])
            for m in meters
        }
        partial = {cid for (cid, meter) in latest if (cid, meter) not in full}
        return timelines, {cid for cid, _ in meters} - partial


PDF_MAGIC = b"%PDF-"


@attrs.frozen
class _Pdf:
    path: Path
    size: int
    sha256: str


@attrs.frozen
class _InvoiceRow:
    line: int
    number: str
    contract_number: str
    values: dict[str, Any]
    pdf: _Pdf | None


class _InvoicesImport(_Importer):
    kind = "invoices"
    key_column = "invoice_number"
    columns = ("invoice_number", "contract_number", "issued_on", "due_on", "amount", "amount_paid", "pdf_file")
    required = ("invoice_number", "contract_number", "issued_on", "due_on", "amount")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stored: list[str] = []  # objects written during this import: removed if it fails
        self.replaced: list[str] = []  # objects of replaced PDFs: removed once it is committed

    def parse(self, row: _Row) -> _InvoiceRow | None:
        before = self.problems.count
        number = self.text(row, "invoice_number", max_length=32, required=True)
        contract_number = self.text(row, "contract_number", max_length=32, required=True)
        values = {
            "issued_on": self.date(row, "issued_on"),
            "due_on": self.date(row, "due_on"),
            "amount": self.value(row, "amount", Money.parse),
            "amount_paid": self.value(row, "amount_paid", Money.parse, default="0"),
        }
        pdf = self._pdf(row)
        if self.problems.count > before or number is None or contract_number is None:
            return None
        if values["due_on"] < values["issued_on"]:
            self.problems.add(row.line, "due_on", "before the issue date")
        if values["amount"].cents < 0:
            self.problems.add(row.line, "amount", "negative (credit notes are not imported)")
        elif values["amount_paid"].cents < 0:
            self.problems.add(row.line, "amount_paid", "negative")
        elif values["amount_paid"] > values["amount"]:
            self.problems.add(row.line, "amount_paid", f"more than the amount ({values['amount']})")
        if self.problems.count > before:
            return None
        return _InvoiceRow(row.line, number, contract_number, self.given(values), pdf)

    def _pdf(self, row: _Row) -> _Pdf | None:
        """The invoice's PDF, checked now: it exists, it is a PDF by its content."""
        reference = self.text(row, "pdf_file", max_length=500)
        if not reference:
            return None
        if self.portal.files is None:
            self.problems.add(row.line, "pdf_file", "no file store is configured for documents")
            return None
        relative = Path(reference)
        if relative.is_absolute() or self.base_dir is None:
            self.problems.add(row.line, "pdf_file", "give a path relative to the CSV file")
            return None
        path = self.base_dir / relative
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as handle:
                head = handle.read(len(PDF_MAGIC))
                digest.update(head)
                size = len(head)
                while block := handle.read(1 << 16):
                    digest.update(block)
                    size += len(block)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.problems.add(row.line, "pdf_file", f"no file {reference!r} next to the CSV file")
            return None
        except OSError as exc:
            self.problems.add(row.line, "pdf_file", f"cannot read {reference!r} ({exc.strerror})")
            return None
        if head != PDF_MAGIC:
            self.problems.add(row.line, "pdf_file", f"{reference!r} is not a PDF file")
            return None
        return _Pdf(path, size, digest.hexdigest())

    def apply(self, records: list[_InvoiceRow]) -> None:
        contracts = self.exchange.contracts_by_number({r.contract_number for r in records})
        existing = self.exchange.invoices_by_number([r.number for r in records])
        hashes = self.exchange.document_hashes(
            {i.pdf_document_id for i in existing.values() if i.pdf_document_id is not None})
        new: list[Invoice] = []
        changed: list[Invoice] = []
        folders: dict[uuid.UUID, uuid.UUID] = {}
        for record in records:
            contract = contracts.get(record.contract_number)
            if contract is None:
                self.problems.add(record.line, "contract_number",
                                  f"unknown contract {record.contract_number!r} (import contracts first)")
                continue
            invoice = existing.get(record.number)
            if invoice is not None and invoice.contract_id != contract.id:
                self.problems.add(record.line, "contract_number",
                                  f"invoice {record.number} is already recorded for another contract")
                continue
            values = dict(record.values)
            if invoice is not None and "amount_paid" in values:
                # A payment confirmed on the portal is never forgotten by a file written before it.
                values["amount_paid"] = max(values["amount_paid"], invoice.amount_paid)
            pdf = record.pdf
            if pdf is not None and invoice is not None and hashes.get(invoice.pdf_document_id) == pdf.sha256:
                pdf = None  # the same PDF is already stored
            if invoice is None:
                invoice = Invoice(number=record.number, contract_id=contract.id, **values)
                new.append(invoice)
                created: bool | None = True
            else:
                created = False if _changed(invoice, values) or pdf is not None else None
                if created is False:
                    changed.append(invoice)
            if pdf is not None and not self.problems:
                self._store(invoice, contract, pdf, folders)
            self.count(created)
        self._write(self.exchange.save_invoices, new, changed)

    def _store(self, invoice: Invoice, contract: Contract, pdf: _Pdf, folders: dict[uuid.UUID, uuid.UUID]) -> None:
        """Put the PDF in the subscriber's "Factures" folder; the invoice points at it."""
        assert self.portal.files is not None
        folder_id = folders.get(contract.subscriber_id)
        if folder_id is None:
            all_folders = ensure_default_folders(self.uow, contract.subscriber_id)
            folder_id = next(f.id for f in all_folders if f.kind == FolderKind.INVOICES and f.parent_id is None)
            folders[contract.subscriber_id] = folder_id
        with pdf.path.open("rb") as data:
            document = store_document(self.uow, self.portal.files, self.portal.clock,
                                      subscriber_id=contract.subscriber_id, folder_id=folder_id,
                                      filename=f"facture-{invoice.number}.pdf", content_type="application/pdf",
                                      data=data, size=pdf.size, sha256=pdf.sha256, added_by=AddedBy.UTILITY)
        self.stored.append(document.storage_key)
        if invoice.pdf_document_id is not None:
            old = self.uow.documents.get(invoice.pdf_document_id)
            if old is not None:
                self.uow.documents.remove(old.id)
                self.replaced.append(old.storage_key)
        invoice.pdf_document_id = document.id
        invoice.pdf_file = str(pdf.path.name)

    def discard(self) -> None:
        for key in self.stored:
            self.portal.files.delete(key)  # type: ignore[union-attr]

    def committed(self) -> None:
        for key in self.replaced:
            self.portal.files.delete(key)  # type: ignore[union-attr]


_IMPORTERS: dict[str, type[_Importer]] = {
    "subscribers": _SubscribersImport,
    "contracts": _ContractsImport,
    "readings": _ReadingsImport,
    "invoices": _InvoicesImport,
}


def export_lines(uow: UnitOfWork, kind: str, since: datetime | None = None) -> Iterator[Any]:
    """The rows of an export, in a stable order (the same data gives the same rows).

    ``since`` keeps what was recorded at or after it: payments by ``paid_at``, readings by
    ``recorded_at``, requests by their last change (``updated_at``, else ``created_at``).
    """
    if kind == "payments":
        return uow.exchange.paid_payments(since)
    if kind == "readings":
        return uow.exchange.subscriber_readings(since)
    if kind == "requests":
        return uow.exchange.request_lines(since)
    raise ValueError(f"unknown export kind {kind!r} (one of {', '.join(EXPORT_KINDS)})")


_HEADERS = {"payments": PaymentLine.header, "readings": ReadingLine.header, "requests": RequestLine.header}


def export_csv(portal: Portal, kind: str, out: TextIO, *, since: datetime | None = None) -> int:
    """Write an export as CSV (``;``, a header row) to ``out``; returns the number of rows."""
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    rows = 0
    with portal.uow() as uow:
        lines = export_lines(uow, kind, since)
        writer.writerow(_HEADERS[kind])
        for line in lines:
            writer.writerow(line.cells())
            rows += 1
    return rows
