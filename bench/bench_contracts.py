"""Mes contrats: render time of a contract page with 10 years of monthly readings, and the
number of SQL queries per page (SQLite file database, the app through Starlette's TestClient).

    .venv/bin/python bench/bench_contracts.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from starlette.testclient import TestClient

from portail_adapters.memory import FixedClock, MemoryFileStore, PlainPasswordHasher, SequenceSecrets
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_domain.model.accounts import Account, Subscriber
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, Service
from portail_domain.model.values import EmailAddress, MeterIndex
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.services.contracts import contract_detail
from portail_web import create_app
from portail_web.wiring import web_mail

BASE_URL = "http://127.0.0.1:8000"
PASSWORD = "une-phrase-de-passe-solide"
SOURCES = [ReadingSource.AGENT, ReadingSource.ESTIMATED, ReadingSource.SUBSCRIBER, ReadingSource.REMOTE]


def build(directory: Path, months: int) -> tuple[Portal, object]:
    engine = create_engine_from_url(f"sqlite:///{directory / 'bench.db'}")
    migrate(engine)
    clock = FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    utility = UtilityCard("Régie", "1 place", "c@example.org", "04", "lundi")
    composer, links = web_mail(BASE_URL, utility)
    portal = Portal(
        uow=SqlUnitOfWorkFactory(engine), clock=clock, secrets=SequenceSecrets(), passwords=PlainPasswordHasher(),
        config=PortalConfig(BASE_URL, utility, secret_key=b"k" * 32), composer=composer, links=links,
        files=MemoryFileStore(),
    )
    subscriber = Subscriber(number="100001", name="Marie Dupont", email=EmailAddress.parse("marie@example.org"))
    start = date(2016, 3, 1)
    contract = Contract("C1", subscriber.id, Service.BOTH, "1 rue X", "M1", start)
    readings, index, on = [], 0, start
    for k in range(months + 1):
        readings.append(MeterReading(contract.id, "M1", on, MeterIndex(index), SOURCES[k % len(SOURCES)]))
        days = 28 + k % 4
        index += days * (250 + 40 * (on.month in (6, 7, 8)))
        on += timedelta(days=days)
    with portal.uow() as uow:
        uow.subscribers.add(subscriber)
        uow.accounts.add(Account(password_hash=portal.passwords.hash(PASSWORD), created_at=clock.now(),
                                 subscriber_id=subscriber.id))
        uow.contracts.add(contract)
        uow.readings.add_many(readings)
        uow.commit()
    return portal, engine


def timed(fn, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms   ({len(samples)} rounds)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        portal, engine = build(Path(tmp), args.months)
        with TestClient(create_app(portal), base_url=BASE_URL) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/connexion").text).group(1)
            login = client.post("/connexion", data={"email": "marie@example.org", "password": PASSWORD,
                                                    "csrf_token": token}, follow_redirects=False)
            assert login.status_code == 303, login.text
            print(f"contract with {args.months + 1} monthly readings ({args.months // 12} years), SQLite")
            for path in ("/contrats/C1", "/contrats/C1/consommations.csv", "/contrats", "/"):
                assert client.get(path).status_code == 200  # warm the caches (templates, catalogs)
                queries: list[str] = []

                def count(conn, cursor, statement, *rest, _queries=queries):
                    _queries.append(statement)

                event.listen(engine, "before_cursor_execute", count)
                client.get(path)
                event.remove(engine, "before_cursor_execute", count)
                samples = timed(lambda p=path: client.get(p), args.rounds)
                print(f"GET {path:32} {len(queries)} SQL statements   {summary(samples)}")

            subscriber_id = portal_subscriber(portal)

            def detail_only() -> None:
                with portal.uow() as uow:
                    contract_detail(uow, portal.clock, subscriber_id, "C1")

            print(f"use case contract_detail alone      {summary(timed(detail_only, args.rounds))}")


def portal_subscriber(portal: Portal):
    with portal.uow() as uow:
        return uow.subscribers.by_number("100001").id


if __name__ == "__main__":
    main()
