"""``portail check``: try every configured part once and say, in one line each, whether it answers.

Each probe builds its adapter from the settings as ``bootstrap`` does, then does the least that
proves the part works: the database answers and its schema is current; the file store takes,
gives back and deletes a small object; the SMTP server accepts the connection, TLS and login
(no message is sent); the payment gateway answers a question about an unknown operation.
"""

from __future__ import annotations

import io
import secrets
import ssl
from collections.abc import Callable
from smtplib import SMTPException
from urllib.parse import urlsplit, urlunsplit

import attrs
from sqlalchemy.engine import make_url

from portail_domain.model.errors import GatewayError, StorageError

from .bootstrap import build_files, build_mailer, build_payments, check_database, create_engine
from .mail import SmtpMailer
from .settings import Settings, SettingsError
from .sql.database import pending_migrations
from .system import SystemClock


@attrs.frozen
class Check:
    part: str  # database, files, mail, payment, base URL
    ok: bool
    detail: str
    warning: bool = False  # works, but something needs doing

    def line(self) -> str:
        status = "FAIL" if not self.ok else "warn" if self.warning else "ok"
        return f"{status:<4}  {self.part}: {self.detail}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SettingsError):
        return "; ".join(exc.problems)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


def _safe_url(url: str) -> str:
    """The URL without its password (user:***@host)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def probe_database(settings: Settings) -> Check:
    shown = make_url(settings.database_url).render_as_string(hide_password=True) \
        if "://" in settings.database_url else settings.database_url
    try:
        engine = create_engine(settings)
        try:
            check_database(engine)
            behind = pending_migrations(engine)
        finally:
            engine.dispose()
    except SettingsError as exc:
        return Check("database", False, f"{shown}: {_reason(exc).removeprefix('PORTAIL_DATABASE_URL: ')}")
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises is the answer
        return Check("database", False, f"{shown}: {_reason(exc)}")
    if behind:
        return Check("database", True, f"{shown} answers; the schema is behind: run `portail migrate`", warning=True)
    return Check("database", True, f"{shown} answers, schema up to date")


def probe_files(settings: Settings) -> Check:
    key = f"check/probe-{secrets.token_hex(8)}"
    body = b"portail check"
    try:
        store = build_files(settings)
        store.put(key, io.BytesIO(body), content_type="text/plain", size=len(body))
        try:
            if b"".join(store.open(key)) != body:
                return Check("files", False, f"{settings.files_url}: an object written was not read back whole")
        finally:
            store.delete(key)
    except (SettingsError, StorageError, OSError) as exc:
        return Check("files", False, f"{settings.files_url}: {_reason(exc).removeprefix('PORTAIL_FILES_URL: ')}")
    return Check("files", True, f"{settings.files_url}: wrote, read back and deleted a test object")


def probe_mail(settings: Settings) -> Check:
    shown = _safe_url(settings.mail_url)
    try:
        mailer = build_mailer(settings)
        if not isinstance(mailer, SmtpMailer):
            mailer.directory.mkdir(parents=True, exist_ok=True)
            probe = mailer.directory / f".probe-{secrets.token_hex(4)}"
            probe.write_bytes(b"")
            probe.unlink()
            return Check("mail", True, f"{shown}: messages are written as .eml files (no mail leaves)",
                         warning=settings.https)
        mailer.check()
    except (SettingsError, SMTPException, OSError, ssl.SSLError) as exc:  # OSError: refused, timed out
        return Check("mail", False, f"{shown}: {_reason(exc).removeprefix('PORTAIL_MAIL_URL: ')}")
    return Check("mail", True, f"{shown}: the server accepts the connection (nothing sent)")


def probe_payment(settings: Settings) -> Check:
    if settings.payment == "simulator":
        return Check("payment", True, "simulator: payments are simulated inside the app (no money moves)",
                     warning=settings.https)
    try:
        gateway = build_payments(settings, None, SystemClock())  # PayFiP needs no engine
        gateway.fetch_result("0" * 20)  # an operation nobody started: any answer proves the gateway is there
    except GatewayError as exc:
        return Check("payment", False, f"payfip at {settings.payfip_url}: {_reason(exc)}")
    return Check("payment", True, f"payfip at {settings.payfip_url} answers (client number {settings.payfip_numcli})")


def probe_base_url(settings: Settings) -> Check:
    host = urlsplit(settings.base_url).hostname or ""
    local = host in ("127.0.0.1", "localhost", "::1")
    if settings.https or local:
        return Check("base URL", True, f"{settings.base_url}")
    return Check("base URL", True, f"{settings.base_url}: not https, so cookies are not Secure", warning=True)


PROBES: list[Callable[[Settings], Check]] = [probe_base_url, probe_database, probe_files, probe_mail, probe_payment]


def check_all(settings: Settings) -> list[Check]:
    """One Check per configured part, in the order above."""
    return [probe(settings) for probe in PROBES]
