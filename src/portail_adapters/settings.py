"""Settings from the environment (``PORTAIL_*``) and an optional TOML file (``PORTAIL_CONFIG``).

The environment wins over the file. Every wrong value is reported as one line naming the
variable; ``load_settings`` raises ``SettingsError`` carrying all of them.

``SETTINGS`` is the table: each setting's name, default, and the one small function that
parses and checks it. Adding a setting is one entry there (and its field on ``Settings``).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs

from portail_domain.model.mandates import creditor_id_problem
from portail_domain.model.requests import RequestCategory


class Invalid(ValueError):
    """A parser's refusal: what is wrong with the value (``load_settings`` names the variable)."""


# A parser gets the setting's text and the other settings' texts (a check may depend on them);
# it returns the parsed value or raises ``Invalid``.
Parser = Callable[[str, Mapping[str, str]], object]


def _url(*schemes: str) -> Parser:
    """A URL with one of ``schemes`` (``postgresql+psycopg`` counts as ``postgresql``)."""

    def parse(value: str, _others: Mapping[str, str]) -> str:
        scheme = urlsplit(value).scheme.split("+", 1)[0]
        if scheme not in schemes:
            raise Invalid(f"unknown scheme {scheme + '://' if scheme else repr(value)} "
                          f"(expected {' or '.join(s + '://' for s in schemes)})")
        return value

    return parse


def _one_of(*choices: str, upper: bool = False) -> Parser:
    def parse(value: str, _others: Mapping[str, str]) -> str:
        chosen = value.upper() if upper else value
        if chosen not in choices:
            raise Invalid(f"{value!r} is not one of {', '.join(choices)}")
        return chosen

    return parse


def _text(value: str, _others: Mapping[str, str]) -> str:
    return value


def _proxies(value: str, _others: Mapping[str, str]) -> str:
    """Addresses or networks (``127.0.0.1,10.0.0.0/24``) whose forwarded headers are believed."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)))
        except ValueError:
            raise Invalid(f"{item!r} is not an IP address or network (never *: anyone could pick an address)") from None
    return ",".join(found)


def _files_url(value: str, others: Mapping[str, str]) -> str:
    _url("file", "s3")(value, others)
    if value.startswith("s3://") and not urlsplit(value).netloc:
        raise Invalid("an s3:// URL names its bucket (s3://bucket?endpoint=…)")
    return value


def _payfip_url(value: str, others: Mapping[str, str]) -> str:
    if others["PAYMENT"] == "payfip":
        _url("https", "http")(value, others)
    return value


def _payfip_numcli(value: str, others: Mapping[str, str]) -> str:
    if others["PAYMENT"] == "payfip" and not value.strip().isdigit():
        raise Invalid("PayFiP needs the client number (digits) given by the DGFiP")
    return value.strip()


def _base_url(value: str, _others: Mapping[str, str]) -> str:
    base = urlsplit(value)
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        raise Invalid(f"{value!r} is not an http(s)://host[:port][/path] URL")
    return value.rstrip("/")


def _utility_name(value: str, _others: Mapping[str, str]) -> str:
    if not value.strip():
        raise Invalid("the utility's name cannot be empty")
    return value


def _secret_key(value: str, _others: Mapping[str, str]) -> bytes:
    """The key as bytes; empty means "use the file" (``PORTAIL_SECRET_KEY_FILE``)."""
    secret = value.encode()
    if secret and len(secret) < 32:
        raise Invalid("at least 32 characters")
    return secret


def _iso_date(value: str, _others: Mapping[str, str]) -> date | None:
    """A date YYYY-MM-DD, or empty for none."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{value!r} is not a date YYYY-MM-DD") from None


def _accessibility_status(value: str, others: Mapping[str, str]) -> str:
    status = " ".join(value.lower().split())
    _one_of("conforme", "partiellement conforme", "non conforme")(status, others)
    if status != "non conforme" and not others["ACCESSIBILITY_AUDIT_DATE"].strip():
        raise Invalid(f"{status!r} needs the audit that found it: set PORTAIL_ACCESSIBILITY_AUDIT_DATE")
    return status


def _path(value: str, _others: Mapping[str, str]) -> Path:
    if "\x00" in value:  # a TOML string may hold one; the file system refuses it
        raise Invalid("a path cannot hold a NUL character")
    return Path(value)


def _whole(unit: str, low: int, high: int) -> Parser:
    """A whole number of ``unit`` between ``low`` and ``high`` (a limit the utility may set)."""

    def parse(value: str, _others: Mapping[str, str]) -> int:
        if not value.strip().isdigit() or not low <= int(value) <= high:
            raise Invalid(f"{value!r} is not a whole number of {unit} from {low} to {high}")
        return int(value)

    return parse


def _creditor_id(value: str, _others: Mapping[str, str]) -> str:
    """A SEPA creditor identifier (ICS, given by the utility's bank), e.g. FR72ZZZ123456."""
    identifier = "".join(value.split()).upper()
    problem = creditor_id_problem(identifier)
    if problem:
        raise Invalid(f"{value!r} is not a SEPA creditor identifier: {problem}")
    return identifier
REQUEST_CATEGORIES = tuple(category.value for category in RequestCategory)


def _due_by_category(value: str, _others: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    """``billing=30,ecretement=30``: a category of request and its days to answer, comma-separated."""
    found: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        category, _, days = item.partition("=")
        category, days = category.strip(), days.strip()
        if category not in REQUEST_CATEGORIES:
            raise Invalid(f"{category!r} is not a category of request ({', '.join(REQUEST_CATEGORIES)})")
        found[category] = _whole("days", 1, 365)(days, _others)  # type: ignore[assignment]
    return tuple(found.items())


@attrs.frozen
class Setting:
    name: str  # PORTAIL_<name> in the environment, <name> in lower case in the TOML file
    default: str
    parse: Parser


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "sqlite:///var/portail.db", _url("sqlite", "postgresql")),
    Setting("FILES_URL", "file://var/files", _files_url),
    Setting("MAIL_URL", "file://var/mail", _url("file", "smtp", "smtps")),
    Setting("PAYMENT", "simulator", _one_of("simulator", "payfip")),
    Setting("PAYFIP_URL", "https://www.payfip.gouv.fr/tpa/services/securite", _payfip_url),
    Setting("PAYFIP_MODE", "T", _one_of("T", "X", "W")),
    Setting("PAYFIP_NUMCLI", "", _payfip_numcli),
    Setting("BASE_URL", "http://127.0.0.1:8000", _base_url),
    Setting("LOG_LEVEL", "INFO", _one_of("DEBUG", "INFO", "WARNING", "ERROR", upper=True)),
    Setting("UTILITY_NAME", "Régie des Eaux du Val d'Hérault (démo)", _utility_name),
    Setting("UTILITY_ADDRESS", "ZAC de la Barthe, 34230 Paulhan", _text),
    Setting("UTILITY_EMAIL", "contact@eau-demo.example", _text),
    Setting("UTILITY_PHONE", "04 67 00 00 00", _text),
    Setting("UTILITY_HOURS", "du lundi au vendredi, 8 h 30 – 12 h et 13 h 30 – 17 h", _text),
    Setting("UTILITY_PRESENTATION", "La régie publique distribue l'eau potable et assure l'assainissement "
            "des communes du Val d'Hérault.", _text),
    Setting("UTILITY_EMERGENCY_PHONE", "04 67 00 00 99", _text),
    Setting("SECRET_KEY", "", _secret_key),
    Setting("SECRET_KEY_FILE", "var/secret_key", _path),
    Setting("TRUSTED_PROXIES", "", _proxies),
    # Limits (PortalConfig.limits): what the pages and mails print comes from these.
    Setting("UPLOAD_MAX_MB", "10", _whole("MB", 1, 100)),
    Setting("UPLOAD_QUOTA_MB", "200", _whole("MB", 1, 100_000)),
    Setting("LINK_VALIDITY_MINUTES", "10", _whole("minutes", 5, 60)),
    Setting("SESSION_IDLE_MINUTES", "30", _whole("minutes", 5, 240)),
    Setting("SESSION_MAX_HOURS", "12", _whole("hours", 1, 24)),
    # Legal pages (/accessibilite, /mentions-legales, /confidentialite) and the mediator in every e-mail.
    Setting("ACCESSIBILITY_STATUS", "non conforme", _accessibility_status),
    Setting("ACCESSIBILITY_AUDIT_DATE", "", _iso_date),
    Setting("ACCESSIBILITY_CONTACT", "", _text),
    Setting("MEDIATOR_NAME", "Médiation de l'eau", _text),
    Setting("MEDIATOR_ADDRESS", "BP 40463, 75366 Paris Cedex 08", _text),
    Setting("MEDIATOR_URL", "https://www.mediation-eau.fr", _url("https", "http")),
    Setting("PUBLISHER_NAME", "", _text),  # empty: the utility's name, address, phone
    Setting("PUBLISHER_ADDRESS", "", _text),
    Setting("PUBLISHER_PHONE", "", _text),
    Setting("PUBLISHER_SIRET", "", _text),
    Setting("PUBLISHER_DIRECTOR", "", _text),
    Setting("PUBLISHER_DPO_EMAIL", "", _text),
    Setting("HOST_NAME", "", _text),
    Setting("HOST_ADDRESS", "", _text),
    Setting("HOST_PHONE", "", _text),
    # Retention (privacy page; `portail retention apply`).
    Setting("RETENTION_INVOICES_YEARS", "10", _whole("years", 1, 50)),
    Setting("RETENTION_REQUESTS_YEARS", "5", _whole("years", 1, 50)),
    Setting("RETENTION_SECURITY_DAYS", "365", _whole("days", 30, 3650)),
    Setting("RETENTION_UNUSED_ACCOUNT_YEARS", "3", _whole("years", 1, 20)),
    Setting("RETENTION_WARNING_DAYS", "30", _whole("days", 7, 365)),
    Setting("STAFF_SESSION_IDLE_MINUTES", "15", _whole("minutes", 5, 60)),
    Setting("STAFF_SESSION_MAX_HOURS", "8", _whole("hours", 1, 12)),
    # Direct debit (prélèvement): who collects. The demo's identifier is the usual example, not a real one.
    Setting("SEPA_CREDITOR_ID", "FR72ZZZ123456", _creditor_id),
    Setting("SEPA_CREDITOR_NAME", "", _text),  # empty: the utility's name
    # Payment reminders (PortalConfig.reminders): how many days before / after the due date.
    Setting("REMINDER_DAYS_BEFORE", "5", _whole("days", 1, 30)),
    Setting("REMINDER_DAYS_AFTER", "3", _whole("days", 1, 60)),
    # The requests queue: days to answer before a request shows as overdue; overrides per category.
    Setting("REQUEST_DUE_DAYS", "15", _whole("days", 1, 365)),
    Setting("REQUEST_DUE_DAYS_BY_CATEGORY", "", _due_by_category),
)
DEFAULTS: dict[str, str] = {setting.name: setting.default for setting in SETTINGS}


class SettingsError(Exception):
    """Carries one line per wrong setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@attrs.frozen
class Settings:
    database_url: str
    files_url: str
    mail_url: str
    payment: str
    payfip_numcli: str
    payfip_mode: str
    payfip_url: str
    base_url: str
    secret_key: bytes = attrs.field(repr=False)
    utility_name: str
    utility_address: str
    utility_email: str
    utility_phone: str
    utility_hours: str
    utility_presentation: str
    utility_emergency_phone: str
    log_level: str
    upload_max_mb: int
    upload_quota_mb: int
    link_validity_minutes: int
    session_idle_minutes: int
    session_max_hours: int
    accessibility_status: str
    accessibility_audit_date: date | None
    accessibility_contact: str
    mediator_name: str
    mediator_address: str
    mediator_url: str
    publisher_name: str
    publisher_address: str
    publisher_phone: str
    publisher_siret: str
    publisher_director: str
    publisher_dpo_email: str
    host_name: str
    host_address: str
    host_phone: str
    retention_invoices_years: int
    retention_requests_years: int
    retention_security_days: int
    retention_unused_account_years: int
    retention_warning_days: int
    staff_session_idle_minutes: int
    staff_session_max_hours: int
    sepa_creditor_id: str
    sepa_creditor_name: str
    reminder_days_before: int
    reminder_days_after: int
    trusted_proxies: str
    request_due_days: int
    request_due_days_by_category: tuple[tuple[str, int], ...]

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


def load_settings(environ: Mapping[str, str] | None = None, *, create_secret: bool = True) -> Settings:
    """Read, merge and validate the settings; raise ``SettingsError`` listing every problem."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    texts = {**DEFAULTS, **_from_file(environ.get("PORTAIL_CONFIG"), problems)}
    texts.update({name: environ[f"PORTAIL_{name}"] for name in DEFAULTS if f"PORTAIL_{name}" in environ})
    values: dict[str, object] = {}
    for setting in SETTINGS:
        try:
            values[setting.name] = setting.parse(texts[setting.name], texts)
        except ValueError as exc:  # Invalid, or what urlsplit says of a malformed URL ("Invalid IPv6 URL")
            problems.append(f"PORTAIL_{setting.name}: {exc}")
    if problems:
        raise SettingsError(problems)
    secret_file = values.pop("SECRET_KEY_FILE")
    assert isinstance(secret_file, Path)
    values["SECRET_KEY"] = values["SECRET_KEY"] or _secret_from_file(secret_file, create=create_secret)
    # Each parser returns its field's type; the table's names are the fields' names in upper case.
    return Settings(**{name.lower(): value for name, value in values.items()})  # type: ignore[arg-type]


def _from_file(config_file: str | None, problems: list[str]) -> dict[str, str]:
    """The settings of the TOML file named by ``PORTAIL_CONFIG`` (none when it is not set)."""
    if not config_file:
        return {}
    try:
        with open(config_file, "rb") as fh:
            loaded = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError([f"PORTAIL_CONFIG: cannot read {config_file}: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"PORTAIL_CONFIG: {config_file} is not valid TOML: {exc}"]) from None
    found: dict[str, str] = {}
    for key, value in loaded.items():
        name = key.upper().removeprefix("PORTAIL_")
        if name in DEFAULTS:
            found[name] = str(value)
        else:
            problems.append(f"PORTAIL_CONFIG: unknown setting {key!r} in {config_file}")
    return found


def _secret_from_file(path: Path, *, create: bool) -> bytes:
    """The embedded setup's secret: generated once, kept (mode 0600) beside the database."""
    try:
        secret = path.read_bytes().strip()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SettingsError([f"PORTAIL_SECRET_KEY_FILE: cannot read {path}: {exc.strerror}"]) from None
    if not create:
        return secrets.token_urlsafe(48).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secret + b"\n")
        return secret
    except OSError as exc:
        raise SettingsError([f"PORTAIL_SECRET_KEY_FILE: cannot write {path}: {exc.strerror}"]) from None


def url_options(url: str) -> dict[str, str]:
    """Query options of a settings URL (``?endpoint=…&region=…``), last value wins."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
