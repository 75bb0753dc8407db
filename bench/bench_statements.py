"""What one statement of a page costs, on SQLite and on PostgreSQL.

Imports a small generated utility (50 subscribers x 24 invoices x 20 readings) with `portail
import`, then runs, as a page does (a read-only unit of work opened inline, inside
``per_statement()``), each of: an empty unit of work, ``SELECT 1``, a subscriber's contracts, a
subscriber's 24 invoices, and a session look-up that finds nothing, a few thousand times each.
Prints, per statement: wall time, and the process's own user and system CPU time (getrusage of
the thread). The wall time minus the CPU is the wait for the database's answer, which a worker
reading its pages on its event loop cannot spend on another page.

    python bench/bench_statements.py
    python bench/bench_statements.py --times 10000 --databases postgresql
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import KINDS, generate  # noqa: E402 - a sibling script
from bench_pages import portail  # noqa: E402 - a sibling script
from scratch_pg import scratch_databases  # noqa: E402 - a sibling module

from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url  # noqa: E402
from portail_domain.ports import UnitOfWork  # noqa: E402


def timed(label: str, fn: Callable[[], object], times: int) -> str:
    for _ in range(max(times // 10, 10)):  # warm up: pooled connections, prepared statements, caches
        fn()
    before, started = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
    for _ in range(times):
        fn()
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_THREAD)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return (f"| {label} | {wall / times * 1e6:,.0f} | {user / times * 1e6:,.0f} | {system / times * 1e6:,.0f} | "
            f"{max(wall - user - system, 0) / times * 1e6:,.0f} |")


def measure(label: str, url: str, folder: Path, times: int) -> list[str]:
    work = folder / label
    (work / "mail").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    env.update({"PORTAIL_DATABASE_URL": url, "PORTAIL_FILES_URL": f"file://{work / 'files'}",
                "PORTAIL_MAIL_URL": f"file://{work / 'mail'}", "PORTAIL_LOG_LEVEL": "WARNING"})
    portail(env, work, "migrate")
    for kind in KINDS:
        portail(env, work, "import", kind, str(folder / f"{kind}.csv"))
    engine = create_engine_from_url(url)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        with factory(read_only=True) as uow:
            subscriber = uow.subscribers.by_number("1000025")
            assert subscriber is not None
        subscriber_id: uuid.UUID = subscriber.id

        def page(body: Callable[[UnitOfWork], object]) -> Callable[[], object]:
            def run() -> object:
                with factory(read_only=True) as uow:
                    return body(uow)
            return run

        cases: list[tuple[str, Callable[[UnitOfWork], object]]] = [
            ("an empty unit of work", lambda uow: None),
            ("`SELECT 1`", lambda uow: uow.connection.execute(text("SELECT 1")).all()),  # type: ignore[attr-defined]
            ("a subscriber's contracts (1 row)", lambda uow: uow.contracts.for_subscriber(subscriber_id)),
            ("a subscriber's invoices (24 rows)", lambda uow: uow.invoices.for_subscriber(subscriber_id)),
            ("a session look-up that finds none", lambda uow: uow.sessions.identity("0" * 64)),
        ]
        lines = [f"### {label} ({times:,} times each; µs per statement)", "",
                 "| statement | wall | user CPU | system CPU | waiting |", "| --- | --- | --- | --- | --- |"]
        with factory.per_statement(), factory.inline():
            for name, body in cases:
                lines.append(timed(name, page(body), times))
                print(lines[-1], flush=True)
        return [*lines, ""]
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=3000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="portail-bench-statements-") as tmp:
        folder = Path(tmp)
        generate(folder, 50, months=24, readings=20)
        for label in args.databases.split(","):
            if label == "sqlite":
                report += measure("sqlite", f"sqlite:///{folder / 'portail.db'}", folder, args.times)
            elif label == "postgresql":
                with scratch_databases("portail_bench_statements") as urls:
                    if urls is not None:
                        report += measure("postgresql", urls[0], folder, args.times)
    print("\n".join(["", f"command: python bench/bench_statements.py {' '.join(sys.argv[1:])}".rstrip(), "",
                     *report]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
