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


_ORDER = [RequestStatus.NEW, RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED, RequestStatus.CLOSED]


class RequestCategory(enum.StrEnum):
    INSTALLATION = "installation"  # problème sur l'installation
    BILLING = "billing"  # facturation
    METER = "meter"  # compteur
    MOVING = "moving"  # emménagement / déménagement
    LEAK_RELIEF = "ecretement"  # écrêtement (fuite), loi Warsmann
    OTHER = "other"


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
        """Status moves forward only (a subscriber's new message may reopen an answered one)."""
        if _ORDER.index(status) < _ORDER.index(self.status):
            raise errors.StatusGoesBack(current=self.status, wanted=status)
        self.status = status
        self.updated_at = now


@attrs.define(eq=False)
class RequestMessage:
    request_id: uuid.UUID
    author: Author
    author_name: str
    body: str
    created_at: datetime
    attachment_id: uuid.UUID | None = None  # a Document
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)
