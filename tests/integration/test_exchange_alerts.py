"""Over-consumption alerts raised by imported readings, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portail_adapters.exchange_csv import import_csv
from portail_adapters.sql import tables as t
from portail_domain.model.exchange import ImportRejected
from tests.support import readings_csv

SUBSCRIBERS = ("subscriber_number;name;email\n"
               "100001;Marie Dupont;marie@example.org\n100002;Paul Martin;paul@example.org\n")
CONTRACTS = ("contract_number;subscriber_number;service;supply_address;meter_number;start_date\n"
             "C1;100001;both;1 rue Haute;M1;2024-01-01\nC2;100002;water;2 rue Basse;M2;2024-01-01\n")


@pytest.fixture
def utility(sql_portal, tmp_path):
    """Two subscribers with an e-mail on file, a contract each."""
    for kind, text in (("subscribers", SUBSCRIBERS), ("contracts", CONTRACTS)):
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        import_csv(sql_portal, kind, tmp_path / f"{kind}.csv")


def outbox(engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(select(t.outbox.c.recipient)).scalars())


def notices(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(t.overconsumption_notices)).scalar_one()


def test_a_readings_import_with_a_leak_queues_one_e_mail_once(utility, sql_portal, engine, tmp_path):
    readings = tmp_path / "readings.csv"
    leak = readings_csv("C1", "M1", "2025-01-05", months=14, per_day=150, last_per_day=400)
    usual = readings_csv("C2", "M2", "2025-01-05", months=14, per_day=150, last_per_day=200)
    readings.write_text(leak + usual.split("\n", 1)[1], encoding="utf-8")

    first = import_csv(sql_portal, "readings", readings)
    assert str(first) == "30 created, 0 updated, 0 unchanged; 1 over-consumption alert(s) queued"
    assert outbox(engine) == ["marie@example.org"] and notices(engine) == 1

    again = import_csv(sql_portal, "readings", readings)
    assert str(again) == "0 created, 0 updated, 30 unchanged"
    assert outbox(engine) == ["marie@example.org"] and notices(engine) == 1


def test_a_rejected_readings_file_queues_nothing(utility, sql_portal, engine, tmp_path):
    readings = tmp_path / "readings.csv"
    readings.write_text(readings_csv("C1", "M1", "2025-01-05", months=14, per_day=150, last_per_day=400)
                        + "C9;M9;2026-03-05;1\n", encoding="utf-8")
    try:
        import_csv(sql_portal, "readings", readings)
    except ImportRejected as rejected:
        assert rejected.lines() == [f"{readings}:17: contract_number: unknown contract 'C9' (import contracts first)"]
    else:
        raise AssertionError("the file was accepted")
    assert outbox(engine) == [] and notices(engine) == 0
