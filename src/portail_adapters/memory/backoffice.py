"""In-memory back-office storage: the audit log, the staff's recovery codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from portail_domain.model.audit import AuditEntry, AuditQuery


class MemoryAudit:
    """``AuditRepository`` on a dict: append and read, as the SQL one (no way to change an entry)."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def append(self, entry: AuditEntry) -> None:
        if entry.id in self.rows:
            raise ValueError(f"audit entry {entry.id} already written")
        self.rows[entry.id] = entry

    def search(self, query: AuditQuery, limit: int) -> list[AuditEntry]:
        found = [
            e for e in self.rows.values()
            if (not query.staff_email or e.staff_email == query.staff_email)
            and (not query.subscriber_number or e.subscriber_number == query.subscriber_number)
            and (query.since is None or e.at >= query.since)
        ]
        found.sort(key=lambda e: (e.at, e.id), reverse=True)
        return found[query.offset : query.offset + limit]

    def since(self, since: datetime | None) -> Iterator[AuditEntry]:
        entries = sorted(self.rows.values(), key=lambda e: (e.at, e.id))
        return iter([e for e in entries if since is None or e.at >= since])


class MemoryRecoveryCodes:
    """``RecoveryCodeRepository``: rows keyed by (staff id, code hash), the value is when it was used."""

    def __init__(self, rows: dict[Any, Any]) -> None:
        self.rows = rows

    def replace(self, staff_id: uuid.UUID, code_hashes: Sequence[str]) -> None:
        for key in [k for k in self.rows if k[0] == staff_id]:
            del self.rows[key]
        self.rows.update({(staff_id, h): None for h in code_hashes})

    def use(self, staff_id: uuid.UUID, code_hash: str, when: datetime) -> bool:
        if (staff_id, code_hash) not in self.rows or self.rows[(staff_id, code_hash)] is not None:
            return False
        self.rows[(staff_id, code_hash)] = when
        return True

    def remaining(self, staff_id: uuid.UUID) -> int:
        return sum(1 for (owner, _), used in self.rows.items() if owner == staff_id and used is None)
