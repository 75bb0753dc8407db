"""One FileStore contract for every adapter: in memory, local disk, and S3 on a real SeaweedFS."""

from __future__ import annotations

import io
import os

import pytest

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import MemoryFileStore
from portail_domain.model.errors import NotFound, StorageError
from tests.fixtures_s3 import S3


@pytest.fixture(params=["memory", "local", pytest.param("s3", marks=S3)])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryFileStore()
    if request.param == "s3":
        return request.getfixturevalue("seaweedfs").store()
    return LocalFileStore(tmp_path / "files")


def test_put_open_delete_round_trip(store):
    body = os.urandom(300_000)
    store.put("documents/ab/abcdef", io.BytesIO(body), content_type="application/pdf", size=len(body))
    assert store.exists("documents/ab/abcdef")
    assert b"".join(store.open("documents/ab/abcdef")) == body
    store.delete("documents/ab/abcdef")
    assert not store.exists("documents/ab/abcdef")
    with pytest.raises(NotFound):
        b"".join(store.open("documents/ab/abcdef"))


def test_large_object_round_trip_in_parts(store):
    """20 MB: more than one 8 MB part on S3 (multipart upload), streamed back in chunks."""
    body = os.urandom(20 * 1024 * 1024 + 123)
    store.put("documents/cd/large", io.BytesIO(body), content_type="application/pdf", size=len(body))
    chunks = store.open("documents/cd/large")
    first = next(chunks)
    assert len(first) < len(body)  # streamed, not handed over whole
    assert first + b"".join(chunks) == body


def test_missing_object(store):
    assert not store.exists("documents/ee/missing")
    with pytest.raises(NotFound):
        b"".join(store.open("documents/ee/missing"))
    store.delete("documents/ee/missing")  # deleting what is absent is not an error


def test_no_download_link_unless_asked(store):
    store.put("k/2", io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
    assert store.download_url("k/2", filename="a.pdf", content_type="application/pdf") is None


def test_overwrite_replaces_whole_object(store):
    store.put("k/1", io.BytesIO(b"first version"), content_type="text/plain")
    store.put("k/1", io.BytesIO(b"2"), content_type="text/plain")
    assert b"".join(store.open("k/1")) == b"2"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "A/B", "a//b", "", "a/.hidden"])
def test_local_store_refuses_keys_it_did_not_generate(tmp_path, key):
    store = LocalFileStore(tmp_path / "files")
    with pytest.raises(ValueError):
        store.put(key, io.BytesIO(b"x"), content_type="text/plain")
    assert not any((tmp_path).rglob("passwd"))


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "A/B", "a/.hidden"])
@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_store_refuses_keys_it_did_not_generate(seaweedfs, key):
    store = seaweedfs.store()
    for action in (lambda: store.put(key, io.BytesIO(b"x"), content_type="text/plain"), lambda: store.open(key),
                   lambda: store.delete(key), lambda: store.exists(key)):
        with pytest.raises(ValueError):
            action()
    assert seaweedfs.keys(store.bucket) == []


def test_local_store_leaves_no_partial_file_when_the_stream_fails(tmp_path):
    store = LocalFileStore(tmp_path / "files")

    class Broken(io.RawIOBase):
        def readinto(self, buffer):
            raise OSError("connection reset")

    with pytest.raises(StorageError):
        store.put("k/broken", Broken(), content_type="application/pdf")
    assert not store.exists("k/broken")
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


def test_store_document_writes_object_then_row_and_cleans_up_on_failure(memory_portal):
    import hashlib
    import uuid

    from portail_domain.model.accounts import Subscriber
    from portail_domain.model.documents import AddedBy
    from portail_domain.services.documents import ensure_default_folders, store_document

    files = memory_portal.files
    with memory_portal.uow() as uow:
        subscriber = Subscriber("100001", "Marie")
        uow.subscribers.add(subscriber)
        folder = ensure_default_folders(uow, subscriber.id)[3]
        body = b"%PDF-1.4 test"
        document = store_document(uow, files, memory_portal.clock, subscriber_id=subscriber.id, folder_id=folder.id,
                                  filename="../../evil.pdf", content_type="application/pdf", data=io.BytesIO(body),
                                  size=len(body), sha256=hashlib.sha256(body).hexdigest(), added_by=AddedBy.SUBSCRIBER)
        uow.commit()
    assert document.storage_key.startswith("documents/") and "evil" not in document.storage_key
    assert b"".join(files.open(document.storage_key)) == body

    with memory_portal.uow() as uow:
        uow.documents.add = lambda d: (_ for _ in ()).throw(RuntimeError("database down"))  # row write fails
        with pytest.raises(RuntimeError):
            store_document(uow, files, memory_portal.clock, subscriber_id=subscriber.id, folder_id=uuid.uuid4(),
                           filename="x.pdf", content_type="application/pdf", data=io.BytesIO(b"x"), size=1,
                           sha256="0" * 64, added_by=AddedBy.SUBSCRIBER)
    assert list(files.objects) == [document.storage_key]  # no orphan object
