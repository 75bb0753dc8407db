"""Payments: how long confirming a payment takes on SQLite, and the invoice list of a big account.

Run: `make bench` (or `.venv/bin/python bench/bench_payments.py`). Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import add_invoice, add_subscriber, make_portal, payment_desk  # noqa: E402

from portail_adapters.memory import FixedClock  # noqa: E402
from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url, migrate  # noqa: E402
from portail_domain.model.billing import PaymentStatus
from portail_domain.services.billing import invoice_overview

N = 300


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine_from_url(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        portal = make_portal(SqlUnitOfWorkFactory(engine), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
        marie = add_subscriber(portal)
        for i in range(N):
            add_invoice(portal, marie, f"F{i:05d}", amount=1000 + i, issued="2026-01-01", due="2026-02-01")
        desk = payment_desk(portal)
        started = time.perf_counter()
        ops = [desk.start_payment(marie.id, f"F{i:05d}").rsplit("op=", 1)[1] for i in range(N)]
        start_ms = (time.perf_counter() - started) * 1000 / N
        for op in ops:
            portal.payments.decide(op, PaymentStatus.PAID)
        started = time.perf_counter()
        for op in ops:
            desk.handle_notification(op)
        confirm_ms = (time.perf_counter() - started) * 1000 / N
        started = time.perf_counter()
        for op in ops:
            desk.handle_notification(op)  # replays
        replay_ms = (time.perf_counter() - started) * 1000 / N
        started = time.perf_counter()
        overview = invoice_overview(portal, marie.id)
        list_ms = (time.perf_counter() - started) * 1000
        assert overview.total_due.cents == 0
        print(f"start_payment (SQLite, fake gateway): {start_ms:.2f} ms each over {N}")
        print(f"confirm a paid notification (SQLite): {confirm_ms:.2f} ms each over {N}")
        print(f"replayed notification (SQLite): {replay_ms:.2f} ms each over {N}")
        print(f"invoice overview of {N} invoices (SQLite): {list_ms:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
