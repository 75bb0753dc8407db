"""Exchange with the billing system (logiciel de facturation): import and export use cases.

The billing system is the source of truth for subscribers, contracts, readings and invoices;
it feeds the portal with files that an adapter reads into typed rows (``import_rows``), and
takes back what subscribers did (``export_rows``). The file format is the adapter's
(``portail_adapters.exchange_csv``, which embedding systems call with a path or a stream).

An import is all or nothing: the rows come in chunks inside ONE transaction, every row is
checked by the domain's rules, valid rows are written chunk by chunk (so later rows are checked
against earlier ones), and any problem rolls everything back. Memory stays bounded by the chunk
size, not by the file size: rows already seen are remembered by the storage
(``ExchangeRepository.remember_keys``), not in a Python set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from ..model.audit import AuditEntry
from ..model.exchange import (
    EXPORT_KINDS,
    IMPORT_KINDS,
    ImportLimits,
    ImportSummary,
    MandateLine,
    PaymentLine,
    ReadingLine,
    RequestLine,
)
from ..model.relief import ReliefLine
from ..portal import Portal
from ..ports import ImportSource, UnitOfWork
from .exchange_contracts import ContractsImport
from .exchange_importer import Importer, Problems
from .exchange_invoices import InvoicesImport
from .exchange_readings import ReadingsImport
from .exchange_schedules import SchedulesImport
from .exchange_subscribers import SubscribersImport

IMPORTERS: dict[str, type[Importer]] = {
    "subscribers": SubscribersImport,
    "contracts": ContractsImport,
    "readings": ReadingsImport,
    "invoices": InvoicesImport,
    "schedules": SchedulesImport,
}


def import_rows(portal: Portal, source: ImportSource, *, limits: ImportLimits | None = None) -> ImportSummary:
    """Import the rows of one billing-system file (§7 of the design), all or nothing.

    Returns what changed; raises ``ImportRejected`` (nothing imported) listing each problem,
    the cells the adapter could not read and the rows the rules refuse alike.
    """
    if source.kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {source.kind!r} (one of {', '.join(IMPORT_KINDS)})")
    limits = limits or ImportLimits()
    problems = Problems(limits.max_problems)
    with portal.uow() as uow:
        importer = IMPORTERS[source.kind](uow, portal, problems, limits)
        try:
            header = source.read_header()
            problems.extend(header.problems)
            if not problems:
                importer.start(header.fields)
                for chunk in source.chunks():
                    problems.extend(chunk.problems)
                    importer.add(chunk.rows)
            if problems:
                raise problems.rejected(source.name)
            importer.finish()  # in the same transaction: all or nothing still holds
            uow.commit()
        except BaseException:
            importer.discard()
            raise
    importer.committed()
    return ImportSummary(source.kind, source.rows, importer.created, importer.updated, importer.unchanged,
                         importer.alerts, importer.mails)


def export_lines(uow: UnitOfWork, kind: str, since: datetime | None = None) -> Iterator[Any]:
    """The lines of an export, in a stable order (the same data gives the same lines).

    ``since`` keeps what was recorded at or after it: payments by ``paid_at``, readings by
    ``recorded_at``, requests by their last change (``updated_at``, else ``created_at``), audit
    entries by when they were written, mandates signed or revoked since then (a revocation brings its
    mandate back, status revoked).
    """
    if kind == "payments":
        return uow.exchange.paid_payments(since)
    if kind == "readings":
        return uow.exchange.subscriber_readings(since)
    if kind == "requests":
        return uow.exchange.request_lines(since)
    if kind == "audit":  # the staff's audit log (journal), entry by entry
        return uow.audit.since(since)
    if kind == "mandates":
        return uow.mandates.lines(since)
    if kind == "relief":  # écrêtement decisions, for the billing system to apply
        return uow.relief.lines(since)
    raise ValueError(f"unknown export kind {kind!r} (one of {', '.join(EXPORT_KINDS)})")


_HEADERS = {"payments": PaymentLine.header, "readings": ReadingLine.header, "requests": RequestLine.header,
            "audit": AuditEntry.header, "mandates": MandateLine.header, "relief": ReliefLine.header}


def export_rows(portal: Portal, kind: str, write: Callable[[Sequence[str]], object], *,
                since: datetime | None = None) -> int:
    """Hand ``write`` the header, then the cells of every line of an export; returns the number of lines."""
    rows = 0
    with portal.uow() as uow:
        lines = export_lines(uow, kind, since)
        write(_HEADERS[kind])
        for line in lines:
            write(line.cells())
            rows += 1
    return rows
