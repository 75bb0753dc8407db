"""Mes contrats use cases on the in-memory fakes: submitting readings, over-consumption mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portail_adapters.memory import FixedClock, MemoryDatabase
from portail_domain.model import errors
from portail_domain.model.accounts import Language
from portail_domain.model.contracts import (
    Contract,
    MeterReading,
    PhotoNotAnImage,
    PhotoTooLarge,
    ReadingSource,
    ReadingStatus,
    Service,
    consumption,
    yearly,
)
from portail_domain.model.documents import FolderKind
from portail_domain.model.values import MeterIndex
from portail_domain.services.contracts import (
    contract_detail,
    notify_overconsumption,
    overconsumption_alerts,
    submit_reading,
)
from tests.support import add_contract, add_subscriber, make_portal, set_limits

TODAY = date(2026, 3, 10)  # the `clock` fixture's day
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
LAST = date(2024, 1, 1) + timedelta(days=8 * 91)  # the last agent reading of `setup_contract` (index 218.4 m³)


def setup_contract(portal, *, number="C1", subscriber=None, **kwargs):
    subscriber = subscriber or add_subscriber(portal)
    contract, readings = add_contract(portal, subscriber, number, **kwargs)
    return subscriber, contract, readings


def submit(portal, subscriber, number="C1", index="1000", read_on=TODAY, photo=None, meter=None):
    return submit_reading(portal, subscriber_id=subscriber.id, contract_number=number, index_text=index,
                          read_on=read_on, photo=photo, meter_number=meter)


def state(portal):
    """Everything a bad submission must leave untouched."""
    with portal.uow() as uow:
        readings = [(r.read_on, r.index, r.status) for c in uow.contracts.list()
                    for r in uow.readings.for_contract(c.id)]
        return readings, len(uow.documents.list()), len(uow.outbox.pending()), len(portal.files.objects)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"index": "-5"}, errors.InvalidIndex),
        ({"index": "deux cents"}, errors.InvalidIndex),
        ({"index": "1e9"}, errors.InvalidIndex),
        ({"index": "1000000000"}, errors.InvalidIndex),  # 10 digits: no meter has that many
        ({"index": "100000"}, errors.IndexTooLarge),  # 6 digits on a 5-digit meter
        ({"index": "12,3456"}, errors.InvalidIndex),  # 4 decimals
        ({"index": ""}, errors.InvalidIndex),
        ({"read_on": TODAY + timedelta(days=1)}, errors.ReadingInFuture),
        ({"read_on": date(2023, 12, 31)}, errors.ReadingBeforeContract),
        ({"read_on": LAST}, errors.ReadingDuplicateDay),
        ({"read_on": date(2025, 12, 1)}, errors.ReadingBeforeLast),
        ({"index": "218,399"}, errors.IndexGoesDown),
        ({"meter": "M9"}, errors.WrongMeter),
        ({"number": "C2"}, errors.NotFound),  # another subscriber's contract
        ({"number": "NOPE"}, errors.NotFound),
        ({"photo": b"GIF89a" + b"\x00" * 10}, PhotoNotAnImage),
        ({"photo": b""}, PhotoNotAnImage),
        ({"photo": b"%PDF-1.4 \xff\xd8\xff"}, PhotoNotAnImage),
        ({"photo": JPEG + b"\x00" * (10 * 1024 * 1024)}, PhotoTooLarge),
    ],
)
def test_a_bad_reading_is_refused_with_its_reason_and_nothing_is_saved(memory_portal, kwargs, error):
    subscriber, _contract, _ = setup_contract(memory_portal)
    setup_contract(memory_portal, number="C2", subscriber=add_subscriber(memory_portal, "100002", email=None))
    before = state(memory_portal)
    with pytest.raises(error):
        submit(memory_portal, subscriber, **{"index": "230", **kwargs})
    assert state(memory_portal) == before


def test_a_plausible_reading_is_validated_and_says_what_it_implies(memory_portal):
    subscriber, contract, readings = setup_contract(memory_portal)
    implied = submit(memory_portal, subscriber, index="238,4", read_on=LAST + timedelta(days=61))
    assert implied.reading.status == ReadingStatus.VALIDATED and not implied.to_review
    assert implied.reading.source == ReadingSource.SUBSCRIBER
    assert implied.period.start == readings[-1].read_on and implied.period.days == 61
    assert implied.period.litres == 20_000 and implied.period.litres_per_day == Fraction(20_000, 61)
    assert implied.usual_litres_per_day == 300
    with memory_portal.uow() as uow:
        saved = uow.readings.for_contract(contract.id)[-1]
    assert (saved.read_on, saved.index, saved.recorded_at) == (LAST + timedelta(days=61), MeterIndex(238_400),
                                                               memory_portal.clock.now())


def test_an_implausible_jump_is_kept_to_review_not_refused_and_sends_no_mail(memory_portal):
    subscriber, contract, _ = setup_contract(memory_portal)
    implied = submit(memory_portal, subscriber, index="2184", read_on=date(2026, 3, 1))  # typed one digit too many
    assert implied.to_review and implied.reading.status == ReadingStatus.TO_REVIEW
    assert implied.period.litres == 2_184_000 - 218_400
    with memory_portal.uow() as uow:
        assert uow.readings.for_contract(contract.id)[-1].status == ReadingStatus.TO_REVIEW
        assert uow.outbox.pending() == []
    # The next reading is judged against the one to review (the index never goes down).
    with pytest.raises(errors.IndexGoesDown):
        submit(memory_portal, subscriber, index="240", read_on=date(2026, 3, 2))


def test_the_photo_is_kept_in_mes_envois_and_named_on_the_reading(memory_portal):
    subscriber, contract, _ = setup_contract(memory_portal)
    implied = submit(memory_portal, subscriber, index="230", read_on=date(2026, 2, 1), photo=PNG)
    key = implied.reading.photo_key
    assert memory_portal.files.objects[key] == PNG and memory_portal.files.content_types[key] == "image/png"
    with memory_portal.uow() as uow:
        (document,) = uow.documents.for_subscriber(subscriber.id)
        folder = uow.folders.get(document.folder_id)
        assert document.storage_key == key and folder.kind == FolderKind.UPLOADS
        assert document.filename == "releve-C1-2026-02-01.png" and document.size == len(PNG)
        assert uow.readings.for_contract(contract.id)[-1].photo_key == key


def test_a_photo_over_the_upload_quota_is_refused_and_nothing_is_saved(memory_portal, monkeypatch):
    from portail_domain.model.documents import QuotaExceeded

    subscriber, contract, _ = setup_contract(memory_portal)
    set_limits(memory_portal, upload_quota_bytes=len(PNG) - 1)
    before = state(memory_portal)
    with pytest.raises(QuotaExceeded):
        submit(memory_portal, subscriber, index="230", read_on=date(2026, 2, 1), photo=PNG)
    assert state(memory_portal) == before and memory_portal.files.objects == {}


def test_a_failed_commit_leaves_no_photo_behind(memory_portal, monkeypatch):
    subscriber, _, _ = setup_contract(memory_portal)
    from portail_adapters.memory.repositories import MemoryUnitOfWork

    def broken_commit(self):
        raise ConnectionError("database gone")

    monkeypatch.setattr(MemoryUnitOfWork, "commit", broken_commit)
    with pytest.raises(ConnectionError):
        submit(memory_portal, subscriber, index="230", read_on=date(2026, 2, 1), photo=JPEG)
    assert memory_portal.files.objects == {}


def test_over_consumption_mail_goes_once_per_period_in_the_subscribers_language(memory_portal):
    subscriber, contract, _ = setup_contract(memory_portal)
    # 300 L/day usual; 61 days at 700 L/day is over twice (and under the "to review" factor of 5).
    submit(memory_portal, subscriber, index="261,1", read_on=LAST + timedelta(days=61))
    with memory_portal.uow() as uow:
        (entry,) = uow.outbox.pending()
        (notice,) = uow.overconsumption_notices.for_contracts([contract.id])
    mail = entry.mail
    assert mail.to == "marie@example.org" and "C1" in mail.subject and "\n" not in mail.subject
    assert "700 litres par jour" in mail.text and "300 litres par jour" in mail.text
    assert "http://127.0.0.1:8000/demandes/nouvelle?categorie=ecretement&contrat=C1" in mail.text
    assert (notice.period_start, notice.period_end, notice.emailed_to) == (LAST, LAST + timedelta(days=61),
                                                                            "marie@example.org")
    # Running the check again (an import, another page) sends nothing more for that period.
    with memory_portal.uow() as uow:
        assert notify_overconsumption(uow, memory_portal, [contract]) == []
        uow.commit()
    with memory_portal.uow() as uow:
        assert len(uow.outbox.pending()) == 1


def test_the_mail_is_in_english_for_an_english_speaking_subscriber(memory_portal):
    subscriber = add_subscriber(memory_portal)
    with memory_portal.uow() as uow:
        subscriber.language = Language.EN
        uow.subscribers.update(subscriber)
        uow.commit()
    _, contract, _ = setup_contract(memory_portal, subscriber=subscriber, leak=True)
    with memory_portal.uow() as uow:
        (notice,) = notify_overconsumption(uow, memory_portal, [contract])
        (entry,) = uow.outbox.pending()
    assert entry.mail.subject == "Unusual water consumption on your contract C1"
    assert "1,200 litres a day" in entry.mail.text and "29 September 2025" in entry.mail.text
    assert notice.litres == 91 * 1200


def test_no_e_mail_on_file_still_records_the_notice(memory_portal):
    subscriber = add_subscriber(memory_portal, email=None)
    _, contract, _ = setup_contract(memory_portal, subscriber=subscriber, leak=True)
    with memory_portal.uow() as uow:
        (notice,) = notify_overconsumption(uow, memory_portal, [contract])
        assert notice.emailed_to is None and uow.outbox.pending() == []


def test_the_importer_checks_many_contracts_at_once(memory_portal):
    leaking = [setup_contract(memory_portal, number=f"L{n}", subscriber=add_subscriber(memory_portal, f"2{n:05d}"),
                              leak=True)[1] for n in range(3)]
    calm = setup_contract(memory_portal, number="OK", subscriber=add_subscriber(memory_portal, "300000"))[1]
    with memory_portal.uow() as uow:
        notices = notify_overconsumption(uow, memory_portal, [*leaking, calm])
        uow.commit()
    assert sorted(n.contract_id for n in notices) == sorted(c.id for c in leaking)


def test_old_history_is_not_news(memory_portal):
    """An over-consumption that ended more than six months ago sends nothing and shows nothing."""
    subscriber, contract, _ = setup_contract(memory_portal, leak=True, start=date(2023, 1, 1))  # ends 2024-12-31
    with memory_portal.uow() as uow:
        assert notify_overconsumption(uow, memory_portal, [contract]) == []
    assert overconsumption_alerts(memory_portal, subscriber.id) == []
    assert contract_detail(memory_portal, subscriber.id, "C1").overconsumption is None


def test_home_alerts_list_active_contracts_over_twice_the_usual(memory_portal):
    subscriber, _, _ = setup_contract(memory_portal, leak=True)
    setup_contract(memory_portal, number="C2", subscriber=subscriber)
    (alert,) = overconsumption_alerts(memory_portal, subscriber.id)
    assert alert.contract.number == "C1" and alert.period.litres_per_day == 1200
    assert alert.usual_litres_per_day == 300


def test_a_reading_to_review_raises_no_alert(memory_portal):
    subscriber, _, _ = setup_contract(memory_portal)
    submit(memory_portal, subscriber, index="2184", read_on=date(2026, 3, 1))
    assert overconsumption_alerts(memory_portal, subscriber.id) == []


def test_contract_detail_is_only_for_its_subscriber(memory_portal):
    subscriber, _, readings = setup_contract(memory_portal)
    stranger = add_subscriber(memory_portal, "100002", email="autre@example.org")
    detail = contract_detail(memory_portal, subscriber.id, "C1")
    with pytest.raises(errors.NotFound):
        contract_detail(memory_portal, stranger.id, "C1")
    assert detail.last_reading.id == readings[-1].id and len(detail.periods) == 8
    assert detail.usual_litres_per_day == 300 and detail.implied(readings[-1].id).period.litres == 91 * 300


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=2000), st.integers(min_value=5, max_value=200), st.integers(-1, 1))
def test_the_threshold_is_strictly_more_than_twice_the_usual(usual, days, delta):
    """Through the use case: exactly twice sends nothing, one litre more sends the mail."""
    memory_portal = make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
    subscriber = add_subscriber(memory_portal)
    start = date(2025, 6, 1)
    contract = Contract(f"T{usual}-{days}-{delta}", subscriber.id, Service.WATER, "x", "M1", start)
    end = date(2026, 3, 1)
    middle = end - timedelta(days=days)
    usual_days = (middle - start).days
    readings = [MeterReading(contract.id, "M1", start, MeterIndex(0), ReadingSource.AGENT),
                MeterReading(contract.id, "M1", middle, MeterIndex(usual * usual_days), ReadingSource.AGENT),
                MeterReading(contract.id, "M1", end, MeterIndex(usual * usual_days + 2 * usual * days + delta),
                             ReadingSource.AGENT)]
    with memory_portal.uow() as uow:
        uow.contracts.add(contract)
        uow.readings.add_many(readings)
        notices = notify_overconsumption(uow, memory_portal, [contract])
    assert (len(notices) == 1) == (delta > 0)


@given(st.lists(st.tuples(st.integers(1, 400), st.integers(0, 2_000_000)), min_size=1, max_size=25),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)))
def test_yearly_volumes_add_up_to_the_periods(steps, start):
    readings, day, index = [MeterReading(None, "M1", start, MeterIndex(0), ReadingSource.AGENT)], start, 0
    for gap, used in steps:
        day, index = day + timedelta(days=gap), index + used
        readings.append(MeterReading(None, "M1", day, MeterIndex(index), ReadingSource.AGENT))
    periods = consumption(readings)
    years = yearly(periods)
    assert sum(y.litres for y in years) == sum(p.litres for p in periods)
    assert sum(y.days for y in years) == (readings[-1].read_on - start).days
    assert all(1 <= y.days <= 366 and y.litres >= 0 for y in years)
    last_year = day.year - 1 if (day.month, day.day) == (1, 1) else day.year  # a period ends the day before
    assert [y.year for y in years] == list(range(start.year, last_year + 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-30, 200), st.sampled_from(["", "-1", "abc", "1e3"]) | st.decimals(
    min_value=0, max_value=400, places=3).map(lambda d: str(d).replace(".", ","))), max_size=12))
def test_whatever_is_submitted_the_history_keeps_its_invariants(submissions):
    """Accepted or refused, submissions never leave a lower index, two readings a day or a negative volume."""
    portal = make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
    subscriber, contract, _ = setup_contract(portal)
    for offset, index in submissions:
        before = state(portal)
        try:
            submit(portal, subscriber, index=index, read_on=LAST + timedelta(days=offset))
        except (errors.ReadingRejected, errors.InvalidIndex):
            assert state(portal) == before
    with portal.uow() as uow:
        history = uow.readings.for_contract(contract.id)
    days = [r.read_on for r in history]
    assert len(days) == len(set(days)) and days == sorted(days)
    assert [r.index for r in history] == sorted(r.index for r in history)
    assert all(r.read_on <= TODAY for r in history)
    assert all(p.litres >= 0 for p in consumption(history))
