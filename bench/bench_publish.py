"""Publishing a document to a whole utility (``/agent/documents``, audience ``all``): one stored file,
a document row per subscriber, the standard folders of those who had none, one e-mail per paperless
subscriber — all in one transaction.

Loads N subscribers (bulk inserts: postal codes spread over 20 towns, a third paperless, one in ten in
English, half with their folders already, each with a water, sanitation or both contract) on SQLite
and on PostgreSQL (a fresh database of its own at 127.0.0.1:5432, dropped afterwards), with the local
disk file store, then times ``publish_document`` for ``all`` (the first publication: folders made for
half the subscribers), ``all`` again, ``service:water`` and one postal code; and, for comparison, the
per-mail path (``queue_mails``: render every mail, then one batched insert) on a sample.

    .venv/bin/python bench/bench_publish.py                       # 100,000 subscribers
    .venv/bin/python bench/bench_publish.py --subscribers 10000 --paperless 1

Target: under 30 s for 100,000 subscribers on PostgreSQL, e-mails included.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from scratch_pg import scratch_databases  # a sibling module (the script's folder is on the path)
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import FixedClock, PlainPasswordHasher, SequenceSecrets
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_adapters.sql import tables as t
from portail_domain.model.documents import DEFAULT_FOLDERS
from portail_domain.model.links import Link
from portail_domain.model.mail import Mail, MailKind
from portail_domain.model.publishing import Audience
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.services.mail import queue_mails
from portail_domain.services.publishing import publish_document
from portail_web.wiring import web_mail

BASE_URL = "http://127.0.0.1:8000"
TARGET_S = 30
PDF = b"%PDF-1.7\n" + b"Qualite de l'eau distribuee en 2025. " * 8000 + b"\n%%EOF\n"  # ~300 KB
BATCH = 10_000
SAMPLE_MAILS = 5_000


def portal_on(engine: Engine, files: Path) -> Portal:
    utility = UtilityCard("Régie des Eaux", "1 place de la Mairie, 34230 Paulhan", "contact@eau.example",
                          "04 67 00 00 00", "du lundi au vendredi")
    composer, links = web_mail(BASE_URL, utility)
    return Portal(uow=SqlUnitOfWorkFactory(engine), clock=FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)),
                  secrets=SequenceSecrets(), passwords=PlainPasswordHasher(),
                  config=PortalConfig(BASE_URL, utility, secret_key=b"k" * 32), composer=composer, links=links,
                  files=LocalFileStore(files))


def load(engine: Engine, subscribers: int, paperless_every: int) -> None:
    """The subscribers, their contracts, and the standard folders of every other one, in batches."""
    services = ("both", "water", "sanitation")
    with engine.begin() as c:
        for start in range(0, subscribers, BATCH):
            people, contracts, folders = [], [], []
            for n in range(start, min(start + BATCH, subscribers)):
                sid = uuid.uuid4()
                people.append({"id": sid, "number": str(1_000_000 + n), "name": f"Abonné {n}",
                               "email": f"abonne{n}@example.org", "email_normalised": f"abonne{n}@example.org",
                               "phone": "", "address": "1 rue de la Fontaine", "postal_code": str(34200 + n % 20),
                               "city": "Ville", "language": "en" if n % 10 == 0 else "fr",
                               "paperless": n % paperless_every == 0, "reminders": True})
                contracts.append({"id": uuid.uuid4(), "number": f"C{1_000_000 + n}", "subscriber_id": sid,
                                  "service": services[(n // 5) % 3], "supply_address": "1 rue de la Fontaine",
                                  "meter_number": f"M{n}", "meter_digits": 5, "start_on": date(2020, 1, 1)})
                if n % 2:
                    folders += [{"id": uuid.uuid4(), "subscriber_id": sid, "name": name, "kind": kind.value,
                                 "parent_id": None, "position": position}
                                for position, (kind, name) in enumerate(DEFAULT_FOLDERS)]
            c.execute(insert(t.subscribers), people)
            c.execute(insert(t.contracts), contracts)
            c.execute(insert(t.document_folders), folders)
        c.execute(text("ANALYZE"))


def timed(label: str, portal: Portal, audience: str) -> float:
    wanted = Audience.parse(audience)
    start = time.perf_counter()
    done = publish_document(portal, None, audience=wanted, folder="Courriers", filename="qualite-eau-2025.pdf",
                            data=io.BytesIO(PDF))
    elapsed = time.perf_counter() - start
    print(f"{label:10} publish {audience:18} {done.subscribers:>8,} rows {done.mailed:>7,} e-mails   "
          f"{elapsed:6.1f} s", flush=True)
    return elapsed


def per_mail(label: str, portal: Portal, count: int) -> None:
    """The other way: compose each mail (``queue_mail``'s path), then one batched insert, on a sample."""
    mails = [Mail(MailKind.DOCUMENT_PUBLISHED, f"abonne{n}@example.org", "fr",
                  {"filename": "qualite-eau-2025.pdf", "folder": "Courriers", "link": Link("documents")})
             for n in range(count)]
    start = time.perf_counter()
    with portal.uow() as uow:
        queue_mails(uow, portal, mails)
        uow.rollback()
    elapsed = time.perf_counter() - start
    print(f"{label:10} per-mail path (compose + insert), {count:,} e-mails: {elapsed:.1f} s, i.e. "
          f"{elapsed / count * 100_000:.0f} s per 100,000", flush=True)


def bench(label: str, engine: Engine, folder: Path, subscribers: int, paperless_every: int) -> bool:
    migrate(engine)
    started = time.perf_counter()
    load(engine, subscribers, paperless_every)
    print(f"{label}: {subscribers:,} subscribers loaded in {time.perf_counter() - started:.1f} s", flush=True)
    portal = portal_on(engine, folder / f"files-{label}")
    first = timed(label, portal, "all")
    timed(label, portal, "all")
    timed(label, portal, "service:water")
    timed(label, portal, "postal_code:34205")
    with engine.connect() as c:
        rows, keys = c.execute(text("SELECT count(*), count(DISTINCT storage_key) FROM documents")).one()
        mails = c.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    stored = sum(1 for p in (folder / f"files-{label}").rglob("*") if p.is_file())
    print(f"{label:10} {rows:,} document rows, {keys} storage keys, {stored} stored files, {mails:,} e-mails queued")
    per_mail(label, portal, SAMPLE_MAILS)
    return first < TARGET_S


def bench_postgresql(folder: Path, subscribers: int, paperless_every: int) -> bool:
    with scratch_databases("portail_bench_publish") as urls:
        if urls is None:
            return True
        engine = create_engine_from_url(urls[0])
        try:
            return bench("postgresql", engine, folder, subscribers, paperless_every)
        finally:
            engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("BENCH_SUBSCRIBERS", "100000")))
    parser.add_argument("--paperless", type=int, default=3, help="one subscriber in N is paperless (1: all)")
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; target < {TARGET_S} s "
          f"for the first publication to all")
    ok = True
    with tempfile.TemporaryDirectory(prefix="portail-bench-") as tmp:
        folder = Path(tmp)
        for label in args.databases.split(","):
            if label == "sqlite":
                engine = create_engine_from_url(f"sqlite:///{folder / 'bench.db'}")
                try:
                    ok &= bench("sqlite", engine, folder, args.subscribers, args.paperless)
                finally:
                    engine.dispose()
            elif label == "postgresql":
                ok &= bench_postgresql(folder, args.subscribers, args.paperless)
    print("target met" if ok else f"TARGET MISSED: a first publication took {TARGET_S} s or more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
