"""The cells of a billing-system CSV file: dates, decimals, choices and texts as written (§7).

Each reader reports its own problem (``FILE:LINE: column: what is wrong``) and returns None
when the cell is bad, so one pass over a row names every wrong cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from portail_domain.model import errors
from portail_domain.model.exchange import Problem

UTILITY_TZ = ZoneInfo("Europe/Paris")  # an export's --since DATE starts at midnight there
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
E = TypeVar("E", bound=Enum)


def parse_date(text: str) -> date:
    """``2026-03-10`` or ``10/03/2026`` → date; ``ValueError`` (with a readable reason) otherwise."""
    value = text.strip()
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value)
        match = _FR_DATE.match(value)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def format_date(value: date, style: str = "iso") -> str:
    """The two spellings ``parse_date`` reads: ``iso`` (2026-03-10) or ``fr`` (10/03/2026)."""
    return value.isoformat() if style == "iso" else f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def parse_since(text: str) -> datetime:
    """``--since``: a date (midnight, utility time) or an ISO datetime with its offset."""
    value = text.strip()
    try:
        return datetime.combine(parse_date(value), time(0), UTILITY_TZ)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTILITY_TZ)


def choice(enum_type: type[E]) -> Callable[[str], E]:
    """A parser of one of ``enum_type``'s values, any case."""
    members = {e.value: e for e in enum_type}

    def parse(text: str) -> E:
        try:
            return members[text.strip().lower()]
        except KeyError:
            raise ValueError(f"{text!r} is not one of {', '.join(members)}") from None

    return parse


class Record(NamedTuple):
    """One CSV record: the line it starts on, its cells by column name."""

    line: int
    cells: dict[str, str]


class CellReader:
    """Reads the cells of records, collecting the problems of every bad one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, line: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(line, column, message))

    def text(self, record: Record, column: str, *, max_length: int, required: bool = False) -> str | None:
        value = record.cells.get(column, "").strip()
        if required and not value:
            self.add(record.line, column, "required, but empty")
            return None
        if len(value) > max_length:
            self.add(record.line, column, f"longer than {max_length} characters")
            return None
        if _CONTROL.search(value):
            self.add(record.line, column, "contains a control character (line break, tab…)")
            return None
        return value

    def date(self, record: Record, column: str, *, required: bool = True) -> date | None:
        """A date; None for an empty optional cell, or a bad one (reported)."""
        value = record.cells.get(column, "").strip()
        if not value:
            if required:
                self.add(record.line, column, "required, but empty")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.add(record.line, column, str(exc))
            return None

    def value(self, record: Record, column: str, parse: Callable[[str], Any], *, default: str | None = None) -> Any:
        """``parse`` of the cell (``default`` when it is empty); None when it is bad (reported)."""
        value = record.cells.get(column, "").strip()
        if not value:
            if default is None:
                self.add(record.line, column, "required, but empty")
                return None
            value = default
        try:
            return parse(value)
        except (errors.InvalidValue, ValueError) as exc:
            self.add(record.line, column, (str(exc.args[0]) if exc.args else "") or "not valid")
            return None
