"""The requests desk's storage: reply templates, the dashboard's counts, écrêtement decisions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Connection, Table, and_, delete, false, func, insert, or_, select, update

from portail_domain.model.billing import PaymentStatus
from portail_domain.model.contracts import ReadingStatus
from portail_domain.model.relief import ReliefDecision, ReliefLine, ReliefOutcome
from portail_domain.model.request_desk import WAITING_ON_STAFF, ReplyTemplate
from portail_domain.model.requests import RequestCategory, RequestStatus

from . import tables as t


def overdue(requests: Table, cutoffs: Mapping[RequestCategory, datetime]) -> ColumnElement[bool]:
    """Waiting on staff and filed before its category's cutoff (one OR branch per category)."""
    c = requests.c
    by_category = [and_(c.category == category.value, c.created_at < cutoff) for category, cutoff in cutoffs.items()]
    return and_(c.status.in_([s.value for s in WAITING_ON_STAFF]), or_(false(), *by_category))


def _template_from_row(r: Any) -> ReplyTemplate:
    return ReplyTemplate(id=r["id"], category=RequestCategory(r["category"]), title=r["title"], body=r["body"],
                         updated_at=r["updated_at"])


def _template_to_row(template: ReplyTemplate) -> dict[str, Any]:
    return {**attrs.asdict(template), "category": template.category.value}


class SqlReplyTemplates:
    table = t.reply_templates

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, template: ReplyTemplate) -> None:
        self.connection.execute(insert(self.table), [_template_to_row(template)])

    def update(self, template: ReplyTemplate) -> None:
        row = _template_to_row(template)
        self.connection.execute(update(self.table).where(self.table.c.id == template.id).values(row))

    def remove(self, template_id: uuid.UUID) -> None:
        self.connection.execute(delete(self.table).where(self.table.c.id == template_id))

    def get(self, template_id: uuid.UUID) -> ReplyTemplate | None:
        row = self.connection.execute(select(self.table).where(self.table.c.id == template_id)).mappings().first()
        return _template_from_row(row) if row is not None else None

    def list(self, category: RequestCategory | None = None) -> list[ReplyTemplate]:
        c = self.table.c
        query = select(self.table).order_by(c.category, c.title, c.id)
        if category is not None:
            query = query.where(c.category == category.value)
        return [_template_from_row(r) for r in self.connection.execute(query).mappings()]


class SqlDashboard:
    """One ``SELECT count(*)`` per figure, each on an index."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _count(self, table: Table, *where: ColumnElement[bool]) -> int:
        return int(self.connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    def requests_with_status(self, status: RequestStatus) -> int:
        return self._count(t.requests, t.requests.c.status == status.value)

    def requests_overdue(self, cutoffs: Mapping[RequestCategory, datetime]) -> int:
        return self._count(t.requests, overdue(t.requests, cutoffs))

    def readings_to_review(self) -> int:
        return self._count(t.meter_readings, t.meter_readings.c.status == ReadingStatus.TO_REVIEW.value)

    def payments_to_check(self, pending_before: datetime) -> int:
        c = t.payments.c
        stale = and_(c.status == PaymentStatus.PENDING.value, c.created_at < pending_before)
        return self._count(t.payments, or_(c.flag.is_not(None), stale))

    def mails_failing(self) -> int:
        c = t.outbox.c
        # "En échec" on /agent/courriels (OutboxStatus.FAILED): the relay gave up, staff did not discard it.
        return self._count(t.outbox, c.sent_at.is_(None), c.failed_at.is_not(None), c.discarded_at.is_(None))

    def accounts_activated(self, since: datetime) -> int:
        c = t.accounts.c
        return self._count(t.accounts, c.created_at >= since, c.subscriber_id.is_not(None))

    def subscribers_with_email(self) -> int:
        return self._count(t.subscribers, t.subscribers.c.email_normalised.is_not(None))


def _decision_from_row(r: Any) -> ReliefDecision:
    fields = {f.name for f in attrs.fields(ReliefDecision)}
    return ReliefDecision(**{**{k: r[k] for k in fields if k != "outcome"}, "outcome": ReliefOutcome(r["outcome"])})


class SqlRelief:
    table = t.relief_decisions

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, decision: ReliefDecision) -> None:
        self.connection.execute(insert(self.table), [{**attrs.asdict(decision), "outcome": decision.outcome.value}])

    def for_request(self, request_id: uuid.UUID) -> ReliefDecision | None:
        query = select(self.table).where(self.table.c.request_id == request_id)
        row = self.connection.execute(query).mappings().first()
        return _decision_from_row(row) if row is not None else None

    def lines(self, since: datetime | None) -> Iterator[ReliefLine]:
        c = self.table.c
        query = (select(self.table, t.contracts.c.number.label("contract_number"))
                 .join(t.contracts, t.contracts.c.id == c.contract_id).order_by(c.decided_at, c.id))
        if since is not None:
            query = query.where(c.decided_at >= since)
        for row in self.connection.execute(query.execution_options(yield_per=1000)).mappings():
            yield ReliefLine(row["contract_number"], _decision_from_row(row))
