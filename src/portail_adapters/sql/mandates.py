"""The mandate repository over SQL (``sepa_mandates``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import or_, select

from portail_domain.model.exchange import MandateLine
from portail_domain.model.mandates import Mandate, MandateStatus

from . import mapping as m
from . import tables as t
from .repositories import _Repository


class SqlMandates(_Repository[Mandate]):
    table = t.sepa_mandates
    to_row = staticmethod(m.mandate_to_row)
    from_row = staticmethod(m.mandate_from_row)

    def remove(self, mandate_id: uuid.UUID) -> None:
        self.connection.execute(self.table.delete().where(self.table.c.id == mandate_id))

    def by_rum(self, rum: str) -> Mandate | None:
        return self._one(select(self.table).where(self.table.c.rum == rum))

    def lock(self, mandate_id: uuid.UUID) -> Mandate | None:
        # FOR UPDATE on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE).
        return self._one(select(self.table).where(self.table.c.id == mandate_id).with_for_update())

    def for_subscriber(self, subscriber_id: uuid.UUID) -> list[Mandate]:
        c = self.table.c
        return self._all(select(self.table).where(c.subscriber_id == subscriber_id)
                         .order_by(c.created_at.desc(), c.rum.desc()))

    def for_contracts(self, contract_ids: Collection[uuid.UUID]) -> list[Mandate]:
        return [x for x in self._all_in("contract_id", list(contract_ids)) if x.status is not MandateStatus.PENDING]

    def active_for_contracts(self, contract_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Mandate]:
        c, ids = self.table.c, list(contract_ids)
        found: dict[uuid.UUID, Mandate] = {}
        for start in range(0, len(ids), 500):
            q = select(self.table).where(c.contract_id.in_(ids[start : start + 500]),
                                         c.status == MandateStatus.ACTIVE.value)
            found.update({x.contract_id: x for x in self._all(q)})
        return found

    def lines(self, since: datetime | None) -> Iterator[MandateLine]:
        c = self.table.c
        q = (select(self.table, t.contracts.c.number.label("contract_number"))
             .join(t.contracts, t.contracts.c.id == c.contract_id)
             .where(c.signed_at.is_not(None))
             .order_by(c.signed_at, c.rum))
        if since is not None:
            q = q.where(or_(c.signed_at >= since, c.revoked_at >= since))
        for row in self.connection.execute(q).mappings():
            x = m.mandate_from_row(row)
            yield MandateLine(x.rum, row["contract_number"], x.holder, x.account.iban, x.account.bic, x.mode.value,
                              x.signed_at, x.revoked_at, x.status.value)
