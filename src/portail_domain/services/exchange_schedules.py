"""Importing instalment schedules (échéanciers): an upsert by (contract number, due date)."""

from __future__ import annotations

from ..model.exchange import InstalmentRow
from ..model.schedules import Instalment
from .exchange_importer import Importer, changed


class SchedulesImport(Importer):
    kind = "schedules"
    key_column = "due_on"

    def check(self, row: InstalmentRow) -> bool:
        if not row.amount.is_positive:
            self.problems.add(row.line, "amount", "an instalment is a positive amount")
            return False
        return True

    def key(self, row: InstalmentRow) -> str:
        return f"{row.contract_number}\x1f{row.due_on.isoformat()}"

    def describe(self, row: InstalmentRow) -> str:
        return f"the instalment of contract {row.contract_number} due on {row.due_on.isoformat()}"

    def apply(self, rows: list[InstalmentRow]) -> None:
        contracts = self.exchange.contracts_by_number({r.contract_number for r in rows})
        existing = self.exchange.instalments_of({c.id for c in contracts.values()})
        new: list[Instalment] = []
        updated: list[Instalment] = []
        for row in rows:
            contract = contracts.get(row.contract_number)
            if contract is None:
                self.problems.add(row.line, "contract_number",
                                  f"unknown contract {row.contract_number!r} (import contracts first)")
                continue
            values = self.given({"amount": row.amount, "status": row.status})
            instalment = existing.get((contract.id, row.due_on))
            if instalment is None:
                new.append(Instalment(contract_id=contract.id, due_on=row.due_on, **values))
                self.count(True)
            elif changed(instalment, values):
                updated.append(instalment)
                self.count(False)
            else:
                self.count(None)
        self.exchange.save_instalments(new, updated)
