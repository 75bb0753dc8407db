"""Engines and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).parent / "migrations"


# Requests one process serves at once: the web app's thread pool has this many threads and the
# connection pool this many connections, so no thread waits for a connection and none is opened
# and closed under load. The overflow only serves a thread that nests a second unit of work.
CONCURRENCY = 16
OVERFLOW = 4
RECYCLE_AFTER = 1800  # seconds: a connection is replaced before a server or firewall idle cut
CONNECT_TIMEOUT = 5  # seconds to open a PostgreSQL connection
READ_ONLY = "portail_read_only"  # execution option of a read-only unit of work on SQLite (its "begin" hook reads it)


def create_engine_from_url(url: str, *, pool_size: int = CONCURRENCY, **kwargs: Any) -> Engine:
    """An engine set up for the portal, with a pool of ``pool_size`` connections.

    SQLite: WAL, foreign keys, a busy timeout, set once per connection; writers serialise with
    ``BEGIN IMMEDIATE`` (concurrent writers wait instead of failing); read-only units of work
    take a deferred ``BEGIN`` (no write lock, a consistent snapshot) with ``query_only`` on.
    PostgreSQL: read-only units of work run ``BEGIN READ ONLY``; a page's reads run without a
    transaction, each statement read-only, on a pool of their own (``page_engine``). No ping on checkout: a
    connection the server dropped fails its statement, SQLAlchemy invalidates the pool on that
    disconnect error, and ``pool_recycle`` replaces connections before idle cuts.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database or "", pool_size, **kwargs)
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", OVERFLOW)
    kwargs.setdefault("pool_recycle", RECYCLE_AFTER)
    kwargs.setdefault("pool_pre_ping", False)
    if "connect_timeout" not in parsed.query:
        # Pages read on the event loop (portail_web.reads): a server that does not answer must
        # not hold a worker for the system's TCP timeout (minutes). The URL may say otherwise.
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        _PAGE_ENGINES[engine] = _page_engine(engine, parsed, kwargs.get("connect_args", {}))
    return engine


# A page's reads, run on the event loop one after the other, need one connection (two when a use
# case nests a unit of work); the overflow is a margin, never a wait of the loop for a connection.
PAGE_READERS = 2

_PAGE_ENGINES: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def page_engine(engine: Engine) -> Engine | None:
    """The engine of a page's reads beside ``engine`` (PostgreSQL, made by ``create_engine_from_url``), or None."""
    return _PAGE_ENGINES.get(engine)


def _page_engine(engine: Engine, url: URL, connect_args: dict[str, Any]) -> Engine:
    """A small pool of connections that are in autocommit and read-only for their whole life.

    A page's read-only units of work read inline run there (``SqlUnitOfWorkFactory.per_statement``):
    no ``BEGIN READ ONLY`` and ``ROLLBACK`` round trips (four of ``/factures``'s eight), and
    nothing set on a connection as it is checked out and reset as it goes back, which cost a
    seventh of a page's own CPU when the pages' connections took turns with the writers'. The database still
    refuses their writes: every connection opens with ``default_transaction_read_only``. Disposed
    with ``engine``.
    """
    read_only = "-c default_transaction_read_only=on"
    given = connect_args.get("options") or url.query.get("options") or ""  # the caller's own first
    options = " ".join(filter(None, [str(given), read_only]))
    pages = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=PAGE_READERS, max_overflow=PAGE_READERS,
                          pool_recycle=RECYCLE_AFTER, pool_pre_ping=False, pool_reset_on_return=None,
                          connect_args={**connect_args, "options": options})
    event.listen(engine, "engine_disposed", lambda _engine: pages.dispose())
    return pages


def _sqlite_engine(url: str, database: str, pool_size: int, **kwargs: Any) -> Engine:
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("poolclass", QueuePool)
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", OVERFLOW)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        record.info[READ_ONLY] = False

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        pooled = connection.connection
        driver = pooled.driver_connection
        assert driver is not None  # "begin" fires on a checked-out, open connection
        if pooled.info.get(READ_ONLY) != read_only:
            # query_only makes a write in a read-only unit of work fail, as on PostgreSQL; it is
            # an in-process flag (no I/O), switched only when the pooled connection changes role.
            driver.execute(f"PRAGMA query_only={int(read_only)}")
            pooled.info[READ_ONLY] = read_only
        # Straight to the driver: SQLAlchemy's statement pipeline cost 5 % of a loaded page for one BEGIN.
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached now (down, restarting, refusing
    connections, a connection cut mid-statement): a retry later may work, unlike a bug."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def refresh_statistics(engine: Engine) -> None:
    """After a bulk write, let PostgreSQL's planner see the new row counts (``ANALYZE``).

    Autovacuum does it in its own time; until then a table that grew from 40,000 to 240,000 rows
    in one import is planned as the small one: a subscriber's invoices were read by a sequential
    scan of the whole table (75 ms instead of 2.5 ms, measured after a 10,000-subscriber import).
    SQLite plans with its indexes without statistics: nothing to do there.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def read_only_options(engine: Engine) -> dict[str, Any]:
    """The execution options of a read-only unit of work's connection on this engine."""
    if engine.dialect.name == "postgresql":
        return {"postgresql_readonly": True}
    return {READ_ONLY: True}


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (the latest by default)."""
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


def pending_migrations(engine: Engine) -> bool:
    """True when the database is not at the latest revision."""
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != set(script.get_heads())
