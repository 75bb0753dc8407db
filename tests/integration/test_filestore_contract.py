"""One FileStore contract for every adapter (the S3 one joins it with the Documents issue)."""

from __future__ import annotations

import io
import os

import pytest

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import MemoryFileStore
from portail_domain.errors import NotFound, StorageError


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryFileStore()
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


def test_local_store_leaves_no_partial_file_when_the_stream_fails(tmp_path):
    store = LocalFileStore(tmp_path / "files")

    class Broken(io.RawIOBase):
        def readinto(self, buffer):
            raise OSError("connection reset")

    with pytest.raises(StorageError):
        store.put("k/broken", Broken(), content_type="application/pdf")
    assert not store.exists("k/broken")
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
