"""Shared fixtures: portals on fakes and on real databases, a web client that can log in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import hypothesis
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from portail_adapters.memory import FixedClock, MemoryDatabase
from portail_adapters.passwords import Argon2Hasher
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_domain.portal import Portal
from portail_web import create_app
from tests.support import BASE_URL, WebClient, make_portal

# Speed is measured by the benchmarks under bench/, never by a test: no per-example deadline
# (a loaded 2-core machine running two workers would make hypothesis' 200 ms one flaky).
hypothesis.settings.register_profile("portail", deadline=None)
hypothesis.settings.load_profile("portail")

PG_URL = os.environ.get("PORTAIL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
pytest_plugins = ["tests.fixtures_smtp", "tests.fixtures_s3"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_answers() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]


_PG_PROBLEM = _postgres_answers()


def pytest_report_header(config: pytest.Config) -> str:
    if _PG_PROBLEM is None:
        return f"PostgreSQL: {make_url(PG_URL).render_as_string(hide_password=True)}"
    return f"PostgreSQL not reachable ({_PG_PROBLEM}): running the SQLite half only"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (and this xdist worker), dropped at the end."""
    if _PG_PROBLEM is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and does not answer: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL not reachable: {_PG_PROBLEM}")
    name = f"portail_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset(engine: Engine) -> None:
    from portail_adapters.sql.tables import metadata

    with engine.begin() as c:
        if c.dialect.name == "postgresql":  # the audit log's append-only triggers stand down for the reset
            c.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(metadata.sorted_tables):
            c.execute(table.delete())


@pytest.fixture(scope="session")
def _pg_engine(postgres_server_url: str) -> Iterator[Engine]:
    engine = create_engine_from_url(postgres_server_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'portail.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(_pg_engine: Engine) -> Iterator[Engine]:
    _reset(_pg_engine)
    yield _pg_engine
    _reset(_pg_engine)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow_factory(request: pytest.FixtureRequest):
    """The same repository test on the in-memory fakes, SQLite and PostgreSQL."""
    if request.param == "memory":
        return MemoryDatabase()
    engine = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))


@pytest.fixture
def memory_portal(clock: FixedClock) -> Portal:
    return make_portal(MemoryDatabase(), clock)


@pytest.fixture
def sql_portal(engine: Engine, clock: FixedClock) -> Portal:
    return make_portal(SqlUnitOfWorkFactory(engine), clock, passwords=Argon2Hasher.fast_for_tests())


@pytest.fixture
def web(memory_portal: Portal) -> Iterator[WebClient]:
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def sql_web(sql_portal: Portal) -> Iterator[WebClient]:
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        yield client
