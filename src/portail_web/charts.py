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
from markupsafe import Markup

from portail_domain.model.contracts import ConsumptionPeriod

# A phone-sized drawing (about 1 unit per CSS pixel on a phone); wide screens cap its width.
WIDTH, HEIGHT = 400, 240
LEFT, RIGHT, TOP, BOTTOM = 50, 16, 24, 28


# How each kind of bar is drawn (the legend in contracts/_chart.html draws the same).
BAR_STYLES = {
    "normal": 'fill="#0b4f8a"',
    "over": 'fill="#a0161b"',
    "estimated": 'fill="#b9d3ec" stroke="#0b4f8a" stroke-width="0.8" stroke-dasharray="2 1.5"',
    "to_review": 'fill="#fff" stroke="#7a4b00" stroke-width="1.2" stroke-dasharray="4 2"',
}


@attrs.frozen
class Bar:
    x: float
    y: float
    width: float
    height: float
    period: ConsumptionPeriod
    kind: str  # "normal", "estimated", "over", "to_review" (drawn apart, capped at the top of the scale)

    @property
    def shape(self) -> Markup:
        """Its ``<rect>``'s attributes: numbers and a fixed style, written once here rather than
        printed one by one by the template (a fifth of the contract page's rendering went there)."""
        return Markup(f'x="{self.x}" y="{self.y}" width="{self.width}" height="{self.height}" '  # noqa: S704 - numbers and constants only
                      f"{BAR_STYLES[self.kind]}")


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
    # A period that ends on a reading still to review may be a typo: it does not set the scale.
    checked = [p for p in periods if not p.to_review] or list(periods)
    maximum = max(max(p.litres_per_day for p in checked), usual, Fraction(1))
    step = nice_step(float(maximum))
    plot = _Plot(first, span=max((last - first).days, 1), top_value=step * math.ceil(float(maximum) / step))
    return Chart(
        width=WIDTH, height=HEIGHT, left=LEFT, right=plot.right, top=TOP, bottom=plot.bottom,
        bars=[plot.bar(period, _kind(period, over)) for period in periods],
        y_ticks=[Tick(plot.y(v), str(v)) for v in range(0, plot.top_value + 1, step)],
        x_ticks=_year_ticks(plot, first, last),
        average_y=plot.y(usual) if usual else None,
        meter_changes=[plot.x(p.start) for p in periods if p.meter_changed],
        first=first, last=last, maximum=maximum,
    )


@attrs.frozen
class _Plot:
    """Where a day (from ``first``, over ``span`` days) and a value (up to ``top_value``) land."""

    first: date
    span: int
    top_value: int
    width: int = WIDTH - LEFT - RIGHT
    height: int = HEIGHT - TOP - BOTTOM

    @property
    def right(self) -> int:
        return LEFT + self.width

    @property
    def bottom(self) -> int:
        return TOP + self.height

    def x(self, day: date) -> float:
        return round(LEFT + self.width * (day - self.first).days / self.span, 2)

    def y(self, value: Fraction | float) -> float:
        return round(self.bottom - self.height * float(value) / self.top_value, 2)

    def bar(self, period: ConsumptionPeriod, kind: str) -> Bar:
        x0, x1 = self.x(period.start), self.x(period.end)
        y = max(self.y(period.litres_per_day), TOP)  # a reading to review may go past the scale: capped
        gap = 0.6 if x1 - x0 > 2 else 0
        width = max(x1 - x0 - gap, 0.8)  # a one-day period stays visible...
        x = min(x0 + gap / 2, self.right - width)  # ...without leaving the plot
        return Bar(round(x, 2), y, round(width, 2), round(self.bottom - y, 2), period, kind)


def _kind(period: ConsumptionPeriod, over: ConsumptionPeriod | None) -> str:
    return ("to_review" if period.to_review else "over" if period is over
            else "estimated" if period.estimated else "normal")


def _year_ticks(plot: _Plot, first: date, last: date) -> list[Tick]:
    """A label on each 1 January (every 2 or 5 years on a long history); less than a year: both ends."""
    years = range(first.year + 1, last.year + 1)
    every = 1 if len(years) <= 6 else 2 if len(years) <= 12 else 5
    ticks = [Tick(plot.x(date(y, 1, 1)), str(y)) for y in years if y % every == 0]
    return ticks or [Tick(LEFT, first.strftime("%m/%Y")), Tick(plot.right, last.strftime("%m/%Y"))]
