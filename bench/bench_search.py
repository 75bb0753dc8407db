"""Support's subscriber search (``/agent/abonnes?q=``) at the size of a whole utility.

Loads N subscribers with one contract each through the CSV import (the path that writes the
search keys in production), on SQLite and on PostgreSQL (a fresh database of its own at
127.0.0.1:5432, dropped afterwards), then times the ``search_subscribers`` use case for a set
of queries (numbers, names with and without accents, e-mails, contracts, meters, one letter,
nothing) and prints p50 / p95 per query, and the plan of the key range query.

    .venv/bin/python bench/bench_search.py                        # 100,000 subscribers
    .venv/bin/python bench/bench_search.py --subscribers 10000 --rounds 50

Target: every query under 100 ms (p95) at 100,000 subscribers on both databases.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scratch_pg import scratch_databases  # a sibling module (the script's folder is on the path)
from sqlalchemy import text
from sqlalchemy.engine import Engine

from portail_adapters.exchange_csv import import_csv
from portail_adapters.memory import FixedClock, MemoryFileStore, PlainPasswordHasher, SequenceSecrets
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_domain.model.support import prefix_end
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.services.support import search_subscribers
from portail_web.wiring import web_mail

BASE_URL = "http://127.0.0.1:8000"
TARGET_MS = 100

FIRST = ["Marie", "Jean", "Élodie", "Pierre", "Anne", "Michel", "Hélène", "François", "Zoé", "Loïc", "Chloé",
         "Jérôme", "Sophie", "Luc", "Inès", "André", "Noël", "Camille", "Benoît", "Agnès"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
        "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
        "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin"]


def queries(subscribers: int) -> list[tuple[str, str]]:
    """(what is looked for, the query typed), for subscribers that exist at this size."""
    n = subscribers * 54321 // 100000
    number = str(1_000_000 + n)
    return [
        ("subscriber number, exact", number),
        ("subscriber number, prefix", number[:-2]),
        ("name, common surname", "martin"),
        ("name, first word + initial", "jean d"),
        ("name, accents typed", "Lefèvre"),
        ("name, accents not typed", "helene"),
        ("e-mail, prefix", f"abonne{n}@"),
        ("contract number", f"C-{number}"),
        ("meter number, prefix", f"m{number[:-2]}"),
        ("one letter", "d"),
        ("no match", "zzzz"),
    ]


def generate(folder: Path, subscribers: int) -> None:
    rng = random.Random(34230)
    with ((folder / "subscribers.csv").open("w", newline="", encoding="utf-8") as s_file,
          (folder / "contracts.csv").open("w", newline="", encoding="utf-8") as c_file):
        s_out, c_out = csv.writer(s_file, delimiter=";"), csv.writer(c_file, delimiter=";")
        s_out.writerow(["subscriber_number", "name", "email", "phone", "address", "postal_code", "city",
                        "activation_code"])
        c_out.writerow(["contract_number", "subscriber_number", "service", "supply_address", "meter_number",
                        "start_date", "end_date"])
        for n in range(subscribers):
            number = str(1_000_000 + n)
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            s_out.writerow([number, name, f"abonne{n}@example.org", "", "1 rue de la Fontaine", "34230", "Paulhan",
                            ""])
            c_out.writerow([f"C-{number}", number, "both", "1 rue de la Fontaine, 34230 Paulhan", f"M{number}",
                            "2020-01-01", ""])


def portal_on(engine: Engine) -> Portal:
    utility = UtilityCard("Régie", "1 place", "c@example.org", "04", "lundi")
    composer, links = web_mail(BASE_URL, utility)
    return Portal(uow=SqlUnitOfWorkFactory(engine), clock=FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)),
                  secrets=SequenceSecrets(), passwords=PlainPasswordHasher(),
                  config=PortalConfig(BASE_URL, utility, secret_key=b"k" * 32), composer=composer, links=links,
                  files=MemoryFileStore())


def plan(engine: Engine, prefix: str) -> str:
    sql = ("SELECT key, subscriber_id, kind, label FROM subscriber_search WHERE key >= :p AND key < :e "
           "ORDER BY key, subscriber_id LIMIT 200")
    params = {"p": prefix, "e": prefix_end(prefix)}
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            return "; ".join(str(r[-1]) for r in c.execute(text("EXPLAIN QUERY PLAN " + sql), params))
        return "; ".join(r[0].strip() for r in c.execute(text("EXPLAIN " + sql), params))


def bench(label: str, engine: Engine, folder: Path, subscribers: int, rounds: int) -> bool:
    migrate(engine)
    portal = portal_on(engine)
    started = time.perf_counter()
    for kind in ("subscribers", "contracts"):
        import_csv(portal, kind, folder / f"{kind}.csv")
    with engine.connect() as c:
        keys = c.execute(text("SELECT count(*) FROM subscriber_search")).scalar_one()
        c.execute(text("ANALYZE"))  # what autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would do
        c.commit()
    print(f"{label}: {subscribers:,} subscribers and contracts imported in {time.perf_counter() - started:.1f} s, "
          f"{keys:,} search keys", flush=True)
    print(f"{label}: plan of one key range: {plan(engine, 'martin')}")
    ok = True
    for what, query in queries(subscribers):
        search_subscribers(portal, query)  # warm the caches, as a running portal's are
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = search_subscribers(portal, query)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p50, p95 = statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
        ok &= p95 < TARGET_MS
        found = f"{len(result.hits)}{'+' if result.more else ''}"
        print(f"{label:10} {what:28} {query!r:16} {found:>4} found   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("BENCH_SUBSCRIBERS", "100000")))
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; target p95 < {TARGET_MS} ms")
    ok = True
    with tempfile.TemporaryDirectory(prefix="portail-bench-") as tmp:
        folder = Path(tmp)
        generate(folder, args.subscribers)
        for label in args.databases.split(","):
            if label == "sqlite":
                engine = create_engine_from_url(f"sqlite:///{folder / 'bench.db'}")
                try:
                    ok &= bench("sqlite", engine, folder, args.subscribers, args.rounds)
                finally:
                    engine.dispose()
            elif label == "postgresql":
                ok &= bench_postgresql(folder, args.subscribers, args.rounds)
    print("target met" if ok else f"TARGET MISSED: some p95 is {TARGET_MS} ms or more")
    return 0


def bench_postgresql(folder: Path, subscribers: int, rounds: int) -> bool:
    with scratch_databases("portail_bench_search") as urls:
        if urls is None:
            return True
        engine = create_engine_from_url(urls[0])
        try:
            return bench("postgresql", engine, folder, subscribers, rounds)
        finally:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
