"""``make deploy-check``: docs/production.md's layout on this machine, and a subscriber's journey through it.

The commands are the guide's own: its blocks marked ``<!-- deploy-check: NAME -->``, the
``ExecStart=`` of the systemd units in deploy/systemd, and deploy/portail.env filled with this
machine's addresses. The parts the guide leaves to the utility are local stand-ins: PostgreSQL
at 127.0.0.1 (a role and a database of this run's own, dropped at the end), SeaweedFS
(``weed mini``) as the S3 server, an aiosmtpd server as the relay, the payment simulator.

Each step prints one line. The first failure stops the run with what went wrong and the
server's last log lines; everything started is stopped and everything created is removed,
whatever happens, and the whole run is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures_s3 import S3_ACCESS_KEY, S3_SECRET_KEY, free_ports, running_seaweedfs  # noqa: E402
from tests.fixtures_smtp import SmtpServer  # noqa: E402

TIME_LIMIT = 600  # seconds for the whole run; a step that hangs fails it
GUIDE = ROOT / "docs" / "production.md"
UNITS = ROOT / "deploy" / "systemd"
SUBSCRIBER = ("marie.dupont@example.org", "100001")  # examples/subscribers.csv: e-mail on file, subscriber number
INVOICE = "F2026-000102"  # examples/invoices.csv: 98,75 € to pay
PASSWORD = "Source-claire-du-Salagou-2026"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Failed(Exception):
    """A step did not do what the guide says."""


# --- output -----------------------------------------------------------------------------------

STARTED = time.monotonic()
PASSED: list[str] = []


@contextlib.contextmanager
def step(label: str) -> Iterator[list[str]]:
    """One line per step: elapsed time, ok or FAIL, what was done (``notes`` adds to the line)."""
    notes: list[str] = []
    try:
        yield notes
    except Exception as exc:
        print(f"[{time.monotonic() - STARTED:6.1f} s] FAIL  {label}: {exc}", flush=True)
        raise Failed(label) from exc
    detail = f" ({'; '.join(notes)})" if notes else ""
    PASSED.append(label)
    print(f"[{time.monotonic() - STARTED:6.1f} s] ok    {label}{detail}", flush=True)


def remaining() -> float:
    return max(5.0, TIME_LIMIT - (time.monotonic() - STARTED))


# --- the guide's commands --------------------------------------------------------------------


def guide_blocks() -> dict[str, str]:
    """The shell blocks of docs/production.md marked ``<!-- deploy-check: NAME -->``."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- deploy-check: (\S+) -->\s*```sh\n(.*?)```", text, flags=re.DOTALL))
    missing = {"install", "database", "configure", "first-run", "backup", "restore"} - set(blocks)
    if missing:
        raise Failed(f"{GUIDE.name} has no block marked deploy-check: {', '.join(sorted(missing))}")
    return blocks


def run_shell(script: str, env: dict[str, str], *, timeout: float = 300) -> str:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=min(timeout, remaining()), stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise Failed(f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[-1500:]}")
    return result.stdout


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r'([A-Z][A-Z0-9_]*)="(.*)"', line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def fill_env_file(path: Path, values: dict[str, str]) -> None:
    """Replace the values of the keys given, keep the rest of the file as the guide installed it."""
    lines, seen = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r'([A-Z][A-Z0-9_]*)=".*"', line.strip())
        if match and match.group(1) in values:
            line = f'{match.group(1)}="{values[match.group(1)]}"'
            seen.add(match.group(1))
        lines.append(line)
    lines += [f'{key}="{value}"' for key, value in values.items() if key not in seen]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Layout:
    """The machine's paths in place of the guide's (/opt/portail, /etc/portail, /var/lib/portail)."""

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.home, self.etc, self.var = base / "opt-portail", base / "etc-portail", base / "var-lib-portail"
        self.var.mkdir()
        self.env = env

    def unit(self, name: str) -> tuple[list[str], dict[str, str], Path]:
        """(command, environment, working directory) of a unit's ExecStart=, as systemd would run it."""
        fields = {}
        for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            fields.setdefault(key.strip(), value.strip())
        command = [self.path(word) for word in shlex.split(fields["ExecStart"])]
        environment = {**self.env, **read_env_file(Path(self.path(fields["EnvironmentFile"])))}
        return command, environment, Path(self.path(fields["WorkingDirectory"]))

    def path(self, text: str) -> str:
        return (text.replace("/opt/portail", str(self.home)).replace("/etc/portail", str(self.etc))
                .replace("/var/lib/portail", str(self.var)))

    def run_unit(self, name: str, *, timeout: float = 120) -> str:
        command, environment, workdir = self.unit(name)
        result = subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True,
                                timeout=min(timeout, remaining()), stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise Failed(f"{name}: exit {result.returncode}: {(result.stderr or result.stdout).strip()[-1500:]}")
        return result.stdout


# --- a browser without a browser ---------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - urllib's signature
        return None  # 303s are looked at, then followed by hand


class Browser:
    """Cookies, CSRF tokens read from the page, forms (urlencoded or multipart), no redirect followed unasked."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())

    def fetch(self, path: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, str, bytes]:
        url = path if path.startswith("http") else self.base_url + path
        request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if content_type else {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", ""), exc.read()

    def get(self, path: str) -> str:
        """GET, following redirects; the final page's text (fails unless 200)."""
        for _ in range(5):
            status, location, body = self.fetch(path)
            if status in (301, 302, 303, 307):
                path = location
                continue
            if status != 200:
                raise Failed(f"GET {path}: {status}")
            return body.decode()
        raise Failed(f"GET {path}: too many redirects")

    def submit(self, page: str, action: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None,
               *, expect: int = 303) -> str:
        """GET ``page`` for its CSRF token, POST the form to ``action``; returns where a 303 points."""
        match = CSRF.search(self.get(page))
        if not match:
            raise Failed(f"no csrf_token on {page}")
        fields = {**fields, "csrf_token": match.group(1)}
        if files is None:
            data, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        else:
            data, content_type = multipart(fields, files)
        status, location, body = self.fetch(action, data, content_type)
        if status != expect:
            raise Failed(f"POST {action}: {status} instead of {expect}: {body.decode(errors='replace')[:300]}")
        return location


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- processes -------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + min(timeout, remaining())
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise Failed(f"{what}: nothing after {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def worker_count(parent: int) -> int:
    """Processes whose parent is the server (uvicorn's workers are spawned multiprocessing children)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == parent and b"spawn_main" in cmdline:
                count += 1
    return count


def psql(env: dict[str, str], sql: str, database: str = "postgres") -> str:
    result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
                            env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failed(f"psql: {result.stderr.strip()}")
    return result.stdout.strip()


# --- the run -------------------------------------------------------------------------------------


def main() -> int:
    def out_of_time(*_: object) -> None:
        raise TimeoutError(f"the deploy check took more than {TIME_LIMIT} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TIME_LIMIT + 30)  # a last resort: every wait below is bounded by remaining() already
    for tool in ("psql", "createdb", "pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            print(f"deploy-check: {tool} is not installed (PostgreSQL's client tools: apt-get install "
                  "postgresql-client)", file=sys.stderr)
            return 1
    name = f"portail_deploycheck_{os.getpid()}"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAIL_", "AWS_", "VIRTUAL_ENV"))}
    base_env.update({"PGHOST": os.environ.get("PGHOST", "127.0.0.1"), "PGPORT": os.environ.get("PGPORT", "5432"),
                     "PGUSER": os.environ.get("PGUSER", "postgres")})
    print(f"deploy-check: {GUIDE.relative_to(ROOT)} on this machine (database and role {name})", flush=True)
    with tempfile.TemporaryDirectory(prefix="portail-deploy-check-") as tmp, contextlib.ExitStack() as cleanup:
        base = Path(tmp)
        layout = Layout(base, base_env)
        env = {**base_env, "PORTAIL_HOME": str(layout.home), "PORTAIL_ETC": str(layout.etc), "PORTAIL_DB": name,
               "RESTORE_DB": f"{name}_restored"}
        cleanup.callback(drop_database, base_env, name)
        try:
            journey(layout, env, base, cleanup)
        except Exception as exc:
            if not isinstance(exc, Failed):  # a bug of this script, or the time limit: still one line, still cleaned up
                print(f"[{time.monotonic() - STARTED:6.1f} s] FAIL  {type(exc).__name__}: {exc}", flush=True)
            server_log = base / "serve.log"
            if server_log.exists():
                tail = server_log.read_text(errors="replace").strip().splitlines()[-15:]
                print("server log (last lines):\n  " + "\n  ".join(tail), file=sys.stderr)
            print(f"deploy-check: {len(PASSED)} passed, 1 failed", flush=True)
            return 1
        finally:
            signal.alarm(0)
    print(f"deploy-check: the guide's layout works (two workers, PostgreSQL, S3, SMTP) in "
          f"{time.monotonic() - STARTED:.0f} s; everything stopped and removed")
    print(f"deploy-check: {len(PASSED)} passed, 0 failed", flush=True)
    return 0


def drop_database(env: dict[str, str], name: str) -> None:
    with contextlib.suppress(Exception):
        for database in (name, f"{name}_restored"):
            psql(env, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        psql(env, f'DROP ROLE IF EXISTS "{name}"')


def journey(layout: Layout, env: dict[str, str], base: Path, cleanup: contextlib.ExitStack) -> None:
    blocks = guide_blocks()
    with step("install: a fresh virtualenv from requirements/portail.txt, then the portal") as notes:
        run_shell(blocks["install"], env, timeout=400)
        driver = subprocess.run([layout.home / "bin" / "python", "-c", "import psycopg; print(psycopg.__version__)"],
                                capture_output=True, text=True, check=True)
        notes.append(f"psycopg {driver.stdout.strip()}")
    with step("database: createuser and createdb on the local PostgreSQL"):
        run_shell(blocks["database"], env)
    with step("S3: SeaweedFS (weed mini) on free ports, a new private bucket") as notes:
        s3 = cleanup.enter_context(running_seaweedfs(_mkdir(base / "seaweedfs")))
        bucket = s3.new_bucket()
        notes.append(f"{s3.endpoint}, bucket {bucket}")
    with step("SMTP relay: aiosmtpd on a free port") as notes:
        relay = SmtpServer()
        relay.start()
        cleanup.callback(relay.stop)
        notes.append(relay.url)
    (port,) = free_ports(1)
    base_url, database = f"http://127.0.0.1:{port}", env["PORTAIL_DB"]
    with step("configure: deploy/portail.env installed and filled with this machine's addresses"):
        run_shell(blocks["configure"], env)
        fill_env_file(layout.etc / "portail.env", {
            "PORTAIL_BASE_URL": base_url,
            "PORTAIL_DATABASE_URL": f"postgresql+psycopg://{database}@{env['PGHOST']}:{env['PGPORT']}/{database}",
            "PORTAIL_FILES_URL": f"s3://{bucket}?endpoint={s3.endpoint}&region=us-east-1",
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "PORTAIL_MAIL_URL": f"smtp://127.0.0.1:{relay.port}?from=ne-pas-repondre@eau.example.fr",
            "PORTAIL_PAYMENT": "simulator",
            "PORTAIL_SECRET_KEY": secrets.token_urlsafe(48),
            "PORTAIL_EXCHANGE_DIR": str(layout.var / "exchange"),
            "PORTAIL_BACKUP_DIR": str(base / "backups"),
        })
    with step("first run: portail migrate, portail check") as notes:
        output = run_shell(blocks["first-run"], env)
        notes.append(", ".join(" ".join(line.split(":")[0].split()) for line in output.splitlines()
                               if line[:4] in ("ok  ", "warn", "FAIL")))
    command, unit_env, workdir = layout.unit("portail.service")
    command = [("2" if previous == "--workers" else str(port) if previous == "--port" else word)
               for previous, word in zip(["", *command[:-1]], command, strict=True)]
    with step(f"serve: portail.service's ExecStart ({' '.join(command[1:])})") as notes:
        log = (base / "serve.log").open("wb")
        server = subprocess.Popen(command, cwd=workdir, env=unit_env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        cleanup.callback(stop, server)
        browser = Browser(base_url)

        def healthy() -> bool:
            if server.poll() is not None:
                raise Failed(f"the server exited with {server.returncode}")
            return _answers(port) and browser.fetch("/healthz")[0] == 200

        wait_for(healthy, "GET /healthz", 60)
        workers = wait_for(lambda: worker_count(server.pid) >= 2 and worker_count(server.pid), "two workers", 30)
        notes.append(f"{workers} workers, /healthz 200")
    with step("nightly import: portail-nightly on examples/*.csv (portail-nightly.service)") as notes:
        shutil.copytree(ROOT / "examples", layout.var / "exchange" / "in", ignore=shutil.ignore_patterns("filestore"))
        output = layout.run_unit("portail-nightly.service")
        summaries = ("subscribers", "contracts", "readings", "invoices", "schedules", "reminders", "files sweep")
        notes.append("; ".join(line.split(" (")[0] for line in output.splitlines() if line.split(":")[0] in summaries))
    email, code = SUBSCRIBER
    with step(f"activation: /mot-de-passe with {email} and code {code}, the link by e-mail") as notes:
        # /mot-de-passe answers the same page (200) whatever matched
        browser.submit("/mot-de-passe", "/mot-de-passe", {"email": email, "code": code}, expect=200)
        layout.run_unit("portail-mail.service")
        link = wait_for(lambda: _link(relay, email, "/mot-de-passe/nouveau?jeton="), "the activation e-mail", 30)
        page = browser.get(str(link))
        if "password_confirm" not in page:
            raise Failed("the e-mailed link does not lead to the new-password form")
        location = browser.submit("/mot-de-passe/nouveau", "/mot-de-passe/nouveau",
                                  {"password": PASSWORD, "password_confirm": PASSWORD})
        notes.append(f"link received by the relay, password set, sent to {location}")
    with step("login: /connexion") as notes:
        location = browser.submit("/connexion", "/connexion", {"email": email, "password": PASSWORD})
        home = browser.get(location)
        if "Mes factures" not in home:
            raise Failed("the home page after login does not show the areas")
        notes.append("home page with the five areas")
    with step(f"payment: {INVOICE} paid on the simulator") as notes:
        gateway = browser.submit(f"/factures/{INVOICE}", f"/factures/{INVOICE}/payer", {})
        simulator = urlsplit(gateway).path
        if not simulator.startswith("/simulateur-paiement/"):
            raise Failed(f"Régler la facture sent the browser to {gateway}")
        back = browser.submit(simulator, simulator, {"decision": "paid"})
        result = browser.get(back)
        if "est accepté" not in result:
            raise Failed("the return page does not say the payment was accepted")
        notes.append(f"operation {simulator.rsplit('/', 1)[1]}, return page: accepted")
    with step("upload: a PDF into Mes envois, downloaded back, found in the bucket") as notes:
        tree = browser.get("/documents")
        folder = re.search(r'href="/documents/dossiers/([0-9a-f-]{36})">(?:<span[^>]*>[^<]*</span>)?Mes envois<', tree)
        if not folder:
            raise Failed("no Mes envois folder on /documents")
        page = f"/documents/dossiers/{folder.group(1)}"
        browser.submit(page, f"{page}/envoyer", {}, files={"file": ("attestation.pdf", PDF)})
        document = re.search(r'href="/documents/([0-9a-f-]{36})"', browser.get(page))
        if not document or browser.fetch(f"/documents/{document.group(1)}")[2] != PDF:
            raise Failed("the uploaded file does not come back whole")
        keys = s3.keys(bucket)
        notes.append(f"{len(keys)} object(s) in s3://{bucket}")
    with step("request: a new demande filed") as notes:
        location = browser.submit("/demandes/nouvelle", "/demandes/nouvelle",
                                  {"category": "meter", "subject": "Compteur difficile d'accès",
                                   "message": "Le compteur est derrière le portail fermé à clé."}, files={})
        page = browser.get(location)
        reference = re.search(r"D-\d{4}-\d{6}", page)
        if not reference:
            raise Failed(f"{location} shows no reference")
        notes.append(f"{reference.group(0)}")
    with step("mails: portail mail send (portail-mail.service), received by the relay") as notes:
        layout.run_unit("portail-mail.service")
        wanted = ("Renouvellement de votre mot de passe", "Votre mot de passe a été modifié",
                  f"Paiement reçu pour la facture {INVOICE}", "a bien été reçue")
        mails = wait_for(lambda: _all_there(relay, email, wanted), "the four e-mails", 30)
        notes.append(" | ".join(str(m["Subject"]) for m in mails))
    with step("payments reconcile (portail-reconcile.service), nightly export (portail-nightly.service)") as notes:
        layout.run_unit("portail-reconcile.service")
        layout.run_unit("portail-nightly.service")
        exports = sorted((layout.var / "exchange" / "out").glob("payments-*.csv"))
        if not exports or INVOICE not in exports[-1].read_text(encoding="utf-8"):
            raise Failed(f"the payment of {INVOICE} is not in the exported payments")
        notes.append(f"{INVOICE} in out/{exports[-1].name}")
    with step("backup and restore: portail-backup (pg_dump), pg_restore into a new database, portail check") as notes:
        run_shell(blocks["backup"], env)
        dumps = sorted((base / "backups").glob("portail-*.dump"))
        if not dumps:
            raise Failed("portail-backup wrote no dump")
        run_shell(blocks["restore"], {**env, "DUMP": str(dumps[-1])})
        restored = env["RESTORE_DB"]
        paid = psql(env, "SELECT count(*) FROM payments WHERE status = 'paid'", restored)
        check_env = {**unit_env, "PORTAIL_DATABASE_URL": unit_env["PORTAIL_DATABASE_URL"].rsplit("/", 1)[0] + "/"
                     + restored}
        result = subprocess.run([layout.home / "bin" / "portail", "check"], cwd=workdir, env=check_env,
                                capture_output=True, text=True, timeout=min(60, remaining()))
        if result.returncode != 0:
            raise Failed(f"portail check on the restored database: {result.stdout}{result.stderr}")
        notes.append(f"{dumps[-1].stat().st_size} bytes, {paid} paid payment(s) restored, check ok")
    with step("stop: the server (SIGTERM), SeaweedFS, the relay; drop the databases and the role"):
        cleanup.close()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _link(relay: SmtpServer, to: str, marker: str) -> str | None:
    for message in relay.messages:
        if message["To"] and to in str(message["To"]):
            body = message.get_body(("plain",)).get_content()
            match = re.search(r"https?://\S+" + re.escape(marker) + r"\S+", body)
            if match:
                return match.group(0)
    return None


def _all_there(relay: SmtpServer, to: str, subjects: tuple[str, ...]) -> list | None:
    mine = [m for m in relay.messages if to in str(m["To"])]
    found = [next((m for m in mine if word.lower() in str(m["Subject"]).lower()), None) for word in subjects]
    return found if all(found) else None


if __name__ == "__main__":
    sys.exit(main())
