"""Stored objects and the sweep of orphans: objects no row points to, left by an interrupted upload.

Every file the portal keeps is written in two steps: the object first, then the row that points to
it (a document's storage key), committed a few seconds later. A worker killed between the two, a
commit that fails and a store that fails to delete behind it, a retention run stopped between its
commit and its deletions: each leaves an object that nothing points to. The sweep finds them.

Why an age limit makes it safe: the sweep checks the database, then deletes. An upload whose
object exists but whose row is not committed yet looks like an orphan at the moment of the check;
if its row commits between the check and the deletion, the row would point to nothing. Uploads
commit within seconds of writing their object, so an object older than ``ORPHAN_MIN_AGE`` whose
key no committed row holds will never get one: only those are deleted. What would break this is a
transaction that writes an object and commits more than that long after: an invoice import with
its PDFs is one transaction, so the sweep runs after the nightly imports, never beside them
(``--older-than`` raises the limit when an import may take longer).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

ORPHAN_MIN_AGE = timedelta(hours=1)  # an upload commits within seconds of writing its object
SWEPT_PREFIX = "documents/"  # every key the portal keeps a file under (model.documents.new_storage_key)
SWEEP_BATCH = 500  # keys checked against the database in one query


@attrs.frozen
class StoredObject:
    """One object of a file store, as its listing gives it."""

    key: str
    size: int  # bytes
    modified_at: datetime  # when it was written, timezone-aware (the store's clock)

    def old_enough(self, cutoff: datetime) -> bool:
        """Written before ``cutoff`` (now minus the age limit): its upload has committed or died."""
        return self.modified_at < cutoff


@attrs.frozen
class SweepReport:
    """What one sweep found and did (or would do, in a dry run)."""

    found: int = 0  # objects listed under SWEPT_PREFIX
    referenced: int = 0  # kept: a row points to them
    too_young: int = 0  # kept: written less than ``min_age`` ago (their upload may not have committed)
    orphans: int = 0  # neither: deleted (a dry run: would be)
    bytes: int = 0  # the orphans' total size
    min_age: timedelta = ORPHAN_MIN_AGE
    dry_run: bool = True

    def line(self) -> str:
        hours = self.min_age / timedelta(hours=1)
        verb = "would delete" if self.dry_run else "deleted"
        return (f"files sweep: {self.found} objects found, {self.referenced} kept as referenced, {self.too_young} kept "
                f"as younger than {hours:g} h, {verb} {self.orphans} orphans, {self.bytes} bytes")
