"""Import a whole utility from CSV and report rows/s and peak memory per kind.

Generates a utility of N subscribers (one contract each, a year of monthly readings and
invoices: 12 N readings, 12 N invoices), then runs `portail import` for each kind, each in its
own process (its peak memory is that process's maxrss), on SQLite and on PostgreSQL (a fresh
database of its own at 127.0.0.1:5432, dropped afterwards). Each file is imported twice: the
second run changes nothing (all rows unchanged).

    python bench/bench_import.py                    # BENCH_SUBSCRIBERS or 10,000 subscribers
    python bench/bench_import.py --subscribers 100000   # the full utility (~1.2 M readings)
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

KINDS = ("subscribers", "contracts", "readings", "invoices")


def generate(folder: Path, subscribers: int, *, months: int = 12, readings: int | None = None,
             codes_every: int = 5) -> dict[str, int]:
    """Write the four CSV files (``months`` monthly invoices per contract, readings for the last
    ``readings`` of those months, all by default); returns the row count of each."""
    rng = random.Random(34230)
    today = date.today()
    first_day = date(today.year - 1 - months // 12, 1, 1)
    readings = months if readings is None else readings
    months_back = [(today.replace(day=1) - timedelta(days=30 * k)).replace(day=5) for k in range(months, 0, -1)]
    counts = dict.fromkeys(KINDS, 0)
    with (
        (folder / "subscribers.csv").open("w", newline="", encoding="utf-8") as s_file,
        (folder / "contracts.csv").open("w", newline="", encoding="utf-8") as c_file,
        (folder / "readings.csv").open("w", newline="", encoding="utf-8") as r_file,
        (folder / "invoices.csv").open("w", newline="", encoding="utf-8") as i_file,
    ):
        s_out, c_out = csv.writer(s_file, delimiter=";"), csv.writer(c_file, delimiter=";")
        r_out, i_out = csv.writer(r_file, delimiter=";"), csv.writer(i_file, delimiter=";")
        s_out.writerow(["subscriber_number", "name", "email", "phone", "address", "postal_code", "city",
                        "activation_code"])
        c_out.writerow(["contract_number", "subscriber_number", "service", "supply_address", "meter_number",
                        "start_date", "end_date"])
        r_out.writerow(["contract_number", "meter_number", "read_on", "index", "source"])
        i_out.writerow(["invoice_number", "contract_number", "issued_on", "due_on", "amount", "amount_paid",
                        "pdf_file"])
        for n in range(subscribers):
            number = str(1_000_000 + n)
            address = f"{rng.randint(1, 200)} rue de la Fontaine"
            code = uuid.UUID(int=rng.getrandbits(128)).hex[:12].upper() if n % codes_every == 0 else ""
            s_out.writerow([number, f"Abonné {n}", f"abonne{n}@example.org", "06 12 34 56 78", address, "34230",
                            "Paulhan", code])
            contract, meter = f"C{number}", f"M{number}"
            c_out.writerow([contract, number, "both", f"{address}, 34230 Paulhan", meter, first_day.isoformat(), ""])
            index = rng.randint(0, 5000) * 1000
            for k, day in enumerate(months_back):
                index += rng.randint(2000, 15000)
                if k >= months - readings:
                    r_out.writerow([contract, meter, day.isoformat(), f"{index // 1000},{index % 1000:03d}", "agent"])
                cents = rng.randint(1500, 25000)
                paid = cents if k < months - 1 else 0
                i_out.writerow([f"F{number}-{k:02d}", contract, day.strftime("%d/%m/%Y"),
                                (day + timedelta(days=30)).isoformat(), f"{cents // 100},{cents % 100:02d}",
                                f"{paid // 100},{paid % 100:02d}", ""])
            counts["subscribers"] += 1
            counts["contracts"] += 1
            counts["readings"] += readings
            counts["invoices"] += months
    return counts


def run_measured(kind: str, path: Path, env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Run one import as a child: (wall seconds, CPU seconds, peak RSS in KiB, its summary line)."""
    out = cwd / f"{kind}.out"
    with out.open("w") as stdout, (cwd / f"{kind}.err").open("w") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "portail_web.cli", "import", kind, str(path)], cwd=cwd,
                                   env=env, stdout=stdout, stderr=stderr)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"import {kind} failed:\n{(cwd / f'{kind}.err').read_text()[-3000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.read_text().strip()


def bench_database(label: str, url: str, folder: Path, counts: dict[str, int]) -> list[tuple]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    env.update({"PORTAIL_DATABASE_URL": url, "PORTAIL_FILES_URL": f"file://{folder / 'files'}",
                "PORTAIL_LOG_LEVEL": "WARNING"})
    work = folder / f"run-{label}"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "portail_web.cli", "migrate"], cwd=work, env=env, check=True,
                   capture_output=True)
    results = []
    for run in ("first", "again"):
        for kind in KINDS:
            seconds, cpu, maxrss_kib, summary = run_measured(kind, folder / f"{kind}.csv", env, work)
            results.append((label, run, kind, counts[kind], seconds, cpu, maxrss_kib, summary))
            print(f"{label:10} {run:5} {kind:11} {counts[kind]:>9,} rows {seconds:7.1f} s "
                  f"{counts[kind] / seconds:>9,.0f} rows/s ({counts[kind] / cpu:>7,.0f} per CPU s of the importer)"
                  f"  peak {maxrss_kib / 1024:4.0f} MiB   {summary.split(' (')[0]}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("BENCH_SUBSCRIBERS", "10000")))
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at start (other work slows the wall-clock figures)")
    with tempfile.TemporaryDirectory(prefix="portail-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        counts = generate(folder, args.subscribers)
        sizes = {k: (folder / f"{k}.csv").stat().st_size for k in KINDS}
        print(f"generated {args.subscribers:,} subscribers in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{counts[k]:,} {k} ({sizes[k] / 2**20:.0f} MiB)" for k in KINDS), flush=True)
        for label in args.databases.split(","):
            if label == "sqlite":
                bench_database("sqlite", f"sqlite:///{folder / 'bench.db'}", folder, counts)
            elif label == "postgresql":
                bench_postgresql(folder, counts)
    return 0


def bench_postgresql(folder: Path, counts: dict[str, int]) -> None:
    # Imported here: the tests import this module as ``bench.bench_import`` (only ``generate``).
    from scratch_pg import scratch_databases

    with scratch_databases("portail_bench") as urls:
        if urls is not None:
            bench_database("postgresql", urls[0], folder, counts)


if __name__ == "__main__":
    sys.exit(main())
