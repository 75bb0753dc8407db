"""Mes demandes through the web app (on fakes): the form, refusals, the thread, the staff pages."""

from __future__ import annotations

import re

import pytest

from portail_domain.model.requests import RequestStatus
from portail_domain.services.requests import open_request, request_detail
from tests.support import BASE_URL, WebClient, add_contract, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation " * 300 + b"\n%%EOF\n"
HTML = b"<!doctype html><html><script>alert(1)</script></html>"
FIELDS = {"category": "installation", "subject": "Fuite sous l'évier", "message": "Bonjour,\nune fuite.",
          "contract": ""}


@pytest.fixture
def marie(memory_portal, web):
    subscriber = add_subscriber(memory_portal, "100001", email="marie@example.org", password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    return subscriber


def post_request(web, data=None, files=None, page="/demandes/nouvelle"):
    token = web.csrf(page)
    return web.post("/demandes/nouvelle", data={**FIELDS, **(data or {}), "csrf_token": token}, files=files,
                    follow_redirects=False)


def stored(portal, subscriber):
    with portal.uow() as uow:
        return list(uow.requests.for_subscriber(subscriber.id)), list(uow.documents.for_subscriber(subscriber.id))


def test_file_a_request_then_read_it_in_the_list_and_thread(memory_portal, web, marie):
    response = post_request(web, files={"attachment": ("photo fuite.pdf", PDF, "application/pdf")})
    assert response.status_code == 303
    page = web.get(response.headers["location"])
    assert "D-2026-000001" in page.text and "Votre demande est envoyée" in page.text
    assert "Bonjour,\nune fuite." in page.text
    link = re.search(r'href="(/documents/[0-9a-f-]+)" download>photo fuite.pdf<', page.text)
    assert link, page.text
    download = web.get(link.group(1))
    assert download.status_code == 200 and download.content == PDF
    listing = web.get("/demandes")
    assert "D-2026-000001" in listing.text and "Fuite sous l&#39;évier" in listing.text
    assert "Problème sur mon installation" in listing.text


def test_post_without_csrf_token_is_refused_and_nothing_saved(memory_portal, web, marie):
    response = web.post("/demandes/nouvelle", data=FIELDS, files={"attachment": ("a.pdf", PDF, "application/pdf")},
                        follow_redirects=False)
    assert response.status_code == 403
    assert stored(memory_portal, marie) == ([], [])


def test_attachment_of_the_wrong_type_is_refused_next_to_the_field(memory_portal, web, marie):
    response = post_request(web, files={"attachment": ("attestation.pdf", HTML, "application/pdf")})
    assert response.status_code == 422
    assert 'id="attachment-error"' in response.text and "PDF, JPEG ou PNG" in response.text
    assert "Fuite sous l&#39;évier" in response.text  # what was typed is kept
    assert stored(memory_portal, marie) == ([], [])
    assert memory_portal.files.objects == {}


def test_too_large_attachment_is_413_and_nothing_saved(memory_portal, web, marie):
    big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024)
    response = post_request(web, files={"attachment": ("gros.pdf", big, "application/pdf")})
    assert response.status_code == 413
    assert stored(memory_portal, marie) == ([], [])


def test_a_field_over_a_megabyte_is_said_and_nothing_saved(memory_portal, web, marie):
    response = post_request(web, data={"message": "x" * (1024 * 1024 + 1)},
                            files={"attachment": ("a.pdf", PDF, "application/pdf")})
    assert response.status_code == 400 and "Une valeur saisie est trop longue." in response.text
    assert stored(memory_portal, marie) == ([], [])


@pytest.mark.parametrize(("data", "field"), [
    ({"subject": ""}, "subject"),
    ({"message": "   "}, "message"),
    ({"message": "x" * 5001}, "message"),
    ({"category": "piscine"}, "category"),
    ({"contract": "C-PAUL"}, "contract"),
])
def test_bad_fields_come_back_with_a_message_next_to_them(memory_portal, web, marie, data, field):
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_contract(memory_portal, paul, "C-PAUL", periods=1)
    response = post_request(web, data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert stored(memory_portal, marie) == ([], [])


def test_leak_relief_link_preselects_category_and_contract_and_asks_for_the_certificate(memory_portal, web, marie):
    add_contract(memory_portal, marie, "C100001-1", periods=2)
    add_contract(memory_portal, marie, "C100001-2", periods=2)
    page = web.get("/demandes/nouvelle?categorie=ecretement&contrat=C100001-2")
    assert page.status_code == 200
    assert '<option value="ecretement" selected>' in page.text
    assert '<option value="C100001-2" selected>' in page.text
    assert '<option value="C100001-1" selected>' not in page.text
    assert "attestation de réparation de la fuite" in page.text
    assert 'value="Écrêtement — contrat C100001-2"' in page.text
    plain = web.get("/demandes/nouvelle")
    assert "attestation de réparation de la fuite" not in plain.text and " selected>" in plain.text


def test_leak_relief_link_with_someone_elses_contract_preselects_nothing(memory_portal, web, marie):
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_contract(memory_portal, paul, "C-PAUL", periods=1)
    page = web.get("/demandes/nouvelle?categorie=ecretement&contrat=C-PAUL")
    assert page.status_code == 200 and "C-PAUL" not in page.text


def test_another_subscribers_request_is_404(memory_portal, web, marie):
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    request = open_request(memory_portal, paul.id, category="billing", subject="Secret", message="Privé")
    assert web.get(f"/demandes/{request.id}").status_code == 404
    token = web.csrf("/demandes")
    response = web.post(f"/demandes/{request.id}/messages", data={"message": "coucou", "csrf_token": token},
                        follow_redirects=False)
    assert response.status_code == 404
    assert len(request_detail(memory_portal, paul.id, request.id).messages) == 1
    assert "Secret" not in web.get("/demandes").text


def test_follow_up_message_and_closed_request(memory_portal, web, marie):
    request = open_request(memory_portal, marie.id, category="meter", subject="Compteur", message="Bloqué")
    page = f"/demandes/{request.id}"
    response = web.submit(page, f"{page}/messages", {"message": "Toujours bloqué."})
    assert response.status_code == 303
    assert "Toujours bloqué." in web.get(page).text
    empty = web.submit(page, f"{page}/messages", {"message": ""})
    assert empty.status_code == 422 and 'id="message-error"' in empty.text

    token = web.csrf(page)
    with memory_portal.uow() as uow:
        stored_request = uow.requests.get(request.id)
        stored_request.move_to(RequestStatus.CLOSED, memory_portal.clock.now())
        uow.requests.update(stored_request)
        uow.commit()
    refused = web.post(f"{page}/messages", data={"message": "Encore ?", "csrf_token": token},
                       follow_redirects=False)
    assert refused.status_code == 409 and "Cette demande est close" in refused.text
    assert len(request_detail(memory_portal, marie.id, request.id).messages) == 2
    assert f'action="{page}/messages"' not in web.get(page).text


def test_pages_need_a_login(web):
    response = web.get("/demandes/nouvelle?categorie=ecretement", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion?next=")


# --- staff -------------------------------------------------------------------------------------


@pytest.fixture
def agent_web(memory_portal, web):
    from portail_web.app import create_app

    staff = add_staff(memory_portal, password=PASSWORD)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, staff)
        yield client


def test_staff_list_detail_reply_and_subscriber_sees_the_answer(memory_portal, web, marie, agent_web, clock):
    request = open_request(memory_portal, marie.id, category="installation", subject="Fuite",
                              message="Fuite au regard.")
    clock.advance(minutes=10)
    listing = agent_web.get("/agent/demandes")
    assert listing.status_code == 200 and request.reference in listing.text and "Marie Dupont" in listing.text
    assert request.reference not in agent_web.get("/agent/demandes?statut=answered").text
    page = f"/agent/demandes/{request.id}"
    response = agent_web.submit(page, f"{page}/reponse", {"message": "Un agent passe demain.", "status": "answered"})
    assert response.status_code == 303
    assert request.reference in agent_web.get("/agent/demandes?statut=answered").text
    thread = web.get(f"/demandes/{request.id}")
    assert "Un agent passe demain." in thread.text and "Répondue" in thread.text
    with memory_portal.uow() as uow:
        mails = [e.mail for e in uow.outbox.pending()]
    assert mails[-1].to == "marie@example.org" and request.reference in mails[-1].subject


def test_staff_reply_refusals(memory_portal, marie, agent_web):
    request = open_request(memory_portal, marie.id, category="other", subject="Question", message="?")
    page = f"/agent/demandes/{request.id}"
    empty = agent_web.submit(page, f"{page}/reponse", {"message": "", "status": "answered"})
    assert empty.status_code == 422 and 'id="message-error"' in empty.text
    bogus = agent_web.submit(page, f"{page}/reponse", {"message": "ok", "status": "new"})
    assert bogus.status_code == 422 and 'id="status-error"' in bogus.text
    no_token = agent_web.post(f"{page}/reponse", data={"message": "ok"}, follow_redirects=False)
    assert no_token.status_code == 403
    assert len(request_detail(memory_portal, marie.id, request.id).messages) == 1


def test_subscriber_cannot_reach_staff_pages_and_staff_reads_attachments(memory_portal, web, marie, agent_web):
    assert web.get("/agent/demandes", follow_redirects=False).status_code == 404
    response = post_request(web, files={"attachment": ("attestation.pdf", PDF, "application/pdf")})
    request_id = response.headers["location"].split("/")[2].split("?")[0]
    page = agent_web.get(f"/agent/demandes/{request_id}")
    link = re.search(r'href="(/agent/demandes/[0-9a-f-]+/pieces/[0-9a-f-]+)" download>attestation.pdf<', page.text)
    assert link, page.text
    download = agent_web.get(link.group(1))
    assert download.status_code == 200 and download.content == PDF
    assert "attachment" in download.headers["content-disposition"]
    assert web.get(link.group(1), follow_redirects=False).status_code == 404


def test_file_store_down_is_503_and_nothing_saved(memory_portal, web, marie):
    memory_portal.files.down = True
    response = post_request(web, files={"attachment": ("a.pdf", PDF, "application/pdf")})
    assert response.status_code == 503 and 'id="attachment-error"' in response.text
    assert stored(memory_portal, marie) == ([], [])
    memory_portal.files.down = False
    assert post_request(web).status_code == 303  # without a file the store is not needed


@pytest.mark.parametrize("files", [
    [("attachment", ("a.pdf", PDF, "application/pdf")), ("attachment", ("b.pdf", PDF, "application/pdf"))],
    [("attachment", ("vide.pdf", b"", "application/pdf"))],
])
def test_two_files_or_an_empty_one_are_refused(memory_portal, web, marie, files):
    token = web.csrf("/demandes/nouvelle")
    response = web.post("/demandes/nouvelle", data={**FIELDS, "csrf_token": token}, files=files,
                        follow_redirects=False)
    assert response.status_code in (400, 422)
    assert stored(memory_portal, marie) == ([], [])


def test_staff_reply_to_an_unknown_request_is_404_and_subscriber_cannot_reply_as_staff(memory_portal, web, marie,
                                                                                        agent_web):
    unknown = "/agent/demandes/00000000-0000-4000-8000-000000000000"
    assert agent_web.get(unknown).status_code == 404
    assert agent_web.submit("/agent/demandes", f"{unknown}/reponse", {"message": "ok"}).status_code == 404
    request = open_request(memory_portal, marie.id, category="other", subject="Question", message="?")
    token = web.csrf("/demandes")
    response = web.post(f"/agent/demandes/{request.id}/reponse", data={"message": "Réglé !", "csrf_token": token},
                        follow_redirects=False)
    assert response.status_code == 404
    assert request_detail(memory_portal, marie.id, request.id).request.status is RequestStatus.NEW


def test_staff_land_on_the_requests_after_login(agent_web):
    response = agent_web.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    assert agent_web.get("/agent/demandes").status_code == 200
