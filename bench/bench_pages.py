"""A subscriber's read pages under load, against the floor app, on SQLite and PostgreSQL.

Imports a generated utility with `portail import` (10,000 subscribers x 24 invoices x 20
readings by default), starts the floor app (../shared/bench/floor_app.py: Starlette + Jinja2 +
SQLAlchemy Core, one query, no auth) and `portail serve`, activates a subscriber's account
through the real flow (code, e-mailed link, new password, login), then runs wrk against floor
and project alternately, in the same run: floor /invoices, then each page, in rounds. Prints
req/s, p50/p99 latency and each page's ratio to the floor (anonymous /connexion against floor
/plaintext), then the resident size of one worker. Same on PostgreSQL with 1 and 2 workers.

    python bench/bench_pages.py                       # 10,000 subscribers, SQLite and PostgreSQL
    python bench/bench_pages.py --subscribers 100000  # the full-size utility
    python bench/bench_pages.py --databases sqlite --seconds 10 --rounds 3
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).parent))
from bench_import import KINDS, generate  # noqa: E402 - a sibling script
from scratch_pg import scratch_databases  # noqa: E402 - a sibling module

FLOOR_APP = Path(os.environ.get("BENCH_FLOOR_APP", Path(__file__).resolve().parents[2] / "shared/bench/floor_app.py"))
PASSWORD = "une phrase de passe pour le banc d'essai"
PAGES = ("/factures", "/", "/contrats/{contract}", "/documents", "/demandes", "/connexion")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """Just enough of a browser: cookies, forms, no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, urlencode(form) if form is not None else None, headers)
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        return response.status, body

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def submit(self, page: str, form: dict[str, str]) -> int:
        """GET ``page``, POST its form back with the page's CSRF token; the answer's status."""
        token = CSRF.search(self.get(page)[1]).group(1)
        return self.request("POST", page, {**form, "csrf_token": token})[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path, port: int, probe: str) -> Iterator[int]:
    """Run a server until the block ends; yields its pid once ``probe`` answers."""
    log = (cwd / f"server-{port}.log").open("w")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Browser(port).get(probe)[0] < 500:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[:4]} did not start:\n{(cwd / f'server-{port}.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def portail(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "portail_web.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"portail {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout.strip()


def log_in(port: int, env: dict[str, str], cwd: Path, mail_dir: Path, number: str, email: str) -> str:
    """Activate the account with the subscriber number as code, follow the e-mailed link, set the
    password and log in, as a person would; returns the session cookie's value."""
    browser = Browser(port)
    assert browser.submit("/mot-de-passe", {"email": email, "code": number}) == 200  # the same page always
    link = None
    for _ in range(60):
        portail(env, cwd, "mail", "send")
        for path in sorted(mail_dir.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            found = re.search(r"/mot-de-passe/nouveau\?jeton=([\w-]+)", message.get_body(("plain",)).get_content())
            if found and email in str(message["To"]):
                link = found.group(0)
        if link:
            break
        time.sleep(0.5)
    if link is None:
        raise SystemExit("no activation e-mail arrived")
    assert browser.get(link)[0] == 303  # the token moves from the URL to a cookie
    assert browser.submit("/mot-de-passe/nouveau", {"password": PASSWORD, "password_confirm": PASSWORD}) == 303
    assert browser.submit("/connexion", {"email": email, "password": PASSWORD}) == 303
    return browser.cookies["portail_session"]


def wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> tuple[float, float, float]:
    """(req/s, p50 ms, p99 ms); refuses a run with errors or non-2xx answers."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: portail_session={cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk {url}: errors\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, _latency(out, "50%"), _latency(out, "99%")


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def worker_rss_mib(pid: int) -> float:
    """Resident size of the largest process in ``pid``'s tree (a worker when uvicorn forks them)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {pid}, True
    while grew:
        new = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= new
        grew = bool(new)
    sizes = []
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
        except (OSError, AttributeError):
            continue
    return max(sizes)


def measure(label: str, floor: str, project: str, cookie: str, number: str, args: argparse.Namespace,
            project_pid: int, rates: dict[str, float]) -> list[str]:
    """The table of one server's pages against the floor; each page's req/s also goes in ``rates``."""
    lines = [f"### {label} ({date.today().isoformat()}, wrk -t1 -c{args.connections} -d{args.seconds}s, "
             f"median of {args.rounds} alternating rounds)", "",
             "| page | req/s | p50 ms | p99 ms | floor req/s | floor p99 ms | ratio to floor |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for target in (floor + "/invoices?s=1", floor + "/plaintext", project + "/factures"):  # warm up
        wrk(target, 1, args.connections, cookie if target.startswith(project) else None)
    for page in PAGES:
        anonymous = page == "/connexion"
        floor_url = floor + ("/plaintext" if anonymous else f"/invoices?s={int(number) % 10_000 + 1}")
        url = project + page.format(contract=f"C{number}")
        floors, runs = [], []
        for _ in range(args.rounds):
            floors.append(wrk(floor_url, args.seconds, args.connections))
            runs.append(wrk(url, args.seconds, args.connections, None if anonymous else cookie))
        rate = statistics.median(r[0] for r in runs)
        rates[page] = rate
        floor_rate, floor_p99 = statistics.median(f[0] for f in floors), statistics.median(f[2] for f in floors)
        p50, p99 = statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)
        name = ("anonymous " if anonymous else "") + page.format(contract="{n}")
        vs = "floor /plaintext" if anonymous else "floor /invoices"
        lines.append(f"| `{name}` | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {floor_rate:,.0f} | {floor_p99:.1f} | "
                     f"{rate / floor_rate:.0%} of {vs} |")
        print(lines[-1], flush=True)
    lines += ["", f"Resident size of one `portail` worker after the run: {worker_rss_mib(project_pid):.0f} MiB.", ""]
    return lines


def bench(label: str, url: str, floor_url: str, folder: Path, args: argparse.Namespace) -> list[str]:
    work = folder / f"run-{label}"
    (work / "mail").mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAIL_")}
    env.update({"PORTAIL_DATABASE_URL": url, "PORTAIL_FILES_URL": f"file://{work / 'files'}",
                "PORTAIL_MAIL_URL": f"file://{work / 'mail'}", "PORTAIL_LOG_LEVEL": "WARNING",
                "PORTAIL_BASE_URL": f"http://127.0.0.1:{port}"})
    started = time.perf_counter()
    portail(env, work, "migrate")
    for kind in KINDS:
        portail(env, work, "import", kind, str(folder / f"{kind}.csv"))
    # The import queues an e-mail per subscriber about the new invoices, and the day's payment
    # reminders are due: queue and send them now, as the utility's timers would have, or the
    # server's relay does it during the measured runs (5 % of its samples under py-spy; at 100,000
    # subscribers, the first minute of the run).
    portail(env, work, "reminders", "send")
    portail(env, work, "mail", "send")
    floor_env = {**env, "DB_URL": floor_url}
    subprocess.run([sys.executable, str(FLOOR_APP), "seed"], env=floor_env, cwd=work, check=True)
    print(f"{label}: imported and seeded in {time.perf_counter() - started:.0f} s", flush=True)
    number = str(1_000_000 + args.subscribers // 2)
    lines, cookie, rates = [], None, {}
    for workers in args.workers if label == "postgresql" else [1]:
        floor_port = free_port()
        floor_command = [sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(FLOOR_APP.parent),
                         "--host", "127.0.0.1", "--port", str(floor_port), "--workers", str(workers),
                         "--log-level", "warning", "--no-access-log"]
        portail_command = [sys.executable, "-m", "portail_web.cli", "serve", "--port", str(port),
                           "--workers", str(workers)]
        with (server(floor_command, floor_env, work, floor_port, "/plaintext"),
              server(portail_command, env, work, port, "/healthz") as pid):
            base = f"http://127.0.0.1:{port}"
            if cookie is None:  # the session lives in the database: both worker counts use it
                cookie = log_in(port, env, work, work / "mail", number, f"abonne{args.subscribers // 2}@example.org")
            for page in PAGES:
                browser = Browser(port)
                if page != "/connexion":
                    browser.cookies["portail_session"] = cookie
                status = browser.get(page.format(contract=f"C{number}"))[0]
                if status != 200:
                    raise SystemExit(f"{page}: {status}")
            title = f"{label}, {args.subscribers:,} subscribers, --workers {workers}"
            rates[workers] = {}
            lines += measure(title, f"http://127.0.0.1:{floor_port}", base, cookie, number, args, pid, rates[workers])
    if 1 in rates and len(rates) > 1:
        for workers in sorted(rates)[1:]:
            lines += [f"{label}, `--workers {workers}` against `--workers 1`: " + ", ".join(
                f"`{page.format(contract='{n}')}` {rates[workers][page] / rates[1][page]:.2f}x" for page in PAGES), ""]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("BENCH_SUBSCRIBERS", "10000")))
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating floor/project runs per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2],
                        help="PostgreSQL worker counts (SQLite runs one)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")
    if not FLOOR_APP.exists():
        raise SystemExit(f"the floor app is missing: set BENCH_FLOOR_APP (looked at {FLOOR_APP})")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="portail-bench-pages-") as tmp:
        folder = Path(tmp)
        counts = generate(folder, args.subscribers, months=24, readings=20)
        print("generated " + ", ".join(f"{counts[k]:,} {k}" for k in KINDS), flush=True)
        for label in args.databases.split(","):
            if label == "sqlite":
                report += bench("sqlite", f"sqlite:///{folder / 'portail.db'}", f"sqlite:///{folder / 'floor.db'}",
                                folder, args)
            elif label == "postgresql":
                report += bench_postgresql(folder, args)
    print("\n".join(["", f"command: python bench/bench_pages.py {' '.join(sys.argv[1:])}".rstrip(), "", *report]))
    return 0


def bench_postgresql(folder: Path, args: argparse.Namespace) -> list[str]:
    with scratch_databases("portail_bench_pages", "floor_bench_pages") as urls:
        if urls is None:
            return []
        url, floor = urls
        return bench("postgresql", url, floor, folder, args)


if __name__ == "__main__":
    sys.exit(main())
