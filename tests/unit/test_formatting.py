"""The fast formatters give exactly what Babel gives (French U+202F / U+00A0, English)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.values import Money
from portail_web import formatting
from portail_web.formatting import LOCALES, PARIS, day, moment, money, number

languages = st.sampled_from(sorted(LOCALES))


@given(st.integers(-10**13, 10**13), languages)
def test_money_is_babels(cents, language):
    expected = format_currency(Money(cents).as_decimal(), "EUR", locale=LOCALES[language])
    assert money(Money(cents), language) == expected


@given(st.dates(date(1, 1, 1), date(9999, 12, 31)), languages)
def test_dates_are_babels(value, language):
    assert day(value, language) == format_date(value, "medium", locale=LOCALES[language])


@given(st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)), languages)
def test_moments_are_babels(value, language):
    assert moment(value, language) == format_datetime(value, "short", tzinfo=PARIS, locale=LOCALES[language])


@given(
    st.one_of(
        st.decimals(-10**12, 10**12, places=5, allow_nan=False),
        st.integers(-10**12, 10**12),
        st.floats(-1e9, 1e9, allow_nan=False),
        st.fractions(max_denominator=1000).filter(lambda f: abs(f) < 10**9),
    ),
    st.integers(0, 3),
    languages,
)
def test_numbers_are_babels(value, places, language):
    as_decimal = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    pattern = "#,##0" + ("." + "0" * places if places else "")
    assert number(value, language, places) == format_decimal(as_decimal, format=pattern, locale=LOCALES[language])


@given(st.integers(-10**12, 10**12), languages)
def test_volumes_are_babels(litres, language):
    places = 0 if litres % 1000 == 0 else 3
    pattern = "#,##0" + ("." + "0" * places if places else "")
    expected = format_decimal(Decimal(litres).scaleb(-3), format=pattern, locale=LOCALES[language])
    assert formatting.m3(litres, language) == expected


def test_the_french_layout_uses_the_typographic_spaces():
    assert money(Money(-123456789), "fr") == "-1\u202f234\u202f567,89\u00a0€"
    assert money(Money(5), "en") == "€0.05"
    assert number(Decimal("0.5"), "fr") == "0" and number(Decimal("1.5"), "fr") == "2"  # half to even
    assert formatting.m3(Decimal(1234567), "fr") == "1\u202f234,567"
    assert moment(datetime(2026, 1, 5, 9, 3, tzinfo=UTC), "en") == "05/01/2026, 10:03"
