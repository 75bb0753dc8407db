"""How many of N wrong passwords sent at once for one e-mail get checked? (issue: all of them)

Plain script: a real ``portail serve`` (SQLite, one worker; PostgreSQL, two workers, when one
answers at ``PORTAIL_TEST_DATABASE_URL`` or 127.0.0.1:5432), one subscriber, then TRIES
clients that each fetch the login form and post a wrong password at the same moment. A checked
password answers 400, a refused try 429. With the per-e-mail numbers (4 free failures, then a
wait) at most 5 may be checked.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
from served import CSRF, serving
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portail_adapters.passwords import Argon2Hasher
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_domain.model.accounts import Account, Subscriber
from portail_domain.model.values import EmailAddress

TRIES = int(os.environ.get("BENCH_TRIES", "40"))
PG_URL = os.environ.get("PORTAIL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def seed(url: str) -> None:
    engine = create_engine_from_url(url)
    migrate(engine)
    with SqlUnitOfWorkFactory(engine)() as work:
        marie = Subscriber(number="100001", name="Marie", email=EmailAddress.parse("marie@example.org"))
        work.subscribers.add(marie)
        work.accounts.add(Account(password_hash=Argon2Hasher().hash("une-phrase-de-passe-solide"),
                                  created_at=datetime.now(UTC), subscriber_id=marie.id))
        work.commit()
    engine.dispose()


def race(base: str) -> Counter[int]:
    barrier = threading.Barrier(TRIES, timeout=60)
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def attempt(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            token = CSRF.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
            barrier.wait()
            status = client.post("/connexion", data={"email": "marie@example.org", "password": f"devine-{n}",
                                                     "csrf_token": token}).status_code
        with lock:
            answers[status] += 1

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(TRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def report(label: str, answers: Counter[int]) -> None:
    print(f"{label}: {TRIES} wrong passwords at once -> {answers[400]} checked (400), {answers[429]} refused (429)"
          + (f", other: {dict((k, v) for k, v in answers.items() if k not in (400, 429))}" if set(answers) - {400, 429}
             else ""))


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        seed(url)
        with serving(url, Path(directory)) as base:
            report("SQLite, 1 worker", race(base))
        try:
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
            name = f"portail_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: the SQLite half only
            print(f"PostgreSQL: not reachable ({str(exc).splitlines()[0]})")
            return
        pg = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        try:
            seed(pg)
            with serving(pg, Path(directory), workers=2) as base:
                report("PostgreSQL, 2 workers", race(base))
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
