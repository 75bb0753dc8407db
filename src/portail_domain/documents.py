"""Documents (Mes documents): a folder tree per subscriber and the files in it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

import attrs

if TYPE_CHECKING:
    from .ports import Clock, FileStore, UnitOfWork


class FolderKind(enum.StrEnum):
    CONTRACTS = "contracts"  # Contrats
    INVOICES = "invoices"  # Factures
    LETTERS = "letters"  # Courriers
    UPLOADS = "uploads"  # Mes envois
    OTHER = "other"


# The folders every subscriber has, in display order (names as shown, in French first).
DEFAULT_FOLDERS: tuple[tuple[FolderKind, str], ...] = (
    (FolderKind.CONTRACTS, "Contrats"),
    (FolderKind.INVOICES, "Factures"),
    (FolderKind.LETTERS, "Courriers"),
    (FolderKind.UPLOADS, "Mes envois"),
)


@attrs.define(eq=False)
class DocumentFolder:
    subscriber_id: uuid.UUID
    name: str
    kind: FolderKind = FolderKind.OTHER
    parent_id: uuid.UUID | None = None
    position: int = 0
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


class AddedBy(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    UTILITY = "utility"


@attrs.define(eq=False)
class Document:
    """A stored file. ``storage_key`` is generated; ``filename`` is for display only."""

    subscriber_id: uuid.UUID
    folder_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    added_by: AddedBy
    added_at: datetime
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)


def ensure_default_folders(uow: UnitOfWork, subscriber_id: uuid.UUID) -> list[DocumentFolder]:
    """Create the standard folders a subscriber lacks; return all their folders."""
    existing = list(uow.folders.for_subscriber(subscriber_id))
    have = {f.kind for f in existing if f.parent_id is None}
    for position, (kind, name) in enumerate(DEFAULT_FOLDERS):
        if kind not in have:
            folder = DocumentFolder(subscriber_id=subscriber_id, name=name, kind=kind, position=position)
            uow.folders.add(folder)
            existing.append(folder)
    return existing


def new_storage_key(document_id: uuid.UUID) -> str:
    """Storage keys are generated, never taken from a file name."""
    return f"documents/{document_id.hex[:2]}/{document_id.hex}"


def store_document(
    uow: UnitOfWork,
    files: FileStore,
    clock: Clock,
    *,
    subscriber_id: uuid.UUID,
    folder_id: uuid.UUID,
    filename: str,
    content_type: str,
    data: BinaryIO,
    size: int,
    sha256: str,
    added_by: AddedBy,
) -> Document:
    """Write the object, then the row (in ``uow``, not committed here).

    If the row cannot be written the object is deleted again, so a failure leaves neither
    an orphan object nor an orphan row; the caller commits.
    """
    document = Document(
        subscriber_id=subscriber_id,
        folder_id=folder_id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
        storage_key="",
        added_by=added_by,
        added_at=clock.now(),
    )
    document.storage_key = new_storage_key(document.id)
    files.put(document.storage_key, data, content_type=content_type, size=size)
    try:
        uow.documents.add(document)
    except BaseException:
        files.delete(document.storage_key)
        raise
    return document
