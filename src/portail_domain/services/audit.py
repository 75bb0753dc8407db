"""The audit log: writing an entry inside the acting use case's transaction, reading the journal."""

from __future__ import annotations

from collections.abc import Mapping

from ..model.accounts import StaffUser, Subscriber
from ..model.audit import AuditAction, AuditEntry, AuditPage, AuditQuery
from ..portal import Portal
from ..ports import UnitOfWork


def record_audit(
    uow: UnitOfWork,
    portal: Portal,
    staff: StaffUser,
    action: AuditAction,
    *,
    subscriber: Subscriber | str | None = None,
    target: str = "",
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append one entry to the log in the caller's unit of work (not committed here).

    Call it inside the use case that acts, before its ``uow.commit()``: the action and its
    entry commit together or not at all. ``subscriber`` is the subscriber (or their number)
    the action concerns; ``before`` / ``after`` hold only what changed, as short strings.
    """
    number = subscriber.number if isinstance(subscriber, Subscriber) else subscriber
    entry = AuditEntry(at=portal.clock.now(), staff_id=staff.id, staff_email=staff.email.normalised, action=action,
                       subscriber_number=number or None, target=target, before=dict(before or {}),
                       after=dict(after or {}))
    uow.audit.append(entry)
    return entry


def audit_page(portal: Portal, query: AuditQuery) -> AuditPage:
    """One page of the journal, newest first (one query: a row more than the page tells whether one follows)."""
    with portal.uow(read_only=True) as uow:
        found = list(uow.audit.search(query, query.page_size + 1))
    return AuditPage(found[: query.page_size], query, has_next=len(found) > query.page_size)

