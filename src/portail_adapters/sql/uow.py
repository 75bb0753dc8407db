"""The SQL unit of work: one pooled connection, one transaction, rolled back unless committed.

A read-only unit of work (``factory(read_only=True)``) refuses ``commit()``, and its
transaction is read-only in the database too: a deferred ``BEGIN`` with ``query_only`` on
SQLite (it never takes the write lock, so it never waits for a writer nor holds one up),
``BEGIN READ ONLY`` on PostgreSQL, or there, for a page read on the event loop
(``per_statement()`` and ``inline()``), autocommit statements on connections that are read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, Generic, Self, TypeVar, overload

from sqlalchemy import Connection, Engine, text

from portail_domain.ports import InlineWriteRefused

from .backoffice import SqlAudit, SqlRecoveryCodes
from .database import page_engine, read_only_options
from .exchange import SqlExchange
from .mandates import SqlMandates
from .privacy import SqlPrivacy
from .publishing import SqlPublishing
from .repositories import (
    SqlAccounts,
    SqlContracts,
    SqlDocuments,
    SqlFolders,
    SqlInstalments,
    SqlInvoices,
    SqlOutbox,
    SqlOverconsumptionNotices,
    SqlPayments,
    SqlReadings,
    SqlReminders,
    SqlRequests,
    SqlSessions,
    SqlStaff,
    SqlSubscribers,
    SqlThrottles,
    SqlTokens,
)
from .request_desk import SqlDashboard, SqlRelief, SqlReplyTemplates

R = TypeVar("R")


class _OnFirstUse(Generic[R]):
    """A unit of work's repository, made on first use from its connection (a page uses a few of the
    twenty-six: making them all cost 5 % of a contract's page) and kept until the unit of work ends."""

    def __init__(self, kind: Callable[[Connection], R]) -> None:
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type | None = None) -> R: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type | None = None) -> Self | R:
        if uow is None:
            return self
        repository = uow.__dict__[self.name] = self.kind(uow.connection)  # found there from now on
        return repository


class SqlUnitOfWork:
    connection: Connection

    subscribers = _OnFirstUse(SqlSubscribers)
    staff = _OnFirstUse(SqlStaff)
    accounts = _OnFirstUse(SqlAccounts)
    sessions = _OnFirstUse(SqlSessions)
    contracts = _OnFirstUse(SqlContracts)
    readings = _OnFirstUse(SqlReadings)
    invoices = _OnFirstUse(SqlInvoices)
    instalments = _OnFirstUse(SqlInstalments)
    reminders = _OnFirstUse(SqlReminders)
    payments = _OnFirstUse(SqlPayments)
    folders = _OnFirstUse(SqlFolders)
    documents = _OnFirstUse(SqlDocuments)
    requests = _OnFirstUse(SqlRequests)
    outbox = _OnFirstUse(SqlOutbox)
    tokens = _OnFirstUse(SqlTokens)
    throttles = _OnFirstUse(SqlThrottles)
    overconsumption_notices = _OnFirstUse(SqlOverconsumptionNotices)
    mandates = _OnFirstUse(SqlMandates)
    exchange = _OnFirstUse(SqlExchange)
    audit = _OnFirstUse(SqlAudit)
    privacy = _OnFirstUse(SqlPrivacy)
    recovery_codes = _OnFirstUse(SqlRecoveryCodes)
    reply_templates = _OnFirstUse(SqlReplyTemplates)
    dashboard = _OnFirstUse(SqlDashboard)
    relief = _OnFirstUse(SqlRelief)
    publishing = _OnFirstUse(SqlPublishing)

    def __init__(self, engine: Engine, *, read_only: bool = False, options: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.read_only = read_only
        self._options = options if options is not None else (read_only_options(engine) if read_only else {})

    def __enter__(self) -> Self:
        self.connection = self.engine.connect()
        if self._options:
            self.connection.execution_options(**self._options)
        self._transaction = self.connection.begin()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()
            for name in _REPOSITORIES & self.__dict__.keys():  # the next __enter__ has a new connection
                del self.__dict__[name]

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._transaction.commit()
        self._transaction = self.connection.begin()

    def rollback(self) -> None:
        self._transaction.rollback()
        self._transaction = self.connection.begin()

    def ping(self) -> bool:
        return self.connection.execute(text("SELECT 1")).scalar() == 1


class SqlUnitOfWorkFactory:
    """``factory()`` gives a fresh unit of work on the shared engine; ``factory(read_only=True)``
    one for pages and reports that only read.

    ``reads_inline``: a read never waits for a lock (SQLite in WAL: readers do not wait for the
    writer; PostgreSQL: MVCC), and a page's read is a few hundred microseconds of the process's
    own CPU plus, on PostgreSQL, a few round trips, so a server may run a read-only use case on
    its event loop rather than hand it to a thread, as a synchronous worker would. Under load
    the thread costs more than the read: each of its queries gives the GIL back and waits to take
    it again from the thread rendering pages (``/factures`` served twice as many requests
    without it on SQLite, a third more on PostgreSQL). Inside ``inline()`` a writing unit of work
    is refused (``InlineWriteRefused``): it could wait for a lock (SQLite's write lock, up to the
    busy timeout; a row lock) and hold up every request of the process.
    """

    reads_inline = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_only_options = read_only_options(engine)
        self._page_engine = page_engine(engine)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        if not read_only:
            if _INLINE.get():
                raise InlineWriteRefused("a use case run inline as a read opened a writing unit of work")
            return SqlUnitOfWork(self.engine, options={})
        if self._page_engine is not None and _PER_STATEMENT.get() and _INLINE.get():
            return SqlUnitOfWork(self._page_engine, read_only=True, options={})  # read-only connections
        return SqlUnitOfWork(self.engine, read_only=True, options=self._read_only_options)

    def inline(self) -> AbstractContextManager[None]:
        """Mark the block as a read run on the event loop: a writing unit of work in it raises."""
        return _raised(_INLINE)

    def per_statement(self) -> AbstractContextManager[None]:
        """Let the read-only units of work opened in the block see each statement's own snapshot.

        For a page: what it shows may mix two commits made while it was being read (an import's
        invoices, and the mandates from just before it), as any page read again a moment later
        would. In exchange, on PostgreSQL its reads run inline (``inline()``) go to the
        connections of ``database.page_engine``, in autocommit and read-only for their whole life:
        no ``BEGIN READ ONLY`` and ``ROLLBACK`` round trips per unit of work. In a thread they keep
        the usual read-only transaction (that small pool is the loop's). Exports and reports keep
        one snapshot; SQLite, in-process, has no round trips to save and keeps it too.
        """
        return _raised(_PER_STATEMENT)


@contextmanager
def _raised(flag: ContextVar[bool]) -> Iterator[None]:
    """``flag`` is True in the block (and in the threads it hands work to), and back to what it was after it."""
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


_REPOSITORIES = frozenset(name for name, value in vars(SqlUnitOfWork).items() if isinstance(value, _OnFirstUse))

_INLINE: ContextVar[bool] = ContextVar("portail_inline_read", default=False)
_PER_STATEMENT: ContextVar[bool] = ContextVar("portail_per_statement_read", default=False)
