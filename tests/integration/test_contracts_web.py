"""Mes contrats through the web app on SQLite and PostgreSQL: pages, CSV, submitting a reading."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from portail_adapters.sql import tables as t
from portail_domain.model.accounts import Language
from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus
from portail_domain.model.values import MeterIndex
from tests.support import add_contract, add_subscriber, statements

PASSWORD = "une-phrase-de-passe-solide"
LAST = date(2024, 1, 1) + timedelta(days=8 * 91)  # the last reading `add_contract` makes (218.4 m³)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 2000


@pytest.fixture
def marie(sql_portal, sql_web):
    subscriber = add_subscriber(sql_portal, password=PASSWORD)
    sql_web.login("marie@example.org", PASSWORD)
    return subscriber


def rows(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_list_links_every_contract_of_the_subscriber(sql_portal, sql_web, marie):
    add_contract(sql_portal, marie, "C1")
    add_contract(sql_portal, marie, "C2/B", start=date(2025, 1, 1), periods=2)
    add_contract(sql_portal, add_subscriber(sql_portal, "100002", email=None), "AUTRE")
    page = sql_web.get("/contrats")
    assert page.status_code == 200
    assert '<a class="row-link" href="/contrats/C1">C1</a>' in page.text
    assert 'href="/contrats/C2%2FB"' in page.text and "AUTRE" not in page.text
    assert "1 rue X, 34230 Paulhan" in page.text and "Eau potable et assainissement" in page.text
    assert text_of(page.text).count("Actif") == 2
    assert sql_web.get("/contrats/C2%2FB").status_code == 200


def test_the_contract_page_shows_readings_consumption_and_chart(sql_portal, sql_web, marie):
    sources = [ReadingSource.AGENT, ReadingSource.ESTIMATED, ReadingSource.REMOTE, ReadingSource.SUBSCRIBER]
    contract, readings = add_contract(sql_portal, marie, sources=sources)
    page = sql_web.get("/contrats/C1")
    assert page.status_code == 200
    html, words = page.text, text_of(page.text)
    # Readings: every one, its source clearly marked.
    assert words.count("Estimée") >= 2 and "Télérelève" in words and "Agent" in words and "Abonné" in words
    assert "218,4" in words.replace("\u202f", " ").replace("\xa0", " ")
    # Consumption per period: 91 days, 27,3 m³, 300 L/day.
    table = text_of(html[html.index('id="consommations"'):].split("</table>")[0])
    assert table.count(" 91 27,300 300 ") == 8
    # The chart: an SVG with a title and a description, one bar per period, no script.
    svg = html[html.index("<svg"): html.index("</svg>")]
    assert 'role="img"' in svg and '<title id="chart-title">' in svg and '<desc id="chart-desc">' in svg
    assert svg.count("<rect") == 8 and "<script" not in html
    drawing = ElementTree.fromstring(svg + "</svg>")  # well-formed SVG
    assert drawing.find("{http://www.w3.org/2000/svg}title").text.startswith("Consommation en litres par jour")
    assert 'href="#consommations"' in html and 'id="consommations"' in html
    assert 'href="/contrats/C1/consommations.csv"' in html


def test_the_page_in_english(sql_portal, sql_web, marie):
    add_contract(sql_portal, marie, sources=[ReadingSource.AGENT, ReadingSource.ESTIMATED])
    with sql_portal.uow() as uow:
        marie.language = Language.EN  # the subscriber's saved language wins
        uow.subscribers.update(marie)
        uow.commit()
    words = text_of(sql_web.get("/contrats/C1").text)
    assert "Contract C1" in words and "Estimated" in words and "Litres per day" in words


def test_a_meter_change_is_shown_as_such(sql_portal, sql_web, marie):
    contract, readings = add_contract(sql_portal, marie, periods=2)
    with sql_portal.uow() as uow:
        uow.readings.add_many([
            MeterReading(contract.id, "M2", readings[-1].read_on, MeterIndex(0), ReadingSource.AGENT),
            MeterReading(contract.id, "M2", readings[-1].read_on + timedelta(days=100), MeterIndex(30_000),
                         ReadingSource.AGENT),
        ])
        uow.commit()
    words = text_of(sql_web.get("/contrats/C1").text)
    assert "Changement de compteur nouveau compteur M2" in words
    csv_rows = [line.split(";") for line in sql_web.get("/contrats/C1/consommations.csv").text.split("\r\n")[1:-1]]
    change_day, new_end = readings[-1].read_on, readings[-1].read_on + timedelta(days=100)
    assert csv_rows[-1] == [change_day.isoformat(), new_end.isoformat(), "100", "30.000", "300.0"]
    assert len(csv_rows) == 3 and all(float(row[3]) >= 0 for row in csv_rows)


def test_the_csv_has_one_row_per_period(sql_portal, sql_web, marie):
    add_contract(sql_portal, marie, periods=3, every_days=30, per_day=123)
    response = sql_web.get("/contrats/C1/consommations.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="consommations-C1.csv"'
    assert response.text.split("\r\n") == [
        "debut;fin;jours;volume_m3;litres_par_jour",
        "2024-01-01;2024-01-31;30;3.690;123.0",
        "2024-01-31;2024-03-01;30;3.690;123.0",
        "2024-03-01;2024-03-31;30;3.690;123.0",
        "",
    ]


def test_another_subscribers_contract_is_404_everywhere(sql_portal, sql_web, marie, engine):
    other = add_subscriber(sql_portal, "100002", email="autre@example.org")
    add_contract(sql_portal, other, "C9")
    for path in ("/contrats/C9", "/contrats/C9/consommations.csv", "/contrats/C9/releve", "/contrats/NOPE",
                 "/contrats/C9%00", "/contrats/" + "9" * 5000, "/contrats/%F0%9F%92%A7", "/contrats/"):
        assert sql_web.get(path).status_code == 404, path
    add_contract(sql_portal, marie, "C1")
    before = rows(engine, t.meter_readings)
    response = sql_web.submit("/contrats/C1/releve", "/contrats/C9/releve",
                              data={"index": "999", "read_on": "2026-03-01"})
    assert response.status_code == 404
    assert rows(engine, t.meter_readings) == before


def test_submitting_a_reading_end_to_end(sql_portal, sql_web, marie, engine):
    contract, _ = add_contract(sql_portal, marie)
    form = sql_web.get("/contrats/C1/releve")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    read_on = LAST + timedelta(days=61)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "238,4", "read_on": read_on.isoformat()},
                              files={"photo": ("compteur.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 303
    assert re.fullmatch(r"/contrats/C1\?releve=[0-9a-f-]{36}", response.headers["location"])
    page = text_of(sql_web.get(response.headers["location"]).text)
    assert "Votre relève du" in page and "est enregistrée" in page
    assert "20 m³ en 61 jours" in page.replace("\u202f", " ").replace("\xa0", " ") and "328 litres par jour" in page
    with sql_portal.uow() as uow:
        saved = uow.readings.for_contract(contract.id)[-1]
        (document,) = uow.documents.for_subscriber(marie.id)
    assert (saved.read_on, saved.index, saved.source, saved.status) == (
        read_on, MeterIndex(238_400), ReadingSource.SUBSCRIBER, ReadingStatus.VALIDATED)
    assert saved.photo_key == document.storage_key and sql_portal.files.objects[saved.photo_key] == JPEG
    assert document.content_type == "image/jpeg"


def test_an_implausible_reading_is_accepted_to_review_with_a_message(sql_portal, sql_web, marie):
    contract, _ = add_contract(sql_portal, marie)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "2184", "read_on": "2026-03-01"})
    assert response.status_code == 303
    html = sql_web.get(response.headers["location"]).text
    page = text_of(html)
    assert "Vérifiez l'index saisi" in page and "À vérifier" in page
    table = text_of(html[html.index('id="consommations"'):].split("</table>")[0])
    assert "À vérifier" in table  # the period it closes is marked too
    with sql_portal.uow() as uow:
        assert uow.readings.for_contract(contract.id)[-1].status == ReadingStatus.TO_REVIEW


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"index": "-5", "read_on": "2026-03-01"}, "Saisissez l'index avec des chiffres"),
        ({"index": "douze", "read_on": "2026-03-01"}, "Saisissez l'index avec des chiffres"),
        ({"index": "1e9", "read_on": "2026-03-01"}, "Saisissez l'index avec des chiffres"),
        ({"index": "100", "read_on": "2026-03-01"}, "inférieur au dernier index"),
        ({"index": "300", "read_on": "2026-03-11"}, "dans le futur"),
        ({"index": "300", "read_on": LAST.isoformat()}, "existe déjà"),
        ({"index": "300", "read_on": "01/03/2026"}, "AAAA-MM-JJ"),
        ({"index": "300", "read_on": "2026-02-30"}, "AAAA-MM-JJ"),
        ({"index": "300"}, "AAAA-MM-JJ"),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(sql_portal, sql_web, marie, engine, data, message):
    add_contract(sql_portal, marie)
    before = rows(engine, t.meter_readings)
    response = sql_web.submit("/contrats/C1/releve", data=data)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'") and 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert rows(engine, t.meter_readings) == before and rows(engine, t.documents) == 0


def test_a_photo_that_is_not_an_image_is_refused(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "230", "read_on": "2026-03-01"},
                              files={"photo": ("compteur.jpg", b"<html>not a photo</html>", "image/jpeg")})
    assert response.status_code == 422 and "JPEG ou PNG" in response.text
    assert rows(engine, t.meter_readings) == 9 and rows(engine, t.documents) == 0
    assert sql_portal.files.objects == {}


def test_a_photo_over_ten_megabytes_is_refused(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie)
    big = JPEG + b"\x00" * (10 * 1024 * 1024)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "230", "read_on": "2026-03-01"},
                              files={"photo": ("compteur.jpg", big, "image/jpeg")})
    assert response.status_code == 422 and "10 Mo" in response.text  # just over: read, measured, refused
    huge = big + b"\x00" * (2 * 1024 * 1024)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "230", "read_on": "2026-03-01"},
                              files={"photo": ("compteur.jpg", huge, "image/jpeg")})
    assert response.status_code == 413  # far over: cut off before it is read whole
    assert rows(engine, t.meter_readings) == 9 and sql_portal.files.objects == {}


def test_a_reading_without_csrf_token_is_refused(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie)
    response = sql_web.post("/contrats/C1/releve", data={"index": "230", "read_on": "2026-03-01"})
    assert response.status_code == 403 and rows(engine, t.meter_readings) == 9


def test_pages_need_login(sql_web):
    for path in ("/contrats", "/contrats/C1", "/contrats/C1/consommations.csv", "/contrats/C1/releve"):
        response = sql_web.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion?next=")


def test_over_consumption_alert_on_home_and_one_mail_per_period(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie)
    assert "Consommation anormale" not in sql_web.get("/").text
    read_on = LAST + timedelta(days=61)
    response = sql_web.submit("/contrats/C1/releve", data={"index": "261,1", "read_on": read_on.isoformat()})
    assert response.status_code == 303
    home = sql_web.get("/").text
    assert "Consommation anormale" in home
    assert 'href="/demandes/nouvelle?categorie=ecretement&amp;contrat=C1"' in home
    assert rows(engine, t.outbox) == 1 and rows(engine, t.overconsumption_notices) == 1
    with engine.connect() as c:
        recipient, subject = c.execute(select(t.outbox.c.recipient, t.outbox.c.subject)).one()
    assert recipient == "marie@example.org" and subject == "Consommation d'eau anormale sur votre contrat C1"
    # The leak goes on: a new period, a new mail; the same period is never told twice.
    sql_web.submit("/contrats/C1/releve", data={"index": "262", "read_on": (read_on + timedelta(days=1)).isoformat()})
    assert rows(engine, t.outbox) == 2 and rows(engine, t.overconsumption_notices) == 2


def test_the_contract_page_costs_the_same_queries_whatever_the_history(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie, "SHORT", periods=2)
    add_contract(sql_portal, marie, "LONG", periods=120, every_days=30, start=date(2016, 3, 1))
    seen_by_path = {}
    for number in ("SHORT", "LONG"):
        for path in (f"/contrats/{number}", f"/contrats/{number}/consommations.csv"):
            with statements(engine) as seen:
                assert sql_web.get(path).status_code == 200
            seen_by_path[path] = seen
    counts = {path: len(seen) for path, seen in seen_by_path.items()}
    assert counts["/contrats/SHORT"] == counts["/contrats/LONG"] <= 8, counts
    assert counts["/contrats/SHORT/consommations.csv"] == counts["/contrats/LONG/consommations.csv"], counts
    # Besides the session look-up: one query for the contract, one for all its readings, one for its schedule.
    page = seen_by_path["/contrats/LONG"]
    assert sum("FROM meter_readings" in q for q in page) == 1 and sum("FROM contracts" in q for q in page) == 1
    assert sum("FROM instalments" in q for q in page) == 1
    with statements(engine) as seen:
        sql_web.get("/")
    home_with_two = len(seen)
    add_contract(sql_portal, marie, "THIRD", periods=40)
    with statements(engine) as seen:
        sql_web.get("/")
    assert len(seen) == home_with_two


def test_the_confirmation_only_speaks_of_this_contracts_readings(sql_portal, sql_web, marie):
    _, mine = add_contract(sql_portal, marie, "C1")
    _, others = add_contract(sql_portal, add_subscriber(sql_portal, "100002", email=None), "C9")
    page = sql_web.get(f"/contrats/C1?releve={others[-1].id}")
    assert page.status_code == 200 and 'id="confirmation"' not in page.text
    page = sql_web.get(f"/contrats/C1?releve={mine[-1].id}")  # an agent's reading: not "yours"
    assert page.status_code == 200 and 'id="confirmation"' not in page.text
    assert sql_web.get("/contrats/C1?releve=pas-un-uuid").status_code == 200


def test_a_subscriber_without_contract_is_told_so(sql_web, marie):
    page = sql_web.get("/contrats")
    assert page.status_code == 200 and "Aucun contrat n'est rattaché à votre compte" in page.text.replace("&#39;", "'")


def test_a_file_store_that_is_down_saves_nothing_and_says_so(sql_portal, sql_web, marie, engine):
    add_contract(sql_portal, marie)
    sql_portal.files.down = True
    response = sql_web.submit("/contrats/C1/releve", data={"index": "230", "read_on": "2026-03-01"},
                              files={"photo": ("compteur.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 503 and "Réessayez dans quelques minutes" in response.text
    assert rows(engine, t.meter_readings) == 9 and rows(engine, t.documents) == 0


def test_a_typo_to_review_is_corrected_from_the_page_that_reported_it(sql_portal, sql_web, marie):
    contract, _ = add_contract(sql_portal, marie)
    location = sql_web.submit("/contrats/C1/releve", data={"index": "2184", "read_on": "2026-03-01"}
                              ).headers["location"]
    html = sql_web.get(location).text
    link = re.search(r'href="(/contrats/C1/releve\?date=2026-03-01)"', html).group(1)  # "Corriger l'index…"
    form = sql_web.get(link).text
    assert 'value="2026-03-01"' in form and 'id="under-review"' in form
    assert "Dernier index connu : 218,400 m³" in text_of(form).replace("\u202f", " ").replace("\xa0", " ")
    response = sql_web.submit(link, "/contrats/C1/releve", data={"index": "262,2", "read_on": "2026-03-01"})
    assert response.status_code == 303
    page = text_of(sql_web.get(response.headers["location"]).text)
    assert "est enregistrée" in page and "Vérifiez l'index saisi" not in page
    with sql_portal.uow() as uow:
        of_the_day = [r for r in uow.readings.for_contract(contract.id) if r.read_on == date(2026, 3, 1)]
    assert [(r.index, r.status) for r in of_the_day] == [(MeterIndex(262_200), ReadingStatus.VALIDATED)]
