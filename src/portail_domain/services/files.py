"""The file store's housekeeping: ``portail files sweep`` deletes the objects no row points to."""

from __future__ import annotations

import itertools
from datetime import timedelta

from ..model.errors import StorageError
from ..model.files import ORPHAN_MIN_AGE, SWEEP_BATCH, SWEPT_PREFIX, StoredObject, SweepReport
from ..portal import Portal


def sweep_files(portal: Portal, *, delete: bool = False, min_age: timedelta = ORPHAN_MIN_AGE,
                batch: int = SWEEP_BATCH) -> SweepReport:
    """Find the stored objects older than ``min_age`` that no row points to; delete them with ``delete``.

    The listing is streamed and checked ``batch`` keys at a time (one read-only query each), so
    memory stays flat whatever the store holds. An object is deleted only if it was written before
    now minus ``min_age`` and no committed row holds its key at the check, a few seconds before the
    deletion: ``model.files`` says why an upload under way cannot be caught in between.
    ``min_age`` below ``ORPHAN_MIN_AGE`` is refused (ValueError).
    """
    if min_age < ORPHAN_MIN_AGE:
        raise ValueError(f"the age limit is at least {ORPHAN_MIN_AGE}")
    if portal.files is None:
        raise StorageError("no file store is configured")
    files = portal.files
    cutoff = portal.clock.now() - min_age  # fixed at the start: a long sweep only grows the margin
    found = referenced = orphans = size = too_young = 0
    listing = files.list_objects(SWEPT_PREFIX)
    while chunk := list(itertools.islice(listing, batch)):
        found += len(chunk)
        old = [o for o in chunk if o.old_enough(cutoff)]
        unheld = _orphans(portal, old)
        too_young += len(chunk) - len(old)
        referenced += len(old) - len(unheld)
        for orphan in unheld:
            if delete:
                files.delete(orphan.key)  # right after the check: see model.files for why that is safe
            orphans += 1
            size += orphan.size
    return SweepReport(found=found, referenced=referenced, too_young=too_young, orphans=orphans, bytes=size,
                       min_age=min_age, dry_run=not delete)


def _orphans(portal: Portal, candidates: list[StoredObject]) -> list[StoredObject]:
    """The candidates no committed row points to (one query for the whole batch)."""
    if not candidates:
        return []
    with portal.uow(read_only=True) as uow:
        held = uow.documents.referenced_keys([o.key for o in candidates])
    return [o for o in candidates if o.key not in held]
