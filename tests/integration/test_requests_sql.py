"""Mes demandes on SQLite and PostgreSQL: file -> staff reply -> the subscriber reads it, the
repository queries, and concurrent filings that never share a reference."""

from __future__ import annotations

import re
import threading

import pytest

from portail_adapters.sql import repositories
from portail_domain.model.requests import ReferenceTaken, RequestStatus
from portail_domain.services.request_desk import staff_reply
from portail_domain.services.requests import open_request
from portail_web import create_app
from tests.support import BASE_URL, WebClient, add_contract, add_staff, add_subscriber, make_portal, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation de reparation " * 200 + b"\n%%EOF\n"


def test_file_then_staff_reply_then_subscriber_reads_it(sql_portal, sql_web, clock):
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org", password=PASSWORD)
    add_contract(sql_portal, marie, "C100001-1", periods=3, leak=True)
    staff = add_staff(sql_portal, password=PASSWORD)
    sql_web.login("marie@example.org", PASSWORD)

    form = "/demandes/nouvelle?categorie=ecretement&contrat=C100001-1"
    assert '<option value="C100001-1" selected>' in sql_web.get(form).text
    token = sql_web.csrf(form)
    filed = sql_web.post("/demandes/nouvelle", data={
        "csrf_token": token, "category": "ecretement", "contract": "C100001-1",
        "subject": "Écrêtement — contrat C100001-1", "message": "Fuite réparée le 2 mars, attestation jointe.",
    }, files={"attachment": ("attestation.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert filed.status_code == 303
    thread_path = filed.headers["location"].split("?")[0]
    assert "D-2026-000001" in sql_web.get(thread_path).text

    clock.advance(minutes=10)
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as agent:
        sign_in_staff(agent, sql_portal, staff)
        listing = agent.get("/agent/demandes?statut=new")
        assert "D-2026-000001" in listing.text and "C100001-1" in listing.text
        staff_path = "/agent/demandes/" + thread_path.rsplit("/", 1)[1]
        page = agent.get(staff_path)
        link = re.search(r'href="(/agent/demandes/[^"]+/pieces/[^"]+)"', page.text)
        assert link and agent.get(link.group(1)).content == PDF
        reply = agent.submit(staff_path, f"{staff_path}/reponse",
                             {"message": "Écrêtement accordé : la facture rectifiée suit.", "status": "answered"})
        assert reply.status_code == 303

    thread = sql_web.get(thread_path).text
    assert "Écrêtement accordé : la facture rectifiée suit." in thread and "Répondue" in thread
    assert thread.index("Fuite réparée") < thread.index("Écrêtement accordé")
    listing = sql_web.get("/demandes").text
    assert "D-2026-000001" in listing and "Répondue" in listing
    with sql_portal.uow() as uow:
        mails = [e.mail for e in uow.outbox.pending()]
    assert [m.to for m in mails] == ["marie@example.org", "marie@example.org"]
    assert "bien été reçue" in mails[0].subject and mails[1].subject.startswith("Réponse à votre demande D-2026-000001")

    clock.advance(minutes=5)
    follow = sql_web.submit(thread_path, f"{thread_path}/messages", {"message": "Merci, et pour l'assainissement ?"})
    assert follow.status_code == 303 and "En cours de traitement" in sql_web.get(thread_path).text


def test_repository_queries(sql_portal, clock):
    marie = add_subscriber(sql_portal, "100001")
    paul = add_subscriber(sql_portal, "100002", email="paul@example.org")
    first = open_request(sql_portal, marie.id, category="billing", subject="100%_ facture", message="?")
    clock.advance(minutes=1)
    second = open_request(sql_portal, paul.id, category="meter", subject="Compteur", message="?")
    staff_reply(sql_portal, add_staff(sql_portal, password=PASSWORD), first.id, message="Vu.")
    with sql_portal.uow() as uow:
        assert uow.requests.last_reference("D-2026-") == second.reference == "D-2026-000002"
        assert uow.requests.last_reference("D-2027-") is None
        assert uow.requests.last_reference("D-2026_") is None  # the prefix is literal, not a LIKE pattern
        assert [r.id for r in uow.requests.recent(None, 10)] == [second.id, first.id]
        assert [r.id for r in uow.requests.recent(None, 1)] == [second.id]
        assert [r.id for r in uow.requests.recent(RequestStatus.ANSWERED, 10)] == [first.id]
        assert [r.subject for r in uow.requests.for_subscriber(marie.id)] == ["100%_ facture"]


@pytest.mark.postgres
def test_concurrent_filings_never_share_a_reference(pg_engine, clock, monkeypatch):
    """Every filing reads the same highest reference before any inserts: the losers of the
    unique constraint retry with the next number, and nothing is lost."""
    from portail_adapters.sql import SqlUnitOfWorkFactory

    portal = make_portal(SqlUnitOfWorkFactory(pg_engine), clock)
    subscribers = [add_subscriber(portal, str(100001 + k), email=f"s{k}@example.org") for k in range(4)]
    barrier = threading.Barrier(len(subscribers), timeout=10)
    waited = threading.local()
    real = repositories.SqlRequests.last_reference

    def last_reference(self, prefix):
        found = real(self, prefix)
        if not getattr(waited, "done", False):  # the first look-up of each filing: all see the same value
            waited.done = True
            barrier.wait()
        return found

    lost = []
    real_add = repositories.SqlRequests.add

    def add(self, request):
        try:
            real_add(self, request)
        except ReferenceTaken:
            lost.append(request.reference)
            raise

    monkeypatch.setattr(repositories.SqlRequests, "last_reference", last_reference)
    monkeypatch.setattr(repositories.SqlRequests, "add", add)
    filed, failures = [], []

    def one(subscriber):
        try:
            filed.append(open_request(portal, subscriber.id, category="other", subject="Même instant",
                                         message="Bonjour"))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(s,)) for s in subscribers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert len(lost) >= len(subscribers) - 1  # the race did happen: all but one lost it at least once
    assert sorted(r.reference for r in filed) == [f"D-2026-00000{k}" for k in range(1, 5)]
    with portal.uow() as uow:
        assert len(uow.requests.recent(None, 10)) == 4
        assert len(uow.outbox.pending()) == 4
