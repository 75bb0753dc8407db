"""The web shell on fakes: pages, errors, headers, login, logout, CSRF."""

import re

import pytest

from tests.support import add_subscriber

PASSWORD = "une-phrase-de-passe-solide"


def test_health_answers_json(web):
    response = web.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] is True


def test_about_shows_the_utility_contact_card(web):
    page = web.get("/a-propos").text
    assert "Régie des Eaux de Test" in page and "04 67 00 00 00" in page and "contact@eau-test.example" in page


def test_unknown_page_is_a_french_404(web):
    response = web.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text and "<html lang=\"fr\">" in response.text


def test_english_on_request(web):
    response = web.get("/nulle-part", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Page not found" in response.text and '<html lang="en">' in response.text
    web.get("/langue?code=fr&next=/a-propos")
    assert "Page introuvable" in web.get("/x", headers={"Accept-Language": "en"}).text  # the cookie wins


def test_security_headers_on_every_response(web):
    for path in ("/a-propos", "/nulle-part", "/static/style.css"):
        headers = web.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]


def test_pages_that_need_login_redirect_to_connexion(web):
    response = web.get("/?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?next=/%3Fx%3D1"


def test_login_then_home_then_logout_kills_the_session(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    response = web.login("MARIE@example.org", PASSWORD)
    cookie = response.cookies.get("portail_session")
    assert cookie and "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=lax" in response.headers["set-cookie"].lower()
    home = web.get("/")
    assert home.status_code == 200 and "Mes factures" in home.text and "100001" in home.text
    response = web.submit("/", "/deconnexion")
    assert response.status_code == 303 and response.headers["location"] == "/connexion?deconnecte=1"
    assert "Vous êtes déconnecté." in web.get(response.headers["location"]).text
    # Replaying the old cookie leads back to the login page: the session died on the server.
    web.cookies.clear()
    web.cookies.set("portail_session", cookie)
    assert web.get("/", follow_redirects=False).headers["location"].startswith("/connexion")


def test_wrong_password_and_unknown_email_get_the_same_answer(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    wrong = web.submit("/connexion", data={"email": "marie@example.org", "password": "mauvais-mot-de-passe"})
    unknown = web.submit("/connexion", data={"email": "personne@example.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 400
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # noqa: E731
    assert strip(wrong.text) == strip(unknown.text)
    assert "Identifiant ou mot de passe incorrect." in wrong.text


def test_next_only_follows_local_paths(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = web.submit("/connexion", data={"email": "marie@example.org", "password": PASSWORD, "next": evil})
        assert response.headers["location"] == "/"
    response = web.submit("/connexion", data={"email": "marie@example.org", "password": PASSWORD,
                                              "next": "/factures?onglet=a-payer"})
    assert response.headers["location"] == "/factures?onglet=a-payer"


def test_post_without_or_with_a_wrong_csrf_token_is_403(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.get("/connexion")
    data = {"email": "marie@example.org", "password": PASSWORD}
    assert web.post("/connexion", data=data).status_code == 403
    assert web.post("/connexion", data={**data, "csrf_token": "0" * 64}).status_code == 403
    web.login("marie@example.org", PASSWORD)
    assert web.post("/deconnexion", data={}).status_code == 403
    assert web.get("/").status_code == 200  # still logged in


WRONG_SHAPES = {"e-acute": "é", "64-e-acute": "é" * 64, "fullwidth-digits": "０" * 64,
                "hex-then-e-acute": "f" * 63 + "é", "upper-hex": "F" * 64, "hex-newline": "f" * 64 + "\n",
                "nul": "\x00" * 64}


@pytest.mark.parametrize("token", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
@pytest.mark.parametrize("logged_in", [False, True])
def test_a_token_of_the_wrong_shape_is_403_not_500(web, memory_portal, caplog, token, logged_in):
    # Found by a scanner: a non-ASCII token made hmac.compare_digest raise TypeError (500, traceback in the logs).
    add_subscriber(memory_portal, password=PASSWORD)
    if logged_in:
        web.login("marie@example.org", PASSWORD)
    web.get("/connexion")
    caplog.clear()
    for path, data in [("/mot-de-passe", {"email": "marie@example.org", "code": "100001"}),
                       ("/connexion", {"email": "marie@example.org", "password": PASSWORD}),
                       ("/deconnexion", {})]:
        assert web.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage().split()[0] for r in caplog.records] == ["csrf_refused"] * 3
    assert (web.get("/", follow_redirects=False).status_code == 200) is logged_in  # still logged in, or still not


def test_cross_site_post_is_refused_even_with_a_token(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    token = web.csrf()
    response = web.post("/connexion", data={"email": "marie@example.org", "password": PASSWORD,
                                            "csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    response = web.post("/connexion", data={"email": "marie@example.org", "password": PASSWORD,
                                            "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_new_session_id_at_each_login(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    first = web.login("marie@example.org", PASSWORD).cookies["portail_session"]
    second = web.login("marie@example.org", PASSWORD).cookies["portail_session"]
    assert first != second
    web.cookies.clear()
    web.cookies.set("portail_session", first)
    assert web.get("/", follow_redirects=False).status_code == 303  # the old id no longer works


def test_sessions_expire_when_idle_and_after_twelve_hours(web, memory_portal, clock):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    clock.advance(minutes=29)
    assert web.get("/", follow_redirects=False).status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert web.get("/", follow_redirects=False).status_code == 303
    web.login("marie@example.org", PASSWORD)
    for _ in range(24):
        clock.advance(minutes=29)
        web.get("/")
    clock.advance(minutes=25)  # 12 h 01 after login, never idle
    assert web.get("/", follow_redirects=False).status_code == 303


def test_user_text_is_escaped(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD, name="<script>alert(1)</script>")
    web.login("marie@example.org", PASSWORD)
    page = web.get("/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_an_oversized_body_is_refused_before_it_is_read_with_our_page(web):
    response = web.post("/connexion", content=b"x" * (12 * 1024 * 1024),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_language_button_of_a_logged_in_subscriber_saves_the_preference(web, memory_portal):
    subscriber = add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    response = web.submit("/factures", "/langue", data={"code": "en", "next": "/factures"})
    assert response.status_code == 303 and response.headers["location"] == "/factures"
    page = web.get("/factures").text
    assert '<html lang="en">' in page and "My invoices" in page
    with memory_portal.uow() as uow:
        assert uow.subscribers.get(subscriber.id).language.value == "en"
    back = web.submit("/factures", "/langue", data={"code": "fr", "next": "https://evil.example/"})
    assert back.headers["location"] == "/"  # next= only follows local paths
    assert '<html lang="fr">' in web.get("/").text


def test_footer_labels_follow_the_language_punctuation(web):
    french = web.get("/connexion").text
    assert "Téléphone :" in french and "Accueil :" in french
    web.cookies.set("portail_lang", "en")
    english = web.get("/connexion").text
    assert "Phone:" in english and "Opening hours:" in english and " :" not in english.split("<footer")[1]
