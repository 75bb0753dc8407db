"""Does ``/mot-de-passe`` answer in the same time whether the e-mail and code match?

Plain script: a real server (``portail serve``, SQLite file, one worker) on a free local port,
SUBSCRIBERS subscribers with an e-mail on file, then ROUNDS interleaved requests: a matching
pair (each round a different subscriber, so no throttle interferes) and a wrong code for the
same e-mail. Prints the medians and their difference; the issue's target is under 0.5 ms.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from served import CSRF, serving

from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_domain.model.accounts import Subscriber
from portail_domain.model.values import EmailAddress

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "50"))


def seed(url: str) -> None:
    engine = create_engine_from_url(url)
    migrate(engine)
    with SqlUnitOfWorkFactory(engine)() as work:
        for n in range(ROUNDS + 5):
            work.subscribers.add(Subscriber(number=str(300000 + n), name=f"Abonné {n}",
                                            email=EmailAddress.parse(f"abonne{n}@example.org")))
        work.commit()
    engine.dispose()


def measure(base: str) -> tuple[list[float], list[float]]:
    matching: list[float] = []
    wrong: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        token = CSRF.search(client.get("/mot-de-passe").text).group(1)  # type: ignore[union-attr]
        for n in range(-3, ROUNDS):  # three rounds to warm up, not counted
            for times, code in ((matching, str(300000 + n + 3)), (wrong, "999999")):
                data = {"email": f"abonne{n + 3}@example.org", "code": code, "csrf_token": token}
                start = time.perf_counter()
                response = client.post("/mot-de-passe", data=data)
                elapsed = time.perf_counter() - start
                assert response.status_code == 200, response.status_code
                if n >= 0:
                    times.append(elapsed)
    return matching, wrong


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        seed(url)
        with serving(url, Path(directory)) as base:
            matching, wrong = measure(base)
    a, b = statistics.median(matching) * 1000, statistics.median(wrong) * 1000
    print(f"/mot-de-passe, {ROUNDS} interleaved requests each, SQLite, one worker:")
    print(f"  matching pair: median {a:.2f} ms (p90 {sorted(matching)[int(ROUNDS * 0.9)] * 1000:.2f} ms)")
    print(f"  wrong code:    median {b:.2f} ms (p90 {sorted(wrong)[int(ROUNDS * 0.9)] * 1000:.2f} ms)")
    print(f"  difference of the medians: {a - b:+.2f} ms")


if __name__ == "__main__":
    main()
