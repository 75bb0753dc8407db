"""Documents (Mes documents): a folder tree per subscriber and the files in it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from .ports import UnitOfWork


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
