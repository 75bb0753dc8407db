"""What every ``FileStore`` adapter promises, as tests (memory, local disk, S3 and yours)."""

from __future__ import annotations

import io
import os

import pytest

from portail_domain.model.errors import NotFound


class FileStoreContract:
    """The FileStore port's contract. Subclass it and define a ``store`` fixture.

    ``store`` returns a fresh, empty store. Keys are the portal's own (lower-case segments
    separated by ``/``, as ``documents/ab/abcdef``). The checks: a round trip keeps every byte;
    a large object (20 MB) is streamed back in chunks, not handed over whole; a missing key is
    ``NotFound`` on open and nothing on delete; writing a key again replaces the whole object;
    ``download_url`` is ``None`` unless the adapter was configured to sign links.
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
