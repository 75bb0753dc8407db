"""The staff's sign-in with a code, enrolment and the team page through the web app (on fakes),
with the attacks the issue lists: replay, skipping the code step, CSRF, an agent on admin pages."""

from __future__ import annotations

import re

import pyotp
import pytest

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.services.audit import audit_page
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_staff, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
SECRET = "JBSWY3DPEHPK3PXP" * 2


@pytest.fixture
def agent(memory_portal):
    return add_staff(memory_portal, password=PASSWORD, totp_secret=SECRET)


@pytest.fixture
def admin(memory_portal):
    return add_staff(memory_portal, "admin@eau-test.example", password=PASSWORD, name="Alice Admin", role="admin",
                     totp_secret=SECRET)


@pytest.fixture
def client(memory_portal):
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as web:
        yield web


def _code(clock, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def test_sign_in_password_then_code_lands_on_the_asked_page_with_a_new_session(client, agent, clock):
    client.login("agent@eau-test.example", PASSWORD)
    pending = client.cookies.get("portail_session")
    asked = client.get("/agent/journal?abonne=100001", follow_redirects=False)
    assert asked.headers["location"] == "/connexion/code?next=/agent/journal"
    page = client.get(asked.headers["location"])
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    done = client.submit(asked.headers["location"], "/connexion/code",
                         {"code": _code(clock), "next": "/agent/journal"})
    assert (done.status_code, done.headers["location"]) == (303, "/agent/journal")
    assert client.cookies.get("portail_session") != pending
    assert client.get("/agent/journal").status_code == 200
    client.cookies.clear()
    client.cookies.set("portail_session", pending)  # the password-only session is gone
    assert client.get("/agent/journal", follow_redirects=False).status_code == 404


def test_a_replayed_code_is_refused_on_another_sign_in(memory_portal, client, agent, clock):
    used = _code(clock)
    client.login("agent@eau-test.example", PASSWORD)
    assert client.submit("/connexion/code", data={"code": used}).status_code == 303
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as thief:
        thief.login("agent@eau-test.example", PASSWORD)
        replay = thief.submit("/connexion/code", data={"code": used})
        assert replay.status_code == 400 and "déjà utilisé" in replay.text
        assert thief.get("/agent", follow_redirects=False).headers["location"].startswith("/connexion/code")


def test_skipping_the_code_step_reaches_nothing(client, agent):
    client.login("agent@eau-test.example", PASSWORD)
    token = client.csrf("/connexion/code")
    for method, path in (("GET", "/agent"), ("GET", "/agent/demandes"), ("GET", "/agent/journal"),
                         ("POST", "/agent/demandes/00000000-0000-4000-8000-000000000000/reponse")):
        response = client.request(method, path, data={"csrf_token": token, "message": "x"} if method == "POST"
                                  else None, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion/code"), path
    assert "Menu des agents" not in client.get("/connexion/code").text


def test_a_subscriber_gets_nothing_from_the_code_step(memory_portal, client):
    from tests.support import add_subscriber

    add_subscriber(memory_portal, password=PASSWORD)
    client.login("marie@example.org", PASSWORD)
    assert client.get("/connexion/code", follow_redirects=False).headers["location"] == "/connexion"
    assert client.submit("/demandes", "/connexion/code", {"code": "123456"}).headers["location"] == "/connexion"


def test_enrolment_shows_the_qr_key_and_uri_then_ten_recovery_codes_once(memory_portal, client, clock):
    add_staff(memory_portal, "nouveau@eau-test.example", password=PASSWORD)
    client.login("nouveau@eau-test.example", PASSWORD)
    assert client.get("/agent", follow_redirects=False).headers["location"] == "/agent/securite"
    page = client.get("/agent/securite")
    assert page.status_code == 200 and '<svg role="img"' in page.text and "<script" not in page.text
    uri = re.search(r'<code class="uri">([^<]+)</code>', page.text).group(1).replace("&amp;", "&")
    assert uri.startswith("otpauth://totp/") and "nouveau%40eau-test.example" in uri
    secret = pyotp.parse_uri(uri).secret
    assert re.sub(r"\s", "", re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)) == secret
    wrong = client.submit("/agent/securite", data={"code": "12345"})
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text
    done = client.submit("/agent/securite", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z2-9]{5}-[A-Z2-9]{5})</code></li>", done.text)
    assert len(codes) == 10
    assert client.get("/agent/journal").status_code == 200  # the new session is past the second factor
    status = client.get("/agent/securite")
    assert "Codes de secours restants" in status.text and not any(code in status.text for code in codes)
    (entry,) = audit_page(memory_portal, AuditQuery()).entries
    assert entry.action is AuditAction.STAFF_ENROL


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(memory_portal, client, clock):
    add_staff(memory_portal, "nouveau@eau-test.example", password=PASSWORD)
    client.login("nouveau@eau-test.example", PASSWORD)
    page = client.get("/agent/securite")
    secret = re.sub(r"\s", "", re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1))
    done = client.submit("/agent/securite", data={"code": pyotp.TOTP(secret).at(clock.now())})
    recovery = re.findall(r"<li><code>([A-Z2-9-]{11})</code></li>", done.text)[0]
    client.post("/deconnexion", data={"csrf_token": client.csrf("/agent")})
    client.login("nouveau@eau-test.example", PASSWORD)
    used = client.submit("/connexion/code", data={"code": recovery})
    assert used.headers["location"] == "/agent/securite?secours=9"
    assert "code de secours" in client.get(used.headers["location"]).text
    client.post("/deconnexion", data={"csrf_token": client.csrf("/agent")})
    client.login("nouveau@eau-test.example", PASSWORD)
    assert client.submit("/connexion/code", data={"code": recovery}).status_code == 400


def test_brute_force_of_codes_is_throttled(client, agent, clock):
    client.login("agent@eau-test.example", PASSWORD)
    statuses = []
    for guess in range(12):
        candidate = f"{guess:06d}"
        if candidate == _code(clock):
            continue
        statuses.append(client.submit("/connexion/code", data={"code": candidate}).status_code)
    assert 429 in statuses
    right = client.submit("/connexion/code", data={"code": _code(clock)})
    assert right.status_code == 429 and "Retry-After" in right.headers


@pytest.mark.parametrize("path, data", [
    ("/connexion/code", {"code": "123456"}),
    ("/agent/securite", {"code": "123456"}),
    ("/agent/equipe", {"email": "x@eau-test.example", "name": "X", "role": "agent"}),
    ("/agent/equipe/{member}", {"action": "disable"}),
])
def test_every_action_refuses_a_missing_or_wrong_csrf_token(memory_portal, client, admin, agent, path, data):
    sign_in_staff(client, memory_portal, admin)
    target = path.format(member=agent.id)
    for token in (None, "0" * 64):
        body = data if token is None else {**data, "csrf_token": token}
        assert client.post(target, data=body, follow_redirects=False).status_code == 403
    assert audit_page(memory_portal, AuditQuery()).entries == []


def test_an_agent_cannot_reach_or_use_the_team_page(memory_portal, client, admin, agent):
    sign_in_staff(client, memory_portal, agent)
    token = client.csrf("/agent")
    assert client.get("/agent/equipe").status_code == 403
    for path, data in (("/agent/equipe", {"email": "x@eau-test.example", "name": "X", "role": "admin"}),
                       (f"/agent/equipe/{admin.id}", {"action": "disable"}),
                       (f"/agent/equipe/{agent.id}", {"action": "role", "role": "admin"})):
        assert client.post(path, data={**data, "csrf_token": token}, follow_redirects=False).status_code == 403
    assert audit_page(memory_portal, AuditQuery()).entries == []


def test_admin_manages_the_team_and_every_action_is_audited(memory_portal, client, admin, agent, clock):
    sign_in_staff(client, memory_portal, admin)
    page = client.get("/agent/equipe")
    assert page.status_code == 200 and "Paul Agent" in page.text
    invited = client.submit("/agent/equipe", data={"email": "nina@eau-test.example", "name": "Nina", "role": "agent"})
    assert invited.headers["location"] == "/agent/equipe?fait=invite"
    assert "Invitation en attente" in client.get("/agent/equipe").text
    member = f"/agent/equipe/{agent.id}"
    for data in ({"action": "role", "role": "admin"}, {"action": "reset_2fa"}, {"action": "disable"}):
        assert client.submit("/agent/equipe", member, data).status_code == 303
    bad = client.submit("/agent/equipe", member, {"action": "role", "role": "superuser"})
    assert bad.status_code == 400 and "agent ou administrateur" in bad.text
    own = client.submit("/agent/equipe", f"/agent/equipe/{admin.id}", {"action": "disable"})
    assert own.status_code == 400 and "propre compte" in own.text
    unknown = client.submit("/agent/equipe", "/agent/equipe/00000000-0000-4000-8000-000000000000",
                            {"action": "disable"})
    assert unknown.status_code == 404
    actions = [e.action for e in audit_page(memory_portal, AuditQuery()).entries]
    assert actions.count(AuditAction.STAFF_INVITE) == 1 and {AuditAction.STAFF_ROLE, AuditAction.STAFF_RESET_2FA,
                                                             AuditAction.STAFF_DISABLE} <= set(actions)
    journal = client.get("/agent/journal?agent=admin@eau-test.example")
    assert "Membre désactivé" in journal.text and "Rôle modifié" in journal.text


def test_a_disabled_members_live_session_dies_at_once(memory_portal, admin, agent):
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as paul, \
            WebClient(create_app(memory_portal), base_url=BASE_URL) as alice:
        sign_in_staff(paul, memory_portal, agent)
        sign_in_staff(alice, memory_portal, admin)
        assert paul.get("/agent/demandes").status_code == 200
        alice.submit("/agent/equipe", f"/agent/equipe/{agent.id}", {"action": "disable"})
        assert paul.get("/agent/demandes", follow_redirects=False).status_code == 404
        assert paul.post("/connexion", data={"email": "agent@eau-test.example", "password": PASSWORD,
                                             "csrf_token": paul.csrf()}, follow_redirects=False).status_code == 400
