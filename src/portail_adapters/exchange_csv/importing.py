"""``import_csv`` / ``import_stream``: a billing-system CSV file into the portal, all or nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from portail_domain.model.exchange import IMPORT_KINDS, ImportLimits, ImportRejected, ImportSummary, Problem
from portail_domain.portal import Portal
from portail_domain.services.exchange import import_rows

from ..sql import SqlUnitOfWorkFactory, refresh_statistics
from .formats import FORMATS
from .reading import CsvSource, Progress


def import_csv(
    portal: Portal,
    kind: str,
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    limits: ImportLimits | None = None,
) -> ImportSummary:
    """Import one billing-system CSV file of ``kind`` (§7 of the design), all or nothing.

    Returns what changed; raises ``ImportRejected`` (nothing imported) listing each problem.
    """
    path = Path(path)
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportRejected(name, [Problem(None, "", f"cannot read the file ({exc.strerror})")]) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        return import_stream(portal, kind, handle, name=name, base_dir=path.parent, size=size, progress=progress,
                             limits=limits)


def import_stream(
    portal: Portal,
    kind: str,
    stream: BinaryIO,
    *,
    name: str,
    base_dir: Path | None = None,
    size: int = 0,
    progress: Progress | None = None,
    limits: ImportLimits | None = None,
) -> ImportSummary:
    """``import_csv`` on an open binary stream; ``base_dir`` anchors invoice ``pdf_file`` paths."""
    if kind not in FORMATS:
        raise ValueError(f"unknown import kind {kind!r} (one of {', '.join(IMPORT_KINDS)})")
    limits = limits or ImportLimits()
    source = CsvSource(kind, stream, name=name, format=FORMATS[kind], base_dir=base_dir, size=size,
                       chunk_rows=limits.chunk_rows, progress=progress)
    summary = import_rows(portal, source, limits=limits)
    if summary.created and isinstance(portal.uow, SqlUnitOfWorkFactory):
        refresh_statistics(portal.uow.engine)  # the new rows planned as what they are from the first page on
    return summary
