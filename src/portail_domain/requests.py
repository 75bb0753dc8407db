"""Requests (demandes) filed by subscribers and answered by staff."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from . import errors


class RequestStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"


# Where each status may go (staying put is always allowed, except when closed).
NEXT: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.NEW: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED, RequestStatus.CLOSED}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.ANSWERED, RequestStatus.CLOSED}),
    RequestStatus.ANSWERED: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.CLOSED}),  # reopened
    RequestStatus.CLOSED: frozenset(),
}


class RequestCategory(enum.StrEnum):
    INSTALLATION = "installation"  # problème sur l'installation
    BILLING = "billing"  # facturation
    METER = "meter"  # compteur
    MOVING = "moving"  # emménagement / déménagement
    LEAK_RELIEF = "ecretement"  # écrêtement (fuite), loi Warsmann
    OTHER = "other"


class ReferenceTaken(errors.DomainError):
    """Raised by ``uow.requests.add`` when the reference is already used (a concurrent filing)."""

    code = "request_reference_taken"


class Author(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    STAFF = "staff"


@attrs.define(eq=False)
class Request:
    reference: str
    subscriber_id: uuid.UUID
    category: RequestCategory
    subject: str
    created_at: datetime
    status: RequestStatus = RequestStatus.NEW
    contract_id: uuid.UUID | None = None
    updated_at: datetime | None = None
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    def move_to(self, status: RequestStatus, now: datetime) -> None:
        """Status moves forward (``NEXT``); the one step back is a subscriber's follow-up that
        reopens an answered request (answered -> in progress). A closed request stays closed."""
        if self.status is RequestStatus.CLOSED:
            raise errors.RequestClosed(reference=self.reference)
        if status is not self.status and status not in NEXT[self.status]:
            raise errors.StatusGoesBack(current=self.status, wanted=status)
        self.status = status
        self.updated_at = now

    @property
    def is_closed(self) -> bool:
        return self.status is RequestStatus.CLOSED


@attrs.define(eq=False)
class RequestMessage:
    request_id: uuid.UUID
    author: Author
    author_name: str
    body: str
    created_at: datetime
    attachment_id: uuid.UUID | None = None  # a Document
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)
