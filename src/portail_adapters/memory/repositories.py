"""In-memory repositories and unit of work.

A unit of work works on a deep copy of the committed state and publishes it on
``commit()``; leaving without committing throws the copy away, as a rollback would.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

import attrs

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
from portail_domain.model.mail import OutboxEntry, OutboxStatus, OutgoingMail
from portail_domain.model.mandates import Mandate
from portail_domain.model.reminders import ReminderCandidate, ReminderKind, SentReminder
from portail_domain.model.request_desk import InternalNote, RequestQuery
from portail_domain.model.requests import MoveDetails, ReferenceTaken, Request, RequestMessage, RequestStatus
from portail_domain.model.review import ReadingReview
from portail_domain.model.schedules import Instalment
from portail_domain.model.support import SearchHit, contract_keys, subscriber_keys
from portail_domain.model.throttling import LoginAttempts
from portail_domain.ports import MandateRepository

from .backoffice import MemoryAudit, MemoryRecoveryCodes
from .exchange import MemoryExchange
from .privacy import MemoryPrivacy
from .publishing import MemoryPublishing
from .request_desk import MemoryDashboard, MemoryRelief, MemoryReplyTemplates, is_overdue

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class DuplicateKey(Exception):
    """Raised like a unique constraint would be."""


class ReadOnlyUnitOfWork(RuntimeError):
    """``commit()`` on a unit of work opened with ``read_only=True``: a programming error."""


@attrs.define
class MemoryDatabase:
    """The committed state: one dict per table, keyed by id."""

    tables: dict[str, dict[Any, Any]] = attrs.field(factory=dict)
    lock: threading.RLock = attrs.field(factory=threading.RLock)
    extensions: dict[str, Any] = attrs.field(factory=dict)  # room for feature tables

    def uow(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, read_only=read_only)

    __call__ = uow


class _Rows:
    """Rows by key (a natural key: a token's hash, a throttle's key; or an id), shared with the unit of work."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def where(self, **criteria: Any) -> list[Any]:
        return [e for e in self.rows.values() if all(getattr(e, k) == v for k, v in criteria.items())]


class _Table(_Rows):
    """Entities by id, some of their fields unique."""

    def __init__(self, rows: dict[Any, Any], unique: Sequence[str] = ()) -> None:
        super().__init__(rows)
        self.unique = unique

    def _insert(self, entity: Any) -> None:
        if entity.id in self.rows:
            raise DuplicateKey(entity.id)
        for name in self.unique:
            value = getattr(entity, name)
            if value is not None and any(getattr(o, name) == value for o in self.rows.values()):
                raise DuplicateKey(name, value)
        self.rows[entity.id] = entity

    def add(self, entity: Any) -> None:
        self._insert(entity)

    def update(self, entity: Any) -> None:
        self.rows[entity.id] = entity

    def get(self, entity_id: uuid.UUID) -> Any:
        return self.rows.get(entity_id)

    def one(self, **criteria: Any) -> Any:
        found = self.where(**criteria)
        return found[0] if found else None

    def list(self) -> list[Any]:
        return list(self.rows.values())


class MemorySubscribers(_Table):
    def __init__(self, rows: dict[Any, Any], contracts: _Table, unique: Sequence[str] = ()) -> None:
        super().__init__(rows, unique)
        self.contracts = contracts

    def search(self, prefixes: Sequence[str], limit: int) -> list[SearchHit]:
        # The SQL adapter's order (first matching key, then subscriber id), by computing every key.
        keyed = [(k, s.id) for s in self.rows.values() for k in subscriber_keys(s.number, s.name, s.email)]
        keyed += [(k, c.subscriber_id) for c in self.contracts.rows.values()
                  for k in contract_keys(c.number, c.meter_number)]
        matching = sorted(((k.key, str(i), k) for k, i in keyed if any(k.key.startswith(p) for p in prefixes)),
                          key=lambda item: item[:2])
        found: dict[uuid.UUID, SearchHit] = {}
        for _key, subscriber_id, key in matching:
            subscriber = self.rows[uuid.UUID(subscriber_id)]
            found.setdefault(subscriber.id, SearchHit(subscriber, key.kind, key.label))
        return list(found.values())[:limit]

    def lock(self, subscriber_id: uuid.UUID) -> Subscriber | None:
        return self.get(subscriber_id)  # one unit of work at a time publishes: nothing to wait for

    def by_number(self, number: str) -> Subscriber | None:
        return self.one(number=number)

    def by_email(self, normalised_email: str) -> list[Subscriber]:
        found = [s for s in self.rows.values() if s.email is not None and s.email.normalised == normalised_email]
        return sorted(found, key=lambda s: s.number)

    def by_activation_code(self, code_hash: str) -> Subscriber | None:
        return self.one(activation_code_hash=code_hash)

    def list(self) -> list[Subscriber]:
        return sorted(self.rows.values(), key=lambda s: s.number)


class MemoryStaff(_Table):
    def by_email(self, normalised_email: str) -> StaffUser | None:
        return next((s for s in self.rows.values() if s.email.normalised == normalised_email), None)

    def list(self) -> list[StaffUser]:
        return sorted(self.rows.values(), key=lambda s: (s.name, s.email.normalised))

    def advance_totp_step(self, staff_id: uuid.UUID, step: int) -> bool:
        staff = self.rows.get(staff_id)
        if staff is None or (staff.totp_last_step is not None and staff.totp_last_step >= step):
            return False
        staff.totp_last_step = step
        return True


class MemoryAccounts(_Table):
    def for_subscriber(self, subscriber_id: uuid.UUID) -> Account | None:
        return self.one(subscriber_id=subscriber_id)

    def for_staff(self, staff_id: uuid.UUID) -> Account | None:
        return self.one(staff_id=staff_id)


class MemorySessions(_Rows):
    def __init__(self, rows: dict[Any, Any], accounts: MemoryAccounts, subscribers: MemorySubscribers,
                 staff: MemoryStaff) -> None:
        super().__init__(rows)
        self.accounts, self.subscribers, self.staff = accounts, subscribers, staff

    def add(self, session: WebSession) -> None:
        self.rows[session.token_hash] = session

    def get(self, token_hash: str) -> WebSession | None:
        return self.rows.get(token_hash)

    def identity(self, token_hash: str) -> Identity | None:
        session = self.rows.get(token_hash)
        account = self.accounts.get(session.account_id) if session is not None else None
        if session is None or account is None:
            return None
        subscriber = self.subscribers.get(account.subscriber_id) if account.subscriber_id else None
        staff = self.staff.get(account.staff_id) if account.staff_id else None
        return Identity(account, subscriber, staff, session)

    def touch(self, token_hash: str, when: datetime) -> None:
        if token_hash in self.rows:
            self.rows[token_hash].last_seen_at = when

    def remove(self, token_hash: str) -> None:
        self.rows.pop(token_hash, None)

    def remove_for_account(self, account_id: uuid.UUID) -> None:
        for key in [k for k, s in self.rows.items() if s.account_id == account_id]:
            del self.rows[key]

    def remove_dead(self, seen_before: datetime, created_before: datetime) -> int:
        dead = [k for k, s in self.rows.items() if s.last_seen_at < seen_before or s.created_at < created_before]
        for key in dead:
            del self.rows[key]
        return len(dead)

    def for_account(self, account_id: uuid.UUID) -> list[WebSession]:
        return sorted(self.where(account_id=account_id), key=lambda s: s.last_seen_at, reverse=True)


class MemoryContracts(_Table):
    def by_number(self, number: str) -> Contract | None:
        return self.one(number=number)

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Contract]:
        return sorted(self.where(subscriber_id=subscriber_id), key=lambda c: (c.start_on, c.number))


class MemoryReadings(_Table):
    def add(self, reading: MeterReading) -> None:
        if any(
            r.contract_id == reading.contract_id
            and r.meter_number == reading.meter_number
            and r.read_on == reading.read_on
            and r.counts
            for r in self.rows.values()
        ) and reading.counts:
            raise ReadingDuplicateDay(read_on=reading.read_on)  # as the SQL adapter answers
        self._insert(reading)

    def add_many(self, readings: Iterable[MeterReading]) -> None:
        for reading in readings:
            self.add(reading)

    def for_contract(self, contract_id: uuid.UUID) -> list[MeterReading]:
        return sorted(self.where(contract_id=contract_id), key=lambda r: (r.read_on, r.meter_number))

    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[MeterReading]:
        wanted = set(contract_ids)
        found = [r for r in self.rows.values() if r.contract_id in wanted]
        return sorted(found, key=lambda r: (r.read_on, r.meter_number))

    def to_review(self, limit: int) -> list[MeterReading]:
        found = self.where(status=ReadingStatus.TO_REVIEW)
        return sorted(found, key=lambda r: (r.recorded_at or _EPOCH, r.read_on))[:limit]

    def review(self, reading_id: uuid.UUID, review: ReadingReview) -> bool:
        stored = self.rows.get(reading_id)
        if stored is None or stored.status != ReadingStatus.TO_REVIEW:
            return False
        self.rows[reading_id] = review.applied_to(stored)
        return True


class MemoryOverconsumptionNotices(_Table):
    def claim(self, notice: OverconsumptionNotice) -> bool:
        if any(n.key == notice.key for n in self.rows.values()):
            return False
        self._insert(notice)
        return True

    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[OverconsumptionNotice]:
        wanted = set(contract_ids)
        return sorted((n for n in self.rows.values() if n.contract_id in wanted), key=lambda n: n.notified_at)


class MemoryInvoices(_Table):
    def __init__(self, rows: dict[Any, Any], contracts: MemoryContracts, mandates: MandateRepository) -> None:
        super().__init__(rows, unique=("number",))
        self.contracts = contracts
        self.mandates = mandates

    def by_number(self, number: str) -> Invoice | None:
        return self.one(number=number)

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Invoice]:
        mine = {c.id for c in self.contracts.for_subscriber(subscriber_id)}
        found = [i for i in self.rows.values() if i.contract_id in mine]
        return sorted(found, key=lambda i: (i.issued_on, i.number), reverse=True)

    def listing(self, subscriber_id: uuid.UUID) -> tuple[list[tuple[Invoice, str]], list[Mandate]]:
        numbers = {c.id: c.number for c in self.contracts.for_subscriber(subscriber_id)}
        invoices = [(i, numbers[i.contract_id]) for i in self.for_subscriber(subscriber_id)]
        return invoices, list(self.mandates.for_contracts({i.contract_id for i, _number in invoices}))

    def lock(self, invoice_id: uuid.UUID) -> Invoice | None:
        return self.get(invoice_id)


class MemoryInstalments(_Table):
    def for_contracts(self, contract_ids: Sequence[uuid.UUID]) -> list[Instalment]:
        wanted = set(contract_ids)
        return sorted((i for i in self.rows.values() if i.contract_id in wanted),
                      key=lambda i: (str(i.contract_id), i.due_on))


class MemoryReminders:
    def __init__(self, rows: dict[Any, Any], invoices: MemoryInvoices, subscribers: MemorySubscribers) -> None:
        self.rows = rows  # (invoice_id, kind) -> SentReminder
        self.invoices = invoices
        self.subscribers = subscribers

    def candidates(self, before: tuple[date, date], after: tuple[date, date]) -> list[ReminderCandidate]:
        found = []
        for invoice in self.invoices.rows.values():
            due = invoice.due_on
            if not (before[0] <= due <= before[1] or after[0] <= due <= after[1]) or not invoice.payable:
                continue
            contract = self.invoices.contracts.get(invoice.contract_id)
            subscriber = self.subscribers.get(contract.subscriber_id) if contract else None
            if subscriber is not None and subscriber.email is not None and subscriber.reminders:
                found.append(ReminderCandidate(invoice, contract.number, subscriber))
        return sorted(found, key=lambda c: (c.invoice.due_on, c.invoice.number))

    def sent(self, invoice_ids: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, ReminderKind]]:
        wanted = set(invoice_ids)
        return {key for key in self.rows if key[0] in wanted}

    def claim(self, reminder: SentReminder) -> bool:
        key = (reminder.invoice_id, reminder.kind)
        if key in self.rows:
            return False
        self.rows[key] = reminder
        return True


class MemoryPayments(_Table):
    def add(self, payment: Payment) -> None:
        if payment.operation_id is not None and self.by_operation(payment.gateway, payment.operation_id):
            raise DuplicateKey("gateway", "operation_id")
        self._insert(payment)

    def update(self, payment: Payment) -> None:
        other = payment.operation_id and self.by_operation(payment.gateway, payment.operation_id)
        if other and other.id != payment.id:
            raise DuplicateKey("gateway", "operation_id")
        super().update(payment)

    def by_operation(self, gateway: str, operation_id: str) -> Payment | None:
        return self.one(gateway=gateway, operation_id=operation_id)

    def for_invoices(self, invoice_ids: Sequence[uuid.UUID]) -> list[Payment]:
        wanted = set(invoice_ids)
        return sorted((p for p in self.rows.values() if p.invoice_id in wanted), key=lambda p: p.created_at)

    def for_invoice(self, invoice_id: uuid.UUID) -> list[Payment]:
        return sorted(self.where(invoice_id=invoice_id), key=lambda p: p.created_at)

    def to_check(self, pending_before: datetime, limit: int) -> list[Payment]:
        found = [p for p in self.rows.values() if p.resolution is None and (
            p.flag is not None or (p.status == PaymentStatus.PENDING and p.created_at < pending_before))]
        return sorted(found, key=lambda p: p.created_at)[:limit]

    def pending(self, abandoned_since: datetime | None = None) -> list[Payment]:
        found = list(self.where(status=PaymentStatus.PENDING))
        if abandoned_since is not None:
            found += [p for p in self.where(status=PaymentStatus.ABANDONED) if p.created_at >= abandoned_since]
        return sorted(found, key=lambda p: p.created_at)


class MemoryFolders(_Table):
    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[DocumentFolder]:
        return sorted(self.where(subscriber_id=subscriber_id), key=lambda f: (f.position, f.name))


class MemoryDocuments(_Table):
    def __init__(self, rows: dict[Any, Any], readings: dict[Any, Any]) -> None:
        super().__init__(rows)
        self.reading_rows = readings  # a reading's photo is a stored object too

    def remove(self, document_id: uuid.UUID) -> None:
        self.rows.pop(document_id, None)

    def in_folder(self, folder_id: uuid.UUID) -> list[Document]:
        return sorted(self.where(folder_id=folder_id), key=lambda d: d.added_at, reverse=True)

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Document]:
        return sorted(self.where(subscriber_id=subscriber_id), key=lambda d: d.added_at, reverse=True)

    def count_by_folder(self, subscriber_id: uuid.UUID) -> dict[uuid.UUID, int]:
        return dict(Counter(d.folder_id for d in self.where(subscriber_id=subscriber_id)))

    def bytes_used(self, subscriber_id: uuid.UUID, added_by: AddedBy) -> int:
        return sum(d.size for d in self.where(subscriber_id=subscriber_id, added_by=added_by))

    def referenced_keys(self, keys: Collection[str]) -> set[str]:
        wanted = set(keys)
        held = {d.storage_key for d in self.rows.values()} | {r.photo_key for r in self.reading_rows.values()}
        return wanted & held


class MemoryRequests(_Table):
    def __init__(self, rows: dict[Any, Any], messages: dict[Any, Any], notes: dict[Any, Any],
                 moves: dict[Any, Any] | None = None) -> None:
        super().__init__(rows, unique=("reference",))
        self.message_rows = messages
        self.note_rows = notes
        self.move_rows: dict[Any, Any] = {} if moves is None else moves

    def add_move(self, move: MoveDetails) -> None:
        if move.request_id in self.move_rows:
            raise DuplicateKey("request_id", move.request_id)
        self.move_rows[move.request_id] = move

    def move_of(self, request_id: uuid.UUID) -> MoveDetails | None:
        return self.move_rows.get(request_id)

    def moves_of(self, subscriber_id: uuid.UUID) -> dict[uuid.UUID, MoveDetails]:
        return {request_id: move for request_id, move in self.move_rows.items()
                if self.rows[request_id].subscriber_id == subscriber_id}

    def add(self, entity: Request) -> None:
        try:
            self._insert(entity)
        except DuplicateKey as exc:
            if exc.args[:1] != ("reference",):
                raise
            raise ReferenceTaken(reference=entity.reference) from exc  # as the SQL adapter answers

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Request]:
        return sorted(self.where(subscriber_id=subscriber_id), key=lambda r: (r.created_at, r.reference),
                      reverse=True)

    def last_reference(self, prefix: str) -> str | None:
        return max((r.reference for r in self.rows.values() if r.reference.startswith(prefix)), default=None)

    def recent(self, status: RequestStatus | None, limit: int) -> list[Request]:
        found = [r for r in self.rows.values() if status is None or r.status is status]
        return sorted(found, key=lambda r: (r.created_at, r.reference), reverse=True)[:limit]

    def search(self, query: RequestQuery, limit: int) -> list[Request]:
        found = [
            r for r in self.rows.values()
            if (query.status is None or r.status is query.status)
            and (query.category is None or r.category is query.category)
            and (r.assignee_id is None if query.unassigned
                 else query.assignee_id is None or r.assignee_id == query.assignee_id)
            and (query.overdue_cutoffs is None or is_overdue(r, query.overdue_cutoffs))
        ]
        found.sort(key=lambda r: (r.created_at, r.reference), reverse=True)
        return found[query.offset : query.offset + limit]

    def add_note(self, note: InternalNote) -> None:
        self.note_rows[note.id] = note

    def notes(self, request_id: uuid.UUID) -> list[InternalNote]:
        return sorted((n for n in self.note_rows.values() if n.request_id == request_id),
                      key=lambda n: (n.created_at, str(n.id)))

    def add_message(self, message: RequestMessage) -> None:
        self.message_rows[message.id] = message

    def messages(self, request_id: uuid.UUID) -> list[RequestMessage]:
        found = [m for m in self.message_rows.values() if m.request_id == request_id]
        return sorted(found, key=lambda m: m.created_at)


class MemoryOutbox(_Rows):
    def add(self, mail: OutgoingMail, now: datetime) -> None:
        entry = OutboxEntry(mail, now, next_attempt_at=now)
        self.rows[entry.id] = entry

    def add_many(self, mails: Sequence[OutgoingMail], now: datetime) -> None:
        for mail in mails:
            self.add(mail, now)

    def pending(self) -> list[OutboxEntry]:
        return sorted((e for e in self.rows.values() if e.status is OutboxStatus.PENDING), key=lambda e: e.created_at)

    def get(self, entry_id: uuid.UUID) -> OutboxEntry | None:
        return self.rows.get(entry_id)

    def unsent(self, limit: int) -> list[OutboxEntry]:
        found = (e for e in self.rows.values() if e.sent_at is None)
        return sorted(found, key=lambda e: e.created_at, reverse=True)[:limit]

    def give_up(self, entry_id: uuid.UUID, when: datetime, error: str) -> None:
        if entry_id in self.rows:
            self.rows[entry_id].failed_at = when
            self.rows[entry_id].last_error = error

    def retry(self, entry_id: uuid.UUID, now: datetime) -> bool:
        entry = self.rows.get(entry_id)
        if entry is None or entry.sent_at is not None:
            return False
        entry.failed_at = entry.discarded_at = None
        entry.attempts, entry.next_attempt_at = 0, now
        return True

    def discard(self, entry_id: uuid.UUID, now: datetime) -> bool:
        entry = self.rows.get(entry_id)
        if entry is None or entry.sent_at is not None or entry.discarded_at is not None:
            return False
        entry.discarded_at = now
        return True

    def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEntry]:
        due = [e for e in self.pending() if e.next_attempt_at <= now][:limit]
        for entry in due:
            entry.attempts += 1
            entry.next_attempt_at = lease_until
        return [copy.deepcopy(e) for e in due]

    def mark_sent(self, entry_id: uuid.UUID, when: datetime) -> None:
        if entry_id in self.rows:
            self.rows[entry_id].sent_at = when

    def mark_failed(self, entry_id: uuid.UUID, retry_at: datetime, error: str) -> None:
        if entry_id in self.rows:
            self.rows[entry_id].next_attempt_at = retry_at
            self.rows[entry_id].last_error = error


class MemoryTokens(_Rows):
    def add(self, token: AccountToken) -> None:
        self.rows[token.token_hash] = token

    def get(self, token_hash: str) -> AccountToken | None:
        return self.rows.get(token_hash)

    def remove(self, token_hash: str) -> None:
        self.rows.pop(token_hash, None)

    def remove_for(self, *, subscriber_id: uuid.UUID | None = None, staff_id: uuid.UUID | None = None,
                   purpose: TokenPurpose | None = None) -> None:
        for key, token in list(self.rows.items()):
            mine = (subscriber_id is not None and token.subscriber_id == subscriber_id) or (
                staff_id is not None and token.staff_id == staff_id)
            if mine and (purpose is None or token.purpose == purpose):
                del self.rows[key]

    def remove_expired(self, now: datetime) -> int:
        dead = [k for k, token in self.rows.items() if not token.alive(now)]
        for key in dead:
            del self.rows[key]
        return len(dead)


class MemoryThrottles(_Rows):
    def get(self, key: str) -> LoginAttempts | None:
        return self.rows.get(key)

    def hit(self, key: str, now: datetime, window: timedelta) -> LoginAttempts:
        found = self.rows.get(key)
        if found is None or now - found.last_failure_at > window:
            found = self.rows[key] = LoginAttempts(key, 0, now)
        found.failures += 1
        found.last_failure_at = now
        return found

    def lock(self, key: str, now: datetime) -> LoginAttempts | None:
        found = self.get(key)  # the memory database runs one unit of work at a time
        return found if found is not None and found.failures > 0 else None

    def release(self, key: str) -> None:
        found = self.rows.get(key)
        if found is not None and found.failures > 0:
            found.failures -= 1

    def clear(self, key: str) -> None:
        self.rows.pop(key, None)

    def clear_prefix(self, prefix: str) -> int:
        found = [key for key in self.rows if key.startswith(prefix)]
        for key in found:
            del self.rows[key]
        return len(found)

    def remove_idle(self, before: datetime) -> int:
        idle = [k for k, a in self.rows.items() if a.last_failure_at < before]
        for key in idle:
            del self.rows[key]
        return len(idle)


TABLES = (
    "subscribers", "staff", "accounts", "sessions", "contracts", "readings", "invoices", "payments", "folders",
    "documents", "requests", "request_messages", "outbox", "tokens", "throttles", "overconsumption_notices",
    "audit",
    "security_events",
    "recovery_codes",
    "mandates",
    "instalments",
    "sent_reminders",
    "request_moves",
    "request_notes",
    "reply_templates",
    "relief_decisions",
)


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase, *, read_only: bool = False) -> None:
        self.database = database
        self.read_only = read_only
        self._state: dict[str, dict[Any, Any]] = {}

    def __enter__(self) -> Self:
        with self.database.lock:
            for name in TABLES:
                self.database.tables.setdefault(name, {})
            self._state = copy.deepcopy(self.database.tables)
        t = self._state
        self.contracts = MemoryContracts(t["contracts"], unique=("number",))
        self.subscribers = MemorySubscribers(t["subscribers"], self.contracts, unique=("number",))
        self.staff = MemoryStaff(t["staff"])
        self.accounts = MemoryAccounts(t["accounts"], unique=("subscriber_id", "staff_id"))
        self.sessions = MemorySessions(t["sessions"], self.accounts, self.subscribers, self.staff)
        self.readings = MemoryReadings(t["readings"])
        from .mandates import MemoryMandates  # built on this module's tables

        self.mandates = MemoryMandates(t["mandates"], self.contracts)
        self.invoices = MemoryInvoices(t["invoices"], self.contracts, self.mandates)
        self.instalments = MemoryInstalments(t["instalments"])
        self.reminders = MemoryReminders(t["sent_reminders"], self.invoices, self.subscribers)
        self.payments = MemoryPayments(t["payments"])
        self.folders = MemoryFolders(t["folders"])
        self.documents = MemoryDocuments(t["documents"], t["readings"])
        self.requests = MemoryRequests(t["requests"], t["request_messages"], t["request_notes"], t["request_moves"])
        self.outbox = MemoryOutbox(t["outbox"])
        self.tokens = MemoryTokens(t["tokens"])
        self.throttles = MemoryThrottles(t["throttles"])
        self.overconsumption_notices = MemoryOverconsumptionNotices(t["overconsumption_notices"])
        self.exchange = MemoryExchange(self)
        self.audit = MemoryAudit(t["audit"])
        self.privacy = MemoryPrivacy(self, t["security_events"])
        self.recovery_codes = MemoryRecoveryCodes(t["recovery_codes"])
        self.reply_templates = MemoryReplyTemplates(t["reply_templates"])
        self.dashboard = MemoryDashboard(self)
        self.relief = MemoryRelief(self)
        self.publishing = MemoryPublishing(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._state = {}

    def commit(self) -> None:
        if self.read_only:
            raise ReadOnlyUnitOfWork("a read-only unit of work cannot commit")
        with self.database.lock:
            self.database.tables = copy.deepcopy(self._state)

    def rollback(self) -> None:
        with self.database.lock:
            committed = copy.deepcopy(self.database.tables)
            for name, rows in self._state.items():
                rows.clear()
                rows.update(committed.get(name, {}))

    def ping(self) -> bool:
        return True
