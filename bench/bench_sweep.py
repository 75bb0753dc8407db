"""``portail files sweep``: time and peak memory over many stored objects, on the local disk and S3.

A store of N objects under ``documents/``: 90 % pointed to by a document row, 5 % old orphans,
5 % written a minute ago (kept: too young; on S3, where the objects' times cannot be set, the
portal's clock is moved two hours on instead, so every object is old). The sweep runs as a dry run
(time, then Python heap peak with tracemalloc), then with ``--delete``. SQLite file, and
PostgreSQL when it answers at ``PORTAIL_TEST_DATABASE_URL`` (a fresh database, dropped after).

Run: ``.venv/bin/python bench/bench_sweep.py [--objects 100000] [--s3-objects 10000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers (SeaweedFS)

from scratch_pg import scratch_databases  # noqa: E402 - a sibling module (the script's folder is on the path)
from sqlalchemy import insert  # noqa: E402
from tests.fixtures_s3 import SeaweedUnavailable, running_seaweedfs  # noqa: E402
from tests.support import add_subscriber, make_portal  # noqa: E402

from portail_adapters.files import LocalFileStore  # noqa: E402
from portail_adapters.memory import FixedClock  # noqa: E402
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate  # noqa: E402
from portail_adapters.sql import tables as t  # noqa: E402
from portail_domain.model.documents import FolderKind, new_storage_key  # noqa: E402
from portail_domain.services.documents import default_folder  # noqa: E402
from portail_domain.services.files import sweep_files  # noqa: E402

BODY = b"%PDF-1.4 bench object\n"


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """The URL of a fresh PostgreSQL database, dropped at the end; None when none answers."""
    with scratch_databases(f"portail_bench_sweep_{uuid.uuid4().hex[:8]}") as urls:
        yield urls[0] if urls else None


def keys(count: int) -> list[str]:
    return [new_storage_key(uuid.uuid4()) for _ in range(count)]


def portal_with_rows(url: str, referenced: list[str], clock: FixedClock):
    engine = create_engine_from_url(url)
    migrate(engine)
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    subscriber = add_subscriber(portal, "100001", email="bench@example.org")
    with portal.uow() as uow:
        folder = default_folder(uow, subscriber.id, FolderKind.LETTERS)
        uow.commit()
    now = clock.now()
    with engine.begin() as c:
        for start in range(0, len(referenced), 10_000):
            c.execute(insert(t.documents), [
                {"id": uuid.uuid4(), "subscriber_id": subscriber.id, "folder_id": folder.id, "filename": "f.pdf",
                 "content_type": "application/pdf", "size": len(BODY), "sha256": "0" * 64, "storage_key": key,
                 "added_by": "utility", "added_at": now} for key in referenced[start:start + 10_000]])
    return portal, engine


def write_on_disk(root: Path, old: list[str], young: list[str]) -> None:
    then = time.time() - 2 * 3600
    for group, stamp in ((old, then), (young, None)):
        for key in group:
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(BODY)
            if stamp is not None:
                os.utime(path, (stamp, stamp))


def measure(portal, label: str) -> None:
    start = time.perf_counter()
    dry = sweep_files(portal)
    dry_seconds = time.perf_counter() - start
    tracemalloc.start()
    sweep_files(portal)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    start = time.perf_counter()
    done = sweep_files(portal, delete=True)
    delete_seconds = time.perf_counter() - start
    print(f"{label}: {dry.found:,} objects; dry run {dry_seconds:.1f} s ({dry.found / dry_seconds:,.0f} objects/s), "
          f"heap peak {peak / 1024 / 1024:.1f} MB; --delete {delete_seconds:.1f} s ({done.orphans:,} deleted)")
    print(f"  {done.line()}")


def bench_disk(folder: Path, url: str, name: str, count: int) -> None:
    root = folder / f"files-{name}"
    referenced, orphans, young = keys(count * 90 // 100), keys(count * 5 // 100), keys(count * 5 // 100)
    write_on_disk(root, referenced + orphans, young)
    portal, engine = portal_with_rows(url, referenced, FixedClock(datetime.now(UTC)))
    portal.files = LocalFileStore(root)
    measure(portal, f"local disk + {name}")
    engine.dispose()


def bench_s3(folder: Path, url: str, name: str, count: int) -> None:
    data = folder / f"seaweedfs-{name}"
    data.mkdir()
    try:
        with running_seaweedfs(data) as server:
            store = server.store()
            referenced, orphans = keys(count * 95 // 100), keys(count * 5 // 100)
            client = server.client()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda k: client.put_object(Bucket=store.bucket, Key=k, Body=BODY),
                              referenced + orphans))
            clock = FixedClock(datetime.now(UTC) + timedelta(hours=2))
            portal, engine = portal_with_rows(url, referenced, clock)
            portal.files = store
            measure(portal, f"S3 (SeaweedFS, pages of 1000) + {name}")
            engine.dispose()
    except SeaweedUnavailable as exc:
        print(f"S3 skipped: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--s3-objects", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_disk(folder, f"sqlite:///{folder / 'disk.db'}", "SQLite", args.objects)
        with postgres() as url:
            if url:
                bench_disk(folder, url, "PostgreSQL", args.objects)
        if args.s3_objects:
            with postgres() as url:
                bench_s3(folder, url or f"sqlite:///{folder / 's3.db'}", "PostgreSQL" if url else "SQLite",
                         args.s3_objects)

if __name__ == "__main__":
    main()
