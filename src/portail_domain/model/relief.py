"""Leak relief (écrêtement, loi Warsmann: CGCT L2224-12-4 III bis, décret 2012-1078).

The over-consumption notice (``OverconsumptionNotice.notified_at``) is the proof of the day the
subscriber was told; from it they have one month to send a plumber's certificate. Staff then
grant the relief (the bill is capped at twice the usual volume) or refuse it with a reason.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from fractions import Fraction
from typing import ClassVar

import attrs

from .contracts import (
    ConsumptionPeriod,
    MeterReading,
    OverconsumptionNotice,
    ReadingStatus,
    certificate_deadline,
    consumption,
    usual_before_latest,
)
from .requests import RequestInvalid

CAP_FACTOR = 2  # the capped volume: twice the usual one


class ReliefOutcome(enum.StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class ReliefInvalid(RequestInvalid):
    """The decision is not one of granted / refused, or a refusal has no reason."""

    code = "relief_invalid"


class ReliefNotApplicable(RequestInvalid):
    """No over-consumption notice on the request's contract, or a decision was already taken."""

    code = "relief_not_applicable"


@attrs.frozen
class ReliefDecision:
    """Staff's decision on an écrêtement request, with what the billing system needs to apply it."""

    header: ClassVar[tuple[str, ...]] = ("contract_number", "period_start", "period_end", "usual_volume",
                                         "billed_volume", "capped_volume", "decision", "reason", "decided_at")
    request_id: uuid.UUID
    contract_id: uuid.UUID
    period_start: date
    period_end: date
    usual_litres: int  # the usual consumption over the period's days
    billed_litres: int  # what the meter says was used
    capped_litres: int  # what may be billed when granted: twice the usual (never more than billed)
    outcome: ReliefOutcome
    reason: str
    decided_at: datetime
    staff_id: uuid.UUID
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


@attrs.frozen
class ReliefLine:
    """One line of ``portail export relief`` (volumes in m³, three decimals)."""

    header: ClassVar[tuple[str, ...]] = ReliefDecision.header
    contract_number: str
    decision: ReliefDecision

    def cells(self) -> list[str]:
        d = self.decision
        return [self.contract_number, d.period_start.isoformat(), d.period_end.isoformat(), _m3(d.usual_litres),
                _m3(d.billed_litres), _m3(d.capped_litres), d.outcome.value, d.reason,
                d.decided_at.isoformat(timespec="seconds")]


def _m3(litres: int) -> str:
    return f"{litres // 1000}.{litres % 1000:03d}"


@attrs.frozen
class ReliefVolumes:
    usual_litres: int
    billed_litres: int
    capped_litres: int


def relief_volumes(readings: list[MeterReading], notice: OverconsumptionNotice) -> ReliefVolumes:
    """The volumes of the notified period: billed, usual over its days, and the cap (twice the usual)."""
    periods = consumption(r for r in readings if r.status == ReadingStatus.VALIDATED)
    until: list[ConsumptionPeriod] = []
    for period in periods:
        until.append(period)
        if (period.meter_number, period.start, period.end) == (notice.meter_number, notice.period_start,
                                                               notice.period_end):
            break
    days = (notice.period_end - notice.period_start).days
    usual = round(usual_before_latest(until) * days) if until else 0
    capped = min(notice.litres, round(Fraction(CAP_FACTOR) * usual))
    return ReliefVolumes(usual_litres=usual, billed_litres=notice.litres, capped_litres=capped)


@attrs.frozen
class ReliefFile:
    """What an écrêtement request shows: the notice it answers, its deadline, and the decision."""

    notice: OverconsumptionNotice | None
    decision: ReliefDecision | None = None

    @property
    def deadline(self) -> date | None:
        return certificate_deadline(self.notice.notified_at) if self.notice is not None else None

    def days_left(self, today: date) -> int | None:
        """Days until the deadline (0 on its last day, negative once past); None without a notice."""
        deadline = self.deadline
        return (deadline - today).days if deadline is not None else None


def parse_outcome(value: str) -> ReliefOutcome:
    try:
        return ReliefOutcome(value.strip())
    except ValueError:
        raise ReliefInvalid(field="decision") from None
