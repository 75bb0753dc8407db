"""The back office's guard and layout (on fakes): who reaches /agent/…, the staff menu, the journal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portail_domain.model.audit import AuditAction
from portail_domain.services.audit import record_audit
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Every kind of /agent address: pages, a thread, an action (POST only), and one that exists nowhere.
PROBES = ["/agent", "/agent/", "/agent/abonnes", "/agent/demandes", "/agent/journal", "/agent/equipe",
          "/agent/securite", "/agent/demandes/00000000-0000-4000-8000-000000000000", "/agent/nulle-part"]


def _client(portal) -> WebClient:
    return WebClient(create_app(portal), base_url=BASE_URL)


def _not_found_page(client: WebClient) -> str:
    return client.get("/nulle-part").text


@pytest.fixture
def admin(memory_portal):
    return add_staff(memory_portal, "admin@eau-test.example", password=PASSWORD, name="Alice Admin", role="admin",
                     totp_secret=SECRET)


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


@pytest.mark.parametrize("who", ["anonymous", "subscriber"])
def test_a_visitor_or_subscriber_probing_the_back_office_gets_the_plain_404(memory_portal, web, who):
    if who == "subscriber":
        add_subscriber(memory_portal, password=PASSWORD)
        web.login("marie@example.org", PASSWORD)
    unknown = _not_found_page(web)
    token = web.csrf("/connexion" if who == "anonymous" else "/demandes")
    for path in PROBES:
        page = web.get(path, follow_redirects=False)
        # the same page as an unknown address, but for the language link that comes back here
        text = page.text.replace(f"next={path}\"", 'next=/nulle-part"').replace(
            f'name="next" value="{path}"', 'name="next" value="/nulle-part"')
        assert (page.status_code, text) == (404, unknown), path
        # POST where only GET exists, and the real reply action: no 405, no 403, no login redirect either
        posted = web.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert posted.status_code == 404, path
    assert web.post("/agent/demandes/00000000-0000-4000-8000-000000000000/reponse", data={"message": "x"},
                    follow_redirects=False).status_code == 404


def test_staff_who_gave_only_the_password_are_sent_to_the_code_step(memory_portal, agent):
    with _client(memory_portal) as client:
        client.login("agent@eau-test.example", PASSWORD)
        for path in ("/agent", "/agent/demandes", "/agent/journal", "/agent/securite"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/connexion/code?next="), path
        home = client.get("/", follow_redirects=False)
        assert home.headers["location"] == "/agent"


def test_staff_without_a_second_factor_may_only_reach_enrolment(memory_portal):
    add_staff(memory_portal, "nouveau@eau-test.example", password=PASSWORD)
    with _client(memory_portal) as client:
        client.login("nouveau@eau-test.example", PASSWORD)
        for path in ("/agent", "/agent/demandes", "/agent/nulle-part"):
            response = client.get(path, follow_redirects=False)
            assert (response.status_code, response.headers["location"]) == (303, "/agent/securite"), path


def test_staff_menu_replaces_the_subscriber_menu_and_team_is_for_admins(memory_portal, agent, admin):
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)
        page = client.get("/agent/demandes")
        assert page.status_code == 200
        assert 'aria-label="Menu des agents"' in page.text and "Mes factures" not in page.text
        menu = re.search(r'<nav class="areas staff".*?</nav>', page.text, re.S).group(0)
        assert 'href="/agent/journal"' in menu and 'href="/agent/demandes" aria-current="page"' in menu
        assert "/agent/equipe" not in menu
        refused = client.get("/agent/equipe")
        assert refused.status_code == 403 and "réservée aux administrateurs" in refused.text
        assert client.post("/agent/equipe", data={"csrf_token": client.csrf("/agent")},
                           follow_redirects=False).status_code in (403, 405)
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, admin)
        assert 'href="/agent/equipe"' in client.get("/agent").text
        assert client.get("/agent/equipe").status_code == 200


def test_a_subscriber_never_sees_the_staff_menu(memory_portal, web):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    page = web.get("/")
    assert "Mes factures" in page.text and "Menu des agents" not in page.text and "/agent" not in page.text


def test_staff_sessions_die_after_15_idle_minutes_and_8_hours(memory_portal, agent, clock):
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)
        clock.advance(minutes=14)
        assert client.get("/agent/journal").status_code == 200
        clock.advance(minutes=16)
        assert client.get("/agent/journal", follow_redirects=False).status_code == 404
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)
        start = clock.now()
        while client.get("/agent/journal", follow_redirects=False).status_code == 200:  # a page every 12 minutes
            clock.advance(minutes=12)
        assert timedelta(hours=8) < clock.now() - start <= timedelta(hours=8, minutes=12)


def test_a_disabled_member_loses_the_back_office_at_once(memory_portal, agent):
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)
        assert client.get("/agent/journal").status_code == 200
        with memory_portal.uow() as uow:
            member = uow.staff.get(agent.id)
            member.active = False
            uow.staff.update(member)
            uow.commit()
        assert client.get("/agent/journal", follow_redirects=False).status_code == 404


def test_journal_filters_by_member_subscriber_and_date(memory_portal, agent, admin, clock):
    for staff, number in ((agent, "100001"), (admin, "100002"), (agent, "100002")):
        with memory_portal.uow() as uow:
            record_audit(uow, memory_portal, staff, AuditAction.SUBSCRIBER_VIEW, subscriber=number)
            uow.commit()
        clock.advance(days=1)
    with memory_portal.uow() as uow:
        record_audit(uow, memory_portal, admin, AuditAction.STAFF_ROLE, target="agent@eau-test.example",
                     before={"role": "agent"}, after={"role": "admin"})
        uow.commit()
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)

        def rows(query: str = "") -> list[str]:
            page = client.get("/agent/journal" + query)
            assert page.status_code == 200
            return re.findall(r"<tr>\s*<td>(.*?)</tr>", page.text, re.S)

        assert len(rows()) == 4 and "agent → admin" in rows()[0].replace("<code>role</code> : ", "")
        assert len(rows("?agent=AGENT@eau-test.example")) == 2
        assert len(rows("?abonne=100002")) == 2
        assert len(rows("?agent=agent@eau-test.example&abonne=100002")) == 1
        assert len(rows("?depuis=2026-03-12")) == 2
        bad = client.get("/agent/journal?depuis=12/03/2026")
        assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.text


def test_journal_pages_fifty_entries_at_a_time(memory_portal, agent, clock):
    with memory_portal.uow() as uow:
        for _ in range(51):
            clock.advance(seconds=1)
            record_audit(uow, memory_portal, agent, AuditAction.SUBSCRIBER_VIEW, subscriber="100001")
        uow.commit()
    with _client(memory_portal) as client:
        sign_in_staff(client, memory_portal, agent)
        first = client.get("/agent/journal")
        assert first.text.count("<tr>\n      <td>") == 50 and 'rel="next"' in first.text
        second = client.get("/agent/journal?page=2")
        assert second.text.count("<tr>\n      <td>") == 1 and 'rel="prev"' in second.text
        assert client.get("/agent/journal?page=abc").status_code == 200
