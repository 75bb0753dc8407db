"""Subscriber support through the web app (on fakes): search, the card, the actions, the letter."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from portail_domain.model.accounts import hash_activation_code
from portail_domain.services.accounts import log_in, resolve_session
from portail_web.app import create_app
from portail_web.letters import WINDOW_HEIGHT, WINDOW_WIDTH, WINDOW_X, WINDOW_Y
from tests.support import BASE_URL, WebClient, add_contract, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une phrase de passe solide"
MM = 72 / 25.4  # PDF points per millimetre


@pytest.fixture
def agent_web(memory_portal):
    staff = add_staff(memory_portal, password=PASSWORD, totp_secret="JBSWY3DPEHPK3PXP")
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, staff)  # past the second factor (tested on its own)
        yield client


@pytest.fixture
def elodie(memory_portal):
    from portail_domain.model.accounts import Subscriber

    subscriber = Subscriber(number="100003", name="Élodie Bernard", address="7 chemin des Vignes",
                            postal_code="34230", city="Usclas-d'Hérault")
    with memory_portal.uow() as uow:
        uow.subscribers.add(subscriber)
        uow.commit()
    add_contract(memory_portal, subscriber, "C-100003-1")
    return subscriber


def test_search_by_name_without_accents_links_to_the_card(agent_web, elodie):
    page = agent_web.get("/agent/abonnes", params={"q": "ELODIE"})
    assert page.status_code == 200
    link = re.search(r'href="(/agent/abonnes/100003)">100003<', page.text)
    assert link and "Élodie Bernard" in page.text and "1 abonné trouvé" in page.text
    card = agent_web.get(link.group(1))
    assert card.status_code == 200 and "C-100003-1" in card.text and "Usclas-d&#39;Hérault" in card.text


def test_search_that_finds_nothing_says_so_and_an_empty_one_shows_the_form(agent_web, elodie):
    assert "Aucun abonné ne correspond à « zzz »" in agent_web.get("/agent/abonnes?q=zzz").text
    empty = agent_web.get("/agent/abonnes")
    assert empty.status_code == 200 and 'name="q"' in empty.text and "resultats" not in empty.text


def test_the_card_of_an_unknown_subscriber_is_404(agent_web):
    assert agent_web.get("/agent/abonnes/999999").status_code == 404


def test_a_subscriber_cannot_reach_support_pages_nor_actions(memory_portal, web, elodie):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    assert web.get("/agent/abonnes?q=e", follow_redirects=False).status_code == 404
    assert web.get("/agent/abonnes/100003", follow_redirects=False).status_code == 404
    for action in ("code-activation", "debloquer", "sessions/fermer"):
        assert web.submit("/", f"/agent/abonnes/100003/{action}").status_code == 404
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100003").activation_code_hash is None


def test_actions_without_csrf_token_are_refused_and_change_nothing(memory_portal, agent_web, elodie):
    for action in ("code-activation", "debloquer", "sessions/fermer"):
        response = agent_web.post(f"/agent/abonnes/100003/{action}", data={}, follow_redirects=False)
        assert response.status_code == 403
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100003").activation_code_hash is None


def _letter(agent_web, number: str) -> tuple[str, bytes]:
    response = agent_web.submit(f"/agent/abonnes/{number}", f"/agent/abonnes/{number}/code-activation")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in response.headers["cache-control"]
    return response.headers["content-disposition"], response.content


def test_the_activation_letter_carries_the_new_code_the_address_and_the_steps(memory_portal, agent_web, elodie):
    disposition, pdf = _letter(agent_web, "100003")
    assert "lettre-activation-100003.pdf" in disposition
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b", text)
    assert code, text
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100003").activation_code_hash == hash_activation_code(code.group(1))
    for expected in ("Élodie Bernard", "7 chemin des Vignes", "34230 USCLAS-D'HÉRAULT", BASE_URL,
                     "Créer / Renouveler mot de passe", "Régie des Eaux de Test", "10 minutes"):
        assert expected in text, expected
    # the code is on the letter only: not on the card the agent comes back to
    assert code.group(1) not in agent_web.get("/agent/abonnes/100003").text


def test_the_address_sits_in_the_window_of_the_envelope(agent_web, elodie):
    _disposition, pdf = _letter(agent_web, "100003")
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    where: dict[str, tuple[float, float]] = {}

    def visit(text, _cm, tm, _font, _size):
        if text.strip():
            where.setdefault(text.strip(), (tm[4] / MM, (height - tm[5]) / MM))

    page.extract_text(visitor_text=visit)
    for line in ("Élodie Bernard", "7 chemin des Vignes", "34230 USCLAS-D'HÉRAULT"):
        x, y = where[line]
        assert WINDOW_X <= x <= WINDOW_X + WINDOW_WIDTH and WINDOW_Y <= y <= WINDOW_Y + WINDOW_HEIGHT, (line, x, y)


def test_unblock_and_end_sessions_answer_303_back_to_the_card(memory_portal, agent_web, clock):
    add_subscriber(memory_portal, password=PASSWORD)
    _account, token = log_in(memory_portal, "marie@example.org", PASSWORD)
    response = agent_web.submit("/agent/abonnes/100001", "/agent/abonnes/100001/sessions/fermer")
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/abonnes/100001?fait=sessions"
    assert resolve_session(memory_portal, token) is None
    assert "Les sessions de l'abonné sont fermées" in agent_web.get(response.headers["location"]).text
    response = agent_web.submit("/agent/abonnes/100001", "/agent/abonnes/100001/debloquer")
    assert response.status_code == 303 and response.headers["location"].endswith("?fait=debloque")


def test_the_card_never_shows_a_password_hash(memory_portal, agent_web):
    add_subscriber(memory_portal, password=PASSWORD)
    with memory_portal.uow() as uow:
        stored = uow.accounts.for_subscriber(uow.subscribers.by_number("100001").id).password_hash
    page = agent_web.get("/agent/abonnes/100001").text
    assert stored not in page and "mot de passe" in page.lower() and 'name="password"' not in page
