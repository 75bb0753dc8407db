"""Mes demandes: requests (demandes), their thread and their statuses."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import BinaryIO

import attrs

from . import errors
from .accounts import Subscriber
from .documents import Document
from .values import MeterIndex


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
    MOVING = "moving"  # emménagement / déménagement, before the structured forms (kept for old requests)
    MOVE_OUT = "demenagement"  # déménagement: structured form (date, index, address for the final invoice)
    MOVE_IN = "emmenagement"  # emménagement: structured form (date, index, occupant)
    LEAK_RELIEF = "ecretement"  # écrêtement (fuite), loi Warsmann
    OTHER = "other"


MOVE_CATEGORIES = frozenset({RequestCategory.MOVE_OUT, RequestCategory.MOVE_IN})


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
    assignee_id: uuid.UUID | None = None  # the member of staff in charge (None: any agent)
    closing_reason: str | None = None  # why staff closed it (required to close)
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


@attrs.frozen
class MoveDetails:
    """What a moving-out or moving-in form says, kept structured beside its request (one per request)."""

    request_id: uuid.UUID
    move_on: date  # the day of the move; the index was read that day
    index: MeterIndex
    new_address: str | None = None  # moving out: where the final invoice goes
    occupant: str | None = None  # moving in: who lives there from that day


@attrs.define(eq=False)
class RequestMessage:
    request_id: uuid.UUID
    author: Author
    author_name: str
    body: str
    created_at: datetime
    attachment_id: uuid.UUID | None = None  # a Document
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


MAX_SUBJECT = 200
MAX_MESSAGE = 5000
REFERENCE_ATTEMPTS = 10


class RequestInvalid(errors.InvalidValue):
    """A field of a request or message is missing or too long (``field`` names it)."""

    code = "request_invalid"


class CategoryInvalid(RequestInvalid):
    code = "request_category_invalid"


class SubjectMissing(RequestInvalid):
    code = "request_subject_missing"


class SubjectTooLong(RequestInvalid):
    code = "request_subject_too_long"


class MessageMissing(RequestInvalid):
    code = "request_message_missing"


class MessageTooLong(RequestInvalid):
    code = "request_message_too_long"


@attrs.frozen
class Attachment:
    """A file the subscriber joins to a message: its name as sent and its bytes (a file object)."""

    filename: str
    data: BinaryIO


class AddressMissing(RequestInvalid):
    code = "move_address_missing"


class OccupantMissing(RequestInvalid):
    code = "move_occupant_missing"


class ValueTooLong(RequestInvalid):
    code = "request_value_too_long"


MAX_ADDRESS = 300
MAX_OCCUPANT = 200


def clean_line(value: str, field: str, maximum: int, missing: type[RequestInvalid]) -> str:
    """One line of text, spaces collapsed and control characters dropped, 1 to ``maximum`` characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not text:
        raise missing(field=field)
    if len(text) > maximum:
        raise ValueTooLong(field=field, max=maximum)
    return text


@attrs.frozen
class RequestSummary:
    request: Request
    contract_number: str | None = None
    subscriber: Subscriber | None = None  # filled on the staff side


@attrs.frozen
class RequestThread:
    request: Request
    messages: tuple[RequestMessage, ...]
    attachments: dict[uuid.UUID, Document]  # by document id
    contract_number: str | None = None
    subscriber: Subscriber | None = None
    move: MoveDetails | None = None


def parse_category(value: str) -> RequestCategory:
    try:
        return RequestCategory(value.strip())
    except ValueError:
        raise CategoryInvalid(field="category") from None


def clean_subject(value: str) -> str:
    """One line, 1 to 200 characters (spaces collapsed, control characters dropped)."""
    try:
        return clean_line(value, "subject", MAX_SUBJECT, SubjectMissing)
    except ValueTooLong:
        raise SubjectTooLong(field="subject", max=MAX_SUBJECT) from None


def clean_message(value: str) -> str:
    """1 to 5000 characters; line breaks kept, other control characters dropped."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if not text:
        raise MessageMissing(field="message")
    if len(text) > MAX_MESSAGE:
        raise MessageTooLong(field="message", max=MAX_MESSAGE)
    return text


def reference_for(year: int, number: int) -> str:
    return f"D-{year}-{number:06d}"


def next_reference(last: str | None, year: int) -> str:
    """The reference after ``last`` (the year's highest so far, or None)."""
    try:
        number = int((last or "").rsplit("-", 1)[-1]) + 1
    except ValueError:
        number = 1
    return reference_for(year, number)


STAFF_STATUSES: Sequence[RequestStatus] = (RequestStatus.ANSWERED, RequestStatus.IN_PROGRESS, RequestStatus.CLOSED)
