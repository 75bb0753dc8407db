"""The privacy repository in memory, over the tables of one ``MemoryUnitOfWork``."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from portail_domain.model.accounts import Account
from portail_domain.model.billing import Invoice, InvoiceStatus, Payment
from portail_domain.model.privacy import SecurityEvent
from portail_domain.model.requests import Request, RequestMessage, RequestStatus

if TYPE_CHECKING:
    from .repositories import MemoryUnitOfWork


class MemoryPrivacy:
    def __init__(self, uow: MemoryUnitOfWork, events: dict[Any, Any]) -> None:
        self.uow = uow
        self.events = events

    def add_event(self, event: SecurityEvent) -> None:
        self.events[event.id] = event

    def events_for(self, subscriber_id: uuid.UUID) -> list[SecurityEvent]:
        return sorted((e for e in self.events.values() if e.subscriber_id == subscriber_id), key=lambda e: e.at,
                      reverse=True)

    def payments_of(self, invoice_ids: Collection[uuid.UUID]) -> list[Payment]:
        wanted = set(invoice_ids)
        found = [p for p in self.uow.payments.rows.values() if p.invoice_id in wanted]
        return sorted(found, key=lambda p: p.created_at)

    def messages_of(self, request_ids: Collection[uuid.UUID]) -> list[RequestMessage]:
        wanted = set(request_ids)
        return sorted((m for m in self.uow.requests.message_rows.values() if m.request_id in wanted),
                      key=lambda m: m.created_at)

    def expired_invoices(self, issued_before: date, limit: int) -> list[Invoice]:
        settled = (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)
        found = [i for i in self.uow.invoices.rows.values() if i.issued_on < issued_before and i.status in settled]
        return sorted(found, key=lambda i: i.issued_on)[:limit]

    def expired_requests(self, closed_before: datetime, limit: int) -> list[Request]:
        def last_change(r: Request) -> datetime:
            return r.updated_at or r.created_at

        found = [r for r in self.uow.requests.rows.values()
                 if r.status is RequestStatus.CLOSED and last_change(r) < closed_before]
        return sorted(found, key=last_change)[:limit]

    def _remove_documents(self, document_ids: Collection[uuid.UUID]) -> list[str]:
        rows = self.uow.documents.rows
        return [rows.pop(i).storage_key for i in document_ids if i in rows]

    def remove_invoices(self, invoice_ids: Collection[uuid.UUID]) -> list[str]:
        wanted = set(invoice_ids)
        payments = self.uow.payments.rows
        for key in [k for k, p in payments.items() if p.invoice_id in wanted]:
            del payments[key]
        pdfs = [invoice.pdf_document_id for i in wanted
                if (invoice := self.uow.invoices.rows.pop(i, None)) is not None and invoice.pdf_document_id]
        return self._remove_documents(pdfs)

    def remove_requests(self, request_ids: Collection[uuid.UUID]) -> list[str]:
        wanted = set(request_ids)
        messages = self.uow.requests.message_rows
        attachments = [m.attachment_id for m in messages.values() if m.request_id in wanted and m.attachment_id]
        for key in [k for k, m in messages.items() if m.request_id in wanted]:
            del messages[key]
        for request_id in wanted:
            self.uow.requests.rows.pop(request_id, None)
        return self._remove_documents(attachments)

    def remove_events(self, before: datetime) -> int:
        old = [k for k, e in self.events.items() if e.at < before]
        for key in old:
            del self.events[key]
        return len(old)

    def unused_accounts(self, used_before: datetime, limit: int) -> list[Account]:
        found = [a for a in self.uow.accounts.rows.values()
                 if a.subscriber_id is not None and a.unused_warned_at is None and a.last_used_at < used_before]
        return sorted(found, key=lambda a: a.last_used_at)[:limit]

    def warned_accounts(self, warned_before: datetime, limit: int) -> list[Account]:
        found = [a for a in self.uow.accounts.rows.values()
                 if a.subscriber_id is not None and a.unused_warned_at is not None
                 and a.unused_warned_at < warned_before
                 and (a.last_login_at is None or a.last_login_at < a.unused_warned_at)]
        return sorted(found, key=lambda a: a.unused_warned_at)[:limit]

    def remove_account(self, account_id: uuid.UUID) -> None:
        self.uow.sessions.remove_for_account(account_id)
        self.uow.accounts.rows.pop(account_id, None)
