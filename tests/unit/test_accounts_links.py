"""Créer / Renouveler mot de passe on fakes: who gets a link, and what a link can do."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.accounts import LinkInvalid, LoginFailed, TokenPurpose, hash_activation_code
from portail_domain.model.password_policy import PasswordMismatch
from portail_domain.services.accounts import log_in, resolve_session
from portail_domain.services.activation import (
    check_link,
    new_activation_code,
    request_password_link,
    set_password_with_link,
)
from tests.support import add_subscriber

NEW = "un-autre-jardin-fleuri"
LINK = re.compile(r"http://127\.0\.0\.1:8000/mot-de-passe/nouveau\?jeton=([A-Za-z0-9_\-]+)")


def ask(portal, email, code) -> str:
    return request_password_link(portal, email, code)


def outbox(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending()]


def token_of(mail) -> str:
    return LINK.search(mail.text).group(1)


def use(portal, token, password=NEW, confirm=None):
    return set_password_with_link(portal, token, password, password if confirm is None else confirm)


def can_log_in(portal, email, password) -> bool:
    try:
        log_in(portal, email, password)
    except LoginFailed:
        return False
    return True


def test_subscriber_number_and_email_on_file_send_the_seed_e_mail(memory_portal):
    from portail_adapters.system import SystemSecrets

    memory_portal.secrets = SystemSecrets()
    add_subscriber(memory_portal, email="Marie@Example.org")
    assert ask(memory_portal, "marie@example.ORG", " 100001 ") == "sent"
    [mail] = outbox(memory_portal)
    assert mail.to == "Marie@Example.org"  # the address on file, as written there
    assert "Une demande de renouvellement de mot de passe a été effectuée pour le compte" in mail.text
    assert "Ce lien ne sera valide que pendant 10 mn." in mail.text
    assert "veuillez en informer votre administrateur" in mail.text
    assert mail.html and token_of(mail) in mail.html and "<a href=" in mail.html
    assert len(token_of(mail)) >= 43  # 256 bits, URL-safe


def test_english_subscriber_gets_english_mail(memory_portal):
    from portail_domain.model.accounts import Language

    subscriber = add_subscriber(memory_portal)
    with memory_portal.uow() as uow:
        s = uow.subscribers.get(subscriber.id)
        s.language = Language.EN
        uow.subscribers.update(s)
        uow.commit()
    ask(memory_portal, "marie@example.org", "100001")
    [mail] = outbox(memory_portal)
    assert "A password renewal was requested" in mail.text and "10 minutes" in mail.text


@pytest.mark.parametrize(("email", "code"), [
    ("autre@example.org", "100001"),  # not the e-mail on file
    ("marie@example.org", "100002"),  # someone else's number
    ("marie@example.org", ""),
    ("pas-une-adresse", "100001"),
    ("mıke@example.org", "100003"),  # dotless ı never reaches mike@
])
def test_no_link_unless_email_on_file_and_code_match(memory_portal, email, code):
    add_subscriber(memory_portal)
    add_subscriber(memory_portal, "100003", email="mike@example.org")
    assert ask(memory_portal, email, code) == "no_match"
    assert outbox(memory_portal) == []


def test_without_email_on_file_the_subscriber_number_claims_nothing(memory_portal):
    add_subscriber(memory_portal, email=None)
    assert ask(memory_portal, "intrus@example.org", "100001") == "no_match"


def test_random_code_claims_an_account_without_email_and_the_address_becomes_the_login(memory_portal):
    subscriber = add_subscriber(memory_portal, email=None)
    code = new_activation_code(memory_portal.secrets)
    with memory_portal.uow() as uow:
        s = uow.subscribers.get(subscriber.id)
        s.activation_code_hash = hash_activation_code(code)
        uow.subscribers.update(s)
        uow.commit()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    assert ask(memory_portal, "nouveau@example.org", code.lower().replace("-", " ")) == "sent"
    [mail] = outbox(memory_portal)
    assert mail.to == "nouveau@example.org"
    with memory_portal.uow() as uow:  # nothing on file changes before the link is used
        assert uow.subscribers.get(subscriber.id).email is None
    result = use(memory_portal, token_of(mail))
    assert result.login == "nouveau@example.org"
    with memory_portal.uow() as uow:
        s = uow.subscribers.get(subscriber.id)
        assert s.email.address == "nouveau@example.org" and s.activation_code_hash is None
    assert can_log_in(memory_portal, "nouveau@example.org", NEW)
    assert ask(memory_portal, "autre@example.org", code) == "no_match"  # the code is used up


def test_random_code_with_email_on_file_only_sends_there(memory_portal):
    subscriber = add_subscriber(memory_portal)
    with memory_portal.uow() as uow:
        s = uow.subscribers.get(subscriber.id)
        s.activation_code_hash = hash_activation_code("ABCD-EFGH-JKLM-NPQR")
        uow.subscribers.update(s)
        uow.commit()
    assert ask(memory_portal, "pirate@example.org", "ABCD-EFGH-JKLM-NPQR") == "no_match"
    assert ask(memory_portal, "marie@example.org", "abcd efgh jklm npqr") == "sent"
    assert outbox(memory_portal)[0].to == "marie@example.org"


def test_link_is_alive_at_ten_minutes_and_dead_one_second_later(memory_portal, clock):
    add_subscriber(memory_portal)
    ask(memory_portal, "marie@example.org", "100001")
    token = token_of(outbox(memory_portal)[0])
    clock.advance(minutes=10)
    assert check_link(memory_portal, token, TokenPurpose.PASSWORD)
    clock.advance(seconds=1)
    with pytest.raises(LinkInvalid):
        use(memory_portal, token)


@given(seconds=st.integers(min_value=0, max_value=3 * 600))
def test_expiry_boundary_property(seconds):
    from datetime import UTC, datetime

    from portail_adapters.memory import FixedClock, MemoryDatabase
    from tests.support import make_portal

    clock = FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    portal = make_portal(MemoryDatabase(), clock)
    add_subscriber(portal)
    ask(portal, "marie@example.org", "100001")
    token = token_of(outbox(portal)[0])
    clock.advance(seconds=seconds)
    if seconds <= 600:
        assert use(portal, token).login == "marie@example.org"
    else:
        with pytest.raises(LinkInvalid):
            use(portal, token)


def test_link_works_once_and_a_newer_link_kills_the_older(memory_portal):
    add_subscriber(memory_portal)
    ask(memory_portal, "marie@example.org", "100001")
    ask(memory_portal, "marie@example.org", "100001")
    first, second = (token_of(m) for m in outbox(memory_portal))
    assert first != second
    with pytest.raises(LinkInvalid):
        use(memory_portal, first)
    use(memory_portal, second)
    with pytest.raises(LinkInvalid):
        use(memory_portal, second)


def test_setting_the_password_ends_every_session_and_link_and_confirms_by_mail(memory_portal):
    add_subscriber(memory_portal, password="une-phrase-de-passe-solide")
    _, session = log_in(memory_portal, "marie@example.org", "une-phrase-de-passe-solide")
    ask(memory_portal, "marie@example.org", "100001")
    ask(memory_portal, "marie@example.org", "100001")
    token = token_of(outbox(memory_portal)[-1])
    use(memory_portal, token)
    assert resolve_session(memory_portal, session) is None
    assert outbox(memory_portal)[-1].subject.startswith("Votre mot de passe a été modifié")
    assert can_log_in(memory_portal, "marie@example.org", NEW)
    assert not can_log_in(memory_portal, "marie@example.org", "une-phrase-de-passe-solide")


def test_a_refused_password_keeps_the_link(memory_portal):
    add_subscriber(memory_portal)
    ask(memory_portal, "marie@example.org", "100001")
    token = token_of(outbox(memory_portal)[0])
    with pytest.raises(PasswordMismatch):
        use(memory_portal, token, NEW, NEW + "x")
    assert use(memory_portal, token).login == "marie@example.org"


def test_at_most_five_links_an_hour_per_subscriber(memory_portal, clock):
    add_subscriber(memory_portal)
    outcomes = [ask(memory_portal, "marie@example.org", "100001") for _ in range(7)]
    assert outcomes == ["sent"] * 5 + ["too_many"] * 2
    clock.advance(hours=1, seconds=1)
    assert ask(memory_portal, "marie@example.org", "100001") == "sent"
