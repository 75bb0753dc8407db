"""The staff's side of requests (the "demandes" desk): due dates, the queue's filters, internal
notes, reply templates per category, and the dashboard's counts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from .requests import RequestCategory, RequestInvalid, RequestStatus, RequestSummary

QUEUE_PAGE_SIZE = 50
MAX_NOTE = 5000
MAX_REASON = 500
MAX_TEMPLATE_TITLE = 100
# Statuses where the next move is the utility's: a request in one of them can be overdue.
WAITING_ON_STAFF: tuple[RequestStatus, ...] = (RequestStatus.NEW, RequestStatus.IN_PROGRESS)


class ReasonMissing(RequestInvalid):
    """Closing a request needs a reason (``field`` = ``reason``)."""

    code = "request_reason_missing"


class NoteMissing(RequestInvalid):
    code = "request_note_missing"


class AssigneeUnknown(RequestInvalid):
    """The assignee is no active member of staff."""

    code = "request_assignee_unknown"


class TemplateInvalid(RequestInvalid):
    code = "reply_template_invalid"


@attrs.frozen
class DueRules:
    """How long the utility gives itself to answer a request, in days after it was filed (the
    French service charters say 15), with per-category overrides."""

    days: int = 15
    by_category: tuple[tuple[RequestCategory, int], ...] = ()

    def days_for(self, category: RequestCategory) -> int:
        return dict(self.by_category).get(category, self.days)

    def due_at(self, category: RequestCategory, created_at: datetime) -> datetime:
        return created_at + timedelta(days=self.days_for(category))

    def is_overdue(self, category: RequestCategory, status: RequestStatus, created_at: datetime,
                   now: datetime) -> bool:
        """Still waiting on the utility (new / in progress) past its due date."""
        return status in WAITING_ON_STAFF and self.due_at(category, created_at) < now

    def cutoffs(self, now: datetime) -> dict[RequestCategory, datetime]:
        """Per category, the filing time before which a request still waiting is overdue."""
        return {category: now - timedelta(days=self.days_for(category)) for category in RequestCategory}


@attrs.frozen
class RequestQuery:
    """The queue's filters (each optional) and the page wanted; newest first."""

    status: RequestStatus | None = None
    category: RequestCategory | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    overdue_cutoffs: Mapping[RequestCategory, datetime] | None = None  # set: overdue ones only
    page: int = 1
    page_size: int = QUEUE_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (max(1, self.page) - 1) * self.page_size


@attrs.frozen
class QueueItem:
    summary: RequestSummary
    due_at: datetime
    overdue: bool
    assignee_name: str | None = None


@attrs.frozen
class QueuePage:
    items: list[QueueItem]
    query: RequestQuery
    has_next: bool


@attrs.frozen
class InternalNote:
    """A note staff keep on a request: never shown to the subscriber, never in their data export."""

    request_id: uuid.UUID
    staff_id: uuid.UUID
    staff_name: str
    body: str
    created_at: datetime
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


@attrs.define(eq=False)
class ReplyTemplate:
    """A ready answer for one category of request, kept in the database, edited by administrators."""

    category: RequestCategory
    title: str
    body: str
    updated_at: datetime
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


def clean_reason(value: str) -> str:
    """A closing reason: one line, 1 to 500 characters."""
    reason = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not reason:
        raise ReasonMissing(field="reason")
    if len(reason) > MAX_REASON:
        raise RequestInvalid(field="reason", max=MAX_REASON)
    return reason


def clean_template_title(value: str) -> str:
    title = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not title or len(title) > MAX_TEMPLATE_TITLE:
        raise TemplateInvalid(field="title", max=MAX_TEMPLATE_TITLE)
    return title


@attrs.frozen
class Dashboard:
    """The back office's home: how much waits in each queue (one query per count)."""

    requests_new: int
    requests_in_progress: int
    requests_overdue: int
    readings_to_review: int
    payments_to_check: int
    mails_failing: int
    accounts_activated_this_month: int
    subscribers_with_email: int

