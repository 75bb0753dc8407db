"""The exchange repository in memory, over the tables of one ``MemoryUnitOfWork``."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from portail_domain.model.accounts import Subscriber
from portail_domain.model.billing import Invoice, PaymentStatus
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource
from portail_domain.model.exchange import PaymentLine, ReadingLine, RequestLine
from portail_domain.model.schedules import Instalment

if TYPE_CHECKING:
    from .repositories import MemoryUnitOfWork

_EPOCH = datetime.min.replace(tzinfo=UTC)


class MemoryExchange:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow
        self.seen: dict[str, int] = {}

    def start_import(self) -> None:
        self.seen = {}

    def remember_keys(self, kind: str, keys: Mapping[str, int]) -> dict[str, int]:
        earlier = {k: self.seen[k] for k in keys if k in self.seen}
        for key, line in keys.items():
            self.seen.setdefault(key, line)
        return earlier

    @staticmethod
    def _by(rows: Mapping[Any, Any], attribute: str, values: Collection[Any]) -> dict[Any, Any]:
        wanted = set(values)
        return {getattr(e, attribute): e for e in rows.values() if getattr(e, attribute) in wanted}

    def subscribers_by_number(self, numbers: Collection[str]) -> dict[str, Subscriber]:
        return self._by(self.uow.subscribers.rows, "number", numbers)

    def subscribers_by_id(self, subscriber_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Subscriber]:
        return self._by(self.uow.subscribers.rows, "id", subscriber_ids)

    def with_account(self, subscriber_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        wanted = set(subscriber_ids)
        return {a.subscriber_id for a in self.uow.accounts.rows.values() if a.subscriber_id in wanted}

    def contracts_by_number(self, numbers: Collection[str]) -> dict[str, Contract]:
        return self._by(self.uow.contracts.rows, "number", numbers)

    def invoices_by_number(self, numbers: Collection[str]) -> dict[str, Invoice]:
        return self._by(self.uow.invoices.rows, "number", numbers)

    def latest_readings(self, contract_ids: Collection[uuid.UUID]) -> dict[tuple[uuid.UUID, str], MeterReading]:
        latest: dict[tuple[uuid.UUID, str], MeterReading] = {}
        for reading in self.readings_of(contract_ids):
            pair = (reading.contract_id, reading.meter_number)
            if pair not in latest or reading.read_on > latest[pair].read_on:
                latest[pair] = reading
        return latest

    def readings_of(self, contract_ids: Collection[uuid.UUID]) -> list[MeterReading]:
        wanted = set(contract_ids)
        return [r for r in self.uow.readings.rows.values() if r.contract_id in wanted]

    def document_hashes(self, document_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = self.uow.documents.rows
        return {i: rows[i].sha256 for i in document_ids if i in rows}

    def _save(self, table: Any, new: Sequence[Any], changed: Sequence[Any]) -> None:
        for entity in new:
            table.add(entity)
        for entity in changed:
            table.update(entity)

    def save_subscribers(self, new: Sequence[Subscriber], changed: Sequence[Subscriber]) -> None:
        self._save(self.uow.subscribers, new, changed)

    def save_contracts(self, new: Sequence[Contract], changed: Sequence[Contract]) -> None:
        self._save(self.uow.contracts, new, changed)

    def save_readings(self, new: Sequence[MeterReading], changed: Sequence[MeterReading]) -> None:
        self._save(self.uow.readings, new, changed)

    def save_invoices(self, new: Sequence[Invoice], changed: Sequence[Invoice]) -> None:
        self._save(self.uow.invoices, new, changed)

    def instalments_of(self, contract_ids: Collection[uuid.UUID]) -> dict[tuple[uuid.UUID, date], Instalment]:
        wanted = set(contract_ids)
        return {(i.contract_id, i.due_on): i for i in self.uow.instalments.rows.values() if i.contract_id in wanted}

    def save_instalments(self, new: Sequence[Instalment], changed: Sequence[Instalment]) -> None:
        self._save(self.uow.instalments, new, changed)

    def paid_payments(self, since: datetime | None) -> Iterator[PaymentLine]:
        invoices, contracts = self.uow.invoices.rows, self.uow.contracts.rows
        paid = [p for p in self.uow.payments.rows.values()
                if p.status == PaymentStatus.PAID and p.paid_at is not None and (since is None or p.paid_at >= since)]
        paid.sort(key=lambda p: (p.paid_at, p.gateway, p.operation_id or "", str(p.id)))
        for p in paid:
            invoice = invoices[p.invoice_id]
            yield PaymentLine(invoice.number, contracts[invoice.contract_id].number, p.amount, p.gateway,
                              p.operation_id, p.gateway_reference, p.paid_at)

    def subscriber_readings(self, since: datetime | None) -> Iterator[ReadingLine]:
        contracts = self.uow.contracts.rows
        found = [r for r in self.uow.readings.rows.values()
                 if r.source == ReadingSource.SUBSCRIBER and (since is None or (r.recorded_at or _EPOCH) >= since
                                                              or (r.reviewed_at or _EPOCH) >= since)]
        found.sort(key=lambda r: (r.recorded_at or _EPOCH, contracts[r.contract_id].number, r.meter_number, r.read_on))
        for r in found:
            yield ReadingLine(contracts[r.contract_id].number, r.meter_number, r.read_on, r.index, r.source, r.status,
                              r.recorded_at)

    def request_lines(self, since: datetime | None) -> Iterator[RequestLine]:
        subscribers, contracts, staff = self.uow.subscribers.rows, self.uow.contracts.rows, self.uow.staff.rows
        found = [q for q in self.uow.requests.rows.values()
                 if since is None or (q.updated_at or q.created_at) >= since]
        found.sort(key=lambda q: (q.created_at, q.reference))
        for q in found:
            contract = contracts.get(q.contract_id) if q.contract_id else None
            move = self.uow.requests.move_of(q.id)
            yield RequestLine(q.reference, subscribers[q.subscriber_id].number, contract.number if contract else None,
                              q.category.value, q.status.value, q.subject, q.created_at, q.updated_at,
                              staff[q.assignee_id].email.address if q.assignee_id in staff else None, q.closing_reason,
                              *((move.move_on, move.index, move.new_address, move.occupant) if move else ()))
