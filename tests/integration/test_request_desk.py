"""The requests desk's rules on every storage (memory, SQLite, PostgreSQL): overdue by the Clock and
the due-days setting, the queue's filters, internal notes kept from the subscriber, closing needs a
reason, the follow-up mail to the assignee (or every agent), audit rows, the dashboard's counts, and
the leak relief file end to end (notice -> deadline -> certificate -> decision -> e-mail -> export)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import attrs
import pytest

from portail_adapters.sql.uow import SqlUnitOfWorkFactory
from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.mail import OutgoingMail
from portail_domain.model.relief import ReliefInvalid, ReliefNotApplicable, ReliefOutcome
from portail_domain.model.request_desk import AssigneeUnknown, DueRules, NoteMissing, ReasonMissing, RequestQuery
from portail_domain.model.requests import Attachment, RequestCategory, RequestStatus
from portail_domain.services.contracts import notify_overconsumption, overconsumption_alerts
from portail_domain.services.exchange import export_rows
from portail_domain.services.privacy import export_personal_data
from portail_domain.services.relief import decide_relief, own_relief_file
from portail_domain.services.request_desk import (
    add_note,
    assign_request,
    dashboard,
    overdue_query,
    request_queue,
    staff_reply,
    staff_thread,
)
from portail_domain.services.requests import add_subscriber_message, open_request, request_detail
from tests.support import add_contract, add_staff, add_subscriber, make_portal, statements

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def portal(uow_factory, clock):
    return make_portal(uow_factory, clock)


@pytest.fixture
def people(portal):
    marie = add_subscriber(portal)
    paul = add_staff(portal, password=PASSWORD)
    nina = add_staff(portal, "nina@eau-test.example", password=PASSWORD, name="Nina Agent")
    return marie, paul, nina


def _file(portal, subscriber, category="other", subject="Fuite", contract=""):
    return open_request(portal, subscriber.id, category=category, subject=subject, message="Bonjour",
                        contract_number=contract)


def _outbox(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending()]


def _audit(portal, action):
    with portal.uow() as uow:
        return [e for e in uow.audit.search(AuditQuery(), 100) if e.action is action]


def test_overdue_follows_the_clock_and_the_per_category_days(portal, people, clock):
    marie, paul, _ = people
    portal.config = attrs.evolve(portal.config, request_due=DueRules(15, ((RequestCategory.BILLING, 30),)))
    other = _file(portal, marie)
    billing = _file(portal, marie, "billing", "Facture")
    clock.advance(days=15)  # exactly 15 days: due now, not late yet
    assert [i.overdue for i in request_queue(portal, RequestQuery()).items] == [False, False]
    clock.advance(seconds=1)
    queue = request_queue(portal, overdue_query(portal, RequestQuery()))
    assert [i.summary.request.id for i in queue.items] == [other.id]
    assert dashboard(portal).requests_overdue == 1
    clock.advance(days=15)
    assert {i.summary.request.id for i in request_queue(portal, overdue_query(portal, RequestQuery())).items} == {
        other.id, billing.id}
    staff_reply(portal, paul, other.id, message="Réponse")  # answered: the ball is in the subscriber's court
    assert [i.summary.request.id for i in request_queue(portal, overdue_query(portal, RequestQuery())).items] == [
        billing.id]


def test_filters_and_pages(portal, people, clock):
    marie, paul, nina = people
    made = []
    for k in range(5):
        made.append(_file(portal, marie, "meter" if k % 2 else "other", f"Demande {k}"))
        clock.advance(minutes=1)
    assign_request(portal, paul, made[1].id, "AGENT@eau-test.example")  # e-mails compared normalised
    clock.advance(minutes=1)
    assign_request(portal, paul, made[3].id, nina.email.address)
    staff_reply(portal, paul, made[3].id, message="Vu", status="in_progress")

    def refs(**filters):
        return [i.summary.request.id for i in request_queue(portal, RequestQuery(**filters)).items]

    assert refs() == [r.id for r in reversed(made)]
    assert refs(category=RequestCategory.METER) == [made[3].id, made[1].id]
    assert refs(assignee_id=paul.id) == [made[1].id]
    assert refs(unassigned=True) == [made[4].id, made[2].id, made[0].id]
    assert refs(status=RequestStatus.IN_PROGRESS) == [made[3].id]
    first = request_queue(portal, RequestQuery(page_size=2))
    last = request_queue(portal, RequestQuery(page=3, page_size=2))
    assert first.has_next and not last.has_next and [i.summary.request.id for i in last.items] == [made[0].id]
    assert request_queue(portal, RequestQuery(assignee_id=paul.id)).items[0].assignee_name == "Paul Agent"
    with pytest.raises(AssigneeUnknown):
        assign_request(portal, paul, made[0].id, "inconnu@eau-test.example")
    (entry, *_) = _audit(portal, AuditAction.REQUEST_ASSIGN)
    assert entry.target == made[3].reference and entry.after == {"assignee": "nina@eau-test.example"}


def test_notes_stay_with_staff(portal, people):
    marie, paul, _ = people
    request = _file(portal, marie)
    add_note(portal, paul, request.id, "Abonné difficile, voir avec le chef")
    with pytest.raises(NoteMissing):
        add_note(portal, paul, request.id, "   ")
    assert [n.body for n in staff_thread(portal, request.id).notes] == ["Abonné difficile, voir avec le chef"]
    thread = request_detail(portal, marie.id, request.id)
    assert all("difficile" not in m.body for m in thread.messages)
    assert "difficile" not in json.dumps(export_personal_data(portal, marie.id), default=str)
    assert [e.target for e in _audit(portal, AuditAction.REQUEST_NOTE)] == [request.reference]


def test_closing_needs_a_reason_and_keeps_it(portal, people):
    marie, paul, _ = people
    request = _file(portal, marie)
    with pytest.raises(ReasonMissing):
        staff_reply(portal, paul, request.id, message="Clos", status="closed", reason="  ")
    assert staff_thread(portal, request.id).thread.request.status is RequestStatus.NEW  # nothing half-saved
    staff_reply(portal, paul, request.id, message="Clos", status="closed", reason="Doublon de D-2026-000002",
                attachment=Attachment("courrier.pdf", io.BytesIO(PDF)))
    found = staff_thread(portal, request.id).thread
    assert found.request.closing_reason == "Doublon de D-2026-000002" and found.request.is_closed
    staff_message = found.messages[-1]
    assert found.attachments[staff_message.attachment_id].filename == "courrier.pdf"
    (entry,) = _audit(portal, AuditAction.REQUEST_REPLY)
    assert entry.after == {"status": "closed", "reason": "Doublon de D-2026-000002"}
    with portal.uow() as uow:
        (line,) = uow.exchange.request_lines(None)
    row = dict(zip(line.header, line.cells(), strict=True))
    assert (row["status"], row["closing_reason"]) == ("closed", "Doublon de D-2026-000002")


def test_follow_up_mails_the_assignee_or_every_agent(portal, people, clock):
    marie, paul, nina = people
    request = _file(portal, marie)
    clock.advance(minutes=1)  # the outbox lists by time: each step's mails after the previous ones
    before = len(_outbox(portal))
    add_subscriber_message(portal, marie.id, request.id, message="Des nouvelles ?")
    told = {m.to for m in _outbox(portal)[before:]}
    assert told == {"agent@eau-test.example", "nina@eau-test.example"}
    assign_request(portal, paul, request.id, nina.email.address)
    clock.advance(minutes=1)
    before = len(_outbox(portal))
    add_subscriber_message(portal, marie.id, request.id, message="Toujours rien")
    (mail,) = _outbox(portal)[before:]
    assert mail.to == "nina@eau-test.example" and request.reference in mail.subject
    assert f"/agent/demandes/{request.id}" in mail.text


def test_dashboard_counts(portal, people, clock):
    marie, paul, _ = people
    first = _file(portal, marie)
    _file(portal, marie)
    staff_reply(portal, paul, first.id, message="Vu", status="in_progress")
    add_subscriber(portal, "100002", email=None, password=PASSWORD)
    counts = dashboard(portal)
    assert (counts.requests_new, counts.requests_in_progress, counts.requests_overdue) == (1, 1, 0)
    assert (counts.accounts_activated_this_month, counts.subscribers_with_email) == (1, 1)
    assert (counts.readings_to_review, counts.payments_to_check, counts.mails_failing) == (0, 0, 0)
    clock.advance(days=31)
    assert dashboard(portal).accounts_activated_this_month == 0


def test_dashboard_counts_the_failed_mails_as_the_outbox_page_does(portal, people, clock):
    """"Courriels en échec": the relay gave up and staff did not discard it (not a mail still retried)."""
    now = clock.now()
    with portal.uow() as uow:
        before = {e.id for e in uow.outbox.unsent(1000)}
        uow.outbox.add_many([OutgoingMail(f"s{k}@example.org", f"Courriel {k}", "Bonjour") for k in range(5)], now)
        retried, failed, discarded, sent, refused = [e for e in uow.outbox.unsent(1000) if e.id not in before]
        uow.outbox.mark_failed(retried.id, now + timedelta(minutes=1), "421 try again later")
        for entry in (failed, discarded, refused):
            uow.outbox.give_up(entry.id, now, "550 no such user")
        uow.outbox.discard(discarded.id, now)
        uow.outbox.mark_sent(sent.id, now)
        uow.commit()
    assert dashboard(portal).mails_failing == 2  # failed, refused
    with portal.uow() as uow:
        uow.outbox.retry(failed.id, now)
        uow.commit()
    assert dashboard(portal).mails_failing == 1


def _leak(portal, marie, clock):
    contract, _ = add_contract(portal, marie, "C1", leak=True)
    with portal.uow() as uow:
        (notice,) = notify_overconsumption(uow, portal, [uow.contracts.get(contract.id)])
        uow.commit()
    return contract, notice


def test_relief_file_end_to_end(portal, people, clock):
    marie, paul, _ = people
    contract, notice = _leak(portal, marie, clock)
    assert notice.notified_at == clock.now()  # the notice is the proof of the day the subscriber was told
    deadline = date(2026, 4, 10)  # one month after 10 March
    (alert,) = overconsumption_alerts(portal, marie.id)
    assert alert.deadline == deadline
    assert "Vous avez jusqu'au 10 avril 2026" in _outbox(portal)[-1].text
    clock.advance(days=3)
    request = open_request(portal, marie.id, category="ecretement", subject="Écrêtement", message="Attestation",
                           contract_number="C1", attachment=Attachment("attestation.pdf", io.BytesIO(PDF)))
    relief = own_relief_file(portal, marie.id, request.id)
    assert relief.deadline == deadline and relief.days_left(clock.today()) == 28
    with pytest.raises(ReliefInvalid):
        decide_relief(portal, paul, request.id, decision="refused", reason="")
    decision = decide_relief(portal, paul, request.id, decision="granted")
    assert decision.outcome is ReliefOutcome.GRANTED
    assert decision.billed_litres == notice.litres and decision.capped_litres == 2 * decision.usual_litres
    assert decision.usual_litres == 91 * 300  # the usual 300 l a day over the 91 days of the period
    with pytest.raises(ReliefNotApplicable):
        decide_relief(portal, paul, request.id, decision="refused", reason="Trop tard")
    assert request_detail(portal, marie.id, request.id).request.is_closed
    (mail,) = [m for m in _outbox(portal) if m.subject.startswith("Écrêtement")]
    assert mail.to == "marie@example.org" and "accordée" in mail.text and "54,600 m³" in mail.text
    rows: list[list[str]] = []
    export_rows(portal, "relief", rows.append)
    assert list(rows[0][:3]) == ["contract_number", "period_start", "period_end"]
    assert rows[1][0] == "C1" and rows[1][3:7] == ["27.300", "109.200", "54.600", "granted"]
    assert [e.target for e in _audit(portal, AuditAction.RELIEF_DECISION)] == [request.reference]


def test_a_refusal_names_the_mediator_and_other_requests_have_no_relief(portal, people, clock):
    marie, paul, _ = people
    _leak(portal, marie, clock)
    request = _file(portal, marie, "ecretement", "Écrêtement", "C1")
    decide_relief(portal, paul, request.id, decision="refused", reason="Fuite sur un appareil ménager")
    (mail,) = [m for m in _outbox(portal) if m.subject.startswith("Écrêtement")]
    assert "refusée" in mail.text and "Fuite sur un appareil ménager" in mail.text
    assert mail.text.count("Médiation de l'eau") == 2
    plain = _file(portal, marie)
    assert own_relief_file(portal, marie.id, plain.id) is None
    with pytest.raises(ReliefNotApplicable):
        decide_relief(portal, paul, plain.id, decision="granted")


@pytest.mark.parametrize("size", [3, 60])
def test_dashboard_is_a_fixed_number_of_statements(engine, clock, size):
    """One statement per count, whatever the number of rows."""
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    for k in range(size):
        subscriber = add_subscriber(portal, f"2{k:05d}", email=f"s{k}@example.org")
        _file(portal, subscriber)
    with statements(engine, "SELECT") as selects:
        counts = dashboard(portal)
    assert counts.requests_new == size and counts.subscribers_with_email == size
    assert len(selects) == 8

