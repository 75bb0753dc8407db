"""What every import does with a chunk of rows: check them, drop repeated keys, upsert, count.

One ``Importer`` per kind (``exchange_subscribers``, ``exchange_contracts``, ``exchange_readings``,
``exchange_invoices``) says what its rows mean; ``exchange.import_rows`` drives them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from ..model.exchange import ImportLimits, ImportRejected, ImportRow, Problem
from ..portal import Portal
from ..ports import UnitOfWork


class Problems:
    """Counts every problem, keeps the ``limit`` first ones in file order."""

    def __init__(self, limit: int) -> None:
        self.kept: list[tuple[int, int, Problem]] = []  # a max-heap on (line, arrival)
        self.count = 0
        self.limit = limit

    def add(self, line: int | None, column: str, message: str) -> None:
        self.keep(Problem(line, column, message))

    def keep(self, problem: Problem) -> None:
        self.count += 1
        item = (-(problem.line or 0), -self.count, problem)
        if len(self.kept) < self.limit:
            heapq.heappush(self.kept, item)
        elif item[:2] > self.kept[0][:2]:
            heapq.heapreplace(self.kept, item)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.keep(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    def rejected(self, name: str) -> ImportRejected:
        kept = [problem for *_, problem in sorted(self.kept, reverse=True)]
        return ImportRejected(name, kept, self.count - len(kept))


def changed(entity: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``entity``; True when any of them differed."""
    differs = False
    for field, value in values.items():
        if getattr(entity, field) != value:
            setattr(entity, field, value)
            differs = True
    return differs


class Importer:
    """Checks rows a chunk at a time and writes the valid ones (later rows are checked against
    earlier ones, already written in the same transaction)."""

    kind: ClassVar[str]
    key_column: ClassVar[str]  # where a duplicate row is reported

    def __init__(self, uow: UnitOfWork, portal: Portal, problems: Problems, limits: ImportLimits) -> None:
        self.uow = uow
        self.exchange = uow.exchange
        self.portal = portal
        self.problems = problems
        self.limits = limits
        self.now = portal.clock.now()
        self.today = portal.clock.today()
        self.created = self.updated = self.unchanged = self.alerts = 0
        self.fields: frozenset[str] = frozenset()  # the file's columns; a missing one leaves a field as it is

    def start(self, fields: frozenset[str]) -> None:
        self.fields = fields
        self.exchange.start_import()

    def add(self, rows: Sequence[ImportRow]) -> None:
        """One chunk: each row's own rules, then its key, then the upsert against what is stored."""
        checked = [row for row in rows if self.check(row)]
        checked = self._without_duplicates(checked)
        if checked:
            self.apply(checked)

    def _without_duplicates(self, rows: list[Any]) -> list[Any]:
        """Drop (and report) rows whose natural key an earlier row of the file already had."""
        first: dict[str, int] = {}
        unique = []
        for row in rows:
            key = self.key(row)
            if key in first:
                self.problems.add(row.line, self.key_column, f"{self.describe(row)} is already on line {first[key]} "
                                                             "of this file")
                continue
            first[key] = row.line
            unique.append(row)
        earlier = self.exchange.remember_keys(self.kind, first)
        if not earlier:
            return unique
        for row in unique:
            line = earlier.get(self.key(row))
            if line is not None:
                self.problems.add(row.line, self.key_column, f"{self.describe(row)} is already on line {line} "
                                                             "of this file")
        return [r for r in unique if self.key(r) not in earlier]

    def given(self, values: dict[str, Any]) -> dict[str, Any]:
        """Only the fields whose column the file has."""
        return {k: v for k, v in values.items() if k in self.fields}

    def count(self, created: bool | None) -> None:
        if created is None:
            self.unchanged += 1
        elif created:
            self.created += 1
        else:
            self.updated += 1

    def finish(self) -> None:
        """Every row is written and valid: what follows from the whole file, before the commit."""

    def discard(self) -> None:
        """The import failed: undo what cannot roll back with the transaction (stored files)."""

    def committed(self) -> None:
        """The import is committed: do what must wait for it."""

    # -- per kind

    def check(self, row: Any) -> bool:
        """The row's own rules (reported); True when it may be applied."""
        return True

    def key(self, row: Any) -> str:
        """The row's natural key, as one string."""
        number: str = row.number
        return number

    def describe(self, row: Any) -> str:
        return f"{self.kind[:-1]} {row.number}"

    def apply(self, rows: list[Any]) -> None:
        raise NotImplementedError
