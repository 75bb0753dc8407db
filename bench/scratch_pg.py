"""Throwaway PostgreSQL databases for the benchmarks: created, handed over as URLs, dropped at the end.

Not a benchmark itself (``make bench`` runs ``bench_*.py``); the scripts beside it import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("PORTAIL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_databases(*prefixes: str) -> Iterator[list[str] | None]:
    """One new database per prefix (``<prefix>_<pid>``), as URLs; None, with a line saying why, when
    no PostgreSQL answers. The databases are dropped (``WITH (FORCE)``) when the block ends."""
    names = [f"{prefix}_{os.getpid()}" for prefix in prefixes]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as c:
            for name in names:
                c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server: the benchmark goes on without it
        print(f"postgresql: skipped ({str(exc).splitlines()[0]})")
        admin.dispose()
        yield None
        return
    try:
        yield [make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with admin.connect() as c:
            for name in names:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
