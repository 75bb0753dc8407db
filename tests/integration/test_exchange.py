"""Import and export on SQLite and PostgreSQL, and through the `portail` command."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portail_adapters.exchange_csv import export_csv, import_csv
from portail_adapters.memory import FixedClock
from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_adapters.sql import tables as t
from portail_domain.model.billing import Payment, PaymentStatus
from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus
from portail_domain.model.exchange import ImportRejected
from portail_domain.model.requests import Request, RequestCategory, RequestStatus
from portail_domain.model.values import MeterIndex, Money
from tests.support import make_portal

EXAMPLES = Path(__file__).parents[2] / "examples"
KINDS = ("subscribers", "contracts", "readings", "invoices")


@pytest.fixture
def clock() -> FixedClock:
    """After the last reading of the example files."""
    return FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def examples(tmp_path) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    return folder


def counts(engine) -> dict[str, int]:
    with engine.connect() as c:
        return {name: c.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in [("subscribers", t.subscribers), ("contracts", t.contracts),
                                    ("readings", t.meter_readings), ("invoices", t.invoices),
                                    ("documents", t.documents)]}


def test_the_example_files_import_and_a_second_run_changes_nothing(sql_portal, engine, examples):
    first = {k: str(import_csv(sql_portal, k, examples / f"{k}.csv")) for k in KINDS}
    assert first == {"subscribers": "3 created, 0 updated, 0 unchanged",
                     "contracts": "4 created, 0 updated, 0 unchanged",
                     "readings": "19 created, 0 updated, 0 unchanged",
                     "invoices": "6 created, 0 updated, 0 unchanged; 2 invoice e-mail(s) queued"}
    after_first = counts(engine)
    assert after_first == {"subscribers": 3, "contracts": 4, "readings": 19, "invoices": 6, "documents": 2}
    second = {k: str(import_csv(sql_portal, k, examples / f"{k}.csv")) for k in KINDS}
    assert second == {"subscribers": "0 created, 0 updated, 3 unchanged",
                      "contracts": "0 created, 0 updated, 4 unchanged",
                      "readings": "0 created, 0 updated, 19 unchanged",
                      "invoices": "0 created, 0 updated, 6 unchanged"}
    assert counts(engine) == after_first
    with sql_portal.uow() as uow:
        marie = uow.subscribers.by_number("100001")
        invoices = {i.number: i for i in uow.invoices.for_subscriber(marie.id)}
        assert invoices["F2026-000101"].amount == Money(11240) and invoices["F2026-000101"].status.value == "paid"
        document = uow.documents.get(invoices["F2026-000102"].pdf_document_id)
        assert uow.folders.get(document.folder_id).name == "Factures"
        assert b"".join(sql_portal.files.open(document.storage_key)).startswith(b"%PDF-")
        readings = uow.readings.for_contract(uow.contracts.by_number("C-100001-1").id)
        assert readings[1].index == MeterIndex.parse("1251,5") and readings[3].source == ReadingSource.ESTIMATED


def test_a_changed_row_is_an_update(sql_portal, examples):
    for kind in KINDS[:3]:
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    path = examples / "readings.csv"
    path.write_text(path.read_text().replace("2026-07-03,1522,agent", "2026-07-03,1523,remote"))
    assert str(import_csv(sql_portal, "readings", path)) == "0 created, 1 updated, 18 unchanged"
    with sql_portal.uow() as uow:
        last = uow.readings.for_contract(uow.contracts.by_number("C-100001-1").id)[-1]
    assert last.index == MeterIndex(1523000) and last.source == ReadingSource.REMOTE


def test_one_bad_row_at_line_n_imports_nothing(sql_portal, engine, examples):
    for kind in KINDS[:2]:
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    lines = (examples / "readings.csv").read_text().splitlines()
    lines[13] = lines[13].replace("8911", "8800")  # line 14: below the previous index of that meter
    path = examples / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    before = counts(engine)
    with pytest.raises(ImportRejected) as caught:
        import_csv(sql_portal, "readings", path)
    assert caught.value.lines() == [
        f"{path}:14: index: 8800 m³ is below the index 8820 m³ read on 2023-06-16 (the index never goes down)"]
    assert counts(engine) == before


def test_an_invoice_for_an_unknown_contract_imports_nothing(sql_portal, engine, tmp_path, examples):
    for kind in KINDS[:2]:
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_number,contract_number,issued_on,due_on,amount\n"
                    "F1,C-100001-1,2026-01-01,2026-02-01,10.5\nF2,C-999,2026-01-01,2026-02-01,10.5\n")
    with pytest.raises(ImportRejected) as caught:
        import_csv(sql_portal, "invoices", path)
    assert caught.value.lines() == [f"{path}:3: contract_number: unknown contract 'C-999' (import contracts first)"]
    assert counts(engine)["invoices"] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "{f}: the file is empty (a header row naming the columns is expected)"),
        ("subscriber_number;name\n1;Hélène\n".encode("latin-1"),
         "{f}:2: the file is not UTF-8 text (byte 0xe9 at column 4); save it as UTF-8"),
        ("subscriber_number;name\n1;Hélène\n".encode("utf-16"),
         "{f}:1: the file is not UTF-8 text (byte 0xff at column 1); save it as UTF-8"),
    ],
    ids=["empty", "latin-1", "utf-16"],
)
def test_an_empty_or_non_utf8_file_is_refused_naming_the_file(sql_portal, engine, tmp_path, content, expected):
    path = tmp_path / "abonnes.csv"
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as caught:
        import_csv(sql_portal, "subscribers", path)
    assert caught.value.lines() == [expected.format(f=path)]
    assert counts(engine)["subscribers"] == 0


def test_a_header_only_file_and_a_bom_are_fine(sql_portal, engine, tmp_path):
    path = tmp_path / "abonnes.csv"
    path.write_bytes("\ufeffsubscriber_number,name,email\r\n".encode())
    assert str(import_csv(sql_portal, "subscribers", path)) == "0 created, 0 updated, 0 unchanged"
    path.write_bytes("\ufeffsubscriber_number,name,email\r\n1,\"Dupont, Marie\",\r\n".encode())
    assert import_csv(sql_portal, "subscribers", path).created == 1
    with sql_portal.uow() as uow:
        assert uow.subscribers.by_number("1").name == "Dupont, Marie"


# --- export ---------------------------------------------------------------------------------


def test_exports_give_the_same_rows_twice_and_since_filters_on_when_it_was_recorded(sql_portal, examples, clock):
    for kind in KINDS:
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    early, late = datetime(2026, 11, 2, 8, 0, tzinfo=UTC), datetime(2026, 11, 20, 17, 45, tzinfo=UTC)
    with sql_portal.uow() as uow:
        contract = uow.contracts.by_number("C-100002-1")
        invoice = uow.invoices.by_number("F2026-000301")
        marie = uow.subscribers.by_number("100001")
        for when, op, status in [(early, "op-1", PaymentStatus.PAID), (late, "op-2", PaymentStatus.PAID),
                                 (late, "op-3", PaymentStatus.REFUSED)]:
            uow.payments.add(Payment(invoice_id=invoice.id, amount=Money(5000), gateway="payfip", reference="R1",
                                     created_at=when - timedelta(minutes=5), operation_id=op, status=status,
                                     paid_at=when if status == PaymentStatus.PAID else None,
                                     gateway_reference=f"TR-{op}"))
        uow.readings.add(MeterReading(contract.id, "M-0471206", date(2026, 11, 1), MeterIndex(9150000),
                                      ReadingSource.SUBSCRIBER, ReadingStatus.TO_REVIEW, recorded_at=early))
        uow.readings.add(MeterReading(contract.id, "M-0471206", date(2026, 11, 20), MeterIndex(9160500),
                                      ReadingSource.SUBSCRIBER, ReadingStatus.VALIDATED, recorded_at=late))
        uow.requests.add(Request("D-2026-0001", marie.id, RequestCategory.BILLING, "Échéancier; merci", early,
                                 status=RequestStatus.ANSWERED, updated_at=late))
        uow.requests.add(Request("D-2026-0002", marie.id, RequestCategory.LEAK_RELIEF, "Fuite", early,
                                 contract_id=contract.id))
        uow.commit()

    def export(kind, since=None):
        out = io.StringIO()
        export_csv(sql_portal, kind, out, since=since)
        return out.getvalue().splitlines()

    assert export("payments") == [
        "invoice_number;contract_number;amount;gateway;operation_id;gateway_reference;paid_at",
        "F2026-000301;C-100002-1;50.00;payfip;op-1;TR-op-1;2026-11-02T08:00:00+00:00",
        "F2026-000301;C-100002-1;50.00;payfip;op-2;TR-op-2;2026-11-20T17:45:00+00:00",
    ]
    assert export("readings") == [
        "contract_number;meter_number;read_on;index;source;status;recorded_at",
        "C-100002-1;M-0471206;2026-11-01;9150;subscriber;to_review;2026-11-02T08:00:00+00:00",
        "C-100002-1;M-0471206;2026-11-20;9160.5;subscriber;validated;2026-11-20T17:45:00+00:00",
    ]
    assert export("requests") == [
        "reference;subscriber_number;contract_number;category;status;subject;created_at;updated_at;assignee;"
        "closing_reason;move_on;index;new_address;occupant",
        'D-2026-0001;100001;;billing;answered;"Échéancier; merci";2026-11-02T08:00:00+00:00;'
        "2026-11-20T17:45:00+00:00;;;;;;",
        "D-2026-0002;100001;C-100002-1;ecretement;new;Fuite;2026-11-02T08:00:00+00:00;;;;;;;",
    ]
    since = datetime(2026, 11, 10, tzinfo=UTC)
    for kind in ("payments", "readings", "requests"):
        assert export(kind) == export(kind)
        assert len(export(kind, since)) == 2, kind  # the header and the one row recorded after the 10th


# --- the command ----------------------------------------------------------------------------


def portail(*args: str, cwd: Path, url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    env.update({"PORTAIL_DATABASE_URL": url, "PORTAIL_LOG_LEVEL": "WARNING"})
    return subprocess.run([sys.executable, "-m", "portail_web.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_command_imports_the_examples_then_refuses_a_bad_file(tmp_path, examples):
    url = f"sqlite:///{tmp_path / 'portail.db'}"
    assert portail("migrate", cwd=tmp_path, url=url).returncode == 0
    for kind in KINDS:
        result = portail("import", kind, str(examples / f"{kind}.csv"), cwd=tmp_path, url=url)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{kind}: ") and " created, 0 updated, 0 unchanged" in result.stdout
        assert "\x1b[" not in result.stdout + result.stderr  # no progress bar when not on a terminal
    bad = examples / "bad.csv"
    bad.write_text("invoice_number;contract_number;issued_on;due_on;amount\n"
                   "F9;C-100001-1;2026-01-01;2026-02-01;12,50\nF10;C-100001-1;30/02/2026;2026-02-01;12,50\n")
    result = portail("import", "invoices", str(bad), cwd=tmp_path, url=url)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{bad}:3: issued_on: '30/02/2026' is not a real date",
                                          f"{bad}: nothing imported"]
    exported = portail("export", "payments", "--since", "01/11/2026", cwd=tmp_path, url=url)
    assert exported.returncode == 0 and exported.stdout.splitlines() == [
        "invoice_number;contract_number;amount;gateway;operation_id;gateway_reference;paid_at"]
    wrong = portail("export", "requests", "--since", "demain", cwd=tmp_path, url=url)
    assert wrong.returncode == 2 and "--since" in wrong.stderr


def test_100k_readings_import_in_bounded_memory(sqlite_engine, clock, tmp_path):
    """The import's own memory (Python objects; SQLite's page cache is a fixed size) does not
    grow with the file: the peak for 100k rows is that of 10k rows."""
    sys.path.insert(0, str(Path(__file__).parents[2]))
    from bench.bench_import import generate

    sql_portal = make_portal(SqlUnitOfWorkFactory(sqlite_engine), clock)  # once is enough: on SQLite
    generate(tmp_path, 8_400, codes_every=10**9)  # 100,800 readings
    small = tmp_path / "small.csv"
    with (tmp_path / "readings.csv").open() as source, small.open("w") as out:
        for n, line in enumerate(source):
            if n > 10_000:
                break
            out.write(line)
    for kind in ("subscribers", "contracts"):
        import_csv(sql_portal, kind, tmp_path / f"{kind}.csv")

    def peak(path: Path) -> tuple[int, object]:
        tracemalloc.start()
        try:
            summary = import_csv(sql_portal, "readings", path)
            return tracemalloc.get_traced_memory()[1], summary
        finally:
            tracemalloc.stop()

    small_peak, _ = peak(small)
    large_peak, summary = peak(tmp_path / "readings.csv")
    assert (summary.created, summary.updated, summary.unchanged) == (90800, 0, 10000)
    assert summary.alerts > 0  # a year of random consumption has some leaks: their check is in the peak
    assert large_peak < small_peak + 2 * 2**20, (small_peak, large_peak)
    print(f"peak {small_peak / 2**20:.1f} MiB for 10k rows, {large_peak / 2**20:.1f} MiB for 100k rows")
    assert large_peak < 32 * 2**20


@pytest.mark.postgres
def test_an_import_that_adds_rows_refreshes_postgresql_s_statistics(pg_engine, clock, examples):
    """Right after a big import the planner would take the grown tables for the small ones (a
    sequential scan of every invoice for one subscriber's list) until autovacuum came by."""
    portal = make_portal(SqlUnitOfWorkFactory(pg_engine), clock)

    def planned_rows(table: str) -> float:  # what the planner believes (ANALYZE sets it, synchronously)
        with pg_engine.connect() as c:
            return c.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = %s", (table,)).scalar_one()

    for kind in KINDS:
        import_csv(portal, kind, examples / f"{kind}.csv")
    assert (planned_rows("invoices"), planned_rows("meter_readings"), planned_rows("subscribers")) == (6, 19, 3)
