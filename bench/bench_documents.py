"""Mes documents: throughput of a 10 MB upload and download on each file store, and peak memory.

For the local disk and for S3 (a real SeaweedFS started here):
- use case: ``upload_document`` (check + sha256 + store + row) and ``open_document`` streamed;
- web: ``POST /documents/dossiers/{id}/envoyer`` fed in 64 KB chunks as a server would, and
  ``GET /documents/{id}`` read to the end; Python heap peak (tracemalloc) during the upload.

Run: ``make bench`` (or ``.venv/bin/python bench/bench_documents.py``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers (SeaweedFS, web client)

from tests.fixtures_s3 import SeaweedUnavailable, running_seaweedfs  # noqa: E402
from tests.support import BASE_URL, WebClient, add_subscriber, make_portal  # noqa: E402

from portail_adapters.files import LocalFileStore  # noqa: E402
from portail_adapters.memory import FixedClock  # noqa: E402
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate  # noqa: E402
from portail_domain.model.documents import FolderKind
from portail_domain.services.documents import document_tree, open_document, upload_document
from portail_web import create_app  # noqa: E402

SIZE = 10 * 1024 * 1024
ROUNDS = 5
PASSWORD = "une-phrase-de-passe-solide"
MB = 1024 * 1024


def make_file(folder: Path) -> Path:
    path = folder / "ten-mb.pdf"
    body = b"%PDF-1.7\n" + os.urandom(SIZE - 9)
    path.write_bytes(body)
    return path


def portal_on(folder: Path, files):
    engine = create_engine_from_url(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    portal = make_portal(SqlUnitOfWorkFactory(engine), FixedClock())
    portal.files = files
    subscriber = add_subscriber(portal, "100001", email="bench@example.org", password=PASSWORD)
    folder_id = next(n.folder.id for n in document_tree(portal, subscriber.id) if n.folder.kind is FolderKind.UPLOADS)
    return portal, subscriber, folder_id


def rate(seconds: list[float]) -> str:
    median = statistics.median(seconds)
    return f"{SIZE / MB / median:7.1f} MB/s (median of {len(seconds)}: {median * 1000:6.1f} ms)"


def bench_use_case(portal, subscriber, folder_id, path: Path) -> tuple[list[float], list[float], int]:
    up, down = [], []
    peak = 0
    for _ in range(ROUNDS):
        with path.open("rb") as data:
            tracemalloc.start()
            start = time.perf_counter()
            document = upload_document(portal, subscriber_id=subscriber.id, folder_id=folder_id,
                                       filename="ten-mb.pdf", data=data, quota=None)
            up.append(time.perf_counter() - start)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        start = time.perf_counter()
        received = sum(len(chunk) for chunk in open_document(portal, subscriber.id, document.id).chunks)
        down.append(time.perf_counter() - start)
        assert received == SIZE
    return up, down, peak


def multipart_chunks(path: Path, token: str, boundary: str, chunk: int = 64 * 1024):
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
           f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ten-mb.pdf\"\r\n"
           "Content-Type: application/pdf\r\n\r\n").encode()
    with path.open("rb") as data:
        while block := data.read(chunk):
            yield block
    yield f"\r\n--{boundary}--\r\n".encode()


async def post_streamed(app, url: str, cookie: str, token: str, path: Path) -> int:
    """Drive the ASGI app as a server does: the body arrives in 64 KB messages, never whole."""
    boundary = "benchboundary7MA4YWxkTrZu0gW"
    length = sum(len(c) for c in multipart_chunks(path, token, boundary))
    body = multipart_chunks(path, token, boundary)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", cookie.encode()),
                    (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                    (b"content-length", str(length).encode()), (b"origin", BASE_URL.encode())],
    }
    status = 0

    async def receive():
        block = next(body, None)
        return {"type": "http.request", "body": block or b"", "more_body": block is not None}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def bench_web(portal, folder_id, path: Path) -> tuple[list[float], list[float], int]:
    app = create_app(portal)
    up, down = [], []
    peak = 0
    with WebClient(app, base_url=BASE_URL) as client:
        client.login("bench@example.org", PASSWORD)
        page = f"/documents/dossiers/{folder_id}"
        token = client.csrf(page)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        for _ in range(ROUNDS):
            tracemalloc.start()
            start = time.perf_counter()
            status = asyncio.run(post_streamed(app, f"{page}/envoyer", cookie, token, path))
            up.append(time.perf_counter() - start)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert status == 303, status
        with portal.uow() as uow:
            documents = uow.documents.in_folder(folder_id)
        for document in documents[:ROUNDS]:
            start = time.perf_counter()
            with client.stream("GET", f"/documents/{document.id}") as response:
                received = sum(len(c) for c in response.iter_bytes())
            down.append(time.perf_counter() - start)
            assert received == SIZE
    return up, down, peak


def run(name: str, files, folder: Path, path: Path) -> None:
    portal, subscriber, folder_id = portal_on(folder, files)
    up, down, peak = bench_use_case(portal, subscriber, folder_id, path)
    print(f"{name:6} use case  upload   {rate(up)}   peak Python heap {peak / MB:5.1f} MB")
    print(f"{name:6} use case  download {rate(down)}")
    up, down, peak = bench_web(portal, folder_id, path)
    print(f"{name:6} web       upload   {rate(up)}   peak Python heap {peak / MB:5.1f} MB")
    print(f"{name:6} web       download {rate(down)}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = make_file(root)
        print(f"file: {SIZE / MB:.0f} MB PDF, {ROUNDS} rounds each; SQLite database; one process")
        (root / "local").mkdir()
        run("local", LocalFileStore(root / "local" / "files"), root / "local", path)
        (root / "s3").mkdir()
        (root / "weed").mkdir()
        try:
            with running_seaweedfs(root / "weed") as server:
                run("s3", server.store(), root / "s3", path)
        except SeaweedUnavailable as exc:
            print(f"s3     skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
