"""Mes documents on fakes: the file rules, file names, the folder tree, upload and download."""

from __future__ import annotations

import hashlib
import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.documents import (
    MAX_FILENAME,
    AddedBy,
    DocumentFolder,
    EmptyFile,
    FileTooLarge,
    FolderKind,
    QuotaExceeded,
    UnsupportedFileType,
    clean_filename,
    detect_content_type,
    inspect_file,
)
from portail_domain.model.errors import NotFound, StorageError
from portail_domain.model.limits import Limits
from portail_domain.model.publishing import Audience
from portail_domain.services.documents import (
    document_tree,
    folder_contents,
    open_document,
    upload_document,
)
from portail_domain.services.publishing import publish_document
from tests.support import add_subscriber, set_limits

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
WINDOWS_EXE = b"MZ\x90\x00" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


@pytest.mark.parametrize(("content", "expected"), [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"),
    (ELF, None), (WINDOWS_EXE, None), (HTML, None), (b"%PD", None), (b"", None), (b" %PDF-1.4", None),
])
def test_type_comes_from_the_content(content, expected):
    assert detect_content_type(content) == expected


@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("facture.pdf", "application/pdf", "facture.pdf"),
    ("Relevé Mars.PDF", "application/pdf", "Relevé Mars.pdf"),
    ("../../etc/passwd", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\marie\\Documents\\attestation.png", "image/png", "attestation.png"),
    ("facture\u202efdp.exe", "application/pdf", "facturefdp.exe.pdf"),  # RTL override shows "exe.pdf" reversed
    ("photo.exe", "image/jpeg", "photo.exe.jpg"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    ("..", "application/pdf", "document.pdf"),
    ("", "image/png", "document.png"),
    (".htaccess", "application/pdf", "htaccess.pdf"),
    ("a\x00b\r\nc\td.pdf", "application/pdf", "ab c d.pdf"),
    ("zero\u200bwidth\u2066.pdf", "application/pdf", "zerowidth.pdf"),
    ("lettre.pdf", None, "lettre.pdf"),
])
def test_file_names_are_cleaned_for_display(name, content_type, expected):
    assert clean_filename(name, content_type) == expected


def test_long_names_keep_their_extension():
    cleaned = clean_filename("é" * 500 + ".pdf", "application/pdf")
    assert len(cleaned) == MAX_FILENAME and cleaned.endswith(".pdf")


@given(st.text(max_size=400), st.sampled_from(["application/pdf", "image/jpeg", "image/png"]))
def test_any_name_becomes_a_safe_display_name(name, content_type):
    cleaned = clean_filename(name, content_type)
    assert 0 < len(cleaned) <= MAX_FILENAME
    assert "/" not in cleaned and "\\" not in cleaned
    assert not cleaned.startswith((".", " ")) and cleaned == cleaned.strip()
    assert all(unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in cleaned)
    assert cleaned.rsplit(".", 1)[-1] in {"application/pdf": ("pdf",), "image/jpeg": ("jpg", "jpeg"),
                                          "image/png": ("png",)}[content_type]
    assert clean_filename(cleaned, content_type) == cleaned  # cleaning is stable


def test_inspection_hashes_measures_and_rewinds():
    data = io.BytesIO(PDF * 5000)
    inspected = inspect_file(data, max_size=Limits().upload_max_bytes)
    assert inspected.content_type == "application/pdf"
    assert inspected.size == len(PDF) * 5000
    assert inspected.sha256 == hashlib.sha256(PDF * 5000).hexdigest()
    assert data.tell() == 0


@pytest.mark.parametrize(("content", "error"), [(b"", EmptyFile), (ELF, UnsupportedFileType),
                                                (HTML, UnsupportedFileType), (WINDOWS_EXE, UnsupportedFileType)])
def test_inspection_refuses(content, error):
    with pytest.raises(error):
        inspect_file(io.BytesIO(content), max_size=Limits().upload_max_bytes)


def test_inspection_stops_reading_as_soon_as_the_limit_is_passed():
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = (PDF + b"x" * len(buffer))[: len(buffer)]
            buffer[: len(chunk)] = chunk
            self.read_bytes += len(chunk)
            return len(chunk)

    stream = Endless()
    with pytest.raises(FileTooLarge):
        inspect_file(stream, max_size=1024 * 1024)
    assert stream.read_bytes <= 1024 * 1024 + 64 * 1024


@pytest.fixture
def marie(memory_portal):
    return add_subscriber(memory_portal, "100001")


def _folders(portal, subscriber):
    return {node.folder.kind: node.folder for node in document_tree(portal, subscriber.id)}


def _upload(portal, subscriber, folder, content=PDF, name="lettre.pdf", *, max_size=None, quota=None, **kwargs):
    if max_size is not None:
        set_limits(portal, upload_max_bytes=max_size)
    if quota is not None:
        set_limits(portal, upload_quota_bytes=quota)
    return upload_document(portal, subscriber_id=subscriber.id, folder_id=folder.id, filename=name,
                           data=io.BytesIO(content), **kwargs)


def test_every_subscriber_gets_the_standard_folders_once(memory_portal, marie):
    first = document_tree(memory_portal, marie.id)
    again = document_tree(memory_portal, marie.id)
    assert [n.folder.name for n in first] == ["Contrats", "Factures", "Courriers", "Mes envois"]
    assert [n.folder.id for n in again] == [n.folder.id for n in first]
    assert not any(n.holds_documents for n in first)


def test_tree_counts_documents_and_marks_folders_that_hold_some(memory_portal, marie):
    folders = _folders(memory_portal, marie)
    sub = DocumentFolder(marie.id, "2025", parent_id=folders[FolderKind.LETTERS].id)
    with memory_portal.uow() as uow:
        uow.folders.add(sub)
        uow.commit()
    _upload(memory_portal, marie, folders[FolderKind.UPLOADS])
    _upload(memory_portal, marie, folders[FolderKind.UPLOADS], PNG, "photo.png")
    _upload(memory_portal, marie, sub)
    tree = {n.folder.kind: n for n in document_tree(memory_portal, marie.id)}
    assert (tree[FolderKind.UPLOADS].count, tree[FolderKind.UPLOADS].holds_documents) == (2, True)
    letters = tree[FolderKind.LETTERS]
    assert (letters.count, letters.total, letters.holds_documents) == (0, 1, True)
    assert [(c.folder.name, c.count) for c in letters.children] == [("2025", 1)]
    assert not tree[FolderKind.CONTRACTS].holds_documents
    view = folder_contents(memory_portal, marie.id, sub.id)
    assert [f.name for f in view.path] == ["Courriers"] and len(view.documents) == 1


def test_upload_keeps_the_file_with_its_digest_and_a_generated_key(memory_portal, marie):
    folder = _folders(memory_portal, marie)[FolderKind.UPLOADS]
    document = _upload(memory_portal, marie, folder, name="../../../etc/passwd.pdf")
    assert document.filename == "passwd.pdf"
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.storage_key.startswith("documents/") and "passwd" not in document.storage_key
    assert document.added_by is AddedBy.SUBSCRIBER
    download = open_document(memory_portal, marie.id, document.id)
    assert b"".join(download.chunks) == PDF


def _nothing_stored(portal, subscriber):
    with portal.uow() as uow:
        assert uow.documents.for_subscriber(subscriber.id) == []
    assert portal.files.objects == {}


@pytest.mark.parametrize(("content", "error"), [(b"", EmptyFile), (ELF, UnsupportedFileType),
                                                (HTML, UnsupportedFileType)])
def test_refused_files_leave_nothing(memory_portal, marie, content, error):
    folder = _folders(memory_portal, marie)[FolderKind.UPLOADS]
    with pytest.raises(error):
        _upload(memory_portal, marie, folder, content, "x.pdf")
    _nothing_stored(memory_portal, marie)


def test_too_large_leaves_nothing(memory_portal, marie):
    folder = _folders(memory_portal, marie)[FolderKind.UPLOADS]
    with pytest.raises(FileTooLarge):
        _upload(memory_portal, marie, folder, PDF + b"x" * 2000, max_size=1000)
    _nothing_stored(memory_portal, marie)


def test_quota_counts_the_subscribers_uploads_only(memory_portal, marie):
    folders = _folders(memory_portal, marie)
    _upload(memory_portal, marie, folders[FolderKind.UPLOADS], PDF + b"x" * 600, quota=1000)
    # The utility's documents never count and are never refused for quota.
    _upload(memory_portal, marie, folders[FolderKind.LETTERS], PDF + b"x" * 5000, added_by=AddedBy.UTILITY, quota=1000)
    with pytest.raises(QuotaExceeded):
        _upload(memory_portal, marie, folders[FolderKind.UPLOADS], PDF + b"y" * 600, quota=1000)
    with memory_portal.uow() as uow:
        assert len(uow.documents.for_subscriber(marie.id)) == 2
    assert len(memory_portal.files.objects) == 2


def test_store_down_means_nothing_saved(memory_portal, marie):
    folder = _folders(memory_portal, marie)[FolderKind.UPLOADS]
    memory_portal.files.down = True
    with pytest.raises(StorageError):
        _upload(memory_portal, marie, folder)
    _nothing_stored(memory_portal, marie)


def test_a_failed_commit_removes_the_object(memory_portal, marie, monkeypatch):
    from portail_adapters.memory.repositories import MemoryUnitOfWork

    folder = _folders(memory_portal, marie)[FolderKind.UPLOADS]

    def commit_fails(self):
        raise RuntimeError("database went away")

    monkeypatch.setattr(MemoryUnitOfWork, "commit", commit_fails)
    with pytest.raises(RuntimeError):
        _upload(memory_portal, marie, folder)
    monkeypatch.undo()
    _nothing_stored(memory_portal, marie)


def test_someone_elses_folder_and_document_do_not_exist(memory_portal, marie):
    other = add_subscriber(memory_portal, "100002", email="jean@example.org")
    theirs = _folders(memory_portal, other)[FolderKind.UPLOADS]
    document = _upload(memory_portal, other, theirs)
    with pytest.raises(NotFound):
        folder_contents(memory_portal, marie.id, theirs.id)
    with pytest.raises(NotFound):
        _upload(memory_portal, marie, theirs)
    with pytest.raises(NotFound):
        open_document(memory_portal, marie.id, document.id)
    assert len(memory_portal.files.objects) == 1


def _publish(portal, number: str, folder: str, filename: str = "a.pdf"):
    return publish_document(portal, None, audience=Audience.subscriber(number), folder=folder, filename=filename,
                            data=io.BytesIO(PDF))


def test_staff_publish_by_folder_name_or_kind(memory_portal, marie):
    by_name = _publish(memory_portal, "100001", "courriers", "avis.pdf")
    by_kind = _publish(memory_portal, "100001", "contracts", "contrat.pdf")
    folders = _folders(memory_portal, marie)
    with memory_portal.uow() as uow:
        (letter,) = uow.documents.in_folder(folders[FolderKind.LETTERS].id)
        (contract,) = uow.documents.in_folder(folders[FolderKind.CONTRACTS].id)
    assert (letter.filename, letter.added_by, letter.storage_key) == ("avis.pdf", AddedBy.UTILITY, by_name.storage_key)
    assert (contract.filename, by_kind.folder) == ("contrat.pdf", FolderKind.CONTRACTS)
    with pytest.raises(NotFound):
        _publish(memory_portal, "999999", "letters")
    with pytest.raises(NotFound):
        _publish(memory_portal, "100001", "Nulle part")
    assert len(memory_portal.files.objects) == 2


def test_demo_subscribers_have_a_letter_and_their_contract(memory_portal):
    import re

    from portail_adapters.demo import load_demo
    from portail_domain.model.documents import detect_content_type

    load_demo(memory_portal, subscribers=3)
    load_demo(memory_portal, subscribers=3)  # idempotent: nothing added twice
    with memory_portal.uow() as uow:
        marie = uow.subscribers.by_number("100001")
    tree = {n.folder.kind: n for n in document_tree(memory_portal, marie.id)}
    assert (tree[FolderKind.LETTERS].count, tree[FolderKind.CONTRACTS].count) == (1, 1)
    # Mes envois holds only the plumber's certificate joined to the demo's écrêtement request (Mes demandes)
    uploads = folder_contents(memory_portal, marie.id, tree[FolderKind.UPLOADS].folder.id).documents
    assert [(d.filename, d.added_by) for d in uploads] == [("Attestation réparation fuite.pdf", AddedBy.SUBSCRIBER)]
    (contract,) = folder_contents(memory_portal, marie.id, tree[FolderKind.CONTRACTS].folder.id).documents
    assert contract.filename == "Contrat C100001-1.pdf" and contract.added_by is AddedBy.UTILITY
    body = b"".join(open_document(memory_portal, marie.id, contract.id).chunks)
    assert detect_content_type(body) == "application/pdf" and body.rstrip().endswith(b"%%EOF")
    assert hashlib.sha256(body).hexdigest() == contract.sha256
    # The cross-reference table points at each object, as a PDF reader expects.
    start = int(re.search(rb"startxref\n(\d+)", body).group(1))
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", body[start:])]
    assert [body[o:].split(b"\n", 1)[0] for o in offsets] == [b"%d 0 obj" % i for i in range(1, len(offsets) + 1)]


def test_utility_documents_land_in_the_standard_folder_of_their_kind(memory_portal, marie):
    from portail_domain.services.documents import default_folder

    with memory_portal.uow() as uow:
        invoices = default_folder(uow, marie.id, FolderKind.INVOICES)
        again = default_folder(uow, marie.id, FolderKind.INVOICES)
        uow.commit()
    assert invoices.id == again.id and invoices.name == "Factures"
    assert _folders(memory_portal, marie)[FolderKind.INVOICES].id == invoices.id
