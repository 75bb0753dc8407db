"""Units of work on memory, SQLite and PostgreSQL: read-only ones, and the connection pool."""

from __future__ import annotations

import threading

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_adapters.sql.database import page_engine
from portail_domain.model.accounts import Subscriber


def _subscriber(number: str = "100001") -> Subscriber:
    return Subscriber(number=number, name="Marie Dupont")


def test_a_read_only_unit_of_work_reads_and_refuses_to_commit(uow_factory):
    with uow_factory() as uow:
        uow.subscribers.add(_subscriber())
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.subscribers.by_number("100001") is not None
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()
    with uow_factory() as uow:
        assert [s.number for s in uow.subscribers.list()] == ["100001"]


def test_a_unit_of_work_entered_again_reads_and_writes_on_its_new_connection(engine):
    uow = SqlUnitOfWorkFactory(engine)()
    with uow:
        uow.subscribers.add(_subscriber("100001"))
        first = uow.subscribers.connection
        uow.commit()
    with uow:  # its repositories are made again, on this connection: the closed one would raise
        assert uow.subscribers.connection is uow.connection is not first
        uow.subscribers.add(_subscriber("100002"))
        uow.commit()
    with SqlUnitOfWorkFactory(engine)(read_only=True) as reader:
        assert [s.number for s in reader.subscribers.list()] == ["100001", "100002"]


def test_the_database_refuses_a_write_in_a_read_only_unit_of_work(engine):
    factory = SqlUnitOfWorkFactory(engine)
    with factory(read_only=True) as uow, pytest.raises(DBAPIError):
        uow.subscribers.add(_subscriber())
    with factory() as uow:  # the same pooled connection writes again once it is a writer's
        uow.subscribers.add(_subscriber())
        uow.commit()
    with factory(read_only=True) as uow:
        assert uow.subscribers.by_number("100001") is not None


def test_a_writer_proceeds_while_a_reader_is_open(engine):
    factory = SqlUnitOfWorkFactory(engine)
    written = threading.Event()

    def write() -> None:
        with factory() as uow:
            uow.subscribers.add(_subscriber("100002"))
            uow.commit()
        written.set()

    with factory(read_only=True) as reader:
        assert reader.subscribers.by_number("100002") is None  # the reader's snapshot has begun
        writer = threading.Thread(target=write)
        writer.start()
        # On SQLite a reader holding the write lock (BEGIN IMMEDIATE) would keep the writer
        # waiting for the whole busy timeout (30 s).
        assert written.wait(5), "the writer waited for a read-only unit of work"
        writer.join()
    with factory(read_only=True) as uow:
        assert uow.subscribers.by_number("100002") is not None


def test_sqlite_pragmas_run_once_per_pooled_connection(tmp_path):
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'pool.db'}")
    migrate(engine)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    connects: list[object] = []
    event.listen(engine, "connect", lambda *args: connects.append(args[0]))
    factory = SqlUnitOfWorkFactory(engine)
    for n in range(20):
        with factory(read_only=n % 2 == 0) as uow:
            uow.subscribers.by_number("100001")
    assert connects == []  # the migration's connection is reused
    assert not any("PRAGMA" in statement for statement in seen)
    engine.dispose()


def test_units_of_work_reuse_pooled_connections(engine):
    connects: list[object] = []

    def connected(dbapi_connection: object, record: object) -> None:
        connects.append(dbapi_connection)

    event.listen(engine, "connect", connected)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        for n in range(20):
            with factory(read_only=n % 2 == 0) as uow:
                uow.ping()
        assert len(connects) <= 1
    finally:
        event.remove(engine, "connect", connected)


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced_without_a_ping(pg_engine):
    factory = SqlUnitOfWorkFactory(pg_engine)
    # the other connection is taken while the unit of work holds its own: with a single idle
    # connection in the pool, taking it afterwards would hand back the one to be terminated
    with pg_engine.connect() as other:
        with factory(read_only=True) as uow:
            pid = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    failures = 0
    try:
        # the pool hands its idle connections out in turn: going round it once reaches the dropped
        # one, which fails its first statement once and is replaced (with the connections opened
        # before it); every unit of work after that works
        for _ in range(pg_engine.pool.checkedin() + 1):
            try:
                with factory(read_only=True) as uow:
                    assert uow.ping()
            except DBAPIError as exc:
                assert exc.connection_invalidated
                failures += 1
        assert failures <= 1
        with factory(read_only=True) as uow:
            assert uow.ping()
    finally:
        pg_engine.dispose()  # never leave a dead connection to the next test on this engine


@pytest.mark.postgres
def test_a_pages_reads_on_the_loop_open_no_transaction_on_postgresql_yet_cannot_write(pg_engine):
    # its own engine, so that the pools below are this test's alone
    engine = create_engine_from_url(pg_engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    factory, pages = SqlUnitOfWorkFactory(engine), page_engine(engine)
    assert pages is not None

    def in_transaction(uow) -> bool:
        uow.subscribers.by_number("100001")
        return uow.connection.connection.driver_connection.info.transaction_status != TransactionStatus.IDLE

    try:
        with factory(read_only=True) as uow:
            assert in_transaction(uow) and uow.engine is engine  # BEGIN READ ONLY … ROLLBACK: one snapshot
        with factory.per_statement():
            with factory(read_only=True) as uow:  # in a thread, a page's reads keep their transaction
                assert in_transaction(uow) and uow.engine is engine
            with factory.inline():
                with factory(read_only=True) as uow:
                    assert not in_transaction(uow)  # on the loop: no BEGIN, no ROLLBACK round trips
                    assert uow.engine is pages
                with factory(read_only=True) as uow, pytest.raises(DBAPIError, match="read-only"):
                    uow.subscribers.add(_subscriber())
            with factory() as uow:  # a writer, even inside the block, writes
                uow.subscribers.add(_subscriber())
                uow.commit()
        with factory.per_statement(), factory.inline(), factory(read_only=True) as uow:
            assert uow.subscribers.by_number("100001").name == "Marie Dupont"  # each statement sees the commits
        assert pages.pool.checkedin() >= 1 and engine.pool.checkedin() == 1
    finally:
        engine.dispose()
    assert pages.pool.checkedin() == 0  # disposed with its engine


@pytest.mark.postgres
def test_the_pages_pool_keeps_the_options_the_url_gives(pg_engine):
    url = pg_engine.url.update_query_dict({"options": "-c statement_timeout=4321"})
    engine = create_engine_from_url(url.render_as_string(hide_password=False))
    try:
        with page_engine(engine).connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
            assert connection.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
        with engine.connect() as connection:  # the main pool: the URL's options, and writable
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "4321ms"
            assert connection.execute(text("SHOW default_transaction_read_only")).scalar() == "off"
    finally:
        engine.dispose()


def test_a_pages_reads_cannot_write_either(engine):
    factory = SqlUnitOfWorkFactory(engine)
    with factory.per_statement(), factory(read_only=True) as uow, pytest.raises(DBAPIError):
        uow.subscribers.add(_subscriber())
    with factory(read_only=True) as uow:
        assert uow.subscribers.by_number("100001") is None


def test_a_postgresql_server_that_does_not_answer_is_given_up_on_after_a_few_seconds():
    import socket
    import time

    with socket.socket() as silent:  # accepts the TCP connection, never answers libpq
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        engine = create_engine_from_url(f"postgresql+psycopg://nobody@127.0.0.1:{silent.getsockname()[1]}/portail")
        failures: list[BaseException] = []

        def connect() -> None:
            try:
                engine.connect()
            except DBAPIError as exc:
                failures.append(exc)

        started = time.monotonic()
        attempt = threading.Thread(target=connect, daemon=True)  # without a timeout it would wait for ever
        attempt.start()
        attempt.join(15)
        assert failures and time.monotonic() - started < 10
        engine.dispose()
