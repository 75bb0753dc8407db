"""Instalment schedules (échéanciers, mensualisation): what the billing system plans to collect
on a contract, instalment by instalment, and what was paid of it."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import date

import attrs

from .values import Money


class InstalmentStatus(enum.StrEnum):
    PLANNED = "planned"  # à venir
    PAID = "paid"  # payée (prélevée)
    UNPAID = "unpaid"  # impayée: the debit was rejected or nothing came
    CANCELLED = "cancelled"  # annulée (the schedule was revised)


@attrs.define(eq=False)
class Instalment:
    """One instalment (échéance) of a contract's schedule; unique by (contract, due date)."""

    contract_id: uuid.UUID
    due_on: date
    amount: Money
    status: InstalmentStatus = InstalmentStatus.PLANNED
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def counts(self) -> bool:
        """A cancelled instalment is no longer owed: it takes no part in the totals."""
        return self.status != InstalmentStatus.CANCELLED


@attrs.frozen
class Schedule:
    """A contract's instalments, oldest first, with what was paid and what is left."""

    contract_number: str
    instalments: Sequence[Instalment]
    today: date

    @property
    def total(self) -> Money:
        return Money(sum(i.amount.cents for i in self.instalments if i.counts))

    @property
    def paid(self) -> Money:
        return Money(sum(i.amount.cents for i in self.instalments if i.status == InstalmentStatus.PAID))

    @property
    def remaining(self) -> Money:
        return self.total - self.paid

    @property
    def next_due(self) -> Instalment | None:
        """The next planned instalment from today on."""
        return next((i for i in self.instalments
                     if i.status == InstalmentStatus.PLANNED and i.due_on >= self.today), None)


def schedules_of(contract_numbers: dict[uuid.UUID, str], instalments: Sequence[Instalment],
                 today: date) -> list[Schedule]:
    """One schedule per contract that has instalments, in the order of ``contract_numbers``."""
    by_contract: dict[uuid.UUID, list[Instalment]] = {}
    for instalment in instalments:
        by_contract.setdefault(instalment.contract_id, []).append(instalment)
    return [Schedule(number, sorted(by_contract[cid], key=lambda i: i.due_on), today)
            for cid, number in contract_numbers.items() if cid in by_contract]
