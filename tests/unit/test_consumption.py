import uuid
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus, consumption, overconsumption
from portail_domain.model.values import MeterIndex

CONTRACT = uuid.uuid4()
START = date(2023, 1, 1)


def reading(day: int, litres: int, meter: str = "M1", status=ReadingStatus.VALIDATED) -> MeterReading:
    return MeterReading(CONTRACT, meter, START + timedelta(days=day), MeterIndex(litres), ReadingSource.AGENT,
                        status=status)


series = st.lists(
    st.tuples(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=500_000)),
    min_size=1,
    max_size=30,
)


def build(steps, meter="M1", start_day=0, start_index=0):
    readings, day, index = [], start_day, start_index
    readings.append(reading(day, index, meter))
    for gap, used in steps:
        day += gap
        index += used
        readings.append(reading(day, index, meter))
    return readings


@given(series)
def test_volumes_sum_to_the_index_difference_and_are_never_negative(steps):
    readings = build(steps)
    periods = consumption(readings)
    assert len(periods) == len(steps)
    assert sum(p.litres for p in periods) == readings[-1].index - readings[0].index
    assert all(p.litres >= 0 and p.days > 0 for p in periods)
    assert all(p.litres_per_day == Fraction(p.litres, p.days) for p in periods)


@given(series, series, st.integers(min_value=0, max_value=900_000))
def test_meter_change_restarts_the_series(before, after, old_index_extra):
    old = build(before, "OLD", start_index=old_index_extra)
    change_day = (old[-1].read_on - START).days
    new = build(after, "NEW", start_day=change_day, start_index=0)  # the new meter starts at 0, same day
    periods = consumption(old + new)
    assert all(p.litres >= 0 for p in periods)
    assert sum(p.litres for p in periods if p.meter_number == "OLD") == old[-1].index - old[0].index
    assert sum(p.litres for p in periods if p.meter_number == "NEW") == new[-1].index - new[0].index
    first_new = next(p for p in periods if p.meter_number == "NEW")
    assert first_new.meter_changed and first_new.start == new[0].read_on
    assert not any(p.meter_changed for p in periods if p.meter_number == "OLD")


def test_rejected_readings_take_no_part():
    readings = [reading(0, 0), reading(10, 99_000, status=ReadingStatus.REJECTED), reading(20, 2_000)]
    periods = consumption(readings)
    assert [(p.days, p.litres) for p in periods] == [(20, 2_000)]


def test_litres_per_day_is_exact():
    (period,) = consumption([reading(0, 0), reading(3, 1_000)])
    assert period.litres_per_day == Fraction(1000, 3)


def test_overconsumption_threshold_is_strictly_more_than_twice():
    # Usual: 100 L/day over two periods of 100 days.
    base = [reading(0, 0), reading(100, 10_000), reading(200, 20_000)]
    exactly_twice = consumption([*base, reading(300, 40_000)])
    assert overconsumption(exactly_twice) is None
    just_above = consumption([*base, reading(300, 40_001)])
    assert overconsumption(just_above) is just_above[-1]


def test_no_overconsumption_without_history():
    assert overconsumption(consumption([reading(0, 0), reading(10, 900_000)])) is None
