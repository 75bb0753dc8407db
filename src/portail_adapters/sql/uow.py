"""The SQL unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Connection, Engine, text

from .exchange import SqlExchange
from .repositories import (
    SqlAccounts,
    SqlContracts,
    SqlDocuments,
    SqlFolders,
    SqlInvoices,
    SqlOutbox,
    SqlOverconsumptionNotices,
    SqlPayments,
    SqlReadings,
    SqlRequests,
    SqlSessions,
    SqlStaff,
    SqlSubscribers,
    SqlThrottles,
    SqlTokens,
)


class SqlUnitOfWork:
    connection: Connection

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only

    def __enter__(self) -> Self:
        self.connection = self.engine.connect()
        self._transaction = self.connection.begin()
        c = self.connection
        self.subscribers = SqlSubscribers(c)
        self.staff = SqlStaff(c)
        self.accounts = SqlAccounts(c)
        self.sessions = SqlSessions(c)
        self.contracts = SqlContracts(c)
        self.readings = SqlReadings(c)
        self.invoices = SqlInvoices(c)
        self.payments = SqlPayments(c)
        self.folders = SqlFolders(c)
        self.documents = SqlDocuments(c)
        self.requests = SqlRequests(c)
        self.outbox = SqlOutbox(c)
        self.tokens = SqlTokens(c)
        self.throttles = SqlThrottles(c)
        self.overconsumption_notices = SqlOverconsumptionNotices(c)
        self.exchange = SqlExchange(c)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()

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
    """``factory()`` gives a fresh unit of work on the shared engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)
