"""The mandate repository in memory."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from portail_domain.model.exchange import MandateLine
from portail_domain.model.mandates import Mandate, MandateStatus

from .repositories import DuplicateKey, MemoryContracts, _Table


class MemoryMandates(_Table):
    def __init__(self, rows: dict[Any, Any], contracts: MemoryContracts) -> None:
        super().__init__(rows, unique=("rum",))
        self.contracts = contracts

    def _check_active(self, mandate: Mandate) -> None:
        if mandate.status is MandateStatus.ACTIVE and any(
                m.id != mandate.id and m.contract_id == mandate.contract_id and m.status is MandateStatus.ACTIVE
                for m in self.rows.values()):
            raise DuplicateKey("active mandate", mandate.contract_id)

    def add(self, mandate: Mandate) -> None:
        self._check_active(mandate)
        self._insert(mandate)

    def update(self, mandate: Mandate) -> None:
        self._check_active(mandate)
        super().update(mandate)

    def remove(self, mandate_id: uuid.UUID) -> None:
        self.rows.pop(mandate_id, None)

    def by_rum(self, rum: str) -> Mandate | None:
        return self.one(rum=rum)

    def lock(self, mandate_id: uuid.UUID) -> Mandate | None:
        return self.get(mandate_id)

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Mandate]:
        return sorted(self.where(subscriber_id=subscriber_id), key=lambda m: (m.created_at, m.rum), reverse=True)

    def for_contracts(self, contract_ids: Collection[uuid.UUID]) -> list[Mandate]:
        wanted = set(contract_ids)
        return [m for m in self.rows.values() if m.contract_id in wanted and m.status is not MandateStatus.PENDING]

    def active_for_contracts(self, contract_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Mandate]:
        wanted = set(contract_ids)
        return {m.contract_id: m for m in self.rows.values()
                if m.contract_id in wanted and m.status is MandateStatus.ACTIVE}

    def lines(self, since: datetime | None) -> Iterator[MandateLine]:
        def changed(m: Mandate) -> bool:
            moments = [t for t in (m.signed_at, m.revoked_at) if t is not None]
            return since is None or any(t >= since for t in moments)

        signed = [m for m in self.rows.values() if m.signed_at is not None and changed(m)]
        signed.sort(key=lambda m: (m.signed_at, m.rum))
        for m in signed:
            yield MandateLine(m.rum, self.contracts.rows[m.contract_id].number, m.holder, m.account.iban,
                              m.account.bic, m.mode.value, m.signed_at, m.revoked_at, m.status.value)
