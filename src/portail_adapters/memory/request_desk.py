"""In-memory requests desk: reply templates, the dashboard's counts, écrêtement decisions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from portail_domain.model.billing import PaymentStatus
from portail_domain.model.contracts import ReadingStatus
from portail_domain.model.mail import OutboxStatus
from portail_domain.model.relief import ReliefDecision, ReliefLine
from portail_domain.model.request_desk import WAITING_ON_STAFF, ReplyTemplate
from portail_domain.model.requests import Request, RequestCategory, RequestStatus


def is_overdue(request: Request, cutoffs: Mapping[RequestCategory, datetime]) -> bool:
    """As the SQL filter: waiting on staff and filed before its category's cutoff."""
    cutoff = cutoffs.get(request.category)
    return request.status in WAITING_ON_STAFF and cutoff is not None and request.created_at < cutoff


class MemoryReplyTemplates:
    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def add(self, template: ReplyTemplate) -> None:
        self.rows[template.id] = template

    def update(self, template: ReplyTemplate) -> None:
        if template.id in self.rows:
            self.rows[template.id] = template

    def remove(self, template_id: uuid.UUID) -> None:
        self.rows.pop(template_id, None)

    def get(self, template_id: uuid.UUID) -> ReplyTemplate | None:
        return self.rows.get(template_id)

    def list(self, category: RequestCategory | None = None) -> list[ReplyTemplate]:
        found = [r for r in self.rows.values() if category is None or r.category is category]
        return sorted(found, key=lambda r: (r.category.value, r.title, str(r.id)))


class _Tables(Protocol):
    """The memory unit of work's tables the counts read."""

    _state: dict[str, dict[Any, Any]]


class MemoryDashboard:
    def __init__(self, uow: _Tables) -> None:
        self.uow = uow

    def _rows(self, name: str) -> list[Any]:
        return list(self.uow._state[name].values())

    def requests_with_status(self, status: RequestStatus) -> int:
        return sum(1 for r in self._rows("requests") if r.status is status)

    def requests_overdue(self, cutoffs: Mapping[RequestCategory, datetime]) -> int:
        return sum(1 for r in self._rows("requests") if is_overdue(r, cutoffs))

    def readings_to_review(self) -> int:
        return sum(1 for r in self._rows("readings") if r.status is ReadingStatus.TO_REVIEW)

    def payments_to_check(self, pending_before: datetime) -> int:
        return sum(1 for p in self._rows("payments")
                   if p.flag is not None or (p.status is PaymentStatus.PENDING and p.created_at < pending_before))

    def mails_failing(self) -> int:
        return sum(1 for e in self._rows("outbox") if e.status is OutboxStatus.FAILED)

    def accounts_activated(self, since: datetime) -> int:
        return sum(1 for a in self._rows("accounts") if a.subscriber_id is not None and a.created_at >= since)

    def subscribers_with_email(self) -> int:
        return sum(1 for s in self._rows("subscribers") if s.email is not None)


class MemoryRelief:
    def __init__(self, uow: _Tables) -> None:
        self.uow = uow
        self.rows = uow._state["relief_decisions"]

    def add(self, decision: ReliefDecision) -> None:
        if any(d.request_id == decision.request_id for d in self.rows.values()):
            raise ValueError(f"request {decision.request_id} already has a decision")  # as the unique constraint
        self.rows[decision.id] = decision

    def for_request(self, request_id: uuid.UUID) -> ReliefDecision | None:
        return next((d for d in self.rows.values() if d.request_id == request_id), None)

    def lines(self, since: datetime | None) -> Iterator[ReliefLine]:
        contracts = self.uow._state["contracts"]
        decisions = sorted(self.rows.values(), key=lambda d: (d.decided_at, str(d.id)))
        return iter([ReliefLine(contracts[d.contract_id].number, d) for d in decisions
                     if since is None or d.decided_at >= since])
