"""Repositories over one SQLAlchemy connection (the unit of work's transaction).

Every query a page runs is a single indexed statement; lists never load row by row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Generic, TypeVar

import attrs
from sqlalchemy import Connection, Table, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from portail_domain.model.accounts import (
    Account,
    AccountToken,
    Identity,
    StaffUser,
    Subscriber,
    TokenPurpose,
    WebSession,
)
from portail_domain.model.billing import Invoice, Payment, PaymentStatus
from portail_domain.model.contracts import Contract, MeterReading, OverconsumptionNotice, ReadingStatus
from portail_domain.model.documents import AddedBy, Document, DocumentFolder
from portail_domain.model.errors import ReadingDuplicateDay
from portail_domain.model.mail import OutboxEntry, OutgoingMail
from portail_domain.model.mandates import Mandate, MandateStatus
from portail_domain.model.reminders import ReminderCandidate, ReminderKind, SentReminder
from portail_domain.model.request_desk import InternalNote, RequestQuery
from portail_domain.model.requests import MoveDetails, ReferenceTaken, Request, RequestMessage, RequestStatus
from portail_domain.model.review import ReadingReview
from portail_domain.model.schedules import Instalment
from portail_domain.model.support import SearchHit
from portail_domain.model.throttling import LoginAttempts

from . import mapping as m
from . import search as search_keys
from . import tables as t
from .request_desk import overdue

E = TypeVar("E")


class _Rows(Generic[E]):
    """Rows of one table read and written as entities (through the mapping's row functions)."""

    table: Table
    to_row: Callable[[E], dict[str, Any]]
    from_row: Callable[[Any], E]

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _all(self, query: Select, parameters: dict[str, Any] | None = None) -> list[E]:
        # all(): one fetchall, not a fetchone per row as iterating the result does
        return [type(self).from_row(r) for r in self.connection.execute(query, parameters).mappings().all()]

    def _one(self, query: Select, parameters: dict[str, Any] | None = None) -> E | None:
        row = self.connection.execute(query, parameters).mappings().first()
        return type(self).from_row(row) if row is not None else None

    def _all_in(self, column: str, values: Sequence[Any], chunk: int = 500) -> list[E]:
        """Rows whose ``column`` is one of ``values``, in bounded IN lists (SQLite caps bound parameters)."""
        query = _rows_where_in(self.table, column)
        values, found = list(values), []
        for start in range(0, len(values), chunk):
            found.extend(self._all(query, {"values": values[start : start + chunk]}))
        return found

    def add(self, entity: E) -> None:
        self.connection.execute(insert(self.table), [type(self).to_row(entity)])

    def add_many(self, entities: Iterable[E]) -> None:
        rows = [type(self).to_row(e) for e in entities]
        if rows:
            self.connection.execute(insert(self.table), rows)



class _Repository(_Rows[E]):
    """Entities with an ``id``."""

    def update(self, entity: E) -> None:
        row = type(self).to_row(entity)
        self.connection.execute(update(self.table).where(self.table.c.id == row["id"]).values(row))

    def get(self, entity_id: uuid.UUID) -> E | None:
        return self._one(_rows_where(self.table, "id"), {"value": entity_id})


# The statements a page runs are built once and executed with parameters: building a SELECT and
# its cache key on every call cost a third of a page's query time (bench/bench_pages.py, py-spy).
@cache
def _rows_where(table: Table, column: str) -> Select:
    """The rows of ``table`` whose ``column`` equals the parameter ``value``."""
    return select(table).where(table.c[column] == bindparam("value"))


@cache
def _rows_where_in(table: Table, column: str) -> Select:
    """The rows of ``table`` whose ``column`` is in the list parameter ``values``."""
    return select(table).where(table.c[column].in_(bindparam("values", expanding=True)))


class SqlSubscribers(_Repository[Subscriber]):
    table = t.subscribers
    to_row = staticmethod(m.subscriber_to_row)
    from_row = staticmethod(m.subscriber_from_row)

    def add(self, entity: Subscriber) -> None:
        super().add(entity)
        search_keys.write_keys(self.connection, subscribers=[entity], replace=False)

    def update(self, entity: Subscriber) -> None:
        super().update(entity)
        search_keys.write_keys(self.connection, subscribers=[entity])

    def search(self, prefixes: Sequence[str], limit: int) -> list[SearchHit]:
        return search_keys.search(self.connection, prefixes, limit)

    def by_number(self, number: str) -> Subscriber | None:
        return self._one(_rows_where(self.table, "number"), {"value": number})

    def lock(self, subscriber_id: uuid.UUID) -> Subscriber | None:
        # FOR UPDATE on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE).
        return self._one(select(self.table).where(self.table.c.id == subscriber_id).with_for_update())

    def by_email(self, normalised_email: str) -> list[Subscriber]:
        q = select(self.table).where(self.table.c.email_normalised == normalised_email).order_by(self.table.c.number)
        return self._all(q)

    def list(self) -> list[Subscriber]:
        return self._all(select(self.table).order_by(self.table.c.number))

    def by_activation_code(self, code_hash: str) -> Subscriber | None:
        return self._one(select(self.table).where(self.table.c.activation_code_hash == code_hash).limit(1))


class SqlStaff(_Repository[StaffUser]):
    table = t.staff_users
    to_row = staticmethod(m.staff_to_row)
    from_row = staticmethod(m.staff_from_row)

    def by_email(self, normalised_email: str) -> StaffUser | None:
        return self._one(select(self.table).where(self.table.c.email_normalised == normalised_email))

    def list(self) -> list[StaffUser]:
        return self._all(select(self.table).order_by(self.table.c.name, self.table.c.email_normalised))

    def advance_totp_step(self, staff_id: uuid.UUID, step: int) -> bool:
        c = self.table.c
        later = or_(c.totp_last_step.is_(None), c.totp_last_step < step)
        return self.connection.execute(
            update(self.table).where(c.id == staff_id, later).values(totp_last_step=step)).rowcount == 1


class SqlAccounts(_Repository[Account]):
    table = t.accounts
    to_row = staticmethod(m.account_to_row)
    from_row = staticmethod(m.account_from_row)

    def for_subscriber(self, subscriber_id: uuid.UUID) -> Account | None:
        return self._one(select(self.table).where(self.table.c.subscriber_id == subscriber_id))

    def for_staff(self, staff_id: uuid.UUID) -> Account | None:
        return self._one(select(self.table).where(self.table.c.staff_id == staff_id))


def _positions(statement: Select[Any], tables: tuple[Table, ...]) -> tuple[tuple[tuple[str, int], ...], ...]:
    """For each table, its columns' (name, position) in ``statement``'s rows, labelled ``<n>_<name>``."""
    labels = [column.name for column in statement.selected_columns]
    return tuple(tuple((c.name, labels.index(f"{n}_{c.name}")) for c in table.c) for n, table in enumerate(tables))


class SqlSessions(_Rows[WebSession]):
    table = t.web_sessions
    to_row = staticmethod(m.session_to_row)
    from_row = staticmethod(m.session_from_row)

    def get(self, token_hash: str) -> WebSession | None:
        return self._one(select(self.table).where(self.table.c.token_hash == token_hash))

    # The session, its account, and the account's subscriber or staff user: one indexed query
    # per request (the columns labelled by table, since several tables share names).
    _OWNERS = (t.web_sessions, t.accounts, t.subscribers, t.staff_users)
    _IDENTITY = (
        select(*[c.label(f"{n}_{c.name}") for n, table in enumerate(_OWNERS) for c in table.c])
        .select_from(
            t.web_sessions.join(t.accounts, t.accounts.c.id == t.web_sessions.c.account_id)
            .outerjoin(t.subscribers, t.subscribers.c.id == t.accounts.c.subscriber_id)
            .outerjoin(t.staff_users, t.staff_users.c.id == t.accounts.c.staff_id)
        )
        .where(t.web_sessions.c.token_hash == bindparam("token_hash"))
    )
    # Each table's (column name, position in the row), worked out once, not per request.
    _POSITIONS = _positions(_IDENTITY, _OWNERS)

    def identity(self, token_hash: str) -> Identity | None:
        row = self.connection.execute(self._IDENTITY, {"token_hash": token_hash}).first()
        if row is None:
            return None
        session, account, subscriber, staff = (
            {name: row[position] for name, position in positions} for positions in self._POSITIONS
        )
        return Identity(
            m.account_from_row(account),
            m.subscriber_from_row(subscriber) if subscriber["id"] is not None else None,
            m.staff_from_row(staff) if staff["id"] is not None else None,
            m.session_from_row(session),
        )

    def touch(self, token_hash: str, when: datetime) -> None:
        c = self.table.c
        self.connection.execute(update(self.table).where(c.token_hash == token_hash).values(last_seen_at=when))

    def remove(self, token_hash: str) -> None:
        self.connection.execute(delete(self.table).where(self.table.c.token_hash == token_hash))

    def remove_for_account(self, account_id: uuid.UUID) -> None:
        self.connection.execute(delete(self.table).where(self.table.c.account_id == account_id))

    def remove_dead(self, seen_before: datetime, created_before: datetime) -> int:
        c = self.table.c
        query = delete(self.table).where(or_(c.last_seen_at < seen_before, c.created_at < created_before))
        return self.connection.execute(query).rowcount

    def for_account(self, account_id: uuid.UUID) -> list[WebSession]:
        c = self.table.c
        return self._all(select(self.table).where(c.account_id == account_id).order_by(c.last_seen_at.desc()))


class SqlContracts(_Repository[Contract]):
    table = t.contracts
    to_row = staticmethod(m.contract_to_row)
    from_row = staticmethod(m.contract_from_row)

    def add(self, entity: Contract) -> None:
        super().add(entity)
        search_keys.write_keys(self.connection, contracts=[entity], replace=False)

    def update(self, entity: Contract) -> None:
        super().update(entity)
        search_keys.write_keys(self.connection, contracts=[entity])

    _FOR_SUBSCRIBER = (select(t.contracts).where(t.contracts.c.subscriber_id == bindparam("subscriber_id"))
                       .order_by(t.contracts.c.start_on, t.contracts.c.number))

    def by_number(self, number: str) -> Contract | None:
        return self._one(_rows_where(self.table, "number"), {"value": number})

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Contract]:
        return self._all(self._FOR_SUBSCRIBER, {"subscriber_id": subscriber_id})


class SqlReadings(_Repository[MeterReading]):
    table = t.meter_readings
    to_row = staticmethod(m.reading_to_row)
    from_row = staticmethod(m.reading_from_row)

    def add(self, entity: MeterReading) -> None:
        # A concurrent submission for the same day loses the race on the unique constraint:
        # answer with the rule it breaks (the unit of work then rolls back).
        try:
            super().add(entity)
        except IntegrityError as exc:
            raise ReadingDuplicateDay(read_on=entity.read_on) from exc

    _FOR_CONTRACT = (select(t.meter_readings).where(t.meter_readings.c.contract_id == bindparam("contract_id"))
                     .order_by(t.meter_readings.c.read_on, t.meter_readings.c.meter_number))

    def for_contract(self, contract_id: uuid.UUID) -> list[MeterReading]:
        return self._all(self._FOR_CONTRACT, {"contract_id": contract_id})

    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[MeterReading]:
        return sorted(self._all_in("contract_id", contract_ids), key=lambda r: (r.read_on, r.meter_number))

    def to_review(self, limit: int) -> list[MeterReading]:
        c = self.table.c
        return self._all(select(self.table).where(c.status == ReadingStatus.TO_REVIEW.value)
                         .order_by(c.recorded_at, c.read_on, c.id).limit(limit))

    def review(self, reading_id: uuid.UUID, review: ReadingReview) -> bool:
        # Conditional update: of two members of staff deciding at once, the second changes nothing.
        c = self.table.c
        statement = (self.table.update()
                     .where(c.id == reading_id, c.status == ReadingStatus.TO_REVIEW.value)
                     .values(status=review.status.value, reviewed_at=review.reviewed_at, review_reason=review.reason)
                     .returning(c.id))
        return self.connection.execute(statement).first() is not None


class SqlOverconsumptionNotices(_Repository[OverconsumptionNotice]):
    table = t.overconsumption_notices
    to_row = staticmethod(m.notice_to_row)
    from_row = staticmethod(m.notice_from_row)

    def claim(self, notice: OverconsumptionNotice) -> bool:
        # ON CONFLICT DO NOTHING: a concurrent transaction recording the same period makes this
        # one wait, then insert nothing, instead of failing on the unique constraint.
        insert_ = postgresql_insert if self.connection.dialect.name == "postgresql" else sqlite_insert
        c = self.table.c
        statement = insert_(self.table).values(m.notice_to_row(notice)).on_conflict_do_nothing(
            index_elements=[c.contract_id, c.meter_number, c.period_start, c.period_end]
        ).returning(c.id)  # (psycopg reports no rowcount here; RETURNING says whether a row went in)
        return self.connection.execute(statement).first() is not None

    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[OverconsumptionNotice]:
        return sorted(self._all_in("contract_id", contract_ids), key=lambda n: n.notified_at)


class SqlInvoices(_Repository[Invoice]):
    table = t.invoices
    to_row = staticmethod(m.invoice_to_row)
    from_row = staticmethod(m.invoice_from_row)

    _FOR_SUBSCRIBER = (
        select(t.invoices)
        .join(t.contracts, t.contracts.c.id == t.invoices.c.contract_id)
        .where(t.contracts.c.subscriber_id == bindparam("subscriber_id"))
        .order_by(t.invoices.c.issued_on.desc(), t.invoices.c.number.desc())
    )

    def by_number(self, number: str) -> Invoice | None:
        return self._one(_rows_where(self.table, "number"), {"value": number})

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Invoice]:
        return self._all(self._FOR_SUBSCRIBER, {"subscriber_id": subscriber_id})

    # The list page in one statement: each invoice with its contract's number and, when that
    # contract has mandates (not pending), one row per mandate (usually none, or one).
    _LISTED = (t.invoices, t.sepa_mandates)
    _LISTING = (
        select(*[c.label(f"{n}_{c.name}") for n, table in enumerate(_LISTED) for c in table.c],
               t.contracts.c.number.label("contract_number"))
        .select_from(
            t.invoices.join(t.contracts, t.contracts.c.id == t.invoices.c.contract_id)
            .outerjoin(t.sepa_mandates, (t.sepa_mandates.c.contract_id == t.invoices.c.contract_id)
                       & (t.sepa_mandates.c.status != MandateStatus.PENDING.value))
        )
        .where(t.contracts.c.subscriber_id == bindparam("subscriber_id"))
        .order_by(t.invoices.c.issued_on.desc(), t.invoices.c.number.desc())
    )
    _LISTING_POSITIONS = _positions(_LISTING, _LISTED)
    _LISTING_IDS = tuple(dict(positions)["id"] for positions in _LISTING_POSITIONS)  # invoice's, mandate's

    def listing(self, subscriber_id: uuid.UUID) -> tuple[list[tuple[Invoice, str]], list[Mandate]]:
        invoice_at, mandate_at = self._LISTING_POSITIONS
        invoice_id, mandate_id = self._LISTING_IDS
        invoices: dict[uuid.UUID, tuple[Invoice, str]] = {}
        mandates: dict[uuid.UUID, Mandate] = {}
        for row in self.connection.execute(self._LISTING, {"subscriber_id": subscriber_id}).all():
            if row[invoice_id] not in invoices:
                invoice = m.invoice_from_row({name: row[i] for name, i in invoice_at})
                invoices[invoice.id] = (invoice, row.contract_number)
            if row[mandate_id] is not None and row[mandate_id] not in mandates:
                mandates[row[mandate_id]] = m.mandate_from_row({name: row[i] for name, i in mandate_at})
        return list(invoices.values()), list(mandates.values())

    def lock(self, invoice_id: uuid.UUID) -> Invoice | None:
        # FOR UPDATE on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE).
        return self._one(select(self.table).where(self.table.c.id == invoice_id).with_for_update())


class SqlInstalments(_Repository[Instalment]):
    table = t.instalments
    to_row = staticmethod(m.instalment_to_row)
    from_row = staticmethod(m.instalment_from_row)

    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[Instalment]:
        return sorted(self._all_in("contract_id", contract_ids), key=lambda i: (str(i.contract_id), i.due_on))


class SqlReminders:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def candidates(self, before: tuple[date, date], after: tuple[date, date]) -> list[ReminderCandidate]:
        i, c, s = t.invoices.c, t.contracts.c, t.subscribers.c
        q = (
            select(t.invoices, c.number.label("contract_number"), *[col.label(f"s_{col.name}") for col in s])
            .join(t.contracts, c.id == i.contract_id)
            .join(t.subscribers, s.id == c.subscriber_id)
            .where(or_(i.due_on.between(*before), i.due_on.between(*after)), i.cancelled.is_(False),
                   i.amount_paid_cents < i.amount_cents, s.email.is_not(None), s.reminders.is_(True))
            .order_by(i.due_on, i.number)
        )
        found = []
        for row in self.connection.execute(q).mappings():
            subscriber = m.subscriber_from_row({col.name: row[f"s_{col.name}"] for col in s})
            found.append(ReminderCandidate(m.invoice_from_row(row), row["contract_number"], subscriber))
        return found

    def sent(self, invoice_ids: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, ReminderKind]]:
        ids = list(invoice_ids)
        found: set[tuple[uuid.UUID, ReminderKind]] = set()
        c = t.sent_reminders.c
        for start in range(0, len(ids), 500):
            q = select(c.invoice_id, c.kind).where(c.invoice_id.in_(ids[start:start + 500]))
            found.update((invoice_id, ReminderKind(kind)) for invoice_id, kind in self.connection.execute(q))
        return found

    def claim(self, reminder: SentReminder) -> bool:
        # ON CONFLICT DO NOTHING: a concurrent run recording the same reminder makes this one
        # wait for it, then insert nothing (no unique-violation error, no mail).
        insert_ = postgresql_insert if self.connection.dialect.name == "postgresql" else sqlite_insert
        c = t.sent_reminders.c
        statement = insert_(t.sent_reminders).values(
            invoice_id=reminder.invoice_id, kind=reminder.kind.value, sent_at=reminder.sent_at,
            emailed_to=reminder.emailed_to,
        ).on_conflict_do_nothing(index_elements=[c.invoice_id, c.kind]).returning(c.invoice_id)
        return self.connection.execute(statement).first() is not None


class SqlPayments(_Repository[Payment]):
    table = t.payments
    to_row = staticmethod(m.payment_to_row)
    from_row = staticmethod(m.payment_from_row)

    def by_operation(self, gateway: str, operation_id: str) -> Payment | None:
        c = self.table.c
        return self._one(select(self.table).where(c.gateway == gateway, c.operation_id == operation_id))

    def for_invoice(self, invoice_id: uuid.UUID) -> list[Payment]:
        c = self.table.c
        return self._all(select(self.table).where(c.invoice_id == invoice_id).order_by(c.created_at))

    def for_invoices(self, invoice_ids: Sequence[uuid.UUID]) -> list[Payment]:
        return sorted(self._all_in("invoice_id", invoice_ids), key=lambda p: p.created_at)
    def to_check(self, pending_before: datetime, limit: int) -> list[Payment]:
        c = self.table.c
        late = (c.status == PaymentStatus.PENDING.value) & (c.created_at < pending_before)
        return self._all(select(self.table).where(c.resolution.is_(None), or_(c.flag.is_not(None), late))
                         .order_by(c.created_at, c.id).limit(limit))

    def pending(self, abandoned_since: datetime | None = None) -> list[Payment]:
        c = self.table.c
        wanted = c.status == PaymentStatus.PENDING.value
        if abandoned_since is not None:
            wanted = or_(wanted, (c.status == PaymentStatus.ABANDONED.value) & (c.created_at >= abandoned_since))
        return self._all(select(self.table).where(wanted).order_by(c.created_at))


class SqlFolders(_Repository[DocumentFolder]):
    table = t.document_folders
    to_row = staticmethod(m.folder_to_row)
    from_row = staticmethod(m.folder_from_row)

    _FOR_SUBSCRIBER = (select(t.document_folders)
                       .where(t.document_folders.c.subscriber_id == bindparam("subscriber_id"))
                       .order_by(t.document_folders.c.position, t.document_folders.c.name))

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[DocumentFolder]:
        return self._all(self._FOR_SUBSCRIBER, {"subscriber_id": subscriber_id})


class SqlDocuments(_Repository[Document]):
    table = t.documents
    to_row = staticmethod(m.document_to_row)
    from_row = staticmethod(m.document_from_row)

    def remove(self, document_id: uuid.UUID) -> None:
        self.connection.execute(self.table.delete().where(self.table.c.id == document_id))

    def in_folder(self, folder_id: uuid.UUID) -> list[Document]:
        c = self.table.c
        return self._all(select(self.table).where(c.folder_id == folder_id).order_by(c.added_at.desc()))

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Document]:
        c = self.table.c
        return self._all(select(self.table).where(c.subscriber_id == subscriber_id).order_by(c.added_at.desc()))

    _COUNT_BY_FOLDER = (select(t.documents.c.folder_id, func.count())
                        .where(t.documents.c.subscriber_id == bindparam("subscriber_id"))
                        .group_by(t.documents.c.folder_id))

    def count_by_folder(self, subscriber_id: uuid.UUID) -> dict[uuid.UUID, int]:
        rows = self.connection.execute(self._COUNT_BY_FOLDER, {"subscriber_id": subscriber_id})
        return {folder_id: count for folder_id, count in rows}

    def bytes_used(self, subscriber_id: uuid.UUID, added_by: AddedBy) -> int:
        c = self.table.c
        query = select(func.coalesce(func.sum(c.size), 0)).where(c.subscriber_id == subscriber_id,
                                                                 c.added_by == added_by.value)
        return int(self.connection.execute(query).scalar_one())

    def referenced_keys(self, keys: Collection[str]) -> set[str]:
        wanted, found = sorted(set(keys)), set[str]()
        c = self.table.c  # storage_key is indexed (shared by a publication's rows)
        for start in range(0, len(wanted), 500):  # bounded IN lists (SQLite caps bound parameters)
            query = select(c.storage_key).where(c.storage_key.in_(wanted[start : start + 500])).distinct()
            found.update(self.connection.execute(query).scalars())
        # A reading's photo is also one of its subscriber's documents: this second look (photo_key has
        # no index) only runs for keys no document holds, the orphans, which are few.
        rest = [k for k in wanted if k not in found]
        for start in range(0, len(rest), 500):
            r = t.meter_readings.c
            photos = select(r.photo_key).where(r.photo_key.in_(rest[start : start + 500])).distinct()
            found.update(self.connection.execute(photos).scalars())
        return found


class SqlRequests(_Repository[Request]):
    table = t.requests
    to_row = staticmethod(m.request_to_row)
    from_row = staticmethod(m.request_from_row)

    def add(self, entity: Request) -> None:
        # Two filings at the same moment may pick the same reference: the second one's insert
        # fails alone (savepoint), and the use case takes the next number.
        try:
            with self.connection.begin_nested():
                super().add(entity)
        except IntegrityError as exc:
            raise ReferenceTaken(reference=entity.reference) from exc

    _FOR_SUBSCRIBER = (select(t.requests).where(t.requests.c.subscriber_id == bindparam("subscriber_id"))
                       .order_by(t.requests.c.created_at.desc(), t.requests.c.reference.desc()))

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Request]:
        return self._all(self._FOR_SUBSCRIBER, {"subscriber_id": subscriber_id})

    def last_reference(self, prefix: str) -> str | None:
        c = self.table.c
        query = select(func.max(c.reference)).where(c.reference.startswith(prefix, autoescape=True))
        return self.connection.execute(query).scalar()

    def recent(self, status: RequestStatus | None, limit: int) -> list[Request]:
        c = self.table.c
        query = select(self.table).order_by(c.created_at.desc(), c.reference.desc()).limit(limit)
        if status is not None:
            query = query.where(c.status == status.value)
        return self._all(query)

    def add_move(self, move: MoveDetails) -> None:
        self.connection.execute(insert(t.request_moves), [m.move_to_row(move)])

    def move_of(self, request_id: uuid.UUID) -> MoveDetails | None:
        row = self.connection.execute(
            select(t.request_moves).where(t.request_moves.c.request_id == request_id)).mappings().first()
        return m.move_from_row(row) if row is not None else None

    def moves_of(self, subscriber_id: uuid.UUID) -> dict[uuid.UUID, MoveDetails]:
        moves = t.request_moves
        query = (select(moves).join(self.table, self.table.c.id == moves.c.request_id)
                 .where(self.table.c.subscriber_id == subscriber_id))
        return {move.request_id: move for move in map(m.move_from_row, self.connection.execute(query).mappings())}

    def search(self, query: RequestQuery, limit: int) -> list[Request]:
        c = self.table.c
        statement = select(self.table).order_by(c.created_at.desc(), c.reference.desc())
        if query.status is not None:
            statement = statement.where(c.status == query.status.value)
        if query.category is not None:
            statement = statement.where(c.category == query.category.value)
        if query.unassigned:
            statement = statement.where(c.assignee_id.is_(None))
        elif query.assignee_id is not None:
            statement = statement.where(c.assignee_id == query.assignee_id)
        if query.overdue_cutoffs is not None:
            statement = statement.where(overdue(self.table, query.overdue_cutoffs))
        return self._all(statement.limit(limit).offset(query.offset))

    def add_note(self, note: InternalNote) -> None:
        self.connection.execute(insert(t.request_notes), [attrs.asdict(note)])

    def notes(self, request_id: uuid.UUID) -> list[InternalNote]:
        c = t.request_notes.c
        query = select(t.request_notes).where(c.request_id == request_id).order_by(c.created_at, c.id)
        return [InternalNote(**r) for r in self.connection.execute(query).mappings()]

    def add_message(self, message: RequestMessage) -> None:
        self.connection.execute(insert(t.request_messages), [m.message_to_row(message)])

    def messages(self, request_id: uuid.UUID) -> list[RequestMessage]:
        c = t.request_messages.c
        q = select(t.request_messages).where(c.request_id == request_id).order_by(c.created_at)
        return [m.message_from_row(r) for r in self.connection.execute(q).mappings()]


def _waiting(c: Any) -> tuple[Any, ...]:
    """Outbox rows a relay may still deliver: not sent, not failed for good, not discarded."""
    return (c.sent_at.is_(None), c.failed_at.is_(None), c.discarded_at.is_(None))


class SqlOutbox:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, mail: OutgoingMail, now: datetime) -> None:
        self.add_many([mail], now)

    def add_many(self, mails: Sequence[OutgoingMail], now: datetime) -> None:
        if mails:
            self.connection.execute(insert(t.outbox), [
                {"id": uuid.uuid4(), "recipient": mail.to, "subject": mail.subject, "text_body": mail.text,
                 "html_body": mail.html, "created_at": now, "attempts": 0, "next_attempt_at": now}
                for mail in mails])

    def pending(self) -> list[OutboxEntry]:
        c = t.outbox.c
        q = select(t.outbox).where(*_waiting(c)).order_by(c.created_at, c.id)
        return [m.outbox_from_row(r) for r in self.connection.execute(q).mappings()]

    def get(self, entry_id: uuid.UUID) -> OutboxEntry | None:
        row = self.connection.execute(select(t.outbox).where(t.outbox.c.id == entry_id)).mappings().first()
        return m.outbox_from_row(row) if row is not None else None

    def unsent(self, limit: int) -> list[OutboxEntry]:
        c = t.outbox.c
        q = select(t.outbox).where(c.sent_at.is_(None)).order_by(c.created_at.desc(), c.id).limit(limit)
        return [m.outbox_from_row(r) for r in self.connection.execute(q).mappings()]

    def give_up(self, entry_id: uuid.UUID, when: datetime, error: str) -> None:
        self.connection.execute(
            update(t.outbox).where(t.outbox.c.id == entry_id).values(failed_at=when, last_error=error[:500]))

    def retry(self, entry_id: uuid.UUID, now: datetime) -> bool:
        c = t.outbox.c
        statement = (update(t.outbox).where(c.id == entry_id, c.sent_at.is_(None))
                     .values(failed_at=None, discarded_at=None, attempts=0, next_attempt_at=now).returning(c.id))
        return self.connection.execute(statement).first() is not None

    def discard(self, entry_id: uuid.UUID, now: datetime) -> bool:
        c = t.outbox.c
        statement = (update(t.outbox).where(c.id == entry_id, c.sent_at.is_(None), c.discarded_at.is_(None))
                     .values(discarded_at=now).returning(c.id))
        return self.connection.execute(statement).first() is not None

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEntry]:
        c = t.outbox.c
        # SKIP LOCKED: concurrent relays on PostgreSQL take different rows instead of waiting;
        # SQLite ignores it (its write transactions are exclusive already).
        q = (select(t.outbox).where(*_waiting(c), c.next_attempt_at <= now)
             .order_by(c.next_attempt_at, c.created_at).limit(limit).with_for_update(skip_locked=True))
        entries = [m.outbox_from_row(r) for r in self.connection.execute(q).mappings()]
        if entries:
            self.connection.execute(
                update(t.outbox).where(c.id.in_([e.id for e in entries]))
                .values(attempts=c.attempts + 1, next_attempt_at=lease_until)
            )
        for entry in entries:
            entry.attempts += 1
            entry.next_attempt_at = lease_until
        return entries

    def mark_sent(self, entry_id: uuid.UUID, when: datetime) -> None:
        self.connection.execute(update(t.outbox).where(t.outbox.c.id == entry_id).values(sent_at=when))

    def mark_failed(self, entry_id: uuid.UUID, retry_at: datetime, error: str) -> None:
        self.connection.execute(
            update(t.outbox).where(t.outbox.c.id == entry_id).values(next_attempt_at=retry_at, last_error=error[:500])
        )


class SqlTokens:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, token: AccountToken) -> None:
        self.connection.execute(insert(t.account_tokens), [m.token_to_row(token)])

    def get(self, token_hash: str) -> AccountToken | None:
        row = self.connection.execute(
            select(t.account_tokens).where(t.account_tokens.c.token_hash == token_hash)).mappings().first()
        return m.token_from_row(row) if row is not None else None

    def remove(self, token_hash: str) -> None:
        self.connection.execute(delete(t.account_tokens).where(t.account_tokens.c.token_hash == token_hash))

    def remove_for(self, *, subscriber_id: uuid.UUID | None = None, staff_id: uuid.UUID | None = None,
                   purpose: TokenPurpose | None = None) -> None:
        c = t.account_tokens.c
        subjects = []
        if subscriber_id is not None:
            subjects.append(c.subscriber_id == subscriber_id)
        if staff_id is not None:
            subjects.append(c.staff_id == staff_id)
        if not subjects:
            return
        query = delete(t.account_tokens).where(or_(*subjects))
        if purpose is not None:
            query = query.where(c.purpose == purpose.value)
        self.connection.execute(query)

    def remove_expired(self, now: datetime) -> int:
        table = t.account_tokens
        return self.connection.execute(delete(table).where(table.c.expires_at < now)).rowcount


class SqlThrottles:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, key: str) -> LoginAttempts | None:
        query = select(t.login_throttles).where(t.login_throttles.c.key == key)
        row = self.connection.execute(query).mappings().first()
        return m.attempts_from_row(row) if row is not None else None

    def hit(self, key: str, now: datetime, window: timedelta) -> LoginAttempts:
        # One atomic upsert, so concurrent failures from several workers all count.
        dialect = self.connection.dialect.name
        insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
        c = t.login_throttles.c
        statement = insert_(t.login_throttles).values(key=key, failures=1, last_failure_at=now)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "failures": case((c.last_failure_at < now - window, 1), else_=c.failures + 1),
                "last_failure_at": excluded.last_failure_at,
            },
        )
        self.connection.execute(statement)
        found = self.get(key)
        assert found is not None
        return found

    def lock(self, key: str, now: datetime) -> LoginAttempts | None:
        # A row to lock must exist: insert an empty one (kept only if a hit follows), then lock it.
        # PostgreSQL: the insert waits for a concurrent one, FOR UPDATE for the row's holder; SQLite:
        # a writing unit of work already holds the database's write lock (BEGIN IMMEDIATE).
        table = t.login_throttles
        insert_ = postgresql_insert if self.connection.dialect.name == "postgresql" else sqlite_insert
        self.connection.execute(insert_(table).values(key=key, failures=0, last_failure_at=now)
                                .on_conflict_do_nothing(index_elements=[table.c.key]))
        query = select(table).where(table.c.key == key).with_for_update()
        row = self.connection.execute(query).mappings().first()
        return m.attempts_from_row(row) if row is not None and row["failures"] > 0 else None

    def release(self, key: str) -> None:
        c = t.login_throttles.c
        self.connection.execute(update(t.login_throttles).where(c.key == key, c.failures > 0)
                                .values(failures=c.failures - 1))

    def clear(self, key: str) -> None:
        self.connection.execute(delete(t.login_throttles).where(t.login_throttles.c.key == key))

    def clear_prefix(self, prefix: str) -> int:
        table = t.login_throttles
        return self.connection.execute(delete(table).where(table.c.key.startswith(prefix, autoescape=True))).rowcount

    def remove_idle(self, before: datetime) -> int:
        table = t.login_throttles
        return self.connection.execute(delete(table).where(table.c.last_failure_at < before)).rowcount
