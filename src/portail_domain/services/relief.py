"""Leak relief (écrêtement): the file of an écrêtement request (the notice it answers, the deadline
for the plumber's certificate, the decision) and staff's decision, told to the subscriber by e-mail."""

from __future__ import annotations

import uuid

from ..model import errors
from ..model.accounts import StaffUser
from ..model.audit import AuditAction
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.relief import (
    ReliefDecision,
    ReliefFile,
    ReliefInvalid,
    ReliefNotApplicable,
    ReliefOutcome,
    parse_outcome,
    relief_volumes,
)
from ..model.request_desk import clean_reason
from ..model.requests import Request, RequestCategory, RequestInvalid, RequestStatus
from ..portal import Portal
from ..ports import UnitOfWork
from .audit import record_audit
from .mail import queue_mail


def relief_file(uow: UnitOfWork, request: Request) -> ReliefFile | None:
    """For an écrêtement request about a contract: the latest over-consumption notice of that contract
    (told at or before the filing) and the decision if taken; None for any other request."""
    if request.category is not RequestCategory.LEAK_RELIEF or request.contract_id is None:
        return None
    notices = [n for n in uow.overconsumption_notices.for_contracts([request.contract_id])
               if n.notified_at <= request.created_at]
    notice = max(notices, key=lambda n: n.notified_at, default=None)
    return ReliefFile(notice, uow.relief.for_request(request.id))


def own_relief_file(portal: Portal, subscriber_id: uuid.UUID, request_id: uuid.UUID) -> ReliefFile | None:
    """The relief file of one of the subscriber's requests (None for another kind of request)."""
    with portal.uow(read_only=True) as uow:
        request = uow.requests.get(request_id)
        if request is None or request.subscriber_id != subscriber_id:
            raise errors.NotFound(request_id=str(request_id))
        return relief_file(uow, request)


def decide_relief(portal: Portal, staff: StaffUser, request_id: uuid.UUID, *, decision: str,
                  reason: str = "") -> ReliefDecision:
    """Grant (the period billed at twice the usual volume at most) or refuse (a reason is required) an
    écrêtement request; closes the request, e-mails the subscriber (with the mediator when refused),
    and writes the audit entry, in one transaction. Once decided, it stays decided."""
    outcome = parse_outcome(decision)
    try:
        clean = clean_reason(reason) if reason.strip() or outcome is ReliefOutcome.REFUSED else ""
    except RequestInvalid:
        raise ReliefInvalid(field="reason") from None
    with portal.uow() as uow:
        request = uow.requests.get(request_id)
        if request is None:
            raise errors.NotFound(request_id=str(request_id))
        found = relief_file(uow, request)
        if found is None or found.notice is None or found.decision is not None or request.is_closed:
            raise ReliefNotApplicable(field="decision")
        notice = found.notice
        volumes = relief_volumes(list(uow.readings.for_contract(notice.contract_id)), notice)
        now = portal.clock.now()
        taken = ReliefDecision(request.id, notice.contract_id, notice.period_start, notice.period_end,
                               volumes.usual_litres, volumes.billed_litres, volumes.capped_litres, outcome, clean,
                               now, staff.id)
        uow.relief.add(taken)
        request.move_to(RequestStatus.CLOSED, now)
        request.closing_reason = clean or outcome.value
        uow.requests.update(request)
        subscriber = uow.subscribers.get(request.subscriber_id)
        contract = uow.contracts.get(notice.contract_id)
        if subscriber is not None and subscriber.email is not None and contract is not None:
            queue_mail(uow, portal, Mail(MailKind.RELIEF_DECISION, subscriber.email.address,
                                         subscriber.language.value, {
                "reference": request.reference, "number": contract.number,
                "granted": int(outcome is ReliefOutcome.GRANTED), "capped": taken.capped_litres,
                "billed": taken.billed_litres, "reason": clean, "start": taken.period_start,
                "end": taken.period_end, "link": Link("request", {"request_id": request.id})}))
        record_audit(uow, portal, staff, AuditAction.RELIEF_DECISION, subscriber=subscriber, target=request.reference,
                     after={"decision": outcome.value, "capped_litres": taken.capped_litres, "reason": clean})
        uow.commit()
    return taken
