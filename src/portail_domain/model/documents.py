"""Mes documents: folders, documents, and what an uploaded file must be."""

from __future__ import annotations

import enum
import hashlib
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import BinaryIO

import attrs

from .errors import DomainError

MAX_FILENAME = 120  # characters kept for display
CHUNK = 64 * 1024


# What a subscriber may send, recognised by the first bytes of the content, never by the name.
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}


class UploadRejected(DomainError):
    """A file the portal does not keep (base of the reasons)."""

    code = "upload_rejected"


class EmptyFile(UploadRejected):
    code = "file_empty"


class UnsupportedFileType(UploadRejected):
    code = "file_type"


class FileTooLarge(UploadRejected):
    code = "file_too_large"


class QuotaExceeded(UploadRejected):
    code = "quota_exceeded"


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


def new_storage_key(document_id: uuid.UUID) -> str:
    """Storage keys are generated, never taken from a file name."""
    return f"documents/{document_id.hex[:2]}/{document_id.hex}"


def detect_content_type(head: bytes) -> str | None:
    """The type of a file from its first bytes (magic numbers): PDF, JPEG, PNG, or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


# Characters never kept in a display name: path separators, and what could disguise an extension.
_PATH_SEPARATORS = "/\\"
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi overrides, zero-width…


def clean_filename(name: str, content_type: str | None = None) -> str:
    """A file name safe to display and to offer on download.

    Keeps only the last path segment, drops control, format (bidi override U+202E, zero-width)
    and unassigned characters, trims dots and spaces, bounds the length, and makes the extension
    match the detected type (``facture.exe`` that is really a PDF becomes ``facture.exe.pdf``).
    """
    name = unicodedata.normalize("NFC", name or "")
    for separator in _PATH_SEPARATORS:
        name = name.rsplit(separator, 1)[-1]
    kept = (" " if ch.isspace() else ch for ch in name
            if ch.isspace() or unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = " ".join("".join(kept).split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext.lower()}" if dot and stem and ext else ""
    if not suffix:
        stem = name
    extensions = ACCEPTED_TYPES.get(content_type or "", ())
    if extensions and suffix not in extensions:
        stem, suffix = name, extensions[0]
    suffix = suffix[:16]
    stem = stem[: MAX_FILENAME - len(suffix)].rstrip(" .") or "document"
    return stem + suffix


@attrs.frozen
class InspectedFile:
    """What the portal learnt from reading a file once: its type, size and digest."""

    content_type: str
    size: int
    sha256: str


def inspect_file(data: BinaryIO, *, max_size: int | None) -> InspectedFile:
    """Read ``data`` once in chunks (never whole), check the rules, rewind it.

    Raises ``EmptyFile``, ``FileTooLarge`` (as soon as ``max_size`` is passed; None: no limit)
    or ``UnsupportedFileType`` (not a PDF, JPEG or PNG by content). Every file that enters the
    portal passes here: uploads, published documents, imported invoice PDFs.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := data.read(CHUNK):
        if len(head) < 16:
            head += chunk[:16]
        size += len(chunk)
        if max_size is not None and size > max_size:
            raise FileTooLarge(max_size=max_size)
        digest.update(chunk)
    data.seek(0)
    if size == 0:
        raise EmptyFile()
    content_type = detect_content_type(head)
    if content_type is None:
        raise UnsupportedFileType()
    return InspectedFile(content_type, size, digest.hexdigest())


@attrs.frozen
class FolderNode:
    """A folder in the tree with what it holds: ``count`` documents of its own, ``total`` with subfolders."""

    folder: DocumentFolder
    count: int
    total: int
    children: tuple[FolderNode, ...] = ()

    @property
    def holds_documents(self) -> bool:  # the ▸ marker
        return self.total > 0


@attrs.frozen
class FolderView:
    folder: DocumentFolder
    path: tuple[DocumentFolder, ...]  # ancestors, root first
    subfolders: tuple[DocumentFolder, ...]
    documents: tuple[Document, ...]


@attrs.frozen
class Download:
    """A document the subscriber may read: either a short-lived ``url`` or a stream of ``chunks``."""

    document: Document
    chunks: Iterator[bytes] | None = None
    url: str | None = None


def build_tree(folders: Sequence[DocumentFolder], counts: dict[uuid.UUID, int]) -> list[FolderNode]:
    children: dict[uuid.UUID | None, list[DocumentFolder]] = {}
    known = {f.id for f in folders}
    for folder in folders:  # already in display order
        parent = folder.parent_id if folder.parent_id in known else None
        children.setdefault(parent, []).append(folder)

    def node(folder: DocumentFolder, seen: frozenset[uuid.UUID]) -> FolderNode:
        below = tuple(node(c, seen | {c.id}) for c in children.get(folder.id, []) if c.id not in seen)
        own = counts.get(folder.id, 0)
        return FolderNode(folder, own, own + sum(c.total for c in below), below)

    return [node(f, frozenset({f.id})) for f in children.get(None, [])]
