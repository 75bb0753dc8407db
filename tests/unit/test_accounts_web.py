"""The accounts pages through the web app, on fakes: links, password, personal data, sessions."""

from __future__ import annotations

import re

import pytest

from tests.support import add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
NEW = "un-autre-jardin-fleuri"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/[^\s\"<]+)")


def queued(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending()]


def link_in(mail) -> str:
    return LINK.search(mail.text).group(1)


def test_activation_flow_from_the_form_to_the_first_login(web, memory_portal):
    add_subscriber(memory_portal)
    page = web.get("/mot-de-passe")
    assert page.status_code == 200 and 'name="email"' in page.text and 'name="code"' in page.text
    answer = web.submit("/mot-de-passe", data={"email": "marie@example.org", "code": "100001"})
    assert answer.status_code == 200 and "Vérifiez votre messagerie" in answer.text
    [mail] = queued(memory_portal)
    path = link_in(mail)
    assert path.startswith("/mot-de-passe/nouveau?jeton=")
    # The token leaves the URL: a cookie, then the same page without it.
    moved = web.get(path, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/mot-de-passe/nouveau"
    cookie = moved.headers["set-cookie"].lower()
    assert "httponly" in cookie and "max-age=600" in cookie and "samesite=lax" in cookie
    form = web.get("/mot-de-passe/nouveau")
    assert form.status_code == 200 and 'name="password_confirm"' in form.text and "jeton" not in form.text
    refused = web.submit("/mot-de-passe/nouveau", data={"password": "trop-court", "password_confirm": "trop-court"})
    assert refused.status_code == 400 and "d'au moins 12 caractères : une phrase" in refused.text
    refused = web.submit("/mot-de-passe/nouveau", data={"password": "mon-numero-100001", "password_confirm":
                                                           "mon-numero-100001"})
    assert refused.status_code == 400 and "numéro d'abonné" in refused.text
    done = web.submit("/mot-de-passe/nouveau", data={"password": NEW, "password_confirm": NEW})
    assert done.status_code == 303 and done.headers["location"] == "/connexion?mot-de-passe=enregistre"
    assert "Votre mot de passe est enregistré" in web.get(done.headers["location"]).text
    web.login("marie@example.org", NEW)
    assert web.get("/").status_code == 200
    # The link worked once.
    web.get(path, follow_redirects=False)
    again = web.get("/mot-de-passe/nouveau")
    assert again.status_code == 400 and "Demander un nouveau lien" in again.text


def test_the_answer_page_is_the_same_whatever_matched(web, memory_portal):
    add_subscriber(memory_portal)
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # noqa: E731
    pages = [web.submit("/mot-de-passe", data={"email": email, "code": code})
             for email, code in [("marie@example.org", "100001"), ("marie@example.org", "999999"),
                                 ("inconnu@example.org", "100001")]]
    assert {p.status_code for p in pages} == {200}
    assert len({strip(p.text) for p in pages}) == 1
    assert len(queued(memory_portal)) == 1
    # The lookup runs after the answer, whose connection closes: its time tells nothing either.
    assert {p.headers.get("connection") for p in pages} == {"close"}


def test_the_answer_leaves_before_the_lookup(web, memory_portal):
    """A broken lookup cannot show in the answer: it happens once the answer has been sent."""
    add_subscriber(memory_portal)
    asked: list[str] = []

    class Watching:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, **kwargs):
            asked.append("uow")
            return self.inner(**kwargs)

    memory_portal.uow = Watching(memory_portal.uow)
    token = web.csrf("/mot-de-passe")
    with web.stream("POST", "/mot-de-passe", data={"email": "marie@example.org", "code": "100001",
                                                    "csrf_token": token}) as response:
        assert response.status_code == 200 and asked == []
        response.read()


def test_a_bad_email_or_no_code_is_said_on_the_form(web):
    response = web.submit("/mot-de-passe", data={"email": "pas une adresse", "code": "1"})
    assert response.status_code == 400 and "adresse e-mail valide" in response.text
    response = web.submit("/mot-de-passe", data={"email": "a@example.org", "code": ""})
    assert response.status_code == 400 and "numéro d'abonné" in response.text


def test_expired_link_page(web, memory_portal, clock):
    add_subscriber(memory_portal)
    web.submit("/mot-de-passe", data={"email": "marie@example.org", "code": "100001"})
    web.get(link_in(queued(memory_portal)[0]), follow_redirects=False)
    clock.advance(minutes=10, seconds=1)
    page = web.get("/mot-de-passe/nouveau")
    assert page.status_code == 400 and "Lien expiré" in page.text
    response = web.submit("/connexion", "/mot-de-passe/nouveau", {"password": NEW, "password_confirm": NEW})
    assert response.status_code == 400 and "Demander un nouveau lien" in response.text


@pytest.mark.parametrize("path", ["/mot-de-passe/nouveau", "/donnees-personnelles/e-mail/confirmer"])
@pytest.mark.parametrize("jeton", ["Ā", "tok-1; Path=/", "a" * 129, "tok 1"],
                         ids=["A-macron", "semicolon", "129-chars", "space"])
def test_a_link_token_that_is_not_ours_is_a_dead_link_not_500(web, path, jeton):
    # Found by the fuzz pass: a non-latin-1 ?jeton= could not go into Set-Cookie (UnicodeEncodeError, 500).
    response = web.get(path, params={"jeton": jeton}, follow_redirects=False)
    assert response.status_code == 400 and "Lien expiré" in response.text
    link_cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("portail_jeton")]
    assert link_cookies and all("Max-Age=0" in c for c in link_cookies)  # forgotten, never set


def test_logout_then_replaying_the_old_cookie_goes_to_connexion(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    cookie = web.login("marie@example.org", PASSWORD).cookies["portail_session"]
    web.submit("/", "/deconnexion")
    web.cookies.clear()
    web.cookies.set("portail_session", cookie)
    for page in ("/", "/donnees-personnelles", "/donnees-personnelles/mot-de-passe"):
        response = web.get(page, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


POSTS = ["/connexion", "/deconnexion", "/mot-de-passe", "/mot-de-passe/nouveau", "/donnees-personnelles",
         "/donnees-personnelles/mot-de-passe", "/donnees-personnelles/e-mail", "/donnees-personnelles/e-mail/confirmer",
         "/donnees-personnelles/sessions/fermer"]


@pytest.mark.parametrize("path", POSTS)
def test_every_post_without_a_token_is_403(web, memory_portal, path):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    response = web.post(path, data={"email": "marie@example.org", "password": PASSWORD, "phone": "0600000000"})
    assert response.status_code == 403
    response = web.post(path, data={"csrf_token": "f" * 64, "phone": "0600000000"})
    assert response.status_code == 403
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100001").phone == ""


def test_repeated_failures_are_throttled_on_the_login_page(web, memory_portal, caplog):
    add_subscriber(memory_portal, password=PASSWORD)
    with caplog.at_level("INFO", logger="portail.security"):
        for _ in range(5):
            response = web.submit("/connexion", data={"email": "marie@example.org", "password": "x\nevil"})
            assert response.status_code == 400
        response = web.submit("/connexion", data={"email": "marie@example.org\r\nforged", "password": PASSWORD})
        assert response.status_code == 400
        response = web.submit("/connexion", data={"email": "marie@example.org", "password": PASSWORD})
    assert response.status_code == 429 and "Trop de tentatives" in response.text
    assert int(response.headers["retry-after"]) >= 1
    lines = [r.getMessage() for r in caplog.records if r.name == "portail.security"]
    assert sum(line.startswith("login_failed") for line in lines) == 6
    assert any(line.startswith("login_throttled") for line in lines)
    assert all("\n" not in line and "\r" not in line and PASSWORD not in line and "evil" not in line
               for line in lines)


def test_personal_data_changes_only_the_allowed_fields(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    page = web.get("/donnees-personnelles")
    assert page.status_code == 200 and "100001" in page.text and "cette session" in page.text
    response = web.submit("/donnees-personnelles", data={
        "phone": "06 11 22 33 44", "address": "5 rue du Moulin", "postal_code": "34800", "city": "Canet",
        "language": "en", "paperless": "1", "name": "Pirate", "email": "pirate@example.org", "number": "999"})
    assert response.status_code == 303
    with memory_portal.uow() as uow:
        s = uow.subscribers.by_number("100001")
    assert (s.phone, s.address, s.postal_code, s.city, s.language.value, s.paperless) == (
        "06 11 22 33 44", "5 rue du Moulin", "34800", "Canet", "en", True)
    assert s.name == "Marie Dupont" and s.email.address == "marie@example.org"
    assert "Your personal data is saved." in web.get(response.headers["location"]).text


def test_bad_personal_data_is_said_and_nothing_is_saved(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    response = web.submit("/donnees-personnelles", data={"phone": "abc", "address": "5 rue", "postal_code": "34800",
                                                         "city": "Canet", "language": "fr"})
    assert response.status_code == 400 and "numéro de téléphone" in response.text and 'value="5 rue"' in response.text
    response = web.submit("/donnees-personnelles", data={"language": "xx"})
    assert response.status_code == 400
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100001").address == ""


def test_change_password_needs_the_current_one_and_ends_other_sessions(web, memory_portal):
    from starlette.testclient import TestClient

    from portail_web import create_app
    from tests.support import BASE_URL, WebClient

    add_subscriber(memory_portal, password=PASSWORD)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as other:
        other.login("marie@example.org", PASSWORD)
        web.login("marie@example.org", PASSWORD)
        wrong = web.submit("/donnees-personnelles/mot-de-passe", data={
            "current_password": "pas-le-bon-mot-de-passe", "password": NEW, "password_confirm": NEW})
        assert wrong.status_code == 400 and "actuel saisi est incorrect" in wrong.text
        done = web.submit("/donnees-personnelles/mot-de-passe", data={
            "current_password": PASSWORD, "password": NEW, "password_confirm": NEW})
        assert done.status_code == 303
        assert web.get("/").status_code == 200  # this session lives on
        assert other.get("/", follow_redirects=False).status_code == 303  # the other one is gone
    assert queued(memory_portal)[-1].subject.startswith("Votre mot de passe a été modifié")
    assert isinstance(other, TestClient)


def test_login_email_change_is_confirmed_by_a_link_to_the_new_address(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    refused = web.submit("/donnees-personnelles", "/donnees-personnelles/e-mail",
                         {"email": "marie.new@example.org", "password": "mauvais"})
    assert refused.status_code == 400 and queued(memory_portal) == []
    response = web.submit("/donnees-personnelles", "/donnees-personnelles/e-mail",
                          {"email": "marie.new@example.org", "password": PASSWORD})
    assert response.status_code == 303
    link, notice = queued(memory_portal)
    assert link.to == "marie.new@example.org" and notice.to == "marie@example.org"
    assert "marie.new@example.org" in notice.text
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100001").email.address == "marie@example.org"  # not yet
    moved = web.get(link_in(link), follow_redirects=False)
    assert moved.headers["location"] == "/donnees-personnelles/e-mail/confirmer"
    assert web.get("/donnees-personnelles/e-mail/confirmer").status_code == 200
    done = web.submit("/donnees-personnelles/e-mail/confirmer")
    assert done.status_code == 303
    with memory_portal.uow() as uow:
        assert uow.subscribers.by_number("100001").email.address == "marie.new@example.org"
    web.submit("/", "/deconnexion")
    web.login("marie.new@example.org", PASSWORD)


def test_log_out_every_other_device(web, memory_portal):
    from portail_web import create_app
    from tests.support import BASE_URL, WebClient

    add_subscriber(memory_portal, password=PASSWORD)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as other:
        other.login("marie@example.org", PASSWORD)
        web.login("marie@example.org", PASSWORD)
        assert web.get("/donnees-personnelles").text.count("<tr><th scope=\"row\">") == 2
        assert web.submit("/donnees-personnelles", "/donnees-personnelles/sessions/fermer").status_code == 303
        assert other.get("/", follow_redirects=False).status_code == 303
        assert web.get("/").status_code == 200


def test_guessing_the_current_password_from_a_session_is_throttled_too(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    for _ in range(5):
        response = web.submit("/donnees-personnelles/mot-de-passe", data={
            "current_password": "devinette-numero-x", "password": NEW, "password_confirm": NEW})
        assert response.status_code == 400 and "actuel saisi est incorrect" in response.text
    response = web.submit("/donnees-personnelles/mot-de-passe", data={
        "current_password": PASSWORD, "password": NEW, "password_confirm": NEW})
    assert response.status_code == 400 and "Trop de tentatives" in response.text
    response = web.submit("/donnees-personnelles", "/donnees-personnelles/e-mail",
                          {"email": "autre@example.org", "password": PASSWORD})
    assert response.status_code == 400 and "Trop de tentatives" in response.text
