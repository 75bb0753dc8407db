"""The exchange repository on SQL: a few statements per chunk of rows, batched writes.

Reads look a whole chunk up at once (``IN`` on an indexed natural key); writes go out as one
``executemany`` per chunk (SQLAlchemy sends multi-row ``INSERT … VALUES`` batches to
PostgreSQL). The keys an import has seen live in a temporary table, so a file of millions
of rows never holds them in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from portail_domain.model.accounts import Subscriber
from portail_domain.model.billing import Invoice, PaymentStatus
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, ReadingStatus
from portail_domain.model.exchange import PaymentLine, ReadingLine, RequestLine
from portail_domain.model.schedules import Instalment
from portail_domain.model.values import MeterIndex, Money

from . import mapping as m
from . import search as search_keys
from . import tables as t

# Not in the schema: created per import, gone with the transaction (PostgreSQL) or connection (SQLite).
seen_keys = Table("exchange_seen", MetaData(), Column("key", Text, primary_key=True), Column("line", Integer))

_CREATE_SEEN = {
    # A bigger page cache for this connection only: the tables' random-UUID indexes are
    # written all over, and the default 2 MiB cache makes each row a page miss. Bounded, so
    # memory still does not grow with the file.
    "sqlite": ["PRAGMA cache_size = -65536", "DROP TABLE IF EXISTS temp.exchange_seen",
               "CREATE TEMP TABLE exchange_seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL)"],
    "postgresql": ["DROP TABLE IF EXISTS pg_temp.exchange_seen",
                   "CREATE TEMP TABLE exchange_seen (key TEXT PRIMARY KEY, line INTEGER NOT NULL) ON COMMIT DROP"],
}
STREAM = 2000  # rows fetched at a time by exports


class SqlExchange:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- import: scratch state

    def start_import(self) -> None:
        for statement in _CREATE_SEEN[self.connection.dialect.name]:
            self.connection.execute(text(statement))

    def remember_keys(self, kind: str, keys: Mapping[str, int]) -> dict[str, int]:
        if not keys:
            return {}
        # Plain strings and integers: straight to the driver, without SQLAlchemy's per-row work.
        cursor = self.connection.connection.cursor()
        try:
            if self._postgresql:
                cursor.execute("SELECT key, line FROM exchange_seen WHERE key = ANY(%s)", [list(keys)])
                earlier = dict(cursor.fetchall())
                with cursor.copy("COPY exchange_seen (key, line) FROM STDIN") as copy:
                    for item in keys.items():
                        if item[0] not in earlier:
                            copy.write_row(item)
            else:
                earlier = {}
                batch = list(keys)
                for start in range(0, len(batch), 900):  # SQLite's bound-parameter limit, with room
                    part = batch[start:start + 900]
                    marks = ",".join("?" * len(part))  # placeholders only: the keys are bound
                    cursor.execute(f"SELECT key, line FROM exchange_seen WHERE key IN ({marks})", part)  # noqa: S608
                    earlier.update(cursor.fetchall())
                cursor.executemany("INSERT INTO exchange_seen (key, line) VALUES (?, ?)",
                                   [item for item in keys.items() if item[0] not in earlier])
        finally:
            cursor.close()
        return earlier

    @property
    def _postgresql(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    # -- import: lookups, one statement per chunk

    def _by(self, table: Table, column: str, values: Collection[Any], from_row: Callable[[Any], Any]) -> list[Any]:
        if not values:
            return []
        q = select(table).where(table.c[column].in_(list(values)))
        return [from_row(r) for r in self.connection.execute(q).mappings()]

    def subscribers_by_number(self, numbers: Collection[str]) -> dict[str, Subscriber]:
        return {s.number: s for s in self._by(t.subscribers, "number", numbers, m.subscriber_from_row)}

    def subscribers_by_id(self, subscriber_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Subscriber]:
        return {s.id: s for s in self._by(t.subscribers, "id", subscriber_ids, m.subscriber_from_row)}

    def with_account(self, subscriber_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        if not subscriber_ids:
            return set()
        c = t.accounts.c
        return set(self.connection.execute(select(c.subscriber_id).where(c.subscriber_id.in_(list(subscriber_ids))))
                   .scalars())

    def contracts_by_number(self, numbers: Collection[str]) -> dict[str, Contract]:
        return {c.number: c for c in self._by(t.contracts, "number", numbers, m.contract_from_row)}

    def invoices_by_number(self, numbers: Collection[str]) -> dict[str, Invoice]:
        return {i.number: i for i in self._by(t.invoices, "number", numbers, m.invoice_from_row)}

    def latest_readings(self, contract_ids: Collection[uuid.UUID]) -> dict[tuple[uuid.UUID, str], MeterReading]:
        if not contract_ids:
            return {}
        c = t.meter_readings.c
        rank = func.row_number().over(partition_by=(c.contract_id, c.meter_number), order_by=c.read_on.desc())
        ranked = select(t.meter_readings, rank.label("rank")).where(c.contract_id.in_(list(contract_ids))).subquery()
        q = select(*[ranked.c[col.name] for col in t.meter_readings.columns]).where(ranked.c.rank == 1)
        found = (m.reading_from_row(r) for r in self.connection.execute(q).mappings())
        return {(r.contract_id, r.meter_number): r for r in found}

    def readings_of(self, contract_ids: Collection[uuid.UUID]) -> list[MeterReading]:
        return self._by(t.meter_readings, "contract_id", contract_ids, m.reading_from_row)

    def document_hashes(self, document_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not document_ids:
            return {}
        c = t.documents.c
        q = select(c.id, c.sha256).where(c.id.in_(list(document_ids)))
        return {i: sha for i, sha in self.connection.execute(q)}

    def instalments_of(self, contract_ids: Collection[uuid.UUID]) -> dict[tuple[uuid.UUID, date], Instalment]:
        found = self._by(t.instalments, "contract_id", contract_ids, m.instalment_from_row)
        return {(i.contract_id, i.due_on): i for i in found}

    # -- import: batched writes

    def _save(self, table: Table, to_row: Callable[[Any], dict[str, Any]], new: Sequence[Any],
              changed: Sequence[Any]) -> None:
        self._insert_rows(table, [to_row(e) for e in new])
        if changed:
            columns = [col.name for col in table.columns if col.name != "id"]
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({name: bindparam(f"b_{name}") for name in columns})
            )
            self.connection.execute(statement, [{f"b_{k}": v for k, v in to_row(e).items()} for e in changed])

    def _copy(self, table: Table, rows: Iterator[dict[str, Any]]) -> None:
        """PostgreSQL's COPY: the fastest way in, in the same transaction."""
        columns = [col.name for col in table.columns]
        cursor = self.connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[name] for name in columns])
        finally:
            cursor.close()

    def _insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows and self._postgresql:
            self._copy(table, iter(rows))
        elif rows:
            self._insert_many(table, rows)

    def _insert_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """One ``executemany`` on the driver, with the columns' own bind conversions applied
        (what SQLAlchemy does per row, without its per-row bookkeeping)."""
        dialect = self.connection.dialect
        compiled = insert(table).compile(dialect=dialect)
        names = compiled.positiontup or []
        convert = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
        pairs = list(zip(names, convert, strict=True))
        values = [tuple(f(row[n]) if f is not None and row[n] is not None else row[n] for n, f in pairs)
                  for row in rows]
        cursor = self.connection.connection.cursor()
        try:
            cursor.executemany(compiled.string, values)
        finally:
            cursor.close()

    def save_subscribers(self, new: Sequence[Subscriber], changed: Sequence[Subscriber]) -> None:
        self._save(t.subscribers, m.subscriber_to_row, new, changed)
        search_keys.stale_subscriber_keys(self.connection, [s.id for s in changed])
        self._insert_rows(t.subscriber_search, search_keys.key_rows(subscribers=[*new, *changed]))

    def save_contracts(self, new: Sequence[Contract], changed: Sequence[Contract]) -> None:
        self._save(t.contracts, m.contract_to_row, new, changed)
        search_keys.stale_contract_keys(self.connection, [c.id for c in changed])
        self._insert_rows(t.subscriber_search, search_keys.key_rows(contracts=[*new, *changed]))

    def save_readings(self, new: Sequence[MeterReading], changed: Sequence[MeterReading]) -> None:
        self._save(t.meter_readings, m.reading_to_row, new, changed)

    def save_invoices(self, new: Sequence[Invoice], changed: Sequence[Invoice]) -> None:
        self._save(t.invoices, m.invoice_to_row, new, changed)

    def save_instalments(self, new: Sequence[Instalment], changed: Sequence[Instalment]) -> None:
        self._save(t.instalments, m.instalment_to_row, new, changed)

    # -- export: streamed, in a stable order

    def _stream(self, q: Any) -> Iterator[Any]:
        result = self.connection.execution_options(yield_per=STREAM).execute(q)
        yield from result.mappings()

    def paid_payments(self, since: datetime | None) -> Iterator[PaymentLine]:
        p, i, c = t.payments.c, t.invoices.c, t.contracts.c
        q = (
            select(i.number.label("invoice_number"), c.number.label("contract_number"), p.amount_cents, p.gateway,
                   p.operation_id, p.gateway_reference, p.paid_at)
            .join_from(t.payments, t.invoices, i.id == p.invoice_id)
            .join(t.contracts, c.id == i.contract_id)
            .where(p.status == PaymentStatus.PAID.value, p.paid_at.is_not(None))
            .order_by(p.paid_at, p.gateway, p.operation_id, p.id)
        )
        if since is not None:
            q = q.where(p.paid_at >= since)
        for r in self._stream(q):
            yield PaymentLine(r["invoice_number"], r["contract_number"], Money(r["amount_cents"]), r["gateway"],
                              r["operation_id"], r["gateway_reference"], r["paid_at"])

    def subscriber_readings(self, since: datetime | None) -> Iterator[ReadingLine]:
        r, c = t.meter_readings.c, t.contracts.c
        q = (
            select(c.number.label("contract_number"), r.meter_number, r.read_on, r.index_litres, r.source, r.status,
                   r.recorded_at)
            .join_from(t.meter_readings, t.contracts, c.id == r.contract_id)
            .where(r.source == ReadingSource.SUBSCRIBER.value)
            .order_by(r.recorded_at, c.number, r.meter_number, r.read_on)
        )
        if since is not None:  # a reading staff decided on since then goes out again, with its new status
            q = q.where(or_(r.recorded_at >= since, r.reviewed_at >= since))
        for row in self._stream(q):
            yield ReadingLine(row["contract_number"], row["meter_number"], row["read_on"],
                              MeterIndex(row["index_litres"]), ReadingSource(row["source"]),
                              ReadingStatus(row["status"]), row["recorded_at"])

    def request_lines(self, since: datetime | None) -> Iterator[RequestLine]:
        q_, s, c, mv, staff = t.requests.c, t.subscribers.c, t.contracts.c, t.request_moves.c, t.staff_users.c
        q = (
            select(q_.reference, s.number.label("subscriber_number"), c.number.label("contract_number"), q_.category,
                   q_.status, q_.subject, q_.created_at, q_.updated_at, staff.email.label("assignee"),
                   q_.closing_reason, mv.move_on, mv.index_litres, mv.new_address, mv.occupant)
            .join_from(t.requests, t.subscribers, s.id == q_.subscriber_id)
            .outerjoin(t.contracts, c.id == q_.contract_id)
            .outerjoin(t.staff_users, staff.id == q_.assignee_id)
            .outerjoin(t.request_moves, mv.request_id == q_.id)
            .order_by(q_.created_at, q_.reference)
        )
        if since is not None:
            q = q.where(or_(q_.updated_at >= since, and_(q_.updated_at.is_(None), q_.created_at >= since)))
        for r in self._stream(q):
            index = MeterIndex(r["index_litres"]) if r["index_litres"] is not None else None
            yield RequestLine(r["reference"], r["subscriber_number"], r["contract_number"], r["category"],
                              r["status"], r["subject"], r["created_at"], r["updated_at"], r["assignee"],
                              r["closing_reason"], r["move_on"], index, r["new_address"], r["occupant"])
