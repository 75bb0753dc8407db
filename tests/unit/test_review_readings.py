"""Relevés à valider (on fakes): the rules of accepting and rejecting a reading "to review", and the page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus
from portail_domain.model.review import (
    AlreadyReviewed,
    InvalidDecision,
    ReadingDecision,
    ReasonRequired,
    decide_reading,
)
from portail_domain.model.values import MeterIndex
from portail_domain.services.contracts import contract_detail, submit_reading
from portail_domain.services.exchange import export_lines
from portail_domain.services.review import readings_to_review, review_reading
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_contract, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


@pytest.fixture
def flagged(memory_portal):
    """A subscriber's reading that implies ten times the usual consumption: kept "to review"."""
    subscriber = add_subscriber(memory_portal, password=PASSWORD)
    add_contract(memory_portal, subscriber, "C1", per_day=300)
    implied = submit_reading(memory_portal, subscriber_id=subscriber.id, contract_number="C1", index_text="428,4",
                             read_on=date(2026, 3, 9))
    assert implied.reading.status == ReadingStatus.TO_REVIEW
    return implied.reading


def _outbox(portal):
    with portal.uow(read_only=True) as uow:
        return list(uow.outbox.pending())


def _audit(portal):
    with portal.uow(read_only=True) as uow:
        return list(uow.audit.search(AuditQuery(), 50))


def test_the_queue_shows_the_reading_with_its_history_and_implied_consumption(memory_portal, flagged):
    (line,) = readings_to_review(memory_portal)
    assert line.reading.id == flagged.id and line.contract.number == "C1" and line.subscriber.number == "100001"
    assert len(line.recent) == 6 and line.recent[0].read_on == date(2025, 12, 29)  # newest first
    assert line.implied.period.litres == 210_000 and line.implied.period.days == 70
    assert line.implied.usual_litres_per_day == 300


def test_accepting_makes_it_count_runs_the_overconsumption_check_and_is_audited(memory_portal, flagged, agent,
                                                                                  clock):
    review_reading(memory_portal, agent, flagged.id, "accept", "")
    assert readings_to_review(memory_portal) == []
    detail = contract_detail(memory_portal, flagged_subscriber(memory_portal), "C1")
    assert detail.periods[-1].end == date(2026, 3, 9)  # counts for the consumption…
    assert detail.overconsumption is not None  # …and the over-consumption alert
    (mail,) = _outbox(memory_portal)
    assert mail.mail.to == "marie@example.org" and "anormale" in mail.mail.subject
    (entry,) = _audit(memory_portal)
    assert (entry.action, entry.subscriber_number, entry.after["status"]) == (AuditAction.READING_DECISION,
                                                                              "100001", "validated")
    clock.advance(days=1)
    with memory_portal.uow(read_only=True) as uow:  # an export since the submission carries the new status
        (line,) = [x for x in export_lines(uow, "readings", flagged.recorded_at) if x.read_on == date(2026, 3, 9)]
    assert line.status == ReadingStatus.VALIDATED


def flagged_subscriber(portal):
    with portal.uow(read_only=True) as uow:
        return uow.subscribers.by_number("100001").id


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(memory_portal, flagged, agent):
    for reason in ("", "   \n "):
        with pytest.raises(ReasonRequired):
            review_reading(memory_portal, agent, flagged.id, "reject", reason)
    assert [line.reading.id for line in readings_to_review(memory_portal)] == [flagged.id]
    assert _outbox(memory_portal) == [] and _audit(memory_portal) == []


def test_rejecting_tells_the_subscriber_why_and_keeps_the_reading_as_rejected(memory_portal, flagged, agent):
    review_reading(memory_portal, agent, flagged.id, "reject", "Index  illisible sur la photo")
    (mail,) = _outbox(memory_portal)
    assert mail.mail.to == "marie@example.org" and "Index illisible sur la photo" in mail.mail.text
    assert "/contrats/C1" in mail.mail.text
    detail = contract_detail(memory_portal, flagged_subscriber(memory_portal), "C1")
    kept = next(r for r in detail.readings if r.id == flagged.id)
    assert kept.status == ReadingStatus.REJECTED and kept.review_reason == "Index illisible sur la photo"
    assert detail.periods[-1].end != date(2026, 3, 9) and detail.overconsumption is None
    (entry,) = _audit(memory_portal)
    assert entry.after == {"status": "rejected", "reason": "Index illisible sur la photo"}


def test_a_reading_is_decided_once(memory_portal, flagged, agent):
    review_reading(memory_portal, agent, flagged.id, "reject", "Doublon")
    with pytest.raises(AlreadyReviewed):
        review_reading(memory_portal, agent, flagged.id, "accept", "")
    with pytest.raises(InvalidDecision):
        review_reading(memory_portal, agent, flagged.id, "maybe", "")
    assert len(_audit(memory_portal)) == 1 and len(_outbox(memory_portal)) == 1


@given(decision=st.sampled_from(list(ReadingDecision)), reason=st.text(max_size=600),
       status=st.sampled_from(list(ReadingStatus)))
def test_decision_rule(decision, reason, status):
    reading = MeterReading(uuid.uuid4(), "M1", date(2026, 1, 1), MeterIndex(1000),
                           ReadingSource.SUBSCRIBER, status=status)
    words = " ".join(reason.split())
    if status != ReadingStatus.TO_REVIEW:
        with pytest.raises(AlreadyReviewed):
            decide_reading(reading, decision, reason, NOW)
        assert reading.status == status
        return
    if decision is ReadingDecision.REJECT and not words:
        with pytest.raises(ReasonRequired):
            decide_reading(reading, decision, reason, NOW)
        assert reading.status == ReadingStatus.TO_REVIEW
        return
    decided = decide_reading(reading, decision, reason, NOW).applied_to(reading)
    assert decided.counts is (decision is ReadingDecision.ACCEPT) and decided.reviewed_at == NOW
    assert decided.review_reason == (words[:500] or None)


def test_the_page_accepts_and_rejects(memory_portal, flagged, agent):
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, agent)
        page = client.get("/agent/releves")
        assert page.status_code == 200 and "C1" in page.text and "428,4" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        action = f"/agent/releves/{flagged.id}"
        refused = client.post(action, data={"csrf_token": token, "decision": "reject", "reason": ""},
                              follow_redirects=False)
        assert refused.status_code == 400 and "Indiquez le motif du refus" in refused.text
        done = client.post(action, data={"csrf_token": token, "decision": "reject", "reason": "Photo floue"},
                           follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/agent/releves?fait=reject"
        after = client.get(done.headers["location"])
        assert "Aucun relevé à valider" in after.text and "l'abonné en est informé" in after.text
        again = client.post(action, data={"csrf_token": token, "decision": "accept"}, follow_redirects=False)
        assert again.status_code == 409
        unknown = client.post("/agent/releves/00000000-0000-4000-8000-000000000000",
                              data={"csrf_token": token, "decision": "accept"}, follow_redirects=False)
        assert unknown.status_code == 404
        assert client.post(action, data={"decision": "accept"}, follow_redirects=False).status_code == 403
