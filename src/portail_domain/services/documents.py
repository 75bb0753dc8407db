"""Mes documents: the folder tree, uploads and downloads (what the utility publishes: ``publishing``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection
from typing import BinaryIO

from ..model.documents import (
    DEFAULT_FOLDERS,
    AddedBy,
    Document,
    DocumentFolder,
    Download,
    FolderKind,
    FolderNode,
    FolderView,
    QuotaExceeded,
    build_tree,
    clean_filename,
    inspect_file,
    new_storage_key,
)
from ..model.errors import NotFound, StorageError
from ..portal import Portal
from ..ports import Clock, FileStore, UnitOfWork


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


def check_quota(uow: UnitOfWork, subscriber_id: uuid.UUID, size: int, quota: int) -> None:
    """Refuse ``size`` more bytes of the subscriber's own uploads past ``quota`` (``Limits.upload_quota_bytes``).

    The subscriber's row is locked first (``FOR UPDATE`` on PostgreSQL), so two uploads at the
    same moment are counted one after the other and cannot both slip under the quota.
    """
    uow.subscribers.lock(subscriber_id)
    used = uow.documents.bytes_used(subscriber_id, AddedBy.SUBSCRIBER)
    if used + size > quota:
        raise QuotaExceeded(used=used, quota=quota)


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


def orphaned_keys(uow: UnitOfWork, storage_keys: Collection[str]) -> list[str]:
    """Of the storage keys of document rows just removed in ``uow``, those no row points to any more:
    only their objects may be deleted (once ``uow`` commits). A publication's rows share one key."""
    wanted = list(dict.fromkeys(storage_keys))
    if not wanted:
        return []
    kept = uow.documents.referenced_keys(wanted)
    return [key for key in wanted if key not in kept]


def require_files(portal: Portal) -> FileStore:
    """The portal's file store; ``StorageError`` when none is configured."""
    if portal.files is None:
        raise StorageError("no file store is configured")
    return portal.files


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
    return build_tree(folders, counts)


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
) -> Document:
    """Keep a file in one of the subscriber's folders, or refuse it and keep nothing.

    ``data`` is read in chunks (twice: once to check and hash it, once to store it), never whole.
    The subscriber's own uploads count against the upload quota; documents the utility adds do not.
    Raises ``NotFound`` (not their folder), an ``UploadRejected`` reason, or ``StorageError``.
    """
    files = require_files(portal)
    limits = portal.config.limits
    with portal.uow() as uow:
        folder = _own_folder(uow, subscriber_id, folder_id)
        inspected = inspect_file(data, max_size=limits.upload_max_bytes)
        if added_by is AddedBy.SUBSCRIBER:
            check_quota(uow, subscriber_id, inspected.size, limits.upload_quota_bytes)
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
    with portal.uow(read_only=True) as uow:
        document = uow.documents.get(document_id)
    if document is None or document.subscriber_id != subscriber_id:
        raise NotFound(document_id=str(document_id))
    return download(portal, document)


def download(portal: Portal, document: Document) -> Download:
    """Send back a document the caller has checked the visitor may read: a short-lived link when
    the store offers one, otherwise a stream of its bytes. Every stored file leaves this way
    (documents, invoice PDFs, request attachments, meter photos); ``StorageError`` when no store."""
    files = require_files(portal)
    url = files.download_url(document.storage_key, filename=document.filename, content_type=document.content_type)
    if url is not None:
        return Download(document, url=url)
    return Download(document, chunks=files.open(document.storage_key))
