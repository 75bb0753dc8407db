"""Importing contracts: an upsert by contract number; a contract never changes holder."""

from __future__ import annotations

from ..model.contracts import Contract
from ..model.exchange import ContractRow
from .exchange_importer import Importer, changed


class ContractsImport(Importer):
    kind = "contracts"
    key_column = "contract_number"

    def check(self, row: ContractRow) -> bool:
        if row.end_on is not None and row.end_on < row.start_on:
            self.problems.add(row.line, "end_date", "before the start date")
            return False
        return True

    def apply(self, rows: list[ContractRow]) -> None:
        subscribers = self.exchange.subscribers_by_number({r.subscriber_number for r in rows})
        existing = self.exchange.contracts_by_number([r.number for r in rows])
        new: list[Contract] = []
        updated: list[Contract] = []
        for row in rows:
            subscriber = subscribers.get(row.subscriber_number)
            if subscriber is None:
                self.problems.add(row.line, "subscriber_number",
                                  f"unknown subscriber {row.subscriber_number!r} (import subscribers first)")
                continue
            values = self.given({"service": row.service, "supply_address": row.supply_address,
                                 "meter_number": row.meter_number, "start_on": row.start_on, "end_on": row.end_on})
            contract = existing.get(row.number)
            if contract is None:
                new.append(Contract(number=row.number, subscriber_id=subscriber.id, **values))
                self.count(True)
            elif contract.subscriber_id != subscriber.id:
                # A contract never changes holder: the new one would see the old one's history.
                self.problems.add(row.line, "subscriber_number", f"contract {row.number} belongs to another subscriber")
            elif changed(contract, values):
                updated.append(contract)
                self.count(False)
            else:
                self.count(None)
        self.exchange.save_contracts(new, updated)
