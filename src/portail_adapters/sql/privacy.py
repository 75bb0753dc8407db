"""The privacy repository over SQL: the security log, the export's bulk reads, retention deletions."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, or_, select

from portail_domain.model.accounts import Account
from portail_domain.model.billing import Invoice, Payment
from portail_domain.model.privacy import SecurityEvent, SecurityEventKind
from portail_domain.model.requests import Request, RequestMessage, RequestStatus

from . import mapping as m
from . import tables as t

CHUNK = 500  # ids per IN list (SQLite caps bound parameters)


def _chunks(ids: Collection[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    values = list(ids)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class SqlPrivacy:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _rows(self, query: Any) -> list[Any]:
        return list(self.connection.execute(query).mappings())

    def _in(self, table: Table, column: str, ids: Collection[uuid.UUID]) -> list[Any]:
        return [row for chunk in _chunks(ids) for row in self._rows(select(table).where(table.c[column].in_(chunk)))]

    def add_event(self, event: SecurityEvent) -> None:
        self.connection.execute(insert(t.security_events), [{
            "id": event.id, "kind": event.kind.value, "at": event.at, "subscriber_id": event.subscriber_id,
            "staff_id": event.staff_id, "ip": event.ip}])

    def events_for(self, subscriber_id: uuid.UUID) -> list[SecurityEvent]:
        e = t.security_events
        rows = self._rows(select(e).where(e.c.subscriber_id == subscriber_id).order_by(e.c.at.desc()))
        return [SecurityEvent(SecurityEventKind(r["kind"]), r["at"], r["subscriber_id"], r["staff_id"], r["ip"],
                              r["id"]) for r in rows]

    def payments_of(self, invoice_ids: Collection[uuid.UUID]) -> list[Payment]:
        return sorted((m.payment_from_row(r) for r in self._in(t.payments, "invoice_id", invoice_ids)),
                      key=lambda p: p.created_at)

    def messages_of(self, request_ids: Collection[uuid.UUID]) -> list[RequestMessage]:
        return sorted((m.message_from_row(r) for r in self._in(t.request_messages, "request_id", request_ids)),
                      key=lambda message: message.created_at)

    def expired_invoices(self, issued_before: date, limit: int) -> list[Invoice]:
        i = t.invoices
        settled = or_(i.c.cancelled.is_(True), i.c.amount_paid_cents >= i.c.amount_cents)
        query = select(i).where(i.c.issued_on < issued_before, settled).order_by(i.c.issued_on).limit(limit)
        return [m.invoice_from_row(r) for r in self._rows(query)]

    def expired_requests(self, closed_before: datetime, limit: int) -> list[Request]:
        r = t.requests
        last_change = func.coalesce(r.c.updated_at, r.c.created_at)
        query = (select(r).where(r.c.status == RequestStatus.CLOSED.value, last_change < closed_before)
                 .order_by(last_change).limit(limit))
        return [m.request_from_row(row) for row in self._rows(query)]

    def _remove_documents(self, document_ids: Collection[uuid.UUID]) -> list[str]:
        d = t.documents
        keys = [row["storage_key"] for row in self._in(d, "id", document_ids)]
        for chunk in _chunks(document_ids):
            self.connection.execute(delete(d).where(d.c.id.in_(chunk)))
        return keys

    def remove_invoices(self, invoice_ids: Collection[uuid.UUID]) -> list[str]:
        i = t.invoices
        pdfs = [row["pdf_document_id"] for row in self._in(i, "id", invoice_ids) if row["pdf_document_id"]]
        for chunk in _chunks(invoice_ids):
            self.connection.execute(delete(t.payments).where(t.payments.c.invoice_id.in_(chunk)))
            self.connection.execute(delete(i).where(i.c.id.in_(chunk)))
        return self._remove_documents(pdfs)

    def remove_requests(self, request_ids: Collection[uuid.UUID]) -> list[str]:
        rm = t.request_messages
        attachments = [row["attachment_id"] for row in self._in(rm, "request_id", request_ids) if row["attachment_id"]]
        for chunk in _chunks(request_ids):
            self.connection.execute(delete(rm).where(rm.c.request_id.in_(chunk)))
            self.connection.execute(delete(t.requests).where(t.requests.c.id.in_(chunk)))
        return self._remove_documents(attachments)

    def remove_events(self, before: datetime) -> int:
        return self.connection.execute(delete(t.security_events).where(t.security_events.c.at < before)).rowcount

    def unused_accounts(self, used_before: datetime, limit: int) -> list[Account]:
        a = t.accounts
        last_used = func.coalesce(a.c.last_login_at, a.c.created_at)
        query = (select(a).where(a.c.subscriber_id.is_not(None), a.c.unused_warned_at.is_(None),
                                 last_used < used_before).order_by(last_used).limit(limit))
        return [m.account_from_row(r) for r in self._rows(query)]

    def warned_accounts(self, warned_before: datetime, limit: int) -> list[Account]:
        a = t.accounts
        query = (select(a).where(a.c.subscriber_id.is_not(None), a.c.unused_warned_at < warned_before,
                                 or_(a.c.last_login_at.is_(None), a.c.last_login_at < a.c.unused_warned_at))
                 .order_by(a.c.unused_warned_at).limit(limit))
        return [m.account_from_row(r) for r in self._rows(query)]

    def remove_account(self, account_id: uuid.UUID) -> None:
        self.connection.execute(delete(t.web_sessions).where(t.web_sessions.c.account_id == account_id))
        self.connection.execute(delete(t.accounts).where(t.accounts.c.id == account_id))
