"""Moving out / moving in (déménagement, emménagement): the structured forms, on fakes."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from portail_adapters.exchange_csv import export_csv
from tests.support import add_contract, add_staff, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
OUT = {"category": "demenagement", "contract": "C1", "move_on": "2026-03-09", "index": "876,5",
       "new_address": "4 avenue du Port, 34200 Sète", "message": ""}
IN = {"category": "emmenagement", "contract": "C1", "move_on": "2026-03-09", "index": "876,5",
      "occupant": "Lucie Bernard", "message": "Arrivée le matin."}


@pytest.fixture
def agent_web(memory_portal, web):
    from portail_web.app import create_app
    from tests.support import BASE_URL, WebClient, sign_in_staff

    staff = add_staff(memory_portal, password=PASSWORD)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, staff)
        yield client


@pytest.fixture
def marie(memory_portal, web):
    subscriber = add_subscriber(memory_portal, "100001", email="marie@example.org", password=PASSWORD)
    # Readings every 91 days from 2024-01-01, 300 l a day: the last, 2025-12-28, at 218.4 m³
    add_contract(memory_portal, subscriber, "C1")
    web.login("marie@example.org", PASSWORD)
    return subscriber


def post(web, data, page="/demandes/nouvelle?categorie=demenagement", files=None):
    token = web.csrf(page)
    return web.post("/demandes/nouvelle", data={**data, "csrf_token": token}, files=files, follow_redirects=False)


def requests_and_moves(portal, subscriber):
    with portal.uow() as uow:
        found = list(uow.requests.for_subscriber(subscriber.id))
        return found, [uow.requests.move_of(r.id) for r in found]


def test_the_move_out_form_asks_the_date_the_index_and_the_new_address(memory_portal, web, marie):
    page = web.get("/demandes/nouvelle?categorie=demenagement")
    assert page.status_code == 200 and "Déclarer un déménagement" in page.text
    for name in ("move_on", "index", "new_address", "attachment"):
        assert f'name="{name}"' in page.text
    assert 'name="occupant"' not in page.text and 'value="C1" selected' in page.text
    page = web.get("/demandes/nouvelle?categorie=emmenagement")
    assert "Déclarer un emménagement" in page.text and 'name="occupant"' in page.text
    assert 'name="new_address"' not in page.text


def test_moving_out_is_filed_with_its_fields_kept_structured(memory_portal, web, marie):
    response = post(web, OUT)
    assert response.status_code == 303, response.text
    page = web.get(response.headers["location"])
    assert "Déménagement — contrat C1, le 2026-03-09" in page.text
    assert "876,5\u00a0m³" in page.text or "876,500" in page.text
    assert "4 avenue du Port, 34200 Sète" in page.text
    [request], [move] = requests_and_moves(memory_portal, marie)
    assert request.category.value == "demenagement"
    assert (move.move_on, move.index.litres, move.new_address, move.occupant) == (
        date(2026, 3, 9), 876_500, "4 avenue du Port, 34200 Sète", None)
    with memory_portal.uow() as uow:
        assert uow.requests.messages(request.id) == []  # no message was written: none is made up
        [ack] = uow.outbox.pending()
    assert ack.mail.to == "marie@example.org" and request.reference in ack.mail.subject


def test_moving_in_needs_the_occupant_and_keeps_the_message(memory_portal, web, marie):
    response = post(web, {**IN, "occupant": "  "}, page="/demandes/nouvelle?categorie=emmenagement")
    assert response.status_code == 422 and "Indiquez le nom de l'occupant du logement." in response.text
    assert requests_and_moves(memory_portal, marie) == ([], [])
    response = post(web, IN, page="/demandes/nouvelle?categorie=emmenagement")
    assert response.status_code == 303
    [request], [move] = requests_and_moves(memory_portal, marie)
    assert (move.occupant, move.new_address) == ("Lucie Bernard", None)
    with memory_portal.uow() as uow:
        [message] = uow.requests.messages(request.id)
    assert message.body == "Arrivée le matin."


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"index": "100"}, "index", "L'index saisi est inférieur au dernier index connu de ce compteur."),
    ({"index": "douze"}, "index",
     "Saisissez l'index avec des chiffres (jusqu'à 3 décimales), par exemple 1234 ou 1234,5."),
    ({"index": "123456"}, "index", "L'index saisi a plus de chiffres que le compteur n'en affiche."),
    ({"move_on": "2026-03-11"}, "move_on", "La date de relève ne peut pas être dans le futur."),
    ({"move_on": "2023-12-31"}, "move_on", "La date de relève est antérieure au début du contrat."),
    ({"move_on": "2025-12-01"}, "move_on",
     "La date de relève est antérieure à la dernière relève de ce compteur."),
    ({"move_on": "09/03/2026"}, "move_on", "Saisissez la date au format AAAA-MM-JJ, par exemple 2026-03-10."),
    ({"new_address": ""}, "new_address", "Indiquez votre nouvelle adresse : la facture de clôture y sera envoyée."),
    ({"contract": ""}, "contract", "Choisissez un de vos contrats dans la liste."),
    ({"contract": "C-OTHER"}, "contract", "Choisissez un de vos contrats dans la liste."),
])
def test_a_bad_field_is_refused_with_the_reading_rules_message_and_nothing_is_kept(memory_portal, web, marie,
                                                                                      changes, field, message):
    response = post(web, {**OUT, **changes})
    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in response.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert requests_and_moves(memory_portal, marie) == ([], [])
    assert ">4 avenue du Port, 34200 Sète</textarea>" in response.text or field == "new_address"  # kept


def test_staff_see_the_fields_in_the_request_and_the_export_has_them(memory_portal, web, marie, agent_web):
    post(web, OUT)
    post(web, IN, page="/demandes/nouvelle?categorie=emmenagement")
    [*_, other] = [post(web, {"category": "billing", "subject": "Question", "message": "Bonjour", "contract": ""},
                        page="/demandes/nouvelle")]
    assert other.status_code == 303
    requests, _moves = requests_and_moves(memory_portal, marie)
    move_out = next(r for r in requests if r.category.value == "demenagement")
    out = io.StringIO()
    export_csv(memory_portal, "requests", out)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(";move_on;index;new_address;occupant")
    rows = {line.split(";")[3]: line.split(";")[-4:] for line in lines[1:]}
    assert rows == {"demenagement": ["2026-03-09", "876.5", "4 avenue du Port, 34200 Sète", ""],
                    "emmenagement": ["2026-03-09", "876.5", "", "Lucie Bernard"],
                    "billing": ["", "", "", ""]}
    page = agent_web.get(f"/agent/demandes/{move_out.id}")
    assert page.status_code == 200 and "Marie Dupont" in page.text
    assert "Nouvelle adresse (facture de clôture)" in page.text and "4 avenue du Port, 34200 Sète" in page.text
    assert "Date du déménagement" in page.text and "9 mars 2026" in page.text


def test_the_free_form_no_longer_offers_moving_and_refuses_the_moving_categories(memory_portal, web, marie):
    page = web.get("/demandes/nouvelle")
    assert 'value="demenagement"' not in page.text and 'value="moving"' not in page.text
    assert "Déclarer un déménagement" in page.text
    from portail_domain.model.requests import CategoryInvalid
    from portail_domain.services.requests import open_request

    with pytest.raises(CategoryInvalid):
        open_request(memory_portal, marie.id, category="demenagement", subject="x", message="y")


@pytest.mark.parametrize("name", ["move_on", "index", "new_address", "occupant", "contract", "message"])
def test_hostile_text_in_a_moving_field_is_a_4xx_never_a_5xx(memory_portal, web, marie, name):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.fuzz import NEAR_MISSES

    token = web.csrf("/demandes/nouvelle?categorie=demenagement")

    sendable = [v for v in NEAR_MISSES if "\ud800" not in v and "\udfff" not in v]  # what a client can encode
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(sendable) | text, st.sampled_from(["demenagement", "emmenagement"]))
    def check(value, category):
        data = {**OUT, **IN, "category": category, name: value, "csrf_token": token}
        response = web.post("/demandes/nouvelle", data=data, follow_redirects=False)
        assert response.status_code < 500, (name, value, response.status_code)

    check()
