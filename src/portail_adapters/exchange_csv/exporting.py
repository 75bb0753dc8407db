"""``export_csv``: what subscribers did, as CSV for the billing system (``;``, a header row).

Cells are safe to open in a spreadsheet by default (OWASP "CSV injection"): a text that a
spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` first, after any leading
spaces, or a tab or carriage return first) gets a leading ``'``. Plain numbers (``-12.5``)
are left alone. ``raw=True`` writes the cells unchanged, for a program that reads the file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from portail_domain.portal import Portal
from portail_domain.services.exchange import export_rows

_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+([.,][0-9]+)?")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it, never as a formula it would run."""
    if cell[:1] in ("\t", "\r") or (cell.lstrip().startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


def export_csv(portal: Portal, kind: str, out: TextIO, *, since: datetime | None = None, raw: bool = False) -> int:
    """Write an export of ``kind`` (``EXPORT_KINDS``: payments, readings, requests, audit, mandates) to ``out``;
    returns the number of rows.

    Text cells that a spreadsheet would run as formulas are neutralised unless ``raw``."""
    writer = csv.writer(out, delimiter=";", lineterminator="\n")

    def write(cells: Sequence[str]) -> None:
        writer.writerow(cells if raw else [spreadsheet_safe(str(cell)) for cell in cells])

    return export_rows(portal, kind, write, since=since)
