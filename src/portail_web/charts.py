"""The consumption chart: geometry for a server-rendered SVG (no JavaScript).

``consumption_chart(periods, usual)`` turns periods into bars placed on a time axis (width
proportional to the period's days, height to its litres per day); the template
``contracts/_chart.html`` draws them. The drawing is phone-sized, so its text stays
readable there (the stylesheet enlarges it a little on narrow screens).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

import attrs

from portail_domain.model.contracts import ConsumptionPeriod

# A phone-sized drawing (about 1 unit per CSS pixel on a phone); wide screens cap its width.
WIDTH, HEIGHT = 400, 240
LEFT, RIGHT, TOP, BOTTOM = 50, 16, 24, 28


@attrs.frozen
class Bar:
    x: float
    y: float
    width: float
    height: float
    period: ConsumptionPeriod
    kind: str  # "normal", "estimated", "over", "to_review" (drawn apart, capped at the top of the scale)


@attrs.frozen
class Tick:
    position: float
    label: str


@attrs.frozen
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    average_y: float | None
    meter_changes: list[float]
    first: date
    last: date
    maximum: Fraction

    @property
    def has_estimated(self) -> bool:
        return any(b.kind == "estimated" for b in self.bars)

    @property
    def has_over(self) -> bool:
        return any(b.kind == "over" for b in self.bars)

    @property
    def has_to_review(self) -> bool:
        return any(b.kind == "to_review" for b in self.bars)


def nice_step(maximum: float, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about ``ticks`` gridlines."""
    raw = max(maximum / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def consumption_chart(
    periods: Sequence[ConsumptionPeriod], usual: Fraction, over: ConsumptionPeriod | None = None
) -> Chart | None:
    """The chart of litres per day over time, or None when there is nothing to draw."""
    if not periods:
        return None
    first, last = periods[0].start, max(p.end for p in periods)
    span = max((last - first).days, 1)
    # A period that ends on a reading still to review may be a typo: it does not set the scale.
    checked = [p for p in periods if not p.to_review] or list(periods)
    maximum = max(max(p.litres_per_day for p in checked), usual, Fraction(1))
    step = nice_step(float(maximum))
    top_value = step * math.ceil(float(maximum) / step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h

    def x_of(day: date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 2)

    def y_of(value: Fraction | float) -> float:
        return round(bottom - plot_h * float(value) / top_value, 2)

    bars = []
    for period in periods:
        x0, x1 = x_of(period.start), x_of(period.end)
        y = max(y_of(period.litres_per_day), TOP)
        kind = ("to_review" if period.to_review else "over" if period is over
                else "estimated" if period.estimated else "normal")
        gap = 0.6 if x1 - x0 > 2 else 0
        width = max(x1 - x0 - gap, 0.8)  # a one-day period stays visible...
        x = min(x0 + gap / 2, LEFT + plot_w - width)  # ...without leaving the plot
        bars.append(Bar(round(x, 2), y, round(width, 2), round(bottom - y, 2), period, kind))
    y_ticks = [Tick(y_of(v), str(v)) for v in range(0, top_value + 1, step)]
    years = range(first.year + 1, last.year + 1)
    every = 1 if len(years) <= 6 else 2 if len(years) <= 12 else 5
    x_ticks = [Tick(x_of(date(y, 1, 1)), str(y)) for y in years if y % every == 0]
    if not x_ticks:  # less than a year: label both ends
        x_ticks = [Tick(LEFT, first.strftime("%m/%Y")), Tick(LEFT + plot_w, last.strftime("%m/%Y"))]
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, right=LEFT + plot_w, top=TOP, bottom=bottom,
        bars=bars, y_ticks=y_ticks, x_ticks=x_ticks,
        average_y=y_of(usual) if usual else None,
        meter_changes=[x_of(p.start) for p in periods if p.meter_changed],
        first=first, last=last, maximum=maximum,
    )
