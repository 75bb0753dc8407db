"""Courriels (on fakes): a mail that cannot be delivered stops being retried; staff retry or discard it."""

from __future__ import annotations

import re

import pytest

from portail_adapters.memory import MemoryMailer
from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.errors import InvalidValue, NotFound
from portail_domain.model.mail import MAX_ATTEMPTS, OutboxStatus, OutgoingMail, PermanentFailure
from portail_domain.services.mail import act_on_mail, deliver_outbox, unsent_mail
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_staff, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MAIL = OutgoingMail("nobody@example.org", "Votre facture", "texte")


class RefusingMailer(MemoryMailer):
    def send(self, mail: OutgoingMail) -> None:
        raise PermanentFailure("550 5.1.1 no such user")


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


def _queue(portal, clock):
    with portal.uow() as uow:
        uow.outbox.add(MAIL, clock.now())
        uow.commit()
    (entry,) = unsent_mail(portal)
    return entry


def _run_until_quiet(portal, clock, hours: int = 72) -> int:
    """Run the hourly relay (and its quicker retries) for ``hours``; how many attempts it made."""
    attempts = 0
    for _ in range(hours * 60):
        attempts += deliver_outbox(portal).failed
        clock.advance(minutes=1)
    return attempts


def test_a_mail_that_keeps_failing_fails_after_eight_attempts_in_about_a_day(memory_portal, clock):
    memory_portal.mailer = MemoryMailer(fail=True)
    _queue(memory_portal, clock)
    start = clock.now()
    attempts = 0
    while not (entry := unsent_mail(memory_portal)[0]).failed_at:
        attempts += deliver_outbox(memory_portal).failed
        clock.advance(minutes=1)
    assert attempts == MAX_ATTEMPTS == 8 and entry.status is OutboxStatus.FAILED
    assert 20 <= (entry.failed_at - start).total_seconds() / 3600 <= 26
    assert "mail server unavailable" in entry.last_error
    assert _run_until_quiet(memory_portal, clock) == 0  # never retried on its own again


def test_a_permanent_refusal_fails_at_once_and_staff_can_retry_or_discard(memory_portal, clock, agent):
    memory_portal.mailer = RefusingMailer()
    entry = _queue(memory_portal, clock)
    assert deliver_outbox(memory_portal).failed == 1
    (failed,) = unsent_mail(memory_portal)
    assert failed.status is OutboxStatus.FAILED and "550 5.1.1" in failed.last_error and failed.attempts == 1
    ok = memory_portal.mailer = MemoryMailer()
    assert deliver_outbox(memory_portal).sent == 0
    act_on_mail(memory_portal, agent, entry.id, "retry")
    assert deliver_outbox(memory_portal).sent == 1 and ok.sent == [MAIL]
    with pytest.raises(NotFound):  # sent: nothing to retry or discard
        act_on_mail(memory_portal, agent, entry.id, "discard")
    with pytest.raises(InvalidValue):
        act_on_mail(memory_portal, agent, entry.id, "delete")
    with memory_portal.uow(read_only=True) as uow:
        entries = uow.audit.search(AuditQuery(), 10)
    assert [e.action for e in entries] == [AuditAction.MAIL_RETRY]
    assert entries[0].before["status"] == "failed"


def test_a_discarded_mail_is_never_sent(memory_portal, clock, agent):
    entry = _queue(memory_portal, clock)
    act_on_mail(memory_portal, agent, entry.id, "discard")
    assert deliver_outbox(memory_portal).sent == 0 and memory_portal.mailer.sent == []
    assert unsent_mail(memory_portal)[0].status is OutboxStatus.DISCARDED


def test_the_page_shows_the_server_answer_and_retries(memory_portal, clock, agent):
    memory_portal.mailer = RefusingMailer()
    entry = _queue(memory_portal, clock)
    deliver_outbox(memory_portal)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, agent)
        page = client.get("/agent/courriels")
        assert page.status_code == 200 and "550 5.1.1 no such user" in page.text and "En échec" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        done = client.post(f"/agent/courriels/{entry.id}", data={"csrf_token": token, "action": "discard"},
                           follow_redirects=False)
        assert done.status_code == 303 and "Abandonné" in client.get(done.headers["location"]).text
        bad = client.post(f"/agent/courriels/{entry.id}", data={"csrf_token": token, "action": "x"},
                          follow_redirects=False)
        assert bad.status_code == 400
