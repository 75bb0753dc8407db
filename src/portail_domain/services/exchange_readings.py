"""Importing meter readings (relevés): the index never goes down on a meter, one reading per meter
per day, dates inside the contract; then the over-consumption alerts (loi Warsmann) they raise."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from ..model.contracts import Contract, MeterReading, ReadingSource, ReadingStatus, alert_period
from ..model.exchange import ReadingRow
from ..model.values import MeterIndex
from .contracts import notify_overconsumption
from .exchange_importer import Importer, changed

_Meter = tuple[uuid.UUID, str]  # (contract id, meter number)


class _MeterTimeline:
    """The counted readings of one meter of one contract, by date, for the "index never goes down" rule."""

    def __init__(self, readings: Iterable[MeterReading]) -> None:
        self.by_day: dict[date, MeterReading] = {}
        self.days: list[date] = []
        self.litres: dict[date, int] = {}
        self.lines: dict[date, int] = {}  # the file's line for the days a row of the chunk writes
        for reading in readings:
            self.by_day[reading.read_on] = reading
            if reading.counts:
                self.litres[reading.read_on] = reading.index.litres
        self.days = sorted(self.litres)

    def neighbours(self, day: date) -> tuple[date | None, date | None]:
        """The counted readings just before and just after ``day`` (``day`` itself excluded)."""
        at = bisect.bisect_left(self.days, day)
        before = self.days[at - 1] if at > 0 else None
        after_at = at + 1 if at < len(self.days) and self.days[at] == day else at
        after = self.days[after_at] if after_at < len(self.days) else None
        return before, after

    def expect(self, day: date, litres: int, line: int | None = None) -> None:
        """The index ``day`` will have once the chunk is written (``line``: the file's row that writes it)."""
        if day not in self.litres:
            bisect.insort(self.days, day)
        self.litres[day] = litres
        if line is not None:
            self.lines[day] = line

    def put(self, reading: MeterReading) -> None:
        self.expect(reading.read_on, reading.index.litres)
        self.by_day[reading.read_on] = reading


class ReadingsImport(Importer):
    kind = "readings"
    key_column = "read_on"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # The contracts whose readings this file created or changed (numbers: bounded by the
        # utility's contracts, not by the file's rows), for the over-consumption check at the end:
        # True when it must look (an alert seen already, or a history not all in memory).
        self.touched: dict[str, bool] = {}

    def finish(self) -> None:
        """Over-consumption (loi Warsmann): the alert e-mail for each contract the file touched
        whose latest period is abnormal and not told yet, ``ImportLimits.alert_chunk`` contracts at a time.

        A contract whose whole history was in memory while its chunk was written, and showed no
        alert, is not loaded again (``notify_overconsumption`` would find nothing either)."""
        numbers = sorted(n for n, look in self.touched.items() if look)
        for start in range(0, len(numbers), self.limits.alert_chunk):
            contracts = self.exchange.contracts_by_number(numbers[start:start + self.limits.alert_chunk])
            notices = notify_overconsumption(self.uow, self.portal, contracts.values())
            self.alerts += len(notices)

    def key(self, record: ReadingRow) -> str:
        return f"{record.contract_number}\x1f{record.meter_number}\x1f{record.read_on.isoformat()}"

    def describe(self, record: ReadingRow) -> str:
        return f"the reading of meter {record.meter_number} on {record.read_on.isoformat()}"

    def apply(self, records: list[ReadingRow]) -> None:
        contracts = self.exchange.contracts_by_number({r.contract_number for r in records})
        checked: list[tuple[ReadingRow, Contract]] = []
        for record in records:
            contract = contracts.get(record.contract_number)
            if contract is None:
                self.problems.add(record.line, "contract_number",
                                  f"unknown contract {record.contract_number!r} (import contracts first)")
            elif self._dates_fit(record, contract):
                checked.append((record, contract))
        timelines, complete = self._timelines(checked)
        # Each row is judged against the meter's indexes as they will be once the chunk is written
        # (a row may correct a later day's index that an earlier row of the file would be below).
        for record, contract in checked:
            timelines[(contract.id, record.meter_number)].expect(record.read_on, record.index.litres, record.line)
        new: list[MeterReading] = []
        updated: list[MeterReading] = []
        for record, contract in checked:
            timeline = timelines[(contract.id, record.meter_number)]
            if not self._index_fits(record, timeline):
                continue
            reading = timeline.by_day.get(record.read_on)
            if reading is None:
                reading = MeterReading(contract_id=contract.id, meter_number=record.meter_number,
                                       read_on=record.read_on, index=record.index,
                                       source=record.source or ReadingSource.AGENT,
                                       status=ReadingStatus.VALIDATED, recorded_at=self.now)
                new.append(reading)
                self.count(True)
                self.touched[record.contract_number] = True
            elif changed(reading, {"index": record.index, "source": record.source or reading.source,
                                    "status": ReadingStatus.VALIDATED}):
                updated.append(reading)
                self.count(False)
                self.touched[record.contract_number] = True
            else:
                self.count(None)
            timeline.put(reading)
        self._screen(checked, timelines, complete)
        self.exchange.save_readings(new, updated)

    def _screen(self, checked: list[tuple[ReadingRow, Contract]],
                timelines: dict[tuple[uuid.UUID, str], _MeterTimeline], complete: set[uuid.UUID]) -> None:
        """Spare ``finish`` the reload of a contract this chunk touched when its whole history is
        in memory (no reading before, or all of it loaded, earlier chunks' writes included) and
        shows no over-consumption. Any other touched contract is looked at in ``finish``."""
        histories: dict[uuid.UUID, list[MeterReading]] = {}
        for (contract_id, _meter), timeline in timelines.items():
            histories.setdefault(contract_id, []).extend(timeline.by_day.values())
        for number, contract_id in {(r.contract_number, c.id) for r, c in checked}:
            if number in self.touched and contract_id in complete:
                self.touched[number] = alert_period(histories[contract_id], self.today) is not None

    def _dates_fit(self, record: ReadingRow, contract: Contract) -> bool:
        """The contract's rules on the date (and on the index's digits, for its current meter)."""
        reason = None
        if record.read_on > self.today:
            reason = "read_on", f"{record.read_on.isoformat()} is in the future"
        elif record.read_on < contract.start_on:
            reason = "read_on", f"before the start of contract {contract.number} ({contract.start_on.isoformat()})"
        elif contract.end_on is not None and record.read_on > contract.end_on:
            reason = "read_on", f"after the end of contract {contract.number} ({contract.end_on.isoformat()})"
        elif (record.meter_number == contract.meter_number
              and record.index.litres >= 10 ** (contract.meter_digits + 3)):
            reason = "index", f"more than the {contract.meter_digits} digits of meter {contract.meter_number}"
        if reason:
            self.problems.add(record.line, *reason)
        return reason is None

    def _index_fits(self, record: ReadingRow, timeline: _MeterTimeline) -> bool:
        """The index never goes down on a meter: it lies between its neighbours' indexes, as they
        will be once the chunk is written. Two rows of the file out of order: the later row is told."""
        before, after = timeline.neighbours(record.read_on)
        before, after = (day if day is None or timeline.lines.get(day, 0) < record.line else None
                         for day in (before, after))
        litres = record.index.litres
        if before is not None and litres < timeline.litres[before]:
            other = MeterIndex(timeline.litres[before])
            self.problems.add(record.line, "index", f"{record.index} m³ is below the index {other} m³ "
                                                    f"read on {before.isoformat()} (the index never goes down)")
            return False
        if after is not None and litres > timeline.litres[after]:
            other = MeterIndex(timeline.litres[after])
            self.problems.add(record.line, "index", f"{record.index} m³ is above the index {other} m³ "
                                                    f"read later, on {after.isoformat()}")
            return False
        return True

    def _timelines(self, checked: list[tuple[ReadingRow, Contract]],
                   ) -> tuple[dict[_Meter, _MeterTimeline], set[uuid.UUID]]:
        """What each meter already has: its latest reading, or its whole history when a row
        of the chunk is not after that latest reading (an update, or a reading slotted in).
        Also the contracts whose every reading is in these timelines (every meter with
        readings had none, or all of them loaded)."""
        meters = {(c.id, r.meter_number) for r, c in checked}
        latest = self.exchange.latest_readings({cid for cid, _ in meters})
        full = _not_after_latest(checked, latest)
        history = self._histories(full)
        timelines = {m: _MeterTimeline(history[m] if m in full else _only(latest.get(m))) for m in meters}
        partial = {cid for (cid, meter) in latest if (cid, meter) not in full}
        return timelines, {cid for cid, _ in meters} - partial

    def _histories(self, meters: set[_Meter]) -> dict[_Meter, list[MeterReading]]:
        """Every reading of these meters."""
        history: dict[_Meter, list[MeterReading]] = {m: [] for m in meters}
        if meters:
            for reading in self.exchange.readings_of({cid for cid, _ in meters}):
                pair = (reading.contract_id, reading.meter_number)
                if pair in history:
                    history[pair].append(reading)
        return history


def _not_after_latest(checked: list[tuple[ReadingRow, Contract]],
                      latest: dict[_Meter, MeterReading]) -> set[_Meter]:
    """The meters a row of the chunk updates or slots a reading into: not after their latest reading."""
    return {
        (c.id, r.meter_number) for r, c in checked
        if (last := latest.get((c.id, r.meter_number))) is not None
        and (r.read_on <= last.read_on or not last.counts)
    }


def _only(reading: MeterReading | None) -> list[MeterReading]:
    return [] if reading is None else [reading]
