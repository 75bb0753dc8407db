"""Settings from the environment (``PORTAIL_*``) and an optional TOML file (``PORTAIL_CONFIG``).

The environment wins over the file. Every wrong value is reported as one line naming the
variable; ``load_settings`` raises ``SettingsError`` carrying all of them.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs

DEFAULTS: dict[str, str] = {
    "DATABASE_URL": "sqlite:///var/portail.db",
    "FILES_URL": "file://var/files",
    "MAIL_URL": "file://var/mail",
    "PAYMENT": "simulator",
    "PAYFIP_NUMCLI": "",
    "PAYFIP_MODE": "T",
    "PAYFIP_URL": "https://www.payfip.gouv.fr/tpa/services/securite",
    "BASE_URL": "http://127.0.0.1:8000",
    "SECRET_KEY": "",
    "SECRET_KEY_FILE": "var/secret_key",
    "UTILITY_NAME": "Régie des Eaux du Val d'Hérault (démo)",
    "UTILITY_ADDRESS": "ZAC de la Barthe, 34230 Paulhan",
    "UTILITY_EMAIL": "contact@eau-demo.example",
    "UTILITY_PHONE": "04 67 00 00 00",
    "UTILITY_HOURS": "du lundi au vendredi, 8 h 30 – 12 h et 13 h 30 – 17 h",
    "LOG_LEVEL": "INFO",
}


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
    log_level: str

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


def _check_url(problems: list[str], name: str, value: str, schemes: tuple[str, ...]) -> None:
    scheme = urlsplit(value).scheme.split("+", 1)[0]  # postgresql+psycopg -> postgresql
    if scheme not in schemes:
        problems.append(
            f"PORTAIL_{name}: unknown scheme {scheme + '://' if scheme else repr(value)} "
            f"(expected {' or '.join(s + '://' for s in schemes)})"
        )


def load_settings(environ: Mapping[str, str] | None = None, *, create_secret: bool = True) -> Settings:
    """Read, merge and validate the settings; raise ``SettingsError`` listing every problem."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    values = dict(DEFAULTS)
    config_file = environ.get("PORTAIL_CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                loaded = tomllib.load(fh)
        except OSError as exc:
            raise SettingsError([f"PORTAIL_CONFIG: cannot read {config_file}: {exc.strerror}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"PORTAIL_CONFIG: {config_file} is not valid TOML: {exc}"]) from None
        for key, value in loaded.items():
            name = key.upper().removeprefix("PORTAIL_")
            if name not in DEFAULTS:
                problems.append(f"PORTAIL_CONFIG: unknown setting {key!r} in {config_file}")
            else:
                values[name] = str(value)
    for name in DEFAULTS:
        if f"PORTAIL_{name}" in environ:
            values[name] = environ[f"PORTAIL_{name}"]

    _check_url(problems, "DATABASE_URL", values["DATABASE_URL"], ("sqlite", "postgresql"))
    _check_url(problems, "FILES_URL", values["FILES_URL"], ("file", "s3"))
    _check_url(problems, "MAIL_URL", values["MAIL_URL"], ("file", "smtp", "smtps"))
    if values["FILES_URL"].startswith("s3://") and not urlsplit(values["FILES_URL"]).netloc:
        problems.append("PORTAIL_FILES_URL: an s3:// URL names its bucket (s3://bucket?endpoint=…)")
    if values["PAYMENT"] not in ("simulator", "payfip"):
        problems.append(f"PORTAIL_PAYMENT: {values['PAYMENT']!r} is not one of simulator, payfip")
    if values["PAYMENT"] == "payfip":
        _check_url(problems, "PAYFIP_URL", values["PAYFIP_URL"], ("https", "http"))
    if values["PAYFIP_MODE"] not in ("T", "X", "W"):
        problems.append(f"PORTAIL_PAYFIP_MODE: {values['PAYFIP_MODE']!r} is not one of T, X, W")
    if values["PAYMENT"] == "payfip" and not values["PAYFIP_NUMCLI"].strip().isdigit():
        problems.append("PORTAIL_PAYFIP_NUMCLI: PayFiP needs the client number (digits) given by the DGFiP")
    base = urlsplit(values["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        problems.append(f"PORTAIL_BASE_URL: {values['BASE_URL']!r} is not an http(s)://host[:port][/path] URL")
    if values["LOG_LEVEL"].upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"PORTAIL_LOG_LEVEL: {values['LOG_LEVEL']!r} is not one of DEBUG, INFO, WARNING, ERROR")
    if not values["UTILITY_NAME"].strip():
        problems.append("PORTAIL_UTILITY_NAME: the utility's name cannot be empty")
    secret = values["SECRET_KEY"].encode()
    if secret and len(secret) < 32:
        problems.append("PORTAIL_SECRET_KEY: at least 32 characters")
    if problems:
        raise SettingsError(problems)
    if not secret:
        secret = _secret_from_file(Path(values["SECRET_KEY_FILE"]), create=create_secret)
    return Settings(
        database_url=values["DATABASE_URL"],
        files_url=values["FILES_URL"],
        mail_url=values["MAIL_URL"],
        payment=values["PAYMENT"],
        payfip_numcli=values["PAYFIP_NUMCLI"].strip(),
        payfip_mode=values["PAYFIP_MODE"],
        payfip_url=values["PAYFIP_URL"],
        base_url=values["BASE_URL"].rstrip("/"),
        secret_key=secret,
        utility_name=values["UTILITY_NAME"],
        utility_address=values["UTILITY_ADDRESS"],
        utility_email=values["UTILITY_EMAIL"],
        utility_phone=values["UTILITY_PHONE"],
        utility_hours=values["UTILITY_HOURS"],
        log_level=values["LOG_LEVEL"].upper(),
    )


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
