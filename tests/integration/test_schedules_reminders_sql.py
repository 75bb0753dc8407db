"""Schedules, invoice e-mails, reminders and moving requests on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portail_adapters.exchange_csv import export_csv, import_csv
from portail_adapters.memory import FixedClock
from portail_adapters.sql import tables as t
from portail_domain.model.exchange import ImportRejected
from portail_domain.services.reminders import send_reminders
from portail_domain.services.requests import open_move_request, request_detail
from tests.integration.test_exchange import portail
from tests.support import add_contract, add_invoice, add_subscriber

EXAMPLES = Path(__file__).parents[2] / "examples"


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def examples(tmp_path) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder)
    return folder


def test_the_example_schedule_imports_once_and_a_bad_file_changes_nothing(sql_portal, engine, examples):
    for kind in ("subscribers", "contracts"):
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    assert str(import_csv(sql_portal, "schedules", examples / "schedules.csv")) == "6 created, 0 updated, 0 unchanged"
    assert str(import_csv(sql_portal, "schedules", examples / "schedules.csv")) == "0 created, 0 updated, 6 unchanged"
    bad = examples / "bad.csv"
    bad.write_text("contract_number;due_on;amount;status\nC-100002-1;2026-07-10;42,50;planned\n"
                   "C-100002-1;2026-08-10;0;planned\n")
    with pytest.raises(ImportRejected) as caught:
        import_csv(sql_portal, "schedules", bad)
    assert caught.value.lines() == [f"{bad}:3: amount: an instalment is a positive amount"]
    assert count(engine, t.instalments) == 6
    from portail_domain.services.schedules import subscriber_schedules

    with sql_portal.uow() as uow:
        subscriber = uow.subscribers.by_number("100002")
    [schedule] = subscriber_schedules(sql_portal, subscriber.id)
    assert (schedule.contract_number, len(schedule.instalments), schedule.paid.cents, schedule.total.cents) == (
        "C-100002-1", 6, 8500, 25500)


def test_new_invoices_queue_one_mail_per_subscriber_in_the_import(sql_portal, engine, examples):
    for kind in ("subscribers", "contracts"):
        import_csv(sql_portal, kind, examples / f"{kind}.csv")
    before = count(engine, t.outbox)
    summary = import_csv(sql_portal, "invoices", examples / "invoices.csv")
    # 6 invoices for 3 subscribers, of whom 2 have an e-mail on file (one has 4 invoices: one mail)
    assert (summary.created, summary.mails) == (6, 2) and count(engine, t.outbox) == before + 2
    assert import_csv(sql_portal, "invoices", examples / "invoices.csv").mails == 0
    assert count(engine, t.outbox) == before + 2


@pytest.fixture
def due_invoices(sql_portal):
    """Marie's invoices: one due in 4 days, one 3 days late, one paid (the clock: 2026-03-10)."""
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org")
    add_invoice(sql_portal, marie, "F-SOON", due="2026-03-14")
    add_invoice(sql_portal, marie, "F-LATE", due="2026-03-07")
    add_invoice(sql_portal, marie, "F-PAID", due="2026-03-14", paid=12345)
    return marie


def test_two_runs_on_the_same_day_send_each_reminder_once(sql_portal, engine, due_invoices):
    assert send_reminders(sql_portal).sent == 2
    assert send_reminders(sql_portal).sent == 0
    assert count(engine, t.sent_reminders) == 2 and count(engine, t.outbox) == 2


class Racing:
    """A unit-of-work factory whose writers all start together: both workers have read the same
    candidates before either records a reminder."""

    def __init__(self, factory, parties: int) -> None:
        self.factory = factory
        self.barrier = threading.Barrier(parties, timeout=20)

    def __call__(self, *, read_only: bool = False):
        if not read_only:
            self.barrier.wait()
        return self.factory(read_only=read_only)


def test_two_workers_at_once_send_each_reminder_once(sql_portal, engine, due_invoices):
    import attrs

    racing = attrs.evolve(sql_portal, uow=Racing(sql_portal.uow, 2))
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(send_reminders(racing).sent)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(results) == 2  # whichever worker got each one
    assert count(engine, t.sent_reminders) == 2 and count(engine, t.outbox) == 2


def test_the_command_sends_reminders_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'portail.db'}"
    assert portail("migrate", cwd=tmp_path, url=url).returncode == 0
    first = portail("reminders", "send", cwd=tmp_path, url=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("reminders: 0 reminder(s) queued, 0 skipped")


def test_a_moving_request_keeps_its_fields_and_the_export_has_them(sql_portal, clock):
    clock.current = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org")
    add_contract(sql_portal, marie, "C1")
    filed = open_move_request(sql_portal, marie.id, category="demenagement", subject="Déménagement",
                              contract_number="C1", move_on=date(2026, 3, 9), index="876,5",
                              new_address="4 avenue du Port, 34200 Sète")
    thread = request_detail(sql_portal, marie.id, filed.id)
    assert thread.move is not None and thread.move.index.litres == 876_500 and thread.messages == ()
    out = io.StringIO()
    export_csv(sql_portal, "requests", out)
    header, row = out.getvalue().splitlines()
    assert header.endswith(";move_on;index;new_address;occupant")
    assert row.startswith(f"{filed.reference};100001;C1;demenagement;new;Déménagement;")
    assert row.endswith(";2026-03-09;876.5;4 avenue du Port, 34200 Sète;")


def test_the_opt_out_is_stored(sql_portal, engine, due_invoices):
    from portail_domain.model.accounts import PersonalData
    from portail_domain.services.accounts import update_personal_data

    update_personal_data(sql_portal, due_invoices.id, PersonalData("", "", "", "", "fr", False, reminders=False))
    with sql_portal.uow() as uow:
        assert uow.subscribers.get(due_invoices.id).reminders is False
    assert send_reminders(sql_portal).sent == 0 and count(engine, t.outbox) == 0


_ = FixedClock  # the conftest clock (2026-03-10 09:30 UTC) is the one these tests use


def test_retention_removes_an_invoice_s_reminders_and_a_request_s_moving_fields(sql_portal, engine):
    from datetime import timedelta

    from portail_domain.model.legal import years
    from portail_domain.model.reminders import ReminderKind, SentReminder
    from portail_domain.model.requests import RequestStatus
    from portail_domain.services.privacy import apply_retention

    now, today = sql_portal.clock.now(), sql_portal.clock.today()
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org")
    add_contract(sql_portal, marie, "C1")
    old = add_invoice(sql_portal, marie, "F-OLD", amount=1000, paid=1000, contract_number="C1",
                      issued=str(today - years(10) - timedelta(days=2)), due=str(today - years(10)))
    filed = open_move_request(sql_portal, marie.id, category="emmenagement", subject="Emménagement",
                              contract_number="C1", move_on=date(2026, 3, 9), index="876", occupant="Lucie")
    with sql_portal.uow() as uow:
        assert uow.reminders.claim(SentReminder(old.id, ReminderKind.AFTER, now, "marie@example.org"))
        request = uow.requests.get(filed.id)
        request.status, request.updated_at = RequestStatus.CLOSED, now - years(5) - timedelta(days=1)
        uow.requests.update(request)
        uow.commit()
    report = apply_retention(sql_portal)  # the foreign keys would refuse it if these rows stayed
    assert (report.invoices, report.requests) == (1, 1)
    assert count(engine, t.sent_reminders) == 0 and count(engine, t.request_moves) == 0
