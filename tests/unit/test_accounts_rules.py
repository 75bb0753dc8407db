"""Password policy, login throttling, e-mail normalisation, personal data: the rules on fakes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from portail_domain.model.accounts import InvalidPhone, InvalidPostalCode, LoginFailed, LoginThrottled, PersonalData
from portail_domain.model.errors import InvalidFields
from portail_domain.model.limits import Limits
from portail_domain.model.password_policy import (
    PasswordMismatch,
    PasswordPersonal,
    PasswordRejected,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooShort,
    check_password,
)
from portail_domain.model.throttling import PER_EMAIL, LoginAttempts
from portail_domain.model.values import EmailAddress, normalise_email
from portail_domain.services.accounts import log_in, update_personal_data
from tests.support import add_subscriber

GOOD = "une-phrase-de-passe-solide"


def check(password, **kw):
    return check_password(password, password, **kw)


def test_policy_accepts_a_long_passphrase_and_normalises_it():
    assert check("ﬁne ﬂowers in the garden") == "fine flowers in the garden"  # NFKC ligatures


@pytest.mark.parametrize(("password", "error"), [
    ("court-11car", PasswordTooShort),
    ("x" * 129, PasswordTooLong),
    ("azertyuiop123", PasswordTooCommon),
    ("MotDePasse2026!", PasswordTooCommon),
    ("123456789012", PasswordTooCommon),
    ("abababababab", PasswordTooCommon),
    ("mon-numero-100001-secret", PasswordPersonal),
    ("marie.dupont@example.org-secret", PasswordPersonal),
    ("MARIE.DUPONT et les autres", PasswordPersonal),
    ("régie des eaux de test !!", PasswordPersonal),
])
def test_policy_refuses_with_the_reason(password, error):
    with pytest.raises(error):
        check(password, subscriber_number="100001", email="marie.dupont@example.org",
              utility_name="Régie des Eaux de Test")


def test_policy_refuses_a_confirmation_that_differs():
    with pytest.raises(PasswordMismatch):
        check_password(GOOD, GOOD + " ")


def test_length_counts_characters_after_nfkc_and_128_is_accepted_whole():
    assert check("éèêë" * 32) == "éèêë" * 32
    decomposed = "e\u0301a\u0301o\u0301u\u0301"  # 8 code points, 4 letters once composed
    assert check(decomposed * 3) == "éáóú" * 3
    with pytest.raises(PasswordTooShort):
        check(decomposed * 2 + "e\u0301a\u0301o\u0301")  # 22 code points, 11 characters


@given(st.text(min_size=12, max_size=128).filter(lambda p: len(set(p)) >= 4))
def test_any_long_enough_uncommon_password_is_kept_equal_after_nfkc(password):
    import unicodedata

    normalised = unicodedata.normalize("NFKC", password)
    assume(12 <= len(normalised) <= 128 and len(set(normalise_email(normalised))) >= 4)
    try:
        assert check(password) == normalised
    except PasswordTooCommon:
        pass


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=10))
def test_the_subscriber_number_is_never_accepted_inside_a_password(number):
    with pytest.raises(PasswordRejected):
        check(f"arrosoir-{number}-du-jardin", subscriber_number=number)


# --- throttling ---------------------------------------------------------------------------

T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_delay_grows_then_blocks_for_fifteen_minutes():
    waits = [PER_EMAIL.wait(LoginAttempts("k", n, T0), T0).total_seconds() for n in range(1, 12)]
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 900, 900]
    assert PER_EMAIL.wait(LoginAttempts("k", 10, T0), T0 + timedelta(minutes=15)) == timedelta(0)
    assert PER_EMAIL.wait(LoginAttempts("k", 9, T0), T0 + timedelta(seconds=31)).total_seconds() == 1


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=10_000))
def test_wait_never_negative_and_never_beyond_the_block(failures, elapsed):
    wait = PER_EMAIL.wait(LoginAttempts("k", failures, T0), T0 + timedelta(seconds=elapsed))
    assert timedelta(0) <= wait <= PER_EMAIL.block_for


def attempt(portal, email, password, client="10.0.0.1"):
    return log_in(portal, email, password, client=client)


def test_login_failures_slow_down_then_block_even_the_right_password(memory_portal, clock):
    add_subscriber(memory_portal, password=GOOD)
    for _ in range(4):
        with pytest.raises(LoginFailed) as caught:
            attempt(memory_portal, "marie@example.org", "mauvais")
        assert not isinstance(caught.value, LoginThrottled)
    with pytest.raises(LoginFailed):
        attempt(memory_portal, "marie@example.org", "mauvais")  # 5th failure: now a delay
    with pytest.raises(LoginThrottled) as caught:
        attempt(memory_portal, "marie@example.org", GOOD)
    assert caught.value.retry_after == 2 and not caught.value.blocked
    for _ in range(5):  # failures 6..10, each after its delay
        clock.advance(minutes=1)
        with pytest.raises(LoginFailed):
            attempt(memory_portal, "marie@example.org", "mauvais")
    clock.advance(minutes=14)
    with pytest.raises(LoginThrottled) as caught:
        attempt(memory_portal, "MARIE@example.org ", GOOD)  # same key whatever the case
    assert caught.value.blocked and caught.value.retry_after == 60
    clock.advance(minutes=1)
    account, token = attempt(memory_portal, "marie@example.org", GOOD)
    assert token
    with pytest.raises(LoginFailed) as caught:  # success forgot the e-mail's failures
        attempt(memory_portal, "marie@example.org", "mauvais")
    assert not isinstance(caught.value, LoginThrottled)


def test_unknown_addresses_are_throttled_like_real_ones(memory_portal):
    for _ in range(5):
        with pytest.raises(LoginFailed):
            attempt(memory_portal, "personne@example.org", "mauvais")
    with pytest.raises(LoginThrottled):
        attempt(memory_portal, "personne@example.org", "mauvais")


def test_one_client_trying_many_addresses_is_blocked(memory_portal, clock):
    add_subscriber(memory_portal, password=GOOD)
    for n in range(100):
        clock.advance(seconds=1)
        with pytest.raises(LoginFailed):
            attempt(memory_portal, f"victime{n}@example.org", "mauvais", client="203.0.113.9")
    with pytest.raises(LoginThrottled):
        attempt(memory_portal, "marie@example.org", GOOD, client="203.0.113.9")
    assert attempt(memory_portal, "marie@example.org", GOOD, client="198.51.100.7")[1]


def test_counters_are_forgotten_after_an_hour_without_failure(memory_portal, clock):
    for _ in range(9):
        with pytest.raises(LoginFailed):
            attempt(memory_portal, "x@example.org", "mauvais")
        clock.advance(minutes=2)
    clock.advance(hours=1, seconds=1)
    with memory_portal.uow() as uow:
        attempts = uow.throttles.hit("email:x@example.org", clock.now(), PER_EMAIL.window)
    assert attempts.failures == 1


# --- e-mail normalisation ------------------------------------------------------------------


def test_dotless_i_never_reaches_mike():
    assert normalise_email("mıke@example.org") != normalise_email("mike@example.org")
    assert normalise_email("MIKE@Example.ORG") == "mike@example.org"
    assert normalise_email("ｍｉｋｅ@example.org") == "mike@example.org"  # full-width letters fold by NFKC


@given(st.text(max_size=40))
def test_normalisation_is_idempotent(text):
    once = normalise_email(text)
    assert normalise_email(once) == once


def test_login_with_a_look_alike_address_fails(memory_portal):
    add_subscriber(memory_portal, email="mike@example.org", password=GOOD)
    with pytest.raises(LoginFailed):
        attempt(memory_portal, "mıke@example.org", GOOD)
    assert attempt(memory_portal, "MIKE@example.org", GOOD)[1]
    assert EmailAddress.parse("Mike@Example.org").normalised == "mike@example.org"


# --- personal data -------------------------------------------------------------------------


def test_personal_data_changes_only_its_fields(memory_portal):
    subscriber = add_subscriber(memory_portal)
    data = PersonalData(" 06 12  34 56 78 ", "3 rue  du Moulin", "34230", "Paulhan", "en", True)
    update_personal_data(memory_portal, subscriber.id, data)
    with memory_portal.uow() as uow:
        s = uow.subscribers.get(subscriber.id)
    assert (s.phone, s.address, s.postal_code, s.city, s.language.value, s.paperless) == (
        "06 12 34 56 78", "3 rue du Moulin", "34230", "Paulhan", "en", True)
    assert (s.name, s.number, s.email.address) == ("Marie Dupont", "100001", "marie@example.org")


@pytest.mark.parametrize(("data", "codes"), [
    (PersonalData("appelez-moi", "", "", "", "fr", False), [InvalidPhone.code]),
    (PersonalData("", "", "<script>", "", "fr", False), [InvalidPostalCode.code]),
    (PersonalData("", "", "ABC", "", "fr", False), [InvalidPostalCode.code]),
    (PersonalData("", "", "3423", "", "fr", False), [InvalidPostalCode.code]),
    (PersonalData("", "", "342300", "", "fr", False), [InvalidPostalCode.code]),
    (PersonalData("x", "", "ABC", "", "xx", False), [InvalidPhone.code, InvalidPostalCode.code, "invalid_language"]),
])
def test_bad_personal_data_is_refused_naming_every_bad_field(memory_portal, data, codes):
    subscriber = add_subscriber(memory_portal)
    with pytest.raises(InvalidFields) as refused:
        update_personal_data(memory_portal, subscriber.id, data)
    assert [p.code for p in refused.value.problems] == codes
    with memory_portal.uow() as uow:
        assert uow.subscribers.get(subscriber.id).postal_code == subscriber.postal_code  # nothing half-saved


@given(st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_any_five_digits_is_a_postal_code(code):
    assert PersonalData("", "", f" {code} ", "", "fr", False).checked().postal_code == code


@given(st.text(max_size=12).filter(lambda s: not re.fullmatch(r"[0-9]{5}", "".join(s.split())) and s.strip()))
def test_anything_else_is_not(code):
    with pytest.raises(InvalidFields):
        PersonalData("", "", code, "", "fr", False).checked()


# --- sessions ------------------------------------------------------------------------------


@given(idle=st.integers(min_value=0, max_value=7200), age=st.integers(min_value=0, max_value=50_000))
def test_session_lives_30_minutes_idle_and_12_hours_at_most(idle, age):
    from portail_domain.model.accounts import WebSession

    created = T0
    last_seen = T0 + timedelta(seconds=max(0, age - idle))
    now = T0 + timedelta(seconds=max(age, idle))
    session = WebSession("h", uuid4(), created, last_seen)
    expected = (now - last_seen) <= timedelta(minutes=30) and (now - created) <= timedelta(hours=12)
    assert session.alive(now, Limits()) is expected


def test_session_boundaries_exactly():
    from portail_domain.model.accounts import WebSession

    session = WebSession("h", uuid4(), T0, T0)
    limits = Limits()
    assert session.alive(T0 + timedelta(minutes=30), limits)
    assert not session.alive(T0 + timedelta(minutes=30, seconds=1), limits)
    session.last_seen_at = T0 + timedelta(hours=11, minutes=59)
    assert session.alive(T0 + timedelta(hours=12), limits)
    assert not session.alive(T0 + timedelta(hours=12, seconds=1), limits)


def test_unknown_and_known_addresses_cost_the_same_hashing_work(memory_portal):
    """One verification per try, whoever asks: no extra hash for an unknown address (a timing tell)."""
    from portail_adapters.memory import PlainPasswordHasher

    calls: list[str] = []

    class Counting(PlainPasswordHasher):
        def hash(self, password):
            calls.append("hash")
            return super().hash(password)

        def verify(self, stored_hash, password):
            calls.append("verify")
            return stored_hash == PlainPasswordHasher.hash(self, password)

    memory_portal.passwords = Counting()
    add_subscriber(memory_portal, password=GOOD)
    with pytest.raises(LoginFailed):
        attempt(memory_portal, "personne@example.org", GOOD, client="a")  # warms the dummy hash once
    counts = []
    for email in ("personne@example.org", "marie@example.org", "autre@example.org"):
        calls.clear()
        with pytest.raises(LoginFailed):
            attempt(memory_portal, email, "mauvais-mot-de-passe", client="b")
        counts.append(list(calls))
    assert counts == [["verify"]] * 3
