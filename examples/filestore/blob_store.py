"""A FileStore that keeps objects in a SQLite file: the adapter written in docs/tutorial-filestore.md.

It lives outside the portal's packages, as an integrator's own adapter would, and depends only on
the standard library and the port's contract: keys the portal generated, bytes streamed in
chunks both ways, a listing paged through the backend, ``NotFound`` for a missing object,
``StorageError`` when the backend fails.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from portail_adapters.files import check_key
from portail_domain.model.errors import NotFound, StorageError
from portail_domain.model.files import StoredObject

CHUNK = 64 * 1024
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL,
                                    written_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (key TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
                                   PRIMARY KEY (key, seq));
"""


class SqliteBlobStore:
    def __init__(self, path: str | Path, *, page_size: int = 500) -> None:
        self.path = str(path)
        self.page_size = page_size
        self._lock = threading.Lock()  # one writer at a time; the web app calls from its threadpool
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def put(self, key: str, data: BinaryIO, *, content_type: str, size: int | None = None) -> None:
        check_key(key)  # never a key the portal did not generate
        try:
            with self._lock, self._connect() as db:  # one transaction: the whole object or none of it
                db.execute("DELETE FROM chunks WHERE key = ?", (key,))
                seq = written = 0
                while chunk := data.read(CHUNK):
                    db.execute("INSERT INTO chunks (key, seq, data) VALUES (?, ?, ?)", (key, seq, chunk))
                    seq, written = seq + 1, written + len(chunk)
                db.execute("INSERT OR REPLACE INTO objects (key, content_type, size, written_at) VALUES (?, ?, ?, ?)",
                           (key, content_type, written, datetime.now(UTC).isoformat()))
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def open(self, key: str) -> Iterator[bytes]:
        check_key(key)
        if not self.exists(key):
            raise NotFound(key=key)

        def chunks() -> Iterator[bytes]:
            db = self._connect()
            try:
                for (data,) in db.execute("SELECT data FROM chunks WHERE key = ? ORDER BY seq", (key,)):
                    yield data
            finally:
                db.close()

        return chunks()

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            with self._lock, self._connect() as db:
                db.execute("DELETE FROM chunks WHERE key = ?", (key,))
                db.execute("DELETE FROM objects WHERE key = ?", (key,))
        except sqlite3.Error as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            with self._connect() as db:
                return db.execute("SELECT 1 FROM objects WHERE key = ?", (key,)).fetchone() is not None
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None  # no link to sign: the portal streams the object itself

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """A page of ``page_size`` keys at a time, each page starting after the last key of the one
        before (keyset paging: no page is read twice, nothing is held but the current page)."""
        after = ""
        while True:
            try:
                with self._connect() as db:
                    page = db.execute(
                        "SELECT key, size, written_at FROM objects WHERE key > ? AND substr(key, 1, ?) = ? "
                        "ORDER BY key LIMIT ?", (after, len(prefix), prefix, self.page_size)).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"cannot list objects: {exc}") from exc
            for key, size, written_at in page:
                yield StoredObject(key, size, datetime.fromisoformat(written_at))
            if len(page) < self.page_size:
                return
            after = page[-1][0]
