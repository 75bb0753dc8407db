"""``export_csv``: what subscribers did, as CSV for the billing system (``;``, a header row)."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from portail_domain.portal import Portal
from portail_domain.services.exchange import export_rows


def export_csv(portal: Portal, kind: str, out: TextIO, *, since: datetime | None = None) -> int:
    """Write an export of ``kind`` (``EXPORT_KINDS``: payments, readings, requests, audit, mandates) to ``out``;
    returns the number of rows."""
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    return export_rows(portal, kind, writer.writerow, since=since)
