"""Subscriber support on the fakes: the search keys' rules, the card, the three account actions."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser, WebSession, hash_activation_code
from portail_domain.model.billing import Payment, PaymentStatus
from portail_domain.model.support import RECENT_READINGS, compact, fold, prefix_end, query_prefixes
from portail_domain.model.throttling import PER_EMAIL, email_key, link_key
from portail_domain.model.values import EmailAddress, Money
from portail_domain.services.accounts import log_in, resolve_session
from portail_domain.services.activation import request_password_link
from portail_domain.services.support import (
    end_subscriber_sessions,
    issue_activation_code,
    subscriber_card,
    unblock_login,
)
from tests.support import add_contract, add_invoice, add_subscriber

PASSWORD = "une phrase de passe solide"
STAFF = StaffUser(EmailAddress.parse("agent@eau-test.example"), "Paul Agent")


# --- the search keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "folded"), [
    ("Éloïse  D'Arc", "eloise d arc"),
    ("JEAN-MARC", "jean marc"),
    ("Straße", "strasse"),
    ("ﬁlm Ｂ", "film b"),  # compatibility forms
    ("  --  ", ""),
])
def test_fold_drops_case_accents_and_punctuation(text, folded):
    assert fold(text) == folded


def test_identifiers_are_compared_without_separators():
    assert compact("C-2026 001") == "c2026001"
    assert query_prefixes("C 2026-001") == ["c 2026 001", "c2026001"]
    assert query_prefixes("dupont") == ["dupont"]
    assert query_prefixes(" ¿? ") == []


@given(st.text(max_size=40))
def test_folding_is_stable_and_ignores_accents_and_case(text):
    once = fold(text)
    assert fold(once) == once
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    assert fold(bare.upper()) == fold(text) or not text.isascii()  # upper() of non-ASCII may not round-trip
    assert fold(text.upper()) == fold(text.lower()) or not text.isascii()


@given(st.text(min_size=1, max_size=10), st.text(max_size=10))
def test_every_string_with_a_prefix_is_inside_its_range(prefix, rest):
    assert prefix <= prefix + rest < prefix_end(prefix)


# --- the card ----------------------------------------------------------------------------------


def test_card_shows_what_the_subscriber_sees_and_the_account_state(memory_portal, clock):
    marie = add_subscriber(memory_portal, password=PASSWORD)
    contract, readings = add_contract(memory_portal, marie, "C-1", periods=10)
    invoice = add_invoice(memory_portal, marie, "F-1", contract_number="C-1")
    with memory_portal.uow() as uow:
        uow.payments.add(Payment(invoice.id, Money(12345), "simulator", "F-1", clock.now(), "op-1",
                                 PaymentStatus.REFUSED))
        uow.commit()
    before = subscriber_card(memory_portal, STAFF, "100001")
    assert not before.account.last_login_at and before.account.activated
    log_in(memory_portal, "marie@example.org", PASSWORD)
    clock.advance(minutes=5)
    card = subscriber_card(memory_portal, STAFF, "100001")
    assert card.subscriber.name == "Marie Dupont"
    assert card.account.last_login_at == clock.now() - timedelta(minutes=5)
    assert card.account.active_sessions == 1 and card.account.blocked_until is None
    (view,) = card.contracts
    assert view.contract.number == "C-1"
    assert [r.read_on for r in view.recent_readings] == sorted((r.read_on for r in readings),
                                                               reverse=True)[:RECENT_READINGS]
    (line,) = card.invoices
    assert line.invoice.number == "F-1" and [p.status for p in line.payments] == [PaymentStatus.REFUSED]
    assert card.documents == [] and card.requests == []


def test_card_of_an_unknown_number_is_not_found(memory_portal):
    with pytest.raises(errors.NotFound):
        subscriber_card(memory_portal, STAFF, "999999")
    for number in ("", "100001\x00", "\ud800"):
        with pytest.raises(errors.NotFound):
            subscriber_card(memory_portal, STAFF, number)


def test_card_of_a_subscriber_without_account(memory_portal):
    add_subscriber(memory_portal, email=None)
    card = subscriber_card(memory_portal, STAFF, "100001")
    assert not card.account.activated and card.account.active_sessions == 0 and card.account.failures == 0


# --- the actions -------------------------------------------------------------------------------


def _fail_logins(portal, clock, count: int) -> None:
    for _ in range(count):
        with pytest.raises(errors.DomainError):
            log_in(portal, "marie@example.org", "wrong password here")
        clock.advance(minutes=2)  # past the growing delay, so that each try counts


def test_a_blocked_login_shows_on_the_card_and_unblocking_lets_the_subscriber_in(memory_portal, clock):
    add_subscriber(memory_portal, password=PASSWORD)
    _fail_logins(memory_portal, clock, PER_EMAIL.block_at)
    card = subscriber_card(memory_portal, STAFF, "100001")
    assert card.account.failures == PER_EMAIL.block_at
    assert card.account.blocked_until is not None and card.account.blocked_until > clock.now()
    with pytest.raises(errors.DomainError):
        log_in(memory_portal, "marie@example.org", PASSWORD)  # still blocked
    assert unblock_login(memory_portal, STAFF, "100001") == PER_EMAIL.block_at
    assert subscriber_card(memory_portal, STAFF, "100001").account.blocked_until is None
    log_in(memory_portal, "marie@example.org", PASSWORD)


def test_unblocking_also_forgets_the_link_requests(memory_portal, clock):
    marie = add_subscriber(memory_portal)
    for _ in range(6):
        request_password_link(memory_portal, "marie@example.org", "100001")
    with memory_portal.uow() as uow:
        assert uow.throttles.get(link_key(marie.id)) is not None
    unblock_login(memory_portal, STAFF, "100001")
    with memory_portal.uow() as uow:
        assert uow.throttles.get(link_key(marie.id)) is None
        assert uow.throttles.get(email_key("marie@example.org")) is None
    assert request_password_link(memory_portal, "marie@example.org", "100001") == "sent"


def test_ending_the_sessions_logs_the_subscriber_out_everywhere(memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    tokens = [log_in(memory_portal, "marie@example.org", PASSWORD)[1] for _ in range(2)]
    assert all(resolve_session(memory_portal, t) for t in tokens)
    assert end_subscriber_sessions(memory_portal, STAFF, "100001") == 2
    assert not any(resolve_session(memory_portal, t) for t in tokens)
    assert subscriber_card(memory_portal, STAFF, "100001").account.active_sessions == 0
    add_subscriber(memory_portal, "100002", email=None)
    assert end_subscriber_sessions(memory_portal, STAFF, "100002") == 0


def test_a_new_activation_code_replaces_the_former_and_only_its_hash_is_kept(memory_portal):
    add_subscriber(memory_portal, email=None)
    first = issue_activation_code(memory_portal, STAFF, "100001")
    second = issue_activation_code(memory_portal, STAFF, "100001")
    assert first.code != second.code and len(second.code.replace("-", "")) == 16
    with memory_portal.uow() as uow:
        stored = uow.subscribers.by_number("100001")
    assert stored.activation_code_hash == hash_activation_code(second.code)
    assert second.code not in repr(stored) and second.code not in repr(second)
    # the new code claims the account (no e-mail on file), the former one does not
    assert request_password_link(memory_portal, "marie@example.org", first.code) == "no_match"
    assert request_password_link(memory_portal, "marie@example.org", second.code) == "sent"
    assert subscriber_card(memory_portal, STAFF, "100001").account.has_activation_code


def test_actions_on_an_unknown_subscriber_change_nothing(memory_portal):
    for action in (issue_activation_code, unblock_login, end_subscriber_sessions):
        with pytest.raises(errors.NotFound):
            action(memory_portal, STAFF, "nobody")


def test_dead_sessions_do_not_count_as_open(memory_portal, clock):
    marie = add_subscriber(memory_portal, password=PASSWORD)
    with memory_portal.uow() as uow:
        account = uow.accounts.for_subscriber(marie.id)
        old = clock.now() - timedelta(days=1)
        uow.sessions.add(WebSession("x" * 64, account.id, old, old))
        uow.commit()
    assert subscriber_card(memory_portal, STAFF, "100001").account.active_sessions == 0


# --- the audit log -----------------------------------------------------------------------------


def _journal(portal) -> list:
    with portal.uow(read_only=True) as uow:
        return list(uow.audit.since(None))


def test_every_view_and_action_is_in_the_audit_log_and_never_the_code(memory_portal, clock):
    add_subscriber(memory_portal, password=PASSWORD)
    subscriber_card(memory_portal, STAFF, "100001")
    clock.advance(seconds=1)  # entries at the same moment have no order of their own
    letter = issue_activation_code(memory_portal, STAFF, "100001")
    clock.advance(seconds=1)
    issue_activation_code(memory_portal, STAFF, "100001")
    log_in(memory_portal, "marie@example.org", PASSWORD)
    _fail_logins(memory_portal, clock, 2)
    unblock_login(memory_portal, STAFF, "100001")
    clock.advance(seconds=1)
    end_subscriber_sessions(memory_portal, STAFF, "100001")
    entries = _journal(memory_portal)
    assert [(e.action.value, e.before, e.after) for e in entries] == [
        ("subscriber.view", {}, {}),
        ("subscriber.activation_code", {"activation_code": "none"}, {"activation_code": "new"}),
        ("subscriber.activation_code", {"activation_code": "pending"}, {"activation_code": "new"}),
        ("subscriber.unblock", {"login_failures": "2", "link_requests": "0"},
         {"login_failures": "0", "link_requests": "0"}),
        ("subscriber.end_sessions", {"sessions": "1"}, {"sessions": "0"}),
    ]
    assert {(e.staff_email, e.subscriber_number) for e in entries} == {("agent@eau-test.example", "100001")}
    assert not any(letter.code in str(e.cells()) for e in entries)


def test_nothing_is_logged_for_an_unknown_subscriber(memory_portal):
    for action in (subscriber_card, issue_activation_code, unblock_login, end_subscriber_sessions):
        with pytest.raises(errors.NotFound):
            action(memory_portal, STAFF, "nobody")
    assert _journal(memory_portal) == []
