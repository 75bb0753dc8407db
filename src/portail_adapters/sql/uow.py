"""The SQL unit of work: one pooled connection, one transaction, rolled back unless committed.

A read-only unit of work (``factory(read_only=True)``) refuses ``commit()``, and its
transaction is read-only in the database too: a deferred ``BEGIN`` with ``query_only`` on
SQLite (it never takes the write lock, so it never waits for a writer nor holds one up),
``BEGIN READ ONLY`` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import Connection, Engine, text

from .backoffice import SqlAudit, SqlRecoveryCodes
from .database import read_only_options
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


class SqlUnitOfWork:
    connection: Connection

    def __init__(self, engine: Engine, *, read_only: bool = False, options: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.read_only = read_only
        self._options = options if options is not None else (read_only_options(engine) if read_only else {})

    def __enter__(self) -> Self:
        self.connection = self.engine.connect()
        if self._options:
            self.connection.execution_options(**self._options)
        self._transaction = self.connection.begin()
        c = self.connection
        self.subscribers = SqlSubscribers(c)
        self.staff = SqlStaff(c)
        self.accounts = SqlAccounts(c)
        self.sessions = SqlSessions(c)
        self.contracts = SqlContracts(c)
        self.readings = SqlReadings(c)
        self.invoices = SqlInvoices(c)
        self.instalments = SqlInstalments(c)
        self.reminders = SqlReminders(c)
        self.payments = SqlPayments(c)
        self.folders = SqlFolders(c)
        self.documents = SqlDocuments(c)
        self.requests = SqlRequests(c)
        self.outbox = SqlOutbox(c)
        self.tokens = SqlTokens(c)
        self.throttles = SqlThrottles(c)
        self.overconsumption_notices = SqlOverconsumptionNotices(c)
        self.mandates = SqlMandates(c)
        self.exchange = SqlExchange(c)
        self.audit = SqlAudit(c)
        self.privacy = SqlPrivacy(c)
        self.recovery_codes = SqlRecoveryCodes(c)
        self.reply_templates = SqlReplyTemplates(c)
        self.dashboard = SqlDashboard(c)
        self.relief = SqlRelief(c)
        self.publishing = SqlPublishing(c)
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
    """``factory()`` gives a fresh unit of work on the shared engine; ``factory(read_only=True)``
    one for pages and reports that only read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_only_options = read_only_options(engine)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only, options=self._read_only_options if read_only else {})
