"""Mes contrats: contracts, readings, consumption, submitting a reading, over-consumption notices."""

from __future__ import annotations

import contextlib
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date

import attrs

from ..model import errors
from ..model.accounts import Subscriber
from ..model.contracts import (
    Contract,
    ContractDetail,
    ContractGlance,
    ImpliedConsumption,
    MeterReading,
    OverconsumptionAlert,
    OverconsumptionNotice,
    ReadingSource,
    ReadingStatus,
    alert_period,
    alerts_for,
    consumption,
    glance,
    implied_consumption,
    photo_type,
    usual_litres_per_day,
    yearly,
)
from ..model.documents import AddedBy, FolderKind
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.schedules import schedules_of
from ..model.values import MeterIndex
from ..portal import Portal
from ..ports import UnitOfWork
from .documents import check_quota, ensure_default_folders, store_document
from .mail import queue_mail


def list_contracts(portal: Portal, subscriber_id: uuid.UUID) -> list[Contract]:
    """The subscriber's contracts, oldest first (one query)."""
    with portal.uow(read_only=True) as uow:
        return list(uow.contracts.for_subscriber(subscriber_id))


def own_contract(uow: UnitOfWork, subscriber_id: uuid.UUID, contract_number: str) -> Contract:
    """The contract with this number if it is the subscriber's; ``NotFound`` otherwise (never say which).

    A step inside another use case's unit of work (submitting a reading, filing a request)."""
    if not contract_number.isprintable() or not 0 < len(contract_number) <= 64:  # not a number ever issued
        raise errors.NotFound("no such contract for this subscriber")
    contract = uow.contracts.by_number(contract_number)
    if contract is None or contract.subscriber_id != subscriber_id:
        raise errors.NotFound("no such contract for this subscriber")
    return contract


def contract_detail(portal: Portal, subscriber_id: uuid.UUID, contract_number: str) -> ContractDetail:
    """One of the subscriber's contracts with its readings, consumption and instalment schedule;
    ``NotFound`` if not theirs."""
    today = portal.clock.today()
    with portal.uow(read_only=True) as uow:
        contract = own_contract(uow, subscriber_id, contract_number)
        readings = list(uow.readings.for_contract(contract.id))
        schedules = schedules_of({contract.id: contract.number}, uow.instalments.for_contracts([contract.id]), today)
    periods = consumption(readings)
    checked = [p for p in periods if not p.to_review]  # a typo under review must not move "usual"
    over = alert_period(readings, today)
    if over is not None:  # the same span among the periods shown, so pages can point at it
        over = next((p for p in periods if (p.meter_number, p.start, p.end) == (over.meter_number, over.start,
                                                                                 over.end)), over)
    return ContractDetail(
        contract=contract,
        readings=readings,
        periods=periods,
        years=yearly(periods),
        usual_litres_per_day=usual_litres_per_day(checked),
        overconsumption=over,
        schedule=schedules[0] if schedules else None,
    )


def overconsumption_alerts(portal: Portal, subscriber_id: uuid.UUID) -> list[OverconsumptionAlert]:
    """The home page alerts: active contracts whose latest period is over twice the usual (two queries)."""
    today = portal.clock.today()
    with portal.uow(read_only=True) as uow:
        contracts = [c for c in uow.contracts.for_subscriber(subscriber_id) if c.is_active(today)]
        if not contracts:
            return []
        readings = uow.readings.for_contracts([c.id for c in contracts])
        return alerts_in(uow, contracts, readings, today)


def alerts_in(uow: UnitOfWork, contracts: Sequence[Contract], readings: Sequence[MeterReading],
              today: date) -> list[OverconsumptionAlert]:
    """``overconsumption_alerts`` inside the caller's unit of work, given the active contracts and
    their readings (one query: the notices already sent)."""
    if not contracts:
        return []
    told = {n.key: n.notified_at for n in uow.overconsumption_notices.for_contracts([c.id for c in contracts])}
    return [attrs.evolve(alert, notified_at=told.get((alert.contract.id, alert.period.meter_number, alert.period.start,
                                                      alert.period.end)))
            for alert in alerts_for(contracts, readings, today)]


def contracts_at_a_glance(portal: Portal, subscriber_id: uuid.UUID) -> list[ContractGlance]:
    """The home page's summary of each active contract (two queries, whatever the history)."""
    today = portal.clock.today()
    with portal.uow(read_only=True) as uow:
        contracts = [c for c in uow.contracts.for_subscriber(subscriber_id) if c.is_active(today)]
        readings = uow.readings.for_contracts([c.id for c in contracts]) if contracts else []
    return glances_of(contracts, readings)


def glances_of(contracts: Sequence[Contract], readings: Iterable[MeterReading]) -> list[ContractGlance]:
    """``contracts_at_a_glance`` from the active contracts and their readings already read."""
    by_contract: dict[uuid.UUID, list[MeterReading]] = {c.id: [] for c in contracts}
    for reading in readings:
        by_contract.setdefault(reading.contract_id, []).append(reading)
    return [glance(c, by_contract[c.id]) for c in contracts]


def notify_overconsumption(
    uow: UnitOfWork, portal: Portal, contracts: Iterable[Contract]
) -> list[OverconsumptionNotice]:
    """Queue an e-mail (in the subscriber's language) for each contract whose latest period is an
    over-consumption not told yet, and record it, so each period is told once.

    A step inside the caller's unit of work (the caller commits): ``submit_reading`` calls it after a validated reading;
    an import of readings calls it once with every contract it touched. Costs two queries for
    all the contracts, plus one per new notice.
    """
    clock = portal.clock
    contracts = list(contracts)
    if not contracts:
        return []
    ids = [c.id for c in contracts]
    today = clock.today()
    told = {n.key for n in uow.overconsumption_notices.for_contracts(ids)}
    notices = []
    for alert in alerts_for(contracts, uow.readings.for_contracts(ids), today):
        contract, period = alert.contract, alert.period
        notice = OverconsumptionNotice(contract.id, period.meter_number, period.start, period.end, period.litres,
                                       notified_at=clock.now())
        if notice.key in told:
            continue
        subscriber = uow.subscribers.get(contract.subscriber_id)
        mail = None
        if subscriber is not None and subscriber.email is not None:
            mail = overconsumption_mail(subscriber, alert, notice.deadline)
            notice.emailed_to = mail.to
        told.add(notice.key)
        if not uow.overconsumption_notices.claim(notice):
            continue  # a concurrent transaction told this period first: tell it once
        if mail is not None:
            queue_mail(uow, portal, mail)
        notices.append(notice)
    return notices


def leak_relief_link(contract_number: str) -> Link:
    """Where the alert leads: a new request of category "écrêtement" for this contract."""
    return Link("request_new", query={"categorie": "ecretement", "contrat": contract_number})


def overconsumption_mail(subscriber: Subscriber, alert: OverconsumptionAlert, deadline: date) -> Mail:
    """The over-consumption e-mail to the subscriber's e-mail on file, in their language, with the
    deadline for the plumber's certificate (one month from this notice)."""
    assert subscriber.email is not None
    contract, period = alert.contract, alert.period
    return Mail(MailKind.OVERCONSUMPTION, subscriber.email.address, subscriber.language.value, {
        "name": subscriber.name,
        "number": contract.number,
        "address": contract.supply_address,
        "start": period.start,
        "end": period.end,
        "litres": period.litres,
        "lpd": period.litres_per_day,
        "usual": alert.usual_litres_per_day,
        "link": leak_relief_link(contract.number),
        "deadline": deadline,
        "contract_link": Link("contract", {"contract_number": contract.number}),
    })


def submit_reading(
    portal: Portal,
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
    The subscriber's own reading of that meter and day still "to review" is replaced by the new
    index (judged without it) instead of being refused as a second reading of the day.
    Returns the consumption the reading implies.
    """
    files, clock, config = portal.files, portal.clock, portal.config
    with portal.uow() as uow:
        contract = own_contract(uow, subscriber_id, contract_number)
        index = MeterIndex.parse(index_text)
        kind = photo_type(photo, config.limits.upload_max_bytes) if photo is not None else None
        meter = meter_number if meter_number is not None else contract.meter_number
        history = list(uow.readings.for_contract(contract.id))
        replaced = contract.reading_to_replace(meter_number=meter, read_on=read_on, history=history)
        history = [r for r in history if r is not replaced]
        contract.check_reading(meter_number=meter, read_on=read_on, index=index, history=history, today=clock.today())
        plausible = contract.plausible(read_on=read_on, index=index, history=history)
        status = ReadingStatus.VALIDATED if plausible else ReadingStatus.TO_REVIEW
        if replaced is not None:
            reading = replaced
            old_photo = reading.photo_key
            reading.replace_index(index, status, clock.now())
        else:
            reading = MeterReading(contract.id, meter, read_on, index, ReadingSource.SUBSCRIBER, status=status,
                                   recorded_at=clock.now())
            old_photo = None
        try:
            if photo is not None and kind is not None:
                if files is None:
                    raise errors.StorageError("no file store configured")
                reading.photo_key = _store_photo(uow, portal, contract, reading, photo, *kind)
            if replaced is not None:
                uow.readings.update(reading)
            else:
                uow.readings.add(reading)
            if plausible:
                notify_overconsumption(uow, portal, [contract])
            uow.commit()
        except BaseException:
            if reading.photo_key not in (None, old_photo) and files is not None:
                with contextlib.suppress(Exception):  # a failing store must not hide the first error
                    files.delete(reading.photo_key)
            raise
        return implied_consumption([*history, reading], reading)


def _store_photo(uow: UnitOfWork, portal: Portal, contract: Contract, reading: MeterReading,
                 photo: bytes, content_type: str, extension: str) -> str:
    files, clock = portal.files, portal.clock
    assert files is not None
    # A meter photo is one of the subscriber's uploads: it counts against the quota.
    check_quota(uow, contract.subscriber_id, len(photo), portal.config.limits.upload_quota_bytes)
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
