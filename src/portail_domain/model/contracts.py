"""Contracts, meter readings (relevés) and the consumption derived from them."""

from __future__ import annotations

import calendar
import enum
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import attrs

from . import errors
from .documents import FileTooLarge, UploadRejected, inspect_file
from .schedules import Schedule
from .values import MeterIndex

PARIS = ZoneInfo("Europe/Paris")  # the utility's days


class Service(enum.StrEnum):
    WATER = "water"
    SANITATION = "sanitation"
    BOTH = "both"


class ReadingSource(enum.StrEnum):
    AGENT = "agent"
    SUBSCRIBER = "subscriber"
    ESTIMATED = "estimated"
    REMOTE = "remote"  # télérelève


class ReadingStatus(enum.StrEnum):
    VALIDATED = "validated"
    TO_REVIEW = "to_review"
    REJECTED = "rejected"


@attrs.define(eq=False)
class Contract:
    """A supply contract (abonnement) of one subscriber, with its current meter."""

    number: str
    subscriber_id: uuid.UUID
    service: Service
    supply_address: str
    meter_number: str
    start_on: date
    end_on: date | None = None
    meter_digits: int = 5
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    def is_active(self, today: date) -> bool:
        return self.start_on <= today and (self.end_on is None or today <= self.end_on)

    def check_reading(
        self,
        *,
        meter_number: str,
        read_on: date,
        index: MeterIndex,
        history: Sequence[MeterReading],
        today: date,
    ) -> None:
        """Raise the ``ReadingRejected`` subclass naming the first rule the reading breaks.

        ``history`` is this contract's readings (any order). Rules: the reading is for the
        contract's meter, not in the future, not before the contract nor its end, not before
        the last reading of that meter, one per meter per day, the index never goes down.
        """
        if meter_number != self.meter_number:
            raise errors.WrongMeter(meter=meter_number, expected=self.meter_number)
        if read_on > today:
            raise errors.ReadingInFuture(read_on=read_on)
        if read_on < self.start_on:
            raise errors.ReadingBeforeContract(read_on=read_on, start_on=self.start_on)
        if self.end_on is not None and read_on > self.end_on:
            raise errors.ReadingAfterContractEnd(read_on=read_on, end_on=self.end_on)
        if index.litres >= 10 ** (self.meter_digits + 3):
            raise errors.IndexTooLarge(digits=self.meter_digits)
        same_meter = [r for r in history if r.meter_number == meter_number and r.counts]
        for reading in same_meter:
            if reading.read_on == read_on:
                raise errors.ReadingDuplicateDay(read_on=read_on)
        last = latest(same_meter)
        if last is not None:
            if read_on < last.read_on:
                raise errors.ReadingBeforeLast(read_on=read_on, last_on=last.read_on)
            if index < last.index:
                raise errors.IndexGoesDown(index=index, last_index=last.index)

    def reading_to_replace(
        self, *, meter_number: str, read_on: date, history: Sequence[MeterReading]
    ) -> MeterReading | None:
        """The subscriber's own reading of that meter and day still "to review", if any.

        A new index for the same meter and day replaces it (a typo is corrected, not refused);
        a validated reading, or one from an agent or the billing system, is never replaced.
        """
        return next((r for r in history if r.meter_number == meter_number and r.read_on == read_on
                     and r.correctable), None)

    def plausible(self, *, read_on: date, index: MeterIndex, history: Sequence[MeterReading]) -> bool:
        """Whether the consumption a new reading implies is in line with the usual one.

        Implausible means more than ``IMPLAUSIBLE_FACTOR`` times the usual daily consumption
        (or, without history, more than ``FIRST_READING_MAX_LITRES_PER_DAY``).
        """
        same_meter = [r for r in history if r.meter_number == self.meter_number and r.counts]
        last = latest(same_meter)
        if last is None:
            return True
        days = (read_on - last.read_on).days
        litres = index - last.index
        usual = usual_litres_per_day(consumption(same_meter))
        limit = max(usual * IMPLAUSIBLE_FACTOR, Fraction(FIRST_READING_MAX_LITRES_PER_DAY))
        return Fraction(litres, max(days, 1)) <= limit


IMPLAUSIBLE_FACTOR = 5
FIRST_READING_MAX_LITRES_PER_DAY = 2000  # 2 m³ a day: far beyond any household
OVERCONSUMPTION_FACTOR = 2  # loi Warsmann: more than twice the usual average


@attrs.define(eq=False)
class MeterReading:
    """A meter reading (relève): an index on a meter on a day."""

    contract_id: uuid.UUID
    meter_number: str
    read_on: date
    index: MeterIndex
    source: ReadingSource
    status: ReadingStatus = ReadingStatus.VALIDATED
    recorded_at: object = None  # datetime when the portal recorded it (exports filter on it)
    photo_key: str | None = None
    reviewed_at: datetime | None = None  # when staff accepted or rejected it (it was "to review")
    review_reason: str | None = None  # why staff rejected it, told to the subscriber
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def counts(self) -> bool:
        """Rejected readings take no part in the rules nor in the consumption."""
        return self.status != ReadingStatus.REJECTED

    @property
    def correctable(self) -> bool:
        """The subscriber may replace it: their own reading, kept "to review" (perhaps a typo)."""
        return self.source == ReadingSource.SUBSCRIBER and self.status == ReadingStatus.TO_REVIEW

    def replace_index(self, index: MeterIndex, status: ReadingStatus, recorded_at: object) -> MeterIndex:
        """Put the corrected ``index`` in place of the one under review; returns the replaced one."""
        if not self.correctable:
            raise errors.ReadingDuplicateDay(read_on=self.read_on)
        replaced, self.index, self.status, self.recorded_at = self.index, index, status, recorded_at
        return replaced


def latest(readings: Iterable[MeterReading]) -> MeterReading | None:
    return max(readings, key=lambda r: r.read_on, default=None)


@attrs.frozen
class ConsumptionPeriod:
    """Consumption between two consecutive readings of the same meter (derived, not stored)."""

    start: date
    end: date
    meter_number: str
    litres: int
    start_reading: MeterReading = attrs.field(eq=False, repr=False)
    end_reading: MeterReading = attrs.field(eq=False, repr=False)
    meter_changed: bool = False  # first period on a new meter
    # Found once: a contract's page asks for it five times per period (table, chart, rules).
    litres_per_day: Fraction = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "litres_per_day", Fraction(self.litres, self.days))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def estimated(self) -> bool:
        return ReadingSource.ESTIMATED in (self.start_reading.source, self.end_reading.source)

    @property
    def to_review(self) -> bool:
        """One of its ends is a reading not checked yet (perhaps a typo): not a real consumption yet."""
        return ReadingStatus.TO_REVIEW in (self.start_reading.status, self.end_reading.status)


def consumption(readings: Iterable[MeterReading]) -> list[ConsumptionPeriod]:
    """Periods between consecutive counted readings, oldest first.

    A change of meter restarts the series: no period spans two meters, so no volume is ever
    negative and, per meter, the volumes add up to last index minus first index.
    """
    ordered = sorted((r for r in readings if r.counts), key=lambda r: r.read_on)
    periods: list[ConsumptionPeriod] = []
    previous_by_meter: dict[str, MeterReading] = {}
    meters_with_periods: set[str] = set()
    for reading in ordered:
        previous = previous_by_meter.get(reading.meter_number)
        if previous is None:
            previous_by_meter[reading.meter_number] = reading
            continue
        if reading.read_on == previous.read_on or reading.index < previous.index:
            continue  # inconsistent history: skip it rather than invent a negative volume
        periods.append(
            ConsumptionPeriod(
                start=previous.read_on,
                end=reading.read_on,
                meter_number=reading.meter_number,
                litres=reading.index - previous.index,
                start_reading=previous,
                end_reading=reading,
                meter_changed=bool(meters_with_periods) and reading.meter_number not in meters_with_periods,
            )
        )
        meters_with_periods.add(reading.meter_number)
        previous_by_meter[reading.meter_number] = reading
    return periods


def usual_litres_per_day(periods: Sequence[ConsumptionPeriod]) -> Fraction:
    """Average daily consumption over the given periods (0 without history)."""
    days = sum(p.days for p in periods)
    return Fraction(sum(p.litres for p in periods), days) if days else Fraction(0)


def overconsumption(periods: Sequence[ConsumptionPeriod], *, years: int = 3) -> ConsumptionPeriod | None:
    """The latest period whose daily consumption is more than twice the usual average.

    The usual average is taken over the previous periods ending within ``years`` years
    before that period (décret 2012-1078). Returns ``None`` when nothing is abnormal.
    """
    if len(periods) < 2:
        return None
    last = periods[-1]
    usual = usual_before_latest(periods, years=years)
    if usual == 0:
        return None
    return last if last.litres_per_day > usual * OVERCONSUMPTION_FACTOR else None


def usual_before_latest(periods: Sequence[ConsumptionPeriod], *, years: int = 3) -> Fraction:
    """The usual daily consumption the latest period is compared with (0 without history).

    The periods before it ending within ``years`` years before its start, on the same meter
    when there are some (a new meter has no history yet: then all meters count).
    """
    if len(periods) < 2:
        return Fraction(0)
    last = periods[-1]
    window_start = date(last.start.year - years, last.start.month, min(last.start.day, 28))
    previous = [p for p in periods[:-1] if p.end > window_start and p.meter_number == last.meter_number]
    if not previous:
        previous = [p for p in periods[:-1] if p.end > window_start]
    return usual_litres_per_day(previous)


@attrs.frozen
class YearConsumption:
    """The consumption of one calendar year: each period spread evenly over its days."""

    year: int
    days: int  # days of the year covered by periods
    litres: Fraction

    @property
    def litres_per_day(self) -> Fraction:
        return self.litres / self.days


def yearly(periods: Iterable[ConsumptionPeriod]) -> list[YearConsumption]:
    """Volumes per calendar year, oldest first; they add up exactly to the periods' volumes."""
    days: dict[int, int] = {}
    litres: dict[int, Fraction] = {}
    for period in periods:
        per_day = period.litres_per_day
        cursor = period.start
        while cursor < period.end:
            chunk_end = min(date(cursor.year + 1, 1, 1), period.end)
            n = (chunk_end - cursor).days
            days[cursor.year] = days.get(cursor.year, 0) + n
            litres[cursor.year] = litres.get(cursor.year, Fraction(0)) + per_day * n
            cursor = chunk_end
    return [YearConsumption(year, days[year], litres[year]) for year in sorted(days)]


@attrs.frozen
class ImpliedConsumption:
    """What a reading means for the subscriber: the period it closes, against the usual."""

    reading: MeterReading
    period: ConsumptionPeriod | None  # None for the first reading of a meter
    usual_litres_per_day: Fraction  # as ``usual_before_latest`` has it (0 without history)

    @property
    def to_review(self) -> bool:
        return self.reading.status == ReadingStatus.TO_REVIEW


def implied_consumption(readings: Iterable[MeterReading], reading: MeterReading) -> ImpliedConsumption:
    """The consumption ``reading`` implies given the contract's ``readings`` (which include it)."""
    periods = consumption(readings)
    period = next((p for p in periods if p.end_reading.id == reading.id), None)
    if period is None:
        return ImpliedConsumption(reading, None, Fraction(0))
    # "Usual" as the over-consumption rule has it: the three years before, on the same meter.
    until = [p for p in periods if p.end < period.end or p is period]
    return ImpliedConsumption(reading, period, usual_before_latest(until))


@attrs.frozen
class ContractDetail:
    """Everything the contract page shows, from three queries whatever the history's length."""

    contract: Contract
    readings: list[MeterReading]  # oldest first, rejected ones included (shown as such)
    periods: list[ConsumptionPeriod]  # from the readings that count
    years: list[YearConsumption]
    usual_litres_per_day: Fraction  # over every period shown
    overconsumption: ConsumptionPeriod | None  # the latest validated period, when abnormal and recent
    # (the very object in ``periods`` when it is one of them)
    schedule: Schedule | None = None  # its instalment schedule (échéancier), when the billing system sent one

    @property
    def last_reading(self) -> MeterReading | None:
        """The last known index: a reading still to review (perhaps a typo) is not one."""
        return latest(r for r in self.readings if r.status == ReadingStatus.VALIDATED)

    @property
    def under_review(self) -> MeterReading | None:
        """The subscriber's latest reading still to review, which a new index of that day replaces."""
        return latest(r for r in self.readings if r.correctable)

    def implied(self, reading_id: uuid.UUID) -> ImpliedConsumption | None:
        """What one of this contract's readings implies (``None`` if it is not one of them)."""
        reading = next((r for r in self.readings if r.id == reading_id), None)
        return implied_consumption(self.readings, reading) if reading is not None else None


def litres_per_day_between(periods: Iterable[ConsumptionPeriod], start: date, end: date) -> Fraction | None:
    """The daily consumption over ``[start, end)`` from the periods covering it (each spread evenly
    over its days); ``None`` unless the periods cover every day of it."""
    days, litres = 0, Fraction(0)
    for period in periods:
        overlap = (min(period.end, end) - max(period.start, start)).days
        if overlap > 0:
            days += overlap
            litres += period.litres_per_day * overlap
    return litres / days if days and days >= (end - start).days else None


def _a_year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else date(day.year - 1, 2, 28)


@attrs.frozen
class ContractGlance:
    """One contract on the home page: its last known index, its last period against a year before."""

    contract: Contract
    last_reading: MeterReading | None  # validated only: a reading to review may be a typo
    last_period: ConsumptionPeriod | None
    year_before_litres_per_day: Fraction | None  # the same span a year earlier, when the history covers it

    @property
    def change_percent(self) -> Fraction | None:
        if self.last_period is None or not self.year_before_litres_per_day:
            return None
        return (self.last_period.litres_per_day / self.year_before_litres_per_day - 1) * 100


def glance(contract: Contract, readings: Iterable[MeterReading]) -> ContractGlance:
    """What the home page says about ``contract`` from its ``readings`` (validated ones only)."""
    checked = [r for r in readings if r.status == ReadingStatus.VALIDATED]
    periods = consumption(checked)
    last_period = periods[-1] if periods else None
    before = None
    if last_period is not None:
        same_meter = [p for p in periods if p.meter_number == last_period.meter_number]
        before = litres_per_day_between(same_meter, _a_year_before(last_period.start),
                                        _a_year_before(last_period.end))
    return ContractGlance(contract, latest(checked), last_period, before)


ALERT_FRESH_DAYS = 183  # a period that ended longer ago is history, not news: no alert, no mail


def alert_period(readings: Iterable[MeterReading], today: date) -> ConsumptionPeriod | None:
    """The over-consumption period to tell the subscriber about, if any.

    Only validated readings count (a reading "to review" may be a typing error), and only a
    period that ended in the last ``ALERT_FRESH_DAYS`` days (an import of old history sends nothing).
    """
    found = _alert(readings, today)
    return found[0] if found is not None else None


def _alert(readings: Iterable[MeterReading], today: date) -> tuple[ConsumptionPeriod, Fraction] | None:
    """The period to tell about and the usual consumption it is compared with."""
    periods = consumption(r for r in readings if r.status == ReadingStatus.VALIDATED)
    period = overconsumption(periods)
    if period is None or (today - period.end).days > ALERT_FRESH_DAYS:
        return None
    return period, usual_before_latest(periods)


@attrs.define(eq=False)
class OverconsumptionNotice:
    """The subscriber was told about one over-consumption period: each period is told once."""

    contract_id: uuid.UUID
    meter_number: str
    period_start: date
    period_end: date
    litres: int
    notified_at: datetime
    emailed_to: str | None = None  # None: no e-mail on file, the home page alert only
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def key(self) -> tuple[uuid.UUID, str, date, date]:
        return (self.contract_id, self.meter_number, self.period_start, self.period_end)

    @property
    def deadline(self) -> date:
        """The last day to send the plumber's certificate for an écrêtement (loi Warsmann)."""
        return certificate_deadline(self.notified_at)


def add_month(day: date) -> date:
    """The same day a month later (the month's last day when it has fewer days)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def certificate_deadline(notified_at: datetime) -> date:
    """One month after the over-consumption notice (the day as the utility counts it): the
    subscriber's deadline to send a plumber's certificate (décret 2012-1078)."""
    return add_month(notified_at.astimezone(PARIS).date())


@attrs.frozen
class OverconsumptionAlert:
    contract: Contract
    period: ConsumptionPeriod
    usual_litres_per_day: Fraction
    notified_at: datetime | None = None  # when the subscriber was told (the notice), if recorded yet

    @property
    def deadline(self) -> date | None:
        return certificate_deadline(self.notified_at) if self.notified_at is not None else None


def alerts_for(contracts: Sequence[Contract], readings: Iterable[MeterReading],
               today: date) -> list[OverconsumptionAlert]:
    by_contract: dict[uuid.UUID, list[MeterReading]] = {c.id: [] for c in contracts}
    for reading in readings:
        by_contract.setdefault(reading.contract_id, []).append(reading)
    alerts = []
    for contract in contracts:
        found = _alert(by_contract[contract.id], today)
        if found is not None:
            alerts.append(OverconsumptionAlert(contract, *found))
    return alerts


_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class PhotoRejected(errors.DomainError):
    """The photo of the meter cannot be kept (base class of the reasons)."""

    code = "photo_rejected"


class PhotoNotAnImage(PhotoRejected):
    code = "photo_not_image"


class PhotoTooLarge(PhotoRejected):
    code = "photo_too_large"


def photo_type(data: bytes, max_bytes: int) -> tuple[str, str]:
    """``(content type, extension)`` of a JPEG or PNG photo, judged by its content, never its name."""
    try:  # the one check of every file that enters the portal
        content_type = inspect_file(io.BytesIO(data), max_size=max_bytes).content_type
    except FileTooLarge:
        raise PhotoTooLarge(size=len(data), limit=max_bytes) from None
    except UploadRejected:
        raise PhotoNotAnImage() from None
    if content_type not in _PHOTO_EXTENSIONS or len(data) <= 8:
        raise PhotoNotAnImage()
    return content_type, _PHOTO_EXTENSIONS[content_type]
