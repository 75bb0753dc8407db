"""The parsers at the edge of the CSV exchange: dates, decimals, the delimiter."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_adapters.exchange_csv.cells import format_date, parse_date, parse_since
from portail_adapters.exchange_csv.reading import detect_delimiter
from portail_domain.model.errors import InvalidAmount, InvalidIndex
from portail_domain.model.values import MAX_INDEX_LITRES, MeterIndex, Money

dates = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@given(dates, st.sampled_from(["iso", "fr"]))
def test_a_formatted_date_parses_back_to_itself(day, style):
    assert parse_date(format_date(day, style)) == day


@given(dates)
def test_both_spellings_of_a_day_agree(day):
    assert parse_date(day.strftime("%d/%m/%Y")) == parse_date(day.isoformat()) == day


@pytest.mark.parametrize("text", ["31/02/2026", "2026-02-30", "29/02/2025", "00/01/2026", "2026-13-01"])
def test_an_impossible_date_is_refused_as_such(text):
    with pytest.raises(ValueError, match="not a real date"):
        parse_date(text)


@pytest.mark.parametrize("text", ["", "2026/03/10", "10-03-2026", "20260310", "2026-W10-1", "10/03/26", "hier"])
def test_other_spellings_are_not_dates(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD or DD/MM/YYYY"):
        parse_date(text)


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), st.sampled_from([".", ","]))
def test_euros_parse_back_to_the_exact_cents(cents, separator):
    text = str(Money(cents)).replace(".", separator)
    assert Money.parse(text) == Money(cents)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99), st.sampled_from([".", ","]))
def test_euros_with_one_or_two_decimals_are_exact(euros, cents, separator):
    short = f"{euros}{separator}{cents // 10}" if cents % 10 == 0 else f"{euros}{separator}{cents:02d}"
    assert Money.parse(short).cents == euros * 100 + cents


@pytest.mark.parametrize("text", ["12,345", "1e3", "12.3.4", "douze", "0x10", "NaN"])
def test_an_amount_that_is_not_euros_and_cents_is_refused(text):
    with pytest.raises(InvalidAmount):
        Money.parse(text)


@given(st.integers(min_value=0, max_value=MAX_INDEX_LITRES - 1), st.sampled_from([".", ","]))
def test_a_meter_index_parses_back_to_the_same_litres(litres, separator):
    assert MeterIndex.parse(str(MeterIndex(litres)).replace(".", separator)) == MeterIndex(litres)


@pytest.mark.parametrize("text", ["-1", "12,3456", "abc", "+5"])
def test_a_bad_index_is_refused(text):
    with pytest.raises(InvalidIndex):
        MeterIndex.parse(text)


COLUMNS = ["contract_number", "meter_number", "read_on", "index", "source"]
cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=12)


@given(st.sampled_from([";", ","]), st.permutations(COLUMNS), st.integers(min_value=2, max_value=5),
       st.lists(st.lists(cell, min_size=5, max_size=5), max_size=3))
def test_the_delimiter_a_file_was_written_with_is_found_again(delimiter, columns, width, rows):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns[:width])
    writer.writerows(row[:width] for row in rows)
    header = out.getvalue().splitlines()[0]
    assert detect_delimiter(header, COLUMNS) == delimiter


def test_a_comma_inside_a_column_name_does_not_fool_the_detection():
    assert detect_delimiter('contract_number;"meter, number";read_on', COLUMNS) == ";"
    assert detect_delimiter("contract_number,meter_number;x,read_on", COLUMNS) == ","


def test_since_is_midnight_at_the_utility_or_an_explicit_moment():
    assert parse_since("2026-03-10") == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # Paris is UTC+1 in March
    assert parse_since("10/07/2026") == datetime(2026, 7, 9, 22, 0, tzinfo=UTC)  # UTC+2 in July
    assert parse_since("2026-03-10T08:00:00+00:00") == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("yesterday")
