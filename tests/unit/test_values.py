from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.errors import InvalidAmount, InvalidEmail, InvalidIndex
from portail_domain.model.values import MAX_INDEX_LITRES, EmailAddress, MeterIndex, Money, normalise_email

cents = st.integers(min_value=-(10**12), max_value=10**12)


@given(cents)
def test_money_text_round_trip(value):
    assert Money.parse(str(Money(value))) == Money(value)


@given(cents, st.sampled_from([",", "."]))
def test_money_parses_both_decimal_marks(value, mark):
    text = str(Money(value)).replace(".", mark)
    assert Money.parse(text).cents == value


@given(cents, cents, cents)
def test_money_addition_is_exact_and_associative(a, b, c):
    assert (Money(a) + Money(b)) + Money(c) == Money(a) + (Money(b) + Money(c)) == Money(a + b + c)
    assert Money(a) - Money(a) == Money.zero()


def test_money_refuses_what_it_cannot_hold_exactly():
    assert Money.parse("0,10") + Money.parse("0,20") == Money.parse("0,30")  # no float drift
    assert Money.parse("12,5").cents == 1250
    assert Money.parse("1 234,56").cents == 123456
    for bad in ["", "abc", "1,234", "12.345", "1e3", "12,3,4", "--1"]:
        with pytest.raises(InvalidAmount):
            Money.parse(bad)
    assert Money.from_decimal(Decimal("7.10")) == Money(710)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_meter_index_round_trip(litres):
    index = MeterIndex(litres)
    assert MeterIndex.parse(str(index)) == index
    assert MeterIndex.parse(str(index).replace(".", ",")) == index


@pytest.mark.parametrize("bad", ["-1", "abc", "12,3456", "1e9", "", "12.5.6", "+3"])
def test_meter_index_refuses_bad_text(bad):
    with pytest.raises(InvalidIndex):
        MeterIndex.parse(bad)


def test_meter_index_cannot_be_negative_or_huge():
    with pytest.raises(InvalidIndex):
        MeterIndex(-1)
    with pytest.raises(InvalidIndex):
        MeterIndex(10**12)


@given(st.text(max_size=60))
def test_email_normalisation_is_idempotent(text):
    once = normalise_email(text)
    assert normalise_email(once) == once


def test_email_compared_after_nfkc_and_casefold():
    assert EmailAddress.parse("Marie.Dupont@Example.ORG") == EmailAddress.parse("marie.dupont@example.org")
    assert EmailAddress.parse("ｍａｒｉｅ@example.org").normalised == "marie@example.org"  # full-width letters
    # The dotless i does not fold into an ASCII i: mıke@ never reaches mike@.
    assert normalise_email("mıke@example.org") != normalise_email("mike@example.org")
    assert EmailAddress.parse("Marie@Example.org").address == "Marie@Example.org"  # sent as typed


@pytest.mark.parametrize("bad", ["", "marie", "marie@", "@example.org", "a b@example.org", "m@x", "a@b@c.fr",
                                 "m@example.org\r\nBcc: x@y.fr", "x" * 250 + "@example.org"])
def test_email_refuses_what_is_not_an_address(bad):
    with pytest.raises(InvalidEmail):
        EmailAddress.parse(bad)


@given(st.integers(0, MAX_INDEX_LITRES - 1), st.integers(0, MAX_INDEX_LITRES - 1))
def test_indexes_order_as_their_litres(a, b):
    first, second = MeterIndex(a), MeterIndex(b)
    assert (first < second, first <= second, first > second, first >= second, first == second) == (
        a < b, a <= b, a > b, a >= b, a == b)
    assert sorted([second, first]) == [MeterIndex(v) for v in sorted([b, a])]


def test_an_index_does_not_compare_with_a_bare_number():
    with pytest.raises(TypeError):
        assert MeterIndex(1000) < 2000
