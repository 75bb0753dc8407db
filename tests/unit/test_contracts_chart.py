"""The consumption chart's geometry: bars where the periods are, as tall as their litres per day."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.contracts import MeterReading, ReadingSource, consumption, usual_litres_per_day
from portail_domain.model.values import MeterIndex
from portail_web.charts import consumption_chart, nice_step

START = date(2020, 1, 1)


def readings(steps, meter="M1", start=START, index=0, source=ReadingSource.AGENT):
    day, out = start, [MeterReading(uuid.uuid4(), meter, start, MeterIndex(index), source)]
    for gap, used in steps:
        day, index = day + timedelta(days=gap), index + used
        out.append(MeterReading(out[0].contract_id, meter, day, MeterIndex(index), source))
    return out


@given(st.lists(st.tuples(st.integers(1, 400), st.integers(0, 3_000_000)), min_size=1, max_size=130))
def test_bars_sit_on_the_time_axis_with_heights_proportional_to_litres_per_day(steps):
    periods = consumption(readings(steps))
    chart = consumption_chart(periods, usual_litres_per_day(periods))
    assert len(chart.bars) == len(periods)
    plot_height = chart.bottom - chart.top
    top_value = int(chart.y_ticks[-1].label)
    assert top_value >= chart.maximum  # the tallest bar fits
    for bar in chart.bars:
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right + 0.01
        assert chart.top - 0.01 <= bar.y and abs(bar.y + bar.height - chart.bottom) < 0.02
        expected = plot_height * float(bar.period.litres_per_day) / top_value
        assert abs(bar.height - expected) < 0.02
    xs = [bar.x for bar in chart.bars]
    assert xs == sorted(xs)  # oldest on the left
    assert all(chart.left <= t.position <= chart.right for t in chart.x_ticks)


def test_ticks_are_round_numbers():
    assert [nice_step(v) for v in (3, 40, 95, 130, 410, 999, 4500)] == [1, 10, 50, 50, 200, 500, 2000]


def test_meter_change_over_consumption_and_estimates_are_marked():
    old = readings([(90, 27_000)] * 3)
    new = readings([(90, 27_000), (90, 27_000 * 3)], meter="M2", start=old[-1].read_on, index=0,
                   source=ReadingSource.ESTIMATED)
    periods = consumption(old + new)
    chart = consumption_chart(periods, Fraction(300), over=periods[-1])
    assert [b.kind for b in chart.bars] == ["normal", "normal", "normal", "estimated", "over"]
    assert chart.meter_changes == [pytest.approx(chart.bars[3].x - 0.3)]
    assert chart.has_estimated and chart.has_over
    assert chart.average_y is not None and chart.top < chart.average_y < chart.bottom


def test_nothing_to_draw_without_periods():
    assert consumption_chart([], Fraction(0)) is None


def test_a_bars_rect_carries_its_geometry_and_the_style_of_its_kind():
    estimated = readings([(30, 3000)], start=START + timedelta(days=30), index=3000, source=ReadingSource.ESTIMATED)
    periods = consumption([*readings([(30, 3000)]), *estimated[1:]])
    chart = consumption_chart(periods, usual_litres_per_day(periods))
    for bar in chart.bars:
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', str(bar.shape)))
        assert [float(attributes[k]) for k in ("x", "y", "width", "height")] == [bar.x, bar.y, bar.width, bar.height]
    normal, estimated_bar = chart.bars
    assert dict(re.findall(r'([\w-]+)="([^"]*)"', str(normal.shape)))["fill"] == "#0b4f8a"
    assert "stroke-dasharray" in str(estimated_bar.shape) and estimated_bar.kind == "estimated"
