"""Cost of a login: argon2id verification (time, peak memory) and login throughput under load.

Plain script (``make bench`` runs it): production parameters (``Argon2Hasher()``), the real
``log_in`` use case on a SQLite file, N concurrent clients against the bounded hasher.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import argon2

from portail_adapters.passwords import Argon2Hasher
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate
from portail_adapters.system import SystemClock, SystemSecrets
from portail_domain.model.accounts import Account, Subscriber
from portail_domain.model.values import EmailAddress
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_domain.services.accounts import log_in
from portail_web.wiring import web_mail

PASSWORD = "une-phrase-de-passe-solide"
BASE_URL = "http://127.0.0.1:8000"
CLIENTS = 16
LOGINS_PER_CLIENT = 4

# VmHWM (the peak resident size of this process image), not ru_maxrss: on Linux the latter
# carries the parent's peak over fork + exec.
_PEAK_SCRIPT = """
import sys, threading
from portail_adapters.passwords import Argon2Hasher
def hwm():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
h = Argon2Hasher(max_concurrent=int(sys.argv[1]))
stored = sys.argv[3]
before = hwm()
threads = [threading.Thread(target=h.verify, args=(stored, "y" * 20)) for _ in range(int(sys.argv[2]))]
[t.start() for t in threads]; [t.join() for t in threads]
print(hwm() - before)
"""


def peak_memory_mib(max_concurrent: int, verifications: int) -> float:
    """Peak RSS growth (MiB) of a fresh process running ``verifications`` at once through the hasher."""
    stored = Argon2Hasher().hash("x" * 20)  # hashed here: the child only verifies
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(max_concurrent), str(verifications), stored],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # KiB -> MiB


def verify_cost(hasher: Argon2Hasher, rounds: int = 10) -> list[float]:
    stored = hasher.hash(PASSWORD)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        assert hasher.verify(stored, PASSWORD)
        times.append(time.perf_counter() - start)
    return times


def login_throughput(max_concurrent: int) -> tuple[float, float, float]:
    """(logins per second, median latency s, 95th percentile latency s) with CLIENTS concurrent clients."""
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine_from_url(f"sqlite:///{Path(directory) / 'bench.db'}")
        migrate(engine)
        uow = SqlUnitOfWorkFactory(engine)
        hasher = Argon2Hasher(max_concurrent=max_concurrent)
        utility = UtilityCard("Régie", "1 place", "c@example.org", "04", "lundi")
        composer, links = web_mail(BASE_URL, utility)
        portal = Portal(uow=uow, clock=SystemClock(), secrets=SystemSecrets(), passwords=hasher,
                        config=PortalConfig(BASE_URL, utility, secret_key=b"k" * 32), composer=composer, links=links)
        with uow() as work:
            for n in range(CLIENTS):
                subscriber = Subscriber(number=str(200000 + n), name=f"Abonné {n}",
                                        email=EmailAddress.parse(f"abonne{n}@example.org"))
                work.subscribers.add(subscriber)
                work.accounts.add(Account(password_hash=hasher.hash(PASSWORD), created_at=datetime.now(UTC),
                                          subscriber_id=subscriber.id))
            work.commit()
        latencies: list[float] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            for _ in range(LOGINS_PER_CLIENT):
                start = time.perf_counter()
                log_in(portal, f"abonne{n}@example.org", PASSWORD, client=f"10.0.0.{n}")
                with lock:
                    latencies.append(time.perf_counter() - start)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        engine.dispose()
    latencies.sort()
    return len(latencies) / elapsed, statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]


def main() -> None:
    print(f"argon2id parameters: time_cost={argon2.DEFAULT_TIME_COST}, memory_cost={argon2.DEFAULT_MEMORY_COST} KiB, "
          f"parallelism={argon2.DEFAULT_PARALLELISM}; {os.cpu_count()} CPU(s)")
    times = verify_cost(Argon2Hasher())
    print(f"verify: median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms over {len(times)} runs")
    print(f"peak memory of one verify: +{peak_memory_mib(1, 1):.0f} MiB")
    for bound in (4, 16):
        print(f"peak memory of 16 simultaneous verifies, at most {bound} at once: "
              f"+{peak_memory_mib(bound, 16):.0f} MiB")
    for bound in (1, 4):
        rate, p50, p95 = login_throughput(bound)
        print(f"login (log_in use case, SQLite, {CLIENTS} clients x {LOGINS_PER_CLIENT}, hasher bound {bound}): "
              f"{rate:.1f} logins/s, latency median {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")


if __name__ == "__main__":
    main()
