"""Mail for real: a real SMTP server receives the e-mails; the outbox keeps them while it is down."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from portail_adapters.mail import FileMailer, MailRejected, SmtpMailer, build_message, mailer_from_url
from portail_adapters.settings import SettingsError
from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_domain.model.mail import OutgoingMail
from portail_domain.services.mail import deliver_outbox
from portail_web import create_app
from portail_web.mail_relay import deliver_now
from tests.fixtures_smtp import SmtpServer, client_tls_context, password_checker, server_tls_context
from tests.integration.test_accounts_storage import run_together
from tests.support import BASE_URL, WebClient, add_subscriber

NEW = "un-autre-jardin-fleuri"
MAIL = OutgoingMail("marie@example.org", "Objet accentué — essai", "Bonjour,\nle texte.", "<p>Bonjour</p>")


def smtp_mailer(server: SmtpServer, **kw) -> SmtpMailer:
    return SmtpMailer(server.host, server.port, "contact@eau-test.example", "Régie des Eaux de Test", **kw)


def body(message, subtype="plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")


def test_smtp_delivers_text_and_html_with_clean_headers(smtp_server):
    smtp_mailer(smtp_server).send(MAIL)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "marie@example.org"
    assert message["From"] == "Régie des Eaux de Test <contact@eau-test.example>"
    assert message["Subject"] == "Objet accentué — essai"
    assert body(message) == "Bonjour,\nle texte.\n" and body(message, "html") == "<p>Bonjour</p>\n"
    assert smtp_server.envelopes == [("contact@eau-test.example", ["marie@example.org"])]


@pytest.mark.parametrize("mail", [
    OutgoingMail("marie@example.org\r\nBcc: espion@example.org", "Objet", "x"),
    OutgoingMail("marie@example.org", "Objet\nBcc: espion@example.org", "x"),
    OutgoingMail("marie@example.org, espion@example.org", "Objet", "x"),
    OutgoingMail("marie@example.org", "Objet\x00", "x"),
])
def test_header_injection_is_impossible(smtp_server, mail):
    with pytest.raises(MailRejected):
        build_message(mail, sender="contact@eau-test.example")
    with pytest.raises(MailRejected):
        smtp_mailer(smtp_server).send(mail)
    assert smtp_server.messages == []


def test_starttls_with_login(smtp_tls_files):
    server = SmtpServer(tls_context=server_tls_context(smtp_tls_files), require_starttls=True,
                        authenticator=password_checker("portail", "s3cret:%"), auth_require_tls=True)
    server.start()
    try:
        mailer = mailer_from_url(f"smtp://portail:s3cret%3A%25@127.0.0.1:{server.port}?starttls=1",
                                 sender="contact@eau-test.example")
        assert mailer.starttls and mailer.password == "s3cret:%"
        mailer = smtp_mailer(server, starttls=True, username="portail", password="s3cret:%",
                             tls_context=client_tls_context(smtp_tls_files))
        mailer.send(MAIL)
        assert len(server.wait_for(1)) == 1
        with pytest.raises(Exception):  # noqa: B017 - a wrong password is refused by the server
            smtp_mailer(server, starttls=True, username="portail", password="faux",
                        tls_context=client_tls_context(smtp_tls_files)).send(MAIL)
        with pytest.raises(Exception):  # noqa: B017 - a server that requires STARTTLS refuses clear text
            smtp_mailer(server).send(MAIL)
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_smtps(smtp_tls_files):
    server = SmtpServer(ssl_context=server_tls_context(smtp_tls_files))
    server.start()
    try:
        smtp_mailer(server, tls=True, tls_context=client_tls_context(smtp_tls_files)).send(MAIL)
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://relay.example", ("relay.example", 25, False, False)),
    ("smtp://relay.example?starttls=1", ("relay.example", 587, False, True)),
    ("smtps://relay.example", ("relay.example", 465, True, False)),
    ("smtp://u:p@relay.example:2525?starttls=yes&from=noreply@eau.example", ("relay.example", 2525, False, True)),
])
def test_mail_urls(url, expected):
    mailer = mailer_from_url(url, sender="contact@eau.example")
    assert (mailer.host, mailer.port, mailer.tls, mailer.starttls) == expected


@pytest.mark.parametrize("url", ["smtp://", "smtps://relay.example?starttls=1", "smtp://relay.example:notaport",
                                 "smtp://u:%C3%A9@relay.example"])
def test_bad_mail_urls_name_the_setting(url):
    with pytest.raises(SettingsError) as caught:
        mailer_from_url(url, sender="contact@eau.example")
    assert caught.value.problems[0].startswith("PORTAIL_MAIL_URL: ")


def test_file_mailer_writes_one_eml_per_message_and_prints_the_link(tmp_path, capsys):
    mailer = mailer_from_url(f"file://{tmp_path}/mail", sender="contact@eau.example")
    assert isinstance(mailer, FileMailer) and mailer.echo
    mailer.send(OutgoingMail("marie@example.org", "Lien", "Cliquez : http://127.0.0.1:8000/x?jeton=abc\nfin"))
    mailer.send(MAIL)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2 and not list((tmp_path / "mail").glob("*.part"))
    assert "http://127.0.0.1:8000/x?jeton=abc" in files[0].read_text() + files[1].read_text()
    assert "http://127.0.0.1:8000/x?jeton=abc" in capsys.readouterr().err


# --- the whole flow, on SQLite and PostgreSQL, through the real SMTP server -------------------

LINK = re.compile(re.escape(BASE_URL) + r"(/mot-de-passe/nouveau\?jeton=[A-Za-z0-9_\-]+)")


def test_reset_email_arrives_and_its_link_sets_the_password(sql_portal, smtp_server):
    sql_portal.mailer = smtp_mailer(smtp_server)
    add_subscriber(sql_portal, email="Marie@Example.org", password="ancien-mot-de-passe-long")
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as web:
        answer = web.submit("/mot-de-passe", data={"email": "marie@example.org", "code": "100001"})
        assert answer.status_code == 200
        assert smtp_server.messages == []  # queued in the outbox, not sent inside the request
        assert deliver_now(sql_portal).sent == 1
        [message] = smtp_server.wait_for(1)
        assert message["To"] == "Marie@Example.org"
        text = body(message)
        assert "Une demande de renouvellement de mot de passe a été effectuée" in text
        path = LINK.search(text).group(1)
        assert path in body(message, "html")
        assert web.get(path, follow_redirects=False).headers["location"] == "/mot-de-passe/nouveau"
        done = web.submit("/mot-de-passe/nouveau", data={"password": NEW, "password_confirm": NEW})
        assert done.status_code == 303
        web.login("marie@example.org", NEW)
        assert "Marie Dupont" in web.get("/").text
    deliver_now(sql_portal)
    confirmation = smtp_server.wait_for(2)[1]
    assert confirmation["Subject"].startswith("Votre mot de passe a été modifié")


def test_mail_waits_while_smtp_is_down_and_leaves_when_it_is_back(sql_portal, smtp_server, clock):
    sql_portal.mailer = smtp_mailer(smtp_server, timeout=2)
    smtp_server.stop()
    with sql_portal.uow() as uow:
        uow.outbox.add(MAIL, clock.now())
        uow.outbox.add(OutgoingMail("jean@example.org", "Deuxième", "texte"), clock.now())
        uow.commit()
    report = deliver_now(sql_portal)
    assert (report.sent, report.failed) == (0, 2)
    with sql_portal.uow() as uow:
        pending = uow.outbox.pending()
    assert [e.attempts for e in pending] == [1, 1] and all(e.last_error for e in pending)
    assert all(e.next_attempt_at == clock.now() + timedelta(seconds=30) for e in pending)
    smtp_server.start()
    assert deliver_now(sql_portal).sent == 0  # not due yet: the backoff holds
    clock.advance(seconds=30)
    assert deliver_now(sql_portal).sent == 2
    assert sorted(m["To"] for m in smtp_server.wait_for(2)) == ["jean@example.org", "marie@example.org"]
    with sql_portal.uow() as uow:
        assert uow.outbox.pending() == []
    assert deliver_now(sql_portal).sent == 0  # sent once, not twice


def test_backoff_grows_and_a_lost_relay_lease_is_taken_again(sql_portal, clock):
    from portail_adapters.memory import MemoryMailer

    failing = MemoryMailer(fail=True)
    sql_portal.mailer = failing
    with sql_portal.uow() as uow:
        uow.outbox.add(MAIL, clock.now())
        uow.commit()
    waits = []
    for _ in range(4):
        deliver_outbox(sql_portal)
        with sql_portal.uow() as uow:
            [entry] = uow.outbox.pending()
        waits.append((entry.next_attempt_at - clock.now()).total_seconds())
        clock.current = entry.next_attempt_at
    assert waits == [30, 60, 120, 240]
    # A relay that claims and dies: the entry comes back after the lease.
    with sql_portal.uow() as uow:
        assert len(uow.outbox.claim(clock.now(), clock.now() + timedelta(minutes=5), 10)) == 1
        uow.commit()
    ok = sql_portal.mailer = MemoryMailer()
    assert deliver_outbox(sql_portal).sent == 0
    clock.advance(minutes=5)
    assert deliver_outbox(sql_portal).sent == 1 and ok.sent == [MAIL]


def test_the_web_process_delivers_in_the_background(sql_portal, smtp_server):
    sql_portal.mailer = smtp_mailer(smtp_server)
    add_subscriber(sql_portal)
    with WebClient(create_app(sql_portal, deliver_mail_every=0.05), base_url=BASE_URL) as web:
        web.submit("/mot-de-passe", data={"email": "marie@example.org", "code": "100001"})
        [message] = smtp_server.wait_for(1)
    assert LINK.search(body(message))


@pytest.mark.postgres
def test_two_relays_never_claim_the_same_mail(pg_engine):
    uow = SqlUnitOfWorkFactory(pg_engine)
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    with uow() as work:
        for n in range(4):
            work.outbox.add(OutgoingMail(f"n{n}@example.org", "x", "y"), now + timedelta(seconds=n))
        work.commit()
    barrier = threading.Barrier(2)
    claimed: list[list[str]] = []

    def relay() -> None:
        with uow() as work:
            entries = work.outbox.claim(now + timedelta(minutes=1), now + timedelta(minutes=6), 2)
            barrier.wait(timeout=10)  # both hold their rows at the same time
            claimed.append([e.mail.to for e in entries])
            work.commit()

    run_together(relay, 2)
    assert sorted(len(c) for c in claimed) == [2, 2]
    assert sorted(claimed[0] + claimed[1]) == [f"n{n}@example.org" for n in range(4)]
