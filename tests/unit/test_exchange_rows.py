"""The domain's side of an import, fed typed rows directly (no CSV): what an embedding system
with its own file format would hand ``import_rows``."""

from __future__ import annotations

import io
from datetime import date

import pytest

from portail_domain.model.contracts import ReadingSource, Service
from portail_domain.model.exchange import (
    AttachedFile,
    ContractRow,
    FileHeader,
    ImportLimits,
    ImportRejected,
    InvoiceRow,
    Problem,
    ReadingRow,
    RowChunk,
    SubscriberRow,
)
from portail_domain.model.values import MeterIndex, Money
from portail_domain.services.exchange import import_rows


class ListSource:
    """An ``ImportSource`` over rows already parsed, ``chunk`` at a time."""

    def __init__(self, kind, rows, *, fields=None, problems=(), chunk=2):
        self.kind, self.name, self.rows = kind, f"{kind}.rows", 0
        self._rows, self._problems, self._chunk = list(rows), list(problems), chunk
        self._fields = frozenset(fields if fields is not None else type(self._rows[0])._fields if rows else ())

    def read_header(self):
        return FileHeader(self._fields)

    def chunks(self):
        for start in range(0, len(self._rows), self._chunk):
            part = self._rows[start:start + self._chunk]
            self.rows += len(part)
            yield RowChunk(part, self._problems if start == 0 else ())


@pytest.fixture
def portal(memory_portal):
    import_rows(memory_portal, ListSource("subscribers", [
        SubscriberRow(2, "100001", "Marie Dupont", None, "", "", "", "", None)]))
    import_rows(memory_portal, ListSource("contracts", [
        ContractRow(2, "C1", "100001", Service.BOTH, "1 rue Haute", "M1", date(2024, 1, 1), None)]))
    return memory_portal


def reading(line, day, litres):
    return ReadingRow(line, "C1", "M1", day, MeterIndex(litres), ReadingSource.REMOTE)


def test_typed_rows_are_upserted_and_counted(portal):
    rows = [reading(2, date(2025, 1, 1), 1000), reading(3, date(2025, 2, 1), 2000), reading(4, date(2025, 3, 1), 3000)]
    assert str(import_rows(portal, ListSource("readings", rows))) == "3 created, 0 updated, 0 unchanged"
    assert str(import_rows(portal, ListSource("readings", rows))) == "0 created, 0 updated, 3 unchanged"


def test_the_adapter_s_cell_problems_and_the_rules_problems_come_out_in_line_order(portal):
    rows = [reading(2, date(2025, 2, 1), 2000), reading(4, date(2025, 3, 1), 1000)]
    source = ListSource("readings", rows, problems=[Problem(3, "read_on", "'x' is not a date")])
    with pytest.raises(ImportRejected) as caught:
        import_rows(portal, source, limits=ImportLimits(max_problems=5))
    assert caught.value.lines() == [
        "readings.rows:3: read_on: 'x' is not a date",
        "readings.rows:4: index: 1 m³ is below the index 2 m³ read on 2025-02-01 (the index never goes down)",
    ]
    with portal.uow() as uow:
        assert uow.readings.for_contract(uow.contracts.by_number("C1").id) == []


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8])
def test_an_invoice_pdf_is_judged_by_the_one_file_check(portal, content):
    attached = AttachedFile("scan.pdf", "scan.pdf", lambda: io.BytesIO(content))
    row = InvoiceRow(2, "F1", "C1", date(2026, 1, 1), date(2026, 2, 1), Money(100), Money(0), attached)
    with pytest.raises(ImportRejected) as caught:
        import_rows(portal, ListSource("invoices", [row]))
    assert caught.value.lines() == ["invoices.rows:2: pdf_file: 'scan.pdf' is not a PDF file"]
