"""What every ``FileStore`` adapter promises, as tests (memory, local disk, S3 and yours)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portail_domain.model.errors import NotFound

CLOCK_SLACK = timedelta(minutes=2)  # the store's clock against this machine's (an S3 server's)


class FileStoreContract:
    """The FileStore port's contract. Subclass it and define a ``store`` fixture.

    ``store`` returns a fresh, empty store. Keys are the portal's own (lower-case segments
    separated by ``/``, as ``documents/ab/abcdef``). The checks: a round trip keeps every byte;
    a large object (20 MB) is streamed back in chunks, not handed over whole; a missing key is
    ``NotFound`` on open and nothing on delete; writing a key again replaces the whole object;
    ``download_url`` is ``None`` unless the adapter was configured to sign links; ``list_objects``
    gives every object under a prefix once, with its size and when it was written (timezone-aware,
    within minutes of this machine's clock: the orphan sweep compares it with the portal's), as an
    iterator (an adapter pages through its backend), and follows writes and deletes.
    """

    @pytest.fixture
    def store(self):  # noqa: ANN201 - the adapter under test
        raise NotImplementedError("define a `store` fixture that returns a fresh, empty FileStore")

    def test_put_open_delete_round_trip(self, store) -> None:
        body = os.urandom(300_000)
        store.put("documents/ab/abcdef", io.BytesIO(body), content_type="application/pdf", size=len(body))
        assert store.exists("documents/ab/abcdef")
        assert b"".join(store.open("documents/ab/abcdef")) == body
        store.delete("documents/ab/abcdef")
        assert not store.exists("documents/ab/abcdef")
        with pytest.raises(NotFound):
            b"".join(store.open("documents/ab/abcdef"))

    def test_large_object_round_trip_in_chunks(self, store) -> None:
        """20 MB: more than one 8 MB part on S3 (multipart upload), streamed back in chunks."""
        body = os.urandom(20 * 1024 * 1024 + 123)
        store.put("documents/cd/large", io.BytesIO(body), content_type="application/pdf", size=len(body))
        chunks = store.open("documents/cd/large")
        first = next(chunks)
        assert len(first) < len(body)  # streamed, not handed over whole
        assert first + b"".join(chunks) == body

    def test_size_is_optional(self, store) -> None:
        store.put("documents/ef/nosize", io.BytesIO(b"%PDF-1.4 no size given"), content_type="application/pdf")
        assert b"".join(store.open("documents/ef/nosize")) == b"%PDF-1.4 no size given"

    def test_missing_object(self, store) -> None:
        assert not store.exists("documents/ee/missing")
        with pytest.raises(NotFound):
            b"".join(store.open("documents/ee/missing"))
        store.delete("documents/ee/missing")  # deleting what is absent is not an error

    def test_no_download_link_unless_asked(self, store) -> None:
        store.put("k/2", io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
        assert store.download_url("k/2", filename="a.pdf", content_type="application/pdf") is None

    def test_overwrite_replaces_whole_object(self, store) -> None:
        store.put("k/1", io.BytesIO(b"first version"), content_type="text/plain")
        store.put("k/1", io.BytesIO(b"2"), content_type="text/plain")
        assert b"".join(store.open("k/1")) == b"2"

    def test_lists_objects_with_their_size_and_time(self, store) -> None:
        before = datetime.now(UTC)
        bodies = {"documents/ab/one": b"1" * 10, "documents/cd/two": b"22", "other/x": b"333"}
        for key, body in bodies.items():
            store.put(key, io.BytesIO(body), content_type="application/pdf", size=len(body))
        after = datetime.now(UTC)
        listing = store.list_objects("documents/")
        assert isinstance(listing, Iterator)  # streamed, not a list built whole
        found = {o.key: o for o in listing}
        assert {key: o.size for key, o in found.items()} == {"documents/ab/one": 10, "documents/cd/two": 2}
        for listed in found.values():
            assert listed.modified_at.utcoffset() is not None
            assert before - CLOCK_SLACK <= listed.modified_at <= after + CLOCK_SLACK
        assert sorted(o.key for o in store.list_objects()) == sorted(bodies)

    def test_listing_follows_writes_and_deletes(self, store) -> None:
        store.put("documents/ab/one", io.BytesIO(b"first version"), content_type="text/plain")
        store.put("documents/ab/one", io.BytesIO(b"2"), content_type="text/plain")  # listed once, new size
        store.put("documents/ab/two", io.BytesIO(b"gone"), content_type="text/plain")
        store.delete("documents/ab/two")
        assert [(o.key, o.size) for o in store.list_objects("documents/")] == [("documents/ab/one", 1)]
        assert list(store.list_objects("nothing/")) == []

    def test_lists_many_objects_each_once(self, store) -> None:
        """More objects than an adapter's page (give the fixture a small page size to see paging)."""
        keys = {f"documents/{n % 7:02x}/{n:032x}" for n in range(60)}
        for key in keys:
            store.put(key, io.BytesIO(key.encode()), content_type="text/plain")
        listed = [o.key for o in store.list_objects("documents/")]
        assert len(listed) == len(keys) and set(listed) == keys
