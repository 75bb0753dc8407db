"""One FileStore contract for every adapter: in memory, local disk, and S3 on a real SeaweedFS.

The contract itself is shipped in ``portail_adapters.testing`` so integrators run it on their own adapters.
"""

from __future__ import annotations

import io

import pytest

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import MemoryFileStore
from portail_adapters.testing import FileStoreContract
from portail_domain.model.errors import StorageError


class TestMemoryFileStore(FileStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryFileStore()


class TestLocalFileStore(FileStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return LocalFileStore(tmp_path / "files")


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
class TestS3FileStore(FileStoreContract):
    @pytest.fixture
    def store(self, seaweedfs):
        return seaweedfs.store(page_size=7)  # listings of more than a few objects take several pages


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


def test_local_listing_shows_only_the_portals_keys(tmp_path):
    """The ``.upload-*`` temporaries (housekeeping's, see test_partial_uploads.py), names the portal
    never generates and symbolic links are not objects; a prefix that no key can have is refused."""
    root = tmp_path / "files"
    store = LocalFileStore(root)
    store.put("documents/ab/abcdef", io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
    (root / "documents" / "ab" / ".upload-x1y2").write_bytes(b"half")
    (root / "documents" / "ab" / "Notes.TXT").write_bytes(b"someone's")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"not ours")
    (root / "documents" / "cd").symlink_to(tmp_path / "outside")
    (root / "documents" / "ab" / "link").symlink_to(root / "documents" / "ab" / "abcdef")
    assert [(o.key, o.size) for o in store.list_objects()] == [("documents/ab/abcdef", 8)]
    assert [o.key for o in store.list_objects("documents/ab/")] == ["documents/ab/abcdef"]
    assert list(store.list_objects("documents/zz/")) == []
    assert list(LocalFileStore(tmp_path / "absent").list_objects()) == []
    with pytest.raises(ValueError):
        list(store.list_objects("../"))


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_s3_listing_shows_only_the_portals_keys(seaweedfs):
    store = seaweedfs.store()
    store.put("documents/ab/abcdef", io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
    seaweedfs.client().put_object(Bucket=store.bucket, Key="Backups/Dump.SQL", Body=b"someone else's")
    assert [o.key for o in store.list_objects()] == ["documents/ab/abcdef"]
