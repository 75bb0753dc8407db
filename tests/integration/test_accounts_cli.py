"""`portail mail send` and `portail staff add` as an operator runs them: real processes, real database."""

from __future__ import annotations

import re

from portail_adapters.passwords import Argon2Hasher
from portail_adapters.settings import load_settings
from portail_domain.model.mail import OutgoingMail
from portail_web import create_app
from portail_web.wiring import web_portal
from tests.integration.test_cli import portail
from tests.support import BASE_URL, WebClient

NEW = "un-autre-jardin-fleuri"


def test_mail_send_delivers_the_outbox_through_smtp(tmp_path, monkeypatch, smtp_server):
    env = {"PORTAIL_MAIL_URL": smtp_server.url}
    assert portail("migrate", cwd=tmp_path, env=env).returncode == 0
    monkeypatch.chdir(tmp_path)
    portal = web_portal(load_settings(env), passwords=Argon2Hasher.fast_for_tests())
    with portal.uow() as uow:
        uow.outbox.add(OutgoingMail("marie@example.org", "Objet", "Texte"), portal.clock.now())
        uow.commit()
    result = portail("mail", "send", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 sent, 0 failed (retried later), 0 waiting in the outbox"
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == ["Objet"]
    smtp_server.stop()
    with portal.uow() as uow:
        uow.outbox.add(OutgoingMail("marie@example.org", "Deux", "Texte"), portal.clock.now())
        uow.commit()
    result = portail("mail", "send", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stdout.strip() == "0 sent, 1 failed (retried later), 1 waiting in the outbox"


def test_mail_send_delivers_a_whole_import_s_worth_in_one_run(tmp_path, monkeypatch, smtp_server):
    """An invoice import queues a mail per subscriber: one run sends them all, not the first 50."""
    env = {"PORTAIL_MAIL_URL": smtp_server.url}
    assert portail("migrate", cwd=tmp_path, env=env).returncode == 0
    monkeypatch.chdir(tmp_path)
    portal = web_portal(load_settings(env), passwords=Argon2Hasher.fast_for_tests())
    with portal.uow() as uow:
        for n in range(120):
            uow.outbox.add(OutgoingMail(f"abonne{n}@example.org", f"Facture {n}", "Texte"), portal.clock.now())
        uow.commit()
    result = portail("mail", "send", cwd=tmp_path, env=env)
    assert result.stdout.strip() == "120 sent, 0 failed (retried later), 0 waiting in the outbox", result.stderr
    assert sorted(m["Subject"] for m in smtp_server.wait_for(120)) == sorted(f"Facture {n}" for n in range(120))


def test_staff_add_prints_a_one_time_link_that_sets_the_password(tmp_path, monkeypatch):
    assert portail("migrate", cwd=tmp_path).returncode == 0
    result = portail("staff", "add", "Agent.Dupont@eau.example", "--role", "agent", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "staff user Agent.Dupont@eau.example (agent) created" in result.stdout
    path = re.search(r"http://127\.0\.0\.1:8000(/mot-de-passe/nouveau\?jeton=\S+)", result.stdout).group(1)
    bad = portail("staff", "add", "pas-une-adresse", "--role", "agent", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == "portail: 'pas-une-adresse': not an e-mail address"
    assert portail("staff", "add", "x@eau.example", "--role", "chef", cwd=tmp_path).returncode == 2
    monkeypatch.chdir(tmp_path)
    portal = web_portal(load_settings({}), passwords=Argon2Hasher.fast_for_tests())
    with WebClient(create_app(portal), base_url=BASE_URL) as web:
        web.get(path, follow_redirects=False)
        done = web.submit("/mot-de-passe/nouveau", data={"password": NEW, "password_confirm": NEW})
        assert done.status_code == 303
        web.login("agent.dupont@eau.example", NEW)
        assert web.get("/", follow_redirects=False).headers["location"] == "/agent"  # staff's home
        # first sign-in: the back office opens only after enrolling a second factor
        assert web.get("/agent", follow_redirects=False).headers["location"] == "/agent/securite"
        contracts = web.get("/contrats", follow_redirects=False)
        assert contracts.status_code == 403  # a staff user on a subscriber page: refused, no redirect loop
        web.get(path, follow_redirects=False)
        assert web.get("/mot-de-passe/nouveau").status_code == 400  # the link worked once
