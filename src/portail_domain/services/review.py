"""The back office's readings queue (relevés à valider): staff accept or reject readings "to review"."""

from __future__ import annotations

import uuid

from ..model import errors
from ..model.accounts import StaffUser, Subscriber
from ..model.audit import AuditAction
from ..model.contracts import Contract, MeterReading, ReadingStatus, implied_consumption
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.review import (
    QUEUE_PAGE,
    RECENT_READINGS,
    AlreadyReviewed,
    ReadingDecision,
    ReadingToReview,
    decide_reading,
    parse_decision,
)
from ..portal import Portal
from .audit import record_audit
from .contracts import notify_overconsumption
from .mail import queue_mail


def readings_to_review(portal: Portal, limit: int = QUEUE_PAGE) -> list[ReadingToReview]:
    """The readings "to review", longest waiting first, each with its contract's recent history and
    the consumption it implies. One query for the readings and one for every history, plus one per
    contract and subscriber shown (at most ``limit`` each)."""
    with portal.uow(read_only=True) as uow:
        waiting = list(uow.readings.to_review(limit))
        contracts = {c.id: c for c in (uow.contracts.get(i) for i in {r.contract_id for r in waiting}) if c}
        subscribers = {s.id: s for s in (uow.subscribers.get(i) for i in {c.subscriber_id for c in contracts.values()})
                       if s}
        history = list(uow.readings.for_contracts(list(contracts)))
    lines = []
    for reading in waiting:
        contract = contracts[reading.contract_id]
        readings = [r for r in history if r.contract_id == contract.id]
        before = [r for r in readings if r.read_on < reading.read_on]
        lines.append(ReadingToReview(reading, contract, subscribers.get(contract.subscriber_id),
                                     list(reversed(before[-RECENT_READINGS:])), implied_consumption(readings, reading)))
    return lines


def review_reading(portal: Portal, staff: StaffUser, reading_id: uuid.UUID, decision_text: str,
                   reason: str) -> MeterReading:
    """Accept or reject a reading "to review", audited, in one transaction.

    Accepting makes it count (consumption, export) and runs the over-consumption check as an
    import does; rejecting keeps it, shown as rejected, and e-mails the subscriber the reason.
    Raises ``NotFound``, ``InvalidDecision``, ``ReasonRequired`` or ``AlreadyReviewed`` (another
    member of staff decided first: nothing changes twice).
    """
    decision = parse_decision(decision_text)
    with portal.uow() as uow:
        reading = uow.readings.get(reading_id)
        contract = uow.contracts.get(reading.contract_id) if reading is not None else None
        if reading is None or contract is None:
            raise errors.NotFound(reading=str(reading_id))
        subscriber = uow.subscribers.get(contract.subscriber_id)
        review = decide_reading(reading, decision, reason, portal.clock.now())
        if not uow.readings.review(reading.id, review):
            raise AlreadyReviewed()
        reading = review.applied_to(reading)
        if decision is ReadingDecision.ACCEPT:
            notify_overconsumption(uow, portal, [contract])
        elif subscriber is not None and subscriber.email is not None:
            queue_mail(uow, portal, _rejection_mail(subscriber, contract, reading))
        record_audit(uow, portal, staff, AuditAction.READING_DECISION, subscriber=subscriber,
                     target=f"{contract.number} {reading.meter_number} {reading.read_on.isoformat()}",
                     before={"status": ReadingStatus.TO_REVIEW.value},
                     after={"status": reading.status.value, **({"reason": reading.review_reason}
                                                                if reading.review_reason else {})})
        uow.commit()
    return reading


def _rejection_mail(subscriber: Subscriber, contract: Contract, reading: MeterReading) -> Mail:
    assert subscriber.email is not None
    return Mail(MailKind.READING_REJECTED, subscriber.email.address, subscriber.language.value, {
        "name": subscriber.name, "number": contract.number, "read_on": reading.read_on, "index": reading.index.litres,
        "reason": reading.review_reason or "", "link": Link("contract", {"contract_number": contract.number}),
    })
