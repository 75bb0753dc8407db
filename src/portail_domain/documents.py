"""Documents (Mes documents): a folder tree per subscriber and the files in it."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

import attrs

from .errors import DomainError, NotFound, StorageError

if TYPE_CHECKING:
    from .portal import Portal
    from .ports import Clock, FileStore, UnitOfWork

MAX_FILE_SIZE = 10 * 1024 * 1024  # 10 Mo per file
QUOTA = 200 * 1024 * 1024  # 200 Mo of uploads per subscriber (documents the utility adds do not count)
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


def default_folder(uow: UnitOfWork, subscriber_id: uuid.UUID, kind: FolderKind) -> DocumentFolder:
    """The subscriber's standard folder of ``kind`` (created if missing): where the utility's
    invoices, letters and contracts land (``store_document(..., folder_id=folder.id)``)."""
    return next(f for f in ensure_default_folders(uow, subscriber_id) if f.kind is kind and f.parent_id is None)


def check_quota(uow: UnitOfWork, subscriber_id: uuid.UUID, size: int, quota: int | None = None) -> None:
    """Refuse ``size`` more bytes of the subscriber's own uploads past ``quota`` (default ``QUOTA``).

    The subscriber's row is locked first (``FOR UPDATE`` on PostgreSQL), so two uploads at the
    same moment are counted one after the other and cannot both slip under the quota.
    """
    quota = QUOTA if quota is None else quota
    uow.subscribers.lock(subscriber_id)
    used = uow.documents.bytes_used(subscriber_id, AddedBy.SUBSCRIBER)
    if used + size > quota:
        raise QuotaExceeded(used=used, quota=quota)


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


def inspect_file(data: BinaryIO, *, max_size: int = MAX_FILE_SIZE) -> InspectedFile:
    """Read ``data`` once in chunks (never whole), check the rules, rewind it.

    Raises ``EmptyFile``, ``FileTooLarge`` (as soon as the limit is passed) or
    ``UnsupportedFileType`` (not a PDF, JPEG or PNG by content).
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := data.read(CHUNK):
        if len(head) < 16:
            head += chunk[:16]
        size += len(chunk)
        if size > max_size:
            raise FileTooLarge(max_size=max_size)
        digest.update(chunk)
    data.seek(0)
    if size == 0:
        raise EmptyFile()
    content_type = detect_content_type(head)
    if content_type is None:
        raise UnsupportedFileType()
    return InspectedFile(content_type, size, digest.hexdigest())


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
        discard_object(files, document.storage_key)
        raise
    return document


def discard_object(files: FileStore, key: str) -> None:
    """Delete an object whose row was not saved; a failing store must not hide the first error."""
    with contextlib.suppress(Exception):
        files.delete(key)


# --- use cases (Mes documents) ----------------------------------------------------------------


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


def _require_files(portal: Portal) -> FileStore:
    if portal.files is None:
        raise StorageError("no file store is configured")
    return portal.files


def _build_tree(folders: Sequence[DocumentFolder], counts: dict[uuid.UUID, int]) -> list[FolderNode]:
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


def document_tree(portal: Portal, subscriber_id: uuid.UUID) -> list[FolderNode]:
    """The subscriber's folder tree (standard folders created on first visit), with document counts.

    Two queries whatever the number of folders and documents: the folders, then the counts
    (plus the creation of the standard folders, once).
    """
    with portal.uow(read_only=True) as uow:
        folders = list(uow.folders.for_subscriber(subscriber_id))
        counts = uow.documents.count_by_folder(subscriber_id)
    if {kind for kind, _ in DEFAULT_FOLDERS} - {f.kind for f in folders if f.parent_id is None}:
        with portal.uow() as uow:  # the first visit only: a writer, then new folders hold nothing
            folders = ensure_default_folders(uow, subscriber_id)
            uow.commit()
        folders.sort(key=lambda f: (f.position, f.name))
    return _build_tree(folders, counts)


def _own_folder(uow: UnitOfWork, subscriber_id: uuid.UUID, folder_id: uuid.UUID) -> DocumentFolder:
    folder = uow.folders.get(folder_id)
    if folder is None or folder.subscriber_id != subscriber_id:
        raise NotFound(folder_id=str(folder_id))  # someone else's folder looks like no folder at all
    return folder


def folder_contents(portal: Portal, subscriber_id: uuid.UUID, folder_id: uuid.UUID) -> FolderView:
    """One of the subscriber's folders: where it is, its subfolders and documents (newest first)."""
    with portal.uow(read_only=True) as uow:
        folder = _own_folder(uow, subscriber_id, folder_id)
        folders = {f.id: f for f in uow.folders.for_subscriber(subscriber_id)}
        documents = tuple(uow.documents.in_folder(folder.id))
    path: list[DocumentFolder] = []
    parent = folders.get(folder.parent_id) if folder.parent_id else None
    while parent is not None and parent not in path and len(path) < 20:
        path.insert(0, parent)
        parent = folders.get(parent.parent_id) if parent.parent_id else None
    subfolders = tuple(f for f in folders.values() if f.parent_id == folder.id)
    return FolderView(folder, tuple(path), subfolders, documents)


def upload_document(
    portal: Portal,
    *,
    subscriber_id: uuid.UUID,
    folder_id: uuid.UUID,
    filename: str,
    data: BinaryIO,
    added_by: AddedBy = AddedBy.SUBSCRIBER,
    max_size: int = MAX_FILE_SIZE,
    quota: int | None = QUOTA,
) -> Document:
    """Keep a file in one of the subscriber's folders, or refuse it and keep nothing.

    ``data`` is read in chunks (twice: once to check and hash it, once to store it), never whole.
    The subscriber's own uploads count against ``quota``; documents the utility adds do not.
    Raises ``NotFound`` (not their folder), an ``UploadRejected`` reason, or ``StorageError``.
    """
    files = _require_files(portal)
    with portal.uow() as uow:
        folder = _own_folder(uow, subscriber_id, folder_id)
        inspected = inspect_file(data, max_size=max_size)
        if added_by is AddedBy.SUBSCRIBER and quota is not None:
            check_quota(uow, subscriber_id, inspected.size, quota)
        document = store_document(
            uow, files, portal.clock, subscriber_id=subscriber_id, folder_id=folder.id,
            filename=clean_filename(filename, inspected.content_type), content_type=inspected.content_type,
            data=data, size=inspected.size, sha256=inspected.sha256, added_by=added_by,
        )
        try:
            uow.commit()
        except BaseException:
            discard_object(files, document.storage_key)
            raise
    return document


def open_document(portal: Portal, subscriber_id: uuid.UUID, document_id: uuid.UUID) -> Download:
    """One of the subscriber's documents, to send back: a short-lived link when the store offers
    one (checked ownership first), otherwise a stream of its bytes."""
    files = _require_files(portal)
    with portal.uow(read_only=True) as uow:
        document = uow.documents.get(document_id)
    if document is None or document.subscriber_id != subscriber_id:
        raise NotFound(document_id=str(document_id))
    url = files.download_url(document.storage_key, filename=document.filename, content_type=document.content_type)
    if url is not None:
        return Download(document, url=url)
    return Download(document, chunks=files.open(document.storage_key))


def find_folder(folders: Sequence[DocumentFolder], reference: str) -> DocumentFolder:
    """A folder named by its name (``Courriers``, any case) or its kind (``letters``)."""
    wanted = unicodedata.normalize("NFKC", reference).strip().casefold()
    found = [f for f in folders if unicodedata.normalize("NFKC", f.name).casefold() == wanted]
    found = found or [f for f in folders if f.kind.value == wanted and f.parent_id is None]
    if len(found) != 1:
        raise NotFound(folder=reference)
    return found[0]


def publish_document(portal: Portal, *, subscriber_number: str, folder: str, filename: str,
                     data: BinaryIO) -> Document:
    """The utility puts a document into a subscriber's folder (same file rules, no quota)."""
    with portal.uow() as uow:
        subscriber = uow.subscribers.by_number(subscriber_number.strip())
        if subscriber is None:
            raise NotFound(subscriber=subscriber_number)
        folders = ensure_default_folders(uow, subscriber.id)
        uow.commit()
    target = find_folder(folders, folder)
    return upload_document(portal, subscriber_id=subscriber.id, folder_id=target.id, filename=filename, data=data,
                           added_by=AddedBy.UTILITY, quota=None)
