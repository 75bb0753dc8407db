"""Back-office storage: the audit log (append and read only), the staff's recovery codes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from portail_domain.model.audit import AuditAction, AuditEntry, AuditQuery

from . import tables as t


def _details(text: str) -> dict[str, str]:
    return json.loads(text) if text else {}


def audit_to_row(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at, "staff_id": e.staff_id, "staff_email": e.staff_email, "action": e.action.value,
            "subscriber_number": e.subscriber_number, "target": e.target,
            "before": json.dumps(e.before, ensure_ascii=False) if e.before else "",
            "after": json.dumps(e.after, ensure_ascii=False) if e.after else ""}


def audit_from_row(r: Any) -> AuditEntry:
    return AuditEntry(id=r["id"], at=r["at"], staff_id=r["staff_id"], staff_email=r["staff_email"],
                      action=AuditAction(r["action"]), subscriber_number=r["subscriber_number"], target=r["target"],
                      before=_details(r["before"]), after=_details(r["after"]))


class SqlAudit:
    """``AuditRepository``: INSERT and SELECT only; the database refuses anything else (triggers)."""

    table = t.audit_entries

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def append(self, entry: AuditEntry) -> None:
        self.connection.execute(insert(self.table), [audit_to_row(entry)])

    def search(self, query: AuditQuery, limit: int) -> list[AuditEntry]:
        c = self.table.c
        statement = select(self.table).order_by(c.at.desc(), c.id.desc())
        if query.staff_email:
            statement = statement.where(c.staff_email == query.staff_email)
        if query.subscriber_number:
            statement = statement.where(c.subscriber_number == query.subscriber_number)
        if query.since is not None:
            statement = statement.where(c.at >= query.since)
        rows = self.connection.execute(statement.limit(limit).offset(query.offset)).mappings()
        return [audit_from_row(r) for r in rows]

    def since(self, since: datetime | None) -> Iterator[AuditEntry]:
        c = self.table.c
        statement = select(self.table).order_by(c.at, c.id)
        if since is not None:
            statement = statement.where(c.at >= since)
        result = self.connection.execute(statement.execution_options(yield_per=1000)).mappings()
        for row in result:
            yield audit_from_row(row)


class SqlRecoveryCodes:
    table = t.staff_recovery_codes

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def replace(self, staff_id: uuid.UUID, code_hashes: Sequence[str]) -> None:
        self.connection.execute(delete(self.table).where(self.table.c.staff_id == staff_id))
        if code_hashes:
            self.connection.execute(insert(self.table), [{"id": uuid.uuid4(), "staff_id": staff_id, "code_hash": h,
                                                          "used_at": None} for h in code_hashes])

    def use(self, staff_id: uuid.UUID, code_hash: str, when: datetime) -> bool:
        c = self.table.c
        # One statement: two requests racing with the same code cannot both see it unused.
        query = update(self.table).where(c.staff_id == staff_id, c.code_hash == code_hash, c.used_at.is_(None))
        return self.connection.execute(query.values(used_at=when)).rowcount == 1

    def remaining(self, staff_id: uuid.UUID) -> int:
        c = self.table.c
        query = select(func.count()).select_from(self.table).where(c.staff_id == staff_id, c.used_at.is_(None))
        return int(self.connection.execute(query).scalar_one())
