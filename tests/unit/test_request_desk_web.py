"""The requests desk through the web app (on fakes): dashboard, queue filters and pages, assigning,
internal notes, a reply with a file and the closing reason, reply templates (admins), the écrêtement
decision, and the subscriber's side (no notes, the relief countdown)."""

from __future__ import annotations

import re

import pytest

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.services.contracts import notify_overconsumption
from portail_domain.services.requests import open_request
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_contract, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def marie(memory_portal):
    return add_subscriber(memory_portal, password=PASSWORD)


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD)


def _staff_client(portal, staff):
    client = WebClient(create_app(portal), base_url=BASE_URL)
    client.__enter__()
    sign_in_staff(client, portal, staff)
    return client


@pytest.fixture
def desk(memory_portal, agent):
    client = _staff_client(memory_portal, agent)
    yield client
    client.__exit__(None, None, None)


def _file(portal, marie, **fields):
    values = {"category": "meter", "subject": "Compteur bloqué", "message": "Bonjour", **fields}
    return open_request(portal, marie.id, **values)


def test_dashboard_counts_link_to_the_queues(memory_portal, marie, desk):
    _file(memory_portal, marie)
    page = desk.get("/agent")
    assert page.status_code == 200 and "Cette page arrive bientôt" not in page.text
    row = re.search(r'href="/agent/demandes\?statut=new">Demandes nouvelles</a></th><td>(\d+)<', page.text)
    assert row and row.group(1) == "1"
    assert 'href="/agent/demandes?retard=1"' in page.text and 'href="/agent/releves"' in page.text


def test_queue_filters_assignment_and_pages(memory_portal, marie, desk, agent, clock):
    first = _file(memory_portal, marie)
    clock.advance(minutes=1)
    second = _file(memory_portal, marie, category="billing", subject="Facture trop élevée")
    page = f"/agent/demandes/{first.id}"
    response = desk.submit(page, f"{page}/attribuer", {"assignee": "agent@eau-test.example"})
    assert response.status_code == 303 and response.headers["location"].endswith("?fait=attribuee")
    mine = desk.get("/agent/demandes?agent=agent@eau-test.example").text
    assert first.reference in mine and second.reference not in mine
    nobody = desk.get("/agent/demandes?agent=aucun").text
    assert second.reference in nobody and first.reference not in nobody
    billing = desk.get("/agent/demandes?categorie=billing").text
    assert second.reference in billing and first.reference not in billing
    assert first.reference not in desk.get("/agent/demandes?retard=1").text
    clock.advance(days=16)
    sign_in_staff(desk, memory_portal, agent)  # the earlier session has long expired
    late = desk.get("/agent/demandes?retard=1").text
    assert first.reference in late and "En retard" in late
    bad = desk.submit(page, f"{page}/attribuer", {"assignee": "personne@ailleurs.example"})
    assert bad.status_code == 422 and 'id="assignee-error"' in bad.text
    assert desk.get("/agent/demandes?page=abc").status_code == 200  # a bad page number is page 1


def test_notes_are_for_staff_only(memory_portal, web, marie, desk):
    request = _file(memory_portal, marie)
    page = f"/agent/demandes/{request.id}"
    assert desk.submit(page, f"{page}/note", {"note": "Voir le dossier papier"}).status_code == 303
    assert "Voir le dossier papier" in desk.get(page).text
    empty = desk.submit(page, f"{page}/note", {"note": ""})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    web.login("marie@example.org", PASSWORD)
    assert "Voir le dossier papier" not in web.get(f"/demandes/{request.id}").text
    assert "Voir le dossier papier" not in web.get("/donnees-personnelles/export").text


def test_reply_with_a_file_and_closing_needs_a_reason(memory_portal, web, marie, desk):
    request = _file(memory_portal, marie)
    page = f"/agent/demandes/{request.id}"
    refused = desk.submit(page, f"{page}/reponse", {"message": "Clos", "status": "closed"})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert "Clos" not in web.get(page).text
    token = desk.csrf(page)
    done = desk.post(f"{page}/reponse", data={"message": "Voici le courrier.", "status": "closed",
                                              "reason": "Compteur remplacé", "csrf_token": token},
                     files={"attachment": ("courrier.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert done.status_code == 303
    shown = desk.get(page).text
    assert "Compteur remplacé" in shown and "courrier.pdf" in shown
    web.login("marie@example.org", PASSWORD)
    mine = web.get(f"/demandes/{request.id}").text
    link = re.search(r'href="(/documents/[0-9a-f-]+)" download>courrier.pdf<', mine)
    assert link and web.get(link.group(1)).content == PDF
    with memory_portal.uow() as uow:
        (entry,) = uow.audit.search(AuditQuery(), 10)
    assert entry.action is AuditAction.REQUEST_REPLY and entry.after["reason"] == "Compteur remplacé"


def test_reply_refuses_a_file_that_is_not_a_document(memory_portal, marie, desk):
    request = _file(memory_portal, marie)
    page = f"/agent/demandes/{request.id}"
    token = desk.csrf(page)
    response = desk.post(f"{page}/reponse", data={"message": "Voici", "csrf_token": token},
                         files={"attachment": ("virus.pdf", b"MZ\x90\x00" * 100, "application/pdf")},
                         follow_redirects=False)
    assert response.status_code == 422 and 'id="attachment-error"' in response.text


def test_reply_templates_are_edited_by_admins_and_offered_on_requests(memory_portal, marie, desk):
    admin = add_staff(memory_portal, "admin@eau-test.example", password=PASSWORD, name="Alice", role="admin")
    assert desk.get("/agent/demandes/modeles").status_code == 403  # an agent may use them, not edit them
    with _staff_admin(memory_portal, admin) as boss:
        created = boss.submit("/agent/demandes/modeles", data={"category": "meter", "title": "Relève",
                                                                "body": "Un releveur passera.", "action": "save"})
        assert created.status_code == 303
        bad = boss.submit("/agent/demandes/modeles", data={"category": "bogus", "title": "X", "body": "Y"})
        assert bad.status_code == 422
    request = _file(memory_portal, marie)
    page = desk.get(f"/agent/demandes/{request.id}").text
    link = re.search(r'href="(/agent/demandes/[0-9a-f-]+\?modele=[0-9a-f-]+)#repondre">Relève<', page)
    assert link
    assert ">Un releveur passera.</textarea>" in desk.get(link.group(1)).text


def _staff_admin(portal, admin):
    client = WebClient(create_app(portal), base_url=BASE_URL)
    sign_in_staff(client, portal, admin)
    return client


def test_relief_decision_from_the_request_page(memory_portal, web, marie, desk, clock):
    contract, _ = add_contract(memory_portal, marie, "C1", leak=True)
    with memory_portal.uow() as uow:
        notify_overconsumption(uow, memory_portal, [contract])
        uow.commit()
    web.login("marie@example.org", PASSWORD)
    assert "envoyez l'attestation de votre plombier avant le 10 avr. 2026" in web.get("/").text.replace("&#39;", "'")
    request = _file(memory_portal, marie, category="ecretement", subject="Écrêtement", contract_number="C1")
    clock.advance(minutes=10)
    assert "31 jours restants" in web.get(f"/demandes/{request.id}").text
    page = f"/agent/demandes/{request.id}"
    assert "31 jours restants" in desk.get(page).text
    refused = desk.submit(page, f"{page}/ecretement", {"decision": "refused", "reason": ""})
    assert refused.status_code == 422
    granted = desk.submit(page, f"{page}/ecretement", {"decision": "granted"})
    assert granted.status_code == 303
    assert "Écrêtement accordé le" in web.get(f"/demandes/{request.id}").text
    again = desk.submit(page, f"{page}/ecretement", {"decision": "refused", "reason": "Non"})
    assert again.status_code == 422
