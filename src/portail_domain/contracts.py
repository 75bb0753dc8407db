"""Contracts, meter readings (relèves) and the consumption derived from them."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import TYPE_CHECKING
from urllib.parse import quote

import attrs

from . import errors
from .accounts import Language, Subscriber
from .documents import (
    AddedBy,
    FolderKind,
    check_quota,
    detect_content_type,
    ensure_default_folders,
    store_document,
)
from .values import MeterIndex

if TYPE_CHECKING:
    from .portal import PortalConfig
    from .ports import Clock, FileStore, OutgoingMail, UnitOfWork


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
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @property
    def counts(self) -> bool:
        """Rejected readings take no part in the rules nor in the consumption."""
        return self.status != ReadingStatus.REJECTED


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

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def litres_per_day(self) -> Fraction:
        return Fraction(self.litres, self.days)

    @property
    def estimated(self) -> bool:
        return ReadingSource.ESTIMATED in (self.start_reading.source, self.end_reading.source)


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


# --- year-on-year comparison ------------------------------------------------------------


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


# --- what a reading implies ---------------------------------------------------------------


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


# --- use cases: reading the contracts ------------------------------------------------------


def list_contracts(uow: UnitOfWork, subscriber_id: uuid.UUID) -> list[Contract]:
    """The subscriber's contracts, oldest first (one query)."""
    return list(uow.contracts.for_subscriber(subscriber_id))


def own_contract(uow: UnitOfWork, subscriber_id: uuid.UUID, contract_number: str) -> Contract:
    """The contract with this number if it is the subscriber's; ``NotFound`` otherwise (never say which)."""
    if not contract_number.isprintable() or not 0 < len(contract_number) <= 64:  # not a number ever issued
        raise errors.NotFound("no such contract for this subscriber")
    contract = uow.contracts.by_number(contract_number)
    if contract is None or contract.subscriber_id != subscriber_id:
        raise errors.NotFound("no such contract for this subscriber")
    return contract


@attrs.frozen
class ContractDetail:
    """Everything the contract page shows, from two queries whatever the history's length."""

    contract: Contract
    readings: list[MeterReading]  # oldest first, rejected ones included (shown as such)
    periods: list[ConsumptionPeriod]  # from the readings that count
    years: list[YearConsumption]
    usual_litres_per_day: Fraction  # over every period shown
    overconsumption: ConsumptionPeriod | None  # the latest validated period, when abnormal and recent
    # (the very object in ``periods`` when it is one of them)

    @property
    def last_reading(self) -> MeterReading | None:
        return latest(r for r in self.readings if r.counts)

    def implied(self, reading_id: uuid.UUID) -> ImpliedConsumption | None:
        """What one of this contract's readings implies (``None`` if it is not one of them)."""
        reading = next((r for r in self.readings if r.id == reading_id), None)
        return implied_consumption(self.readings, reading) if reading is not None else None


def contract_detail(uow: UnitOfWork, clock: Clock, subscriber_id: uuid.UUID, contract_number: str) -> ContractDetail:
    """One of the subscriber's contracts with its readings and consumption; ``NotFound`` if not theirs."""
    contract = own_contract(uow, subscriber_id, contract_number)
    readings = list(uow.readings.for_contract(contract.id))
    periods = consumption(readings)
    over = alert_period(readings, clock.today())
    if over is not None:  # the same span among the periods shown, so pages can point at it
        over = next((p for p in periods if (p.meter_number, p.start, p.end) == (over.meter_number, over.start,
                                                                                 over.end)), over)
    return ContractDetail(
        contract=contract,
        readings=readings,
        periods=periods,
        years=yearly(periods),
        usual_litres_per_day=usual_litres_per_day(periods),
        overconsumption=over,
    )


# --- over-consumption (loi Warsmann, décret 2012-1078) -------------------------------------

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


@attrs.frozen
class OverconsumptionAlert:
    contract: Contract
    period: ConsumptionPeriod
    usual_litres_per_day: Fraction

    @property
    def leak_relief_path(self) -> str:
        return leak_relief_path(self.contract.number)


def _alerts(contracts: Sequence[Contract], readings: Iterable[MeterReading], today: date) -> list[OverconsumptionAlert]:
    by_contract: dict[uuid.UUID, list[MeterReading]] = {c.id: [] for c in contracts}
    for reading in readings:
        by_contract.setdefault(reading.contract_id, []).append(reading)
    alerts = []
    for contract in contracts:
        found = _alert(by_contract[contract.id], today)
        if found is not None:
            alerts.append(OverconsumptionAlert(contract, *found))
    return alerts


def overconsumption_alerts(uow: UnitOfWork, clock: Clock, subscriber_id: uuid.UUID) -> list[OverconsumptionAlert]:
    """The home page alerts: active contracts whose latest period is over twice the usual (two queries)."""
    today = clock.today()
    contracts = [c for c in uow.contracts.for_subscriber(subscriber_id) if c.is_active(today)]
    if not contracts:
        return []
    return _alerts(contracts, uow.readings.for_contracts([c.id for c in contracts]), today)


def notify_overconsumption(
    uow: UnitOfWork, clock: Clock, config: PortalConfig, contracts: Iterable[Contract]
) -> list[OverconsumptionNotice]:
    """Queue an e-mail (in the subscriber's language) for each contract whose latest period is an
    over-consumption not told yet, and record it, so each period is told once.

    Runs in ``uow`` (the caller commits): ``submit_reading`` calls it after a validated reading;
    an import of readings calls it once with every contract it touched. Costs two queries for
    all the contracts, plus one per new notice.
    """
    contracts = list(contracts)
    if not contracts:
        return []
    ids = [c.id for c in contracts]
    today = clock.today()
    told = {n.key for n in uow.overconsumption_notices.for_contracts(ids)}
    notices = []
    for alert in _alerts(contracts, uow.readings.for_contracts(ids), today):
        contract, period = alert.contract, alert.period
        notice = OverconsumptionNotice(contract.id, period.meter_number, period.start, period.end, period.litres,
                                       notified_at=clock.now())
        if notice.key in told:
            continue
        subscriber = uow.subscribers.get(contract.subscriber_id)
        mail = None
        if subscriber is not None and subscriber.email is not None:
            mail = overconsumption_mail(subscriber, alert, config)
            notice.emailed_to = mail.to
        told.add(notice.key)
        if not uow.overconsumption_notices.claim(notice):
            continue  # a concurrent transaction told this period first: tell it once
        if mail is not None:
            uow.outbox.add(mail, clock.now())
        notices.append(notice)
    return notices


def leak_relief_path(contract_number: str) -> str:
    """Where the alert leads: a new request of category "écrêtement" for this contract (stable URL)."""
    return f"/demandes/nouvelle?categorie=ecretement&contrat={quote(contract_number, safe='')}"


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")

_MAIL = {
    Language.FR: (
        "Consommation d'eau anormale sur votre contrat {number}",
        "Bonjour {name},\n\n"
        "Entre le {start} et le {end}, votre consommation d'eau sur le contrat {number} ({address}) "
        "a été de {m3} m³, soit {lpd} litres par jour en moyenne : plus du double de votre consommation "
        "habituelle ({usual} litres par jour).\n\n"
        "Cela peut être le signe d'une fuite après le compteur. Si une fuite sur une canalisation est réparée "
        "par une entreprise de plomberie, vous pouvez demander l'écrêtement de votre facture (loi Warsmann) "
        "en joignant l'attestation de réparation :\n{link}\n\n"
        "Vos relèves et votre consommation : {contract_link}\n\n{utility}\n{phone}\n",
    ),
    Language.EN: (
        "Unusual water consumption on your contract {number}",
        "Hello {name},\n\n"
        "Between {start} and {end}, your water consumption on contract {number} ({address}) was {m3} m³, "
        "that is {lpd} litres a day on average: more than twice your usual consumption "
        "({usual} litres a day).\n\n"
        "This may be the sign of a leak after the meter. If a leak on a pipe is repaired by a plumber, you can "
        "ask for your bill to be capped (écrêtement, loi Warsmann) by attaching the repair certificate:\n"
        "{link}\n\n"
        "Your readings and consumption: {contract_link}\n\n{utility}\n{phone}\n",
    ),
}


def _mail_day(value: date, language: Language) -> str:
    if language == Language.FR:
        return value.strftime("%d/%m/%Y")
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def _mail_m3(litres: int, language: Language) -> str:
    text = str(MeterIndex(litres))
    return text.replace(".", ",") if language == Language.FR else text


def overconsumption_mail(subscriber: Subscriber, alert: OverconsumptionAlert, config: PortalConfig) -> OutgoingMail:
    """The over-consumption e-mail, in the subscriber's language."""
    from .ports import OutgoingMail

    language = subscriber.language if subscriber.language in _MAIL else Language.FR
    subject, body = _MAIL[language]
    contract, period = alert.contract, alert.period
    values = {
        "name": subscriber.name,
        "number": contract.number,
        "address": contract.supply_address,
        "start": _mail_day(period.start, language),
        "end": _mail_day(period.end, language),
        "m3": _mail_m3(period.litres, language),
        "lpd": round(period.litres_per_day),
        "usual": round(alert.usual_litres_per_day),
        "link": config.link(leak_relief_path(contract.number)),
        "contract_link": config.link("/contrats/" + quote(contract.number, safe="")),
        "utility": config.utility.name,
        "phone": config.utility.phone,
    }
    one_line = " ".join(subject.format(**values).split())  # header values are single lines
    assert subscriber.email is not None
    return OutgoingMail(to=subscriber.email.address, subject=one_line, text=body.format(**values))


# --- use case: submitting a reading (transmettre une relève) -------------------------------

MAX_PHOTO_BYTES = 10 * 1024 * 1024
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class PhotoRejected(errors.DomainError):
    """The photo of the meter cannot be kept (base class of the reasons)."""

    code = "photo_rejected"


class PhotoNotAnImage(PhotoRejected):
    code = "photo_not_image"


class PhotoTooLarge(PhotoRejected):
    code = "photo_too_large"


def photo_type(data: bytes) -> tuple[str, str]:
    """``(content type, extension)`` of a JPEG or PNG photo, judged by its content, never its name."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(size=len(data), limit=MAX_PHOTO_BYTES)
    content_type = detect_content_type(data)  # the same recognition as any other upload
    if content_type not in _PHOTO_EXTENSIONS or len(data) <= 8:
        raise PhotoNotAnImage()
    return content_type, _PHOTO_EXTENSIONS[content_type]


def submit_reading(
    uow: UnitOfWork,
    files: FileStore | None,
    clock: Clock,
    config: PortalConfig,
    *,
    subscriber_id: uuid.UUID,
    contract_number: str,
    index_text: str,
    read_on: date,
    photo: bytes | None = None,
    meter_number: str | None = None,
) -> ImpliedConsumption:
    """Record a reading sent by the subscriber, and commit.

    Bad input raises before anything is written (``InvalidIndex``, a ``ReadingRejected``
    reason, a ``PhotoRejected`` reason, ``NotFound``). An implausible jump is kept with the
    status "to review" rather than refused. The photo, if any, goes to the subscriber's
    "Mes envois" folder and its storage key onto the reading; if the commit fails the object
    is deleted again. A validated reading runs the over-consumption check (mail once per period).
    Returns the consumption the reading implies.
    """
    contract = own_contract(uow, subscriber_id, contract_number)
    index = MeterIndex.parse(index_text)
    kind = photo_type(photo) if photo is not None else None
    meter = meter_number if meter_number is not None else contract.meter_number
    history = list(uow.readings.for_contract(contract.id))
    contract.check_reading(meter_number=meter, read_on=read_on, index=index, history=history, today=clock.today())
    plausible = contract.plausible(read_on=read_on, index=index, history=history)
    reading = MeterReading(
        contract.id, meter, read_on, index, ReadingSource.SUBSCRIBER,
        status=ReadingStatus.VALIDATED if plausible else ReadingStatus.TO_REVIEW,
        recorded_at=clock.now(),
    )
    try:
        if photo is not None and kind is not None:
            if files is None:
                raise errors.StorageError("no file store configured")
            reading.photo_key = _store_photo(uow, files, clock, contract, reading, photo, *kind)
        uow.readings.add(reading)
        if plausible:
            notify_overconsumption(uow, clock, config, [contract])
        uow.commit()
    except BaseException:
        if reading.photo_key is not None and files is not None:
            with contextlib.suppress(Exception):  # a failing store must not hide the first error
                files.delete(reading.photo_key)
        raise
    return implied_consumption([*history, reading], reading)


def _store_photo(uow: UnitOfWork, files: FileStore, clock: Clock, contract: Contract, reading: MeterReading,
                 photo: bytes, content_type: str, extension: str) -> str:
    check_quota(uow, contract.subscriber_id, len(photo))  # a meter photo is one of the subscriber's uploads
    folders = ensure_default_folders(uow, contract.subscriber_id)
    uploads = next(f for f in folders if f.kind == FolderKind.UPLOADS and f.parent_id is None)
    document = store_document(
        uow, files, clock,
        subscriber_id=contract.subscriber_id,
        folder_id=uploads.id,
        filename=f"releve-{contract.number}-{reading.read_on.isoformat()}.{extension}",
        content_type=content_type,
        data=io.BytesIO(photo),
        size=len(photo),
        sha256=hashlib.sha256(photo).hexdigest(),
        added_by=AddedBy.SUBSCRIBER,
    )
    return document.storage_key
