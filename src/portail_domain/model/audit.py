"""The audit log (journal): one row per staff action and per staff view of a subscriber card.

Append-only: the domain has no path that changes or removes an entry, the storage refuses it
too (a trigger on SQLite and PostgreSQL), and the use case that acts writes its entry in the
same transaction as the action, so neither commits without the other.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

import attrs

AUDIT_PAGE_SIZE = 50
MAX_DETAIL = 500  # characters of one before/after value kept in the log


class AuditAction(enum.StrEnum):
    """What a staff member did. Declared here once, so the journal can name every action."""

    SUBSCRIBER_VIEW = "subscriber.view"  # opened a subscriber card
    ACTIVATION_CODE = "subscriber.activation_code"  # issued a new activation code (and its letter)
    UNBLOCK_LOGIN = "subscriber.unblock"
    END_SESSIONS = "subscriber.end_sessions"
    REQUEST_REPLY = "request.reply"
    REQUEST_NOTE = "request.note"
    REQUEST_ASSIGN = "request.assign"
    READING_DECISION = "reading.decision"
    PAYMENT_RESOLUTION = "payment.resolution"
    DOCUMENT_PUBLISH = "document.publish"
    MAIL_RETRY = "mail.retry"
    MAIL_DISCARD = "mail.discard"
    STAFF_INVITE = "staff.invite"
    STAFF_DISABLE = "staff.disable"
    STAFF_ROLE = "staff.role"
    STAFF_RESET_2FA = "staff.reset_2fa"
    STAFF_ENROL = "staff.enrol"  # enrolled their own second factor
    STAFF_RECOVERY_CODE = "staff.recovery_code"  # signed in with a recovery code
    REPLY_TEMPLATE = "request.reply_template"  # an admin changed a reply template
    RELIEF_DECISION = "request.relief_decision"  # granted or refused an écrêtement


def _details(value: Mapping[str, object] | None) -> dict[str, str]:
    """Before/after details as short strings: the log states what changed, it stores no blobs."""
    return {str(k): str(v)[:MAX_DETAIL] for k, v in (value or {}).items()}


@attrs.frozen
class AuditEntry:
    """Who (staff id and e-mail, as they were), when, what, about which subscriber, before → after."""

    header: ClassVar[tuple[str, ...]] = ("at", "staff_email", "action", "subscriber_number", "target", "before",
                                         "after")
    at: datetime
    staff_id: uuid.UUID
    staff_email: str
    action: AuditAction
    subscriber_number: str | None = None
    target: str = ""  # the object acted on, when it is not the subscriber (a request reference, a staff e-mail)
    before: dict[str, str] = attrs.field(factory=dict, converter=_details)
    after: dict[str, str] = attrs.field(factory=dict, converter=_details)
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    def cells(self) -> list[str]:
        """The CSV line of ``portail export audit``."""
        return [self.at.isoformat(timespec="seconds"), self.staff_email, self.action.value,
                self.subscriber_number or "", self.target, _json(self.before), _json(self.after)]

    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """(field, before, after) for every field named on either side, in a stable order."""
        names = list(dict.fromkeys([*self.before, *self.after]))
        return [(name, self.before.get(name), self.after.get(name)) for name in names]


def _json(details: dict[str, str]) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""


@attrs.frozen
class AuditQuery:
    """The journal's filters (each optional) and the page wanted."""

    staff_email: str | None = None  # normalised
    subscriber_number: str | None = None
    since: datetime | None = None
    page: int = 1
    page_size: int = AUDIT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (max(1, self.page) - 1) * self.page_size


@attrs.frozen
class AuditPage:
    entries: list[AuditEntry]
    query: AuditQuery
    has_next: bool
