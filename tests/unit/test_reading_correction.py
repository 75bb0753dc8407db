"""A typo in a meter index is corrected, not refused: the reading "to review" is replaced.

Also: a reading to review is no "last known index", does not move the usual consumption and
does not set the chart's scale.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_adapters.memory import FixedClock, MemoryDatabase
from portail_domain.model import errors
from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus
from portail_domain.model.values import MeterIndex
from portail_domain.services.contracts import contract_detail, submit_reading
from portail_web.charts import consumption_chart
from tests.support import add_contract, add_subscriber, make_portal

LAST = date(2024, 1, 1) + timedelta(days=8 * 91)  # the last agent reading of `add_contract` (218.4 m³)
DAY = date(2026, 3, 1)


def submit(portal, subscriber, index, read_on=DAY):
    return submit_reading(portal, subscriber_id=subscriber.id, contract_number="C1", index_text=index,
                          read_on=read_on)


def readings_of(portal, contract):
    with portal.uow() as uow:
        return list(uow.readings.for_contract(contract.id))


@pytest.fixture
def typo(memory_portal):
    """A subscriber who typed one digit too many: their reading of DAY is kept "to review"."""
    subscriber = add_subscriber(memory_portal)
    contract, _ = add_contract(memory_portal, subscriber)
    implied = submit(memory_portal, subscriber, "2184")
    assert implied.to_review
    return subscriber, contract


def test_a_new_index_of_the_same_day_replaces_the_one_to_review(memory_portal, typo):
    subscriber, contract = typo
    implied = submit(memory_portal, subscriber, "262,2")  # what the meter said
    assert not implied.to_review and implied.reading.status == ReadingStatus.VALIDATED
    of_the_day = [r for r in readings_of(memory_portal, contract) if r.read_on == DAY]
    assert [(r.index, r.status, r.source) for r in of_the_day] == [
        (MeterIndex(262_200), ReadingStatus.VALIDATED, ReadingSource.SUBSCRIBER)]
    assert implied.period is not None and implied.period.litres == 262_200 - 218_400


def test_the_correction_is_judged_like_any_reading(memory_portal, typo):
    subscriber, contract = typo
    before = [(r.read_on, r.index, r.status) for r in readings_of(memory_portal, contract)]
    with pytest.raises(errors.IndexGoesDown):  # below the last validated index: refused, nothing moves
        submit(memory_portal, subscriber, "100")
    assert [(r.read_on, r.index, r.status) for r in readings_of(memory_portal, contract)] == before
    again = submit(memory_portal, subscriber, "3184")  # another implausible index: still to review
    assert again.to_review
    assert [r.index for r in readings_of(memory_portal, contract) if r.read_on == DAY] == [MeterIndex(3_184_000)]


def test_a_validated_reading_of_the_day_is_still_never_replaced(memory_portal):
    subscriber = add_subscriber(memory_portal)
    add_contract(memory_portal, subscriber)
    submit(memory_portal, subscriber, "262,2")
    with pytest.raises(errors.ReadingDuplicateDay):
        submit(memory_portal, subscriber, "262,3")


def test_an_agent_reading_to_review_is_not_the_subscribers_to_replace(memory_portal):
    subscriber = add_subscriber(memory_portal)
    contract, _ = add_contract(memory_portal, subscriber)
    with memory_portal.uow() as uow:
        uow.readings.add(MeterReading(contract.id, "M1", DAY, MeterIndex(300_000), ReadingSource.AGENT,
                                      status=ReadingStatus.TO_REVIEW))
        uow.commit()
    with pytest.raises(errors.ReadingDuplicateDay):
        submit(memory_portal, subscriber, "262,2")


@given(indexes=st.lists(st.integers(min_value=218_400, max_value=9_999_999), min_size=1, max_size=5))
def test_whatever_the_corrections_one_reading_of_the_day_remains_with_the_last_index(indexes):
    portal = make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
    subscriber = add_subscriber(portal)
    contract, _ = add_contract(portal, subscriber)
    sent = []
    for litres in indexes:
        try:
            submit(portal, subscriber, f"{litres / 1000:.3f}")
            sent.append(litres)
        except errors.ReadingDuplicateDay:  # a validated index of the day stays
            break
    of_the_day = [r for r in readings_of(portal, contract) if r.read_on == DAY]
    assert len(of_the_day) == 1 and of_the_day[0].index == MeterIndex(sent[-1])


def test_a_reading_to_review_is_no_last_known_index_nor_part_of_the_usual(memory_portal, typo):
    subscriber, _contract = typo
    detail = contract_detail(memory_portal, subscriber.id, "C1")
    assert detail.last_reading.read_on == LAST and detail.last_reading.index == MeterIndex(218_400)
    assert detail.under_review.read_on == DAY and detail.under_review.index == MeterIndex(2_184_000)
    assert detail.usual_litres_per_day == 300  # the typo's 2 m³ a day are left out


def test_a_period_to_review_is_drawn_apart_and_does_not_set_the_scale(memory_portal, typo):
    subscriber, _contract = typo
    detail = contract_detail(memory_portal, subscriber.id, "C1")
    chart = consumption_chart(detail.periods, detail.usual_litres_per_day)
    assert [b.kind for b in chart.bars][-1] == "to_review" and chart.has_to_review
    assert chart.maximum == 300  # the validated periods' scale, not the typo's ~3 000 L/day
    typo_bar = chart.bars[-1]
    assert typo_bar.y >= chart.top  # capped inside the plot
