"""Reads run on the event loop (SQLite and PostgreSQL); writers never do."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_domain.ports import InlineWriteRefused
from portail_web.reads import read
from tests.support import add_invoice, add_subscriber, make_portal, statements

PASSWORD = "une phrase de passe assez longue"


def run_loop(main):
    """``asyncio.run(main())`` in a thread of its own: a browser test's loop may be running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def test_reads_are_inline_and_a_writer_is_refused_there(engine):
    factory = SqlUnitOfWorkFactory(engine)
    assert factory.reads_inline
    with factory.inline():
        with factory(read_only=True) as uow:
            assert uow.ping()
        with pytest.raises(InlineWriteRefused):
            factory()
    with factory() as uow:  # outside the block, writers open as always
        uow.connection.execute(text("SELECT 1"))


def test_a_read_that_writes_this_time_runs_again_in_a_thread_and_writes_once(engine, clock):
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    marie = add_subscriber(portal)
    runs: list[tuple[int, bool]] = []

    def read_then_maybe_write(write: bool) -> str:
        runs.append((threading.get_ident(), write))
        with portal.uow(read_only=True) as uow:
            number = uow.subscribers.get(marie.id).number
        if write:
            with portal.uow() as uow:
                add = text("UPDATE subscribers SET name = name || '!' WHERE id = :id")
                uow.connection.execute(add, {"id": marie.id.hex})
                uow.commit()
        return number

    async def main() -> tuple[str, str, int]:
        loop_thread = threading.get_ident()
        return await read(portal, read_then_maybe_write, False), await read(portal, read_then_maybe_write, True), \
            loop_thread

    plain, writing, loop_thread = run_loop(main)
    assert plain == writing == marie.number
    assert runs[0] == (loop_thread, False)  # the read, on the event loop
    assert runs[1] == (loop_thread, True) and runs[2][0] != loop_thread  # refused there, then in a thread
    with portal.uow(read_only=True) as uow:
        assert uow.subscribers.get(marie.id).name == marie.name + "!"  # written once


def test_pages_read_inline_and_last_seen_is_still_written_once_a_minute(sql_portal, sql_web, clock, engine):
    marie = add_subscriber(sql_portal, password=PASSWORD)
    add_invoice(sql_portal, marie, "F2026-0042")
    sql_web.login("marie@example.org", PASSWORD)

    def last_seen():
        with engine.connect() as connection:
            return connection.execute(text("SELECT last_seen_at FROM web_sessions")).scalar_one()

    first = last_seen()
    assert "F2026-0042" in sql_web.get("/factures").text
    assert last_seen() == first  # within the minute: nothing written
    clock.advance(minutes=2)
    assert "F2026-0042" in sql_web.get("/factures").text
    assert last_seen() != first  # a minute later: written (in a thread, not on the event loop)
    clock.advance(days=400)  # long dead: refused and removed
    assert sql_web.get("/factures", follow_redirects=False).status_code == 303
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM web_sessions")).scalar_one() == 0


def test_requests_of_one_session_arriving_together_write_last_seen_once(sqlite_engine, clock):
    """On SQLite, where the reads run on the loop: the first request writes, the others go on.
    (In threads, on PostgreSQL, a read that ends after the write may write again: harmless.)"""
    from portail_adapters.passwords import Argon2Hasher
    from portail_domain.services.accounts import log_in
    from portail_web.app import create_app
    from portail_web.auth import VisitorMiddleware

    engine = sqlite_engine
    sql_portal = make_portal(SqlUnitOfWorkFactory(engine), clock, passwords=Argon2Hasher.fast_for_tests())
    add_subscriber(sql_portal, password=PASSWORD)
    _account, token = log_in(sql_portal, "marie@example.org", PASSWORD)
    middleware = VisitorMiddleware(create_app(sql_portal), portal=sql_portal)
    clock.advance(minutes=5)

    async def main():
        return await asyncio.gather(*(middleware.identity(token) for _ in range(8)))

    with statements(engine, "UPDATE web_sessions") as updates:
        identities = run_loop(main)
    assert all(identity is not None and str(identity.subscriber.email) == "marie@example.org"
               for identity in identities)
    assert len(updates) == 1


def test_a_pages_reads_run_statement_by_statement_on_postgresql_and_a_reports_in_one_transaction(engine, clock):
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)

    def autocommit() -> bool:
        with portal.uow(read_only=True) as uow:
            assert uow.ping()
            return getattr(uow.connection.connection.dbapi_connection, "autocommit", False) is True

    async def page() -> bool:
        return await read(portal, autocommit)

    assert run_loop(page) == (engine.dialect.name == "postgresql")
    assert not autocommit()  # outside a page (an export, a report): BEGIN READ ONLY as before
