"""The subscriber's data rights (RGPD arts. 15, 17, 20) and retention: security events, the export's
sections, what closing an account keeps, and what a retention run did."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from . import errors


class SecurityEventKind(enum.StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"  # a wrong password for an existing account
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    ACCOUNT_CLOSED = "account_closed"  # by the subscriber
    ACCOUNT_CLOSED_UNUSED = "account_closed_unused"  # by retention, after the warning e-mail
    UNUSED_WARNING = "unused_warning"  # the warning e-mail was sent


@attrs.frozen
class SecurityEvent:
    """One line of an account's security log (kept ``Retention.security_days``)."""

    kind: SecurityEventKind
    at: datetime
    subscriber_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    ip: str = ""
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


# The export's sections, in order; the front end explains each one in the file's key (README-like).
EXPORT_SECTIONS = ("personal_data", "account", "contracts", "readings", "overconsumption_notices", "invoices",
                   "payments", "requests", "mandates", "documents", "sessions", "security_events")


class ClosingNeedsPassword(errors.DomainError):
    """Closing the account needs the current password typed again."""

    code = "closing_needs_password"


@attrs.frozen
class RetentionReport:
    """What one run of the retention rules did (or would do, in a dry run)."""

    invoices: int = 0  # invoices deleted with their payments and PDF
    requests: int = 0  # closed requests deleted with their messages and attachments
    security_events: int = 0
    warned: int = 0  # unused accounts warned by e-mail
    closed: int = 0  # unused accounts closed after the warning
    files: int = 0  # stored files deleted (documents of the above)
    dry_run: bool = False

    def line(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"retention: {verb} {self.invoices} invoices (with their payments), {self.requests} closed requests, "
                f"{self.security_events} security events, {self.files} files; {self.warned} unused accounts "
                f"warned, {self.closed} closed")
