"""Mailers: SMTP (``smtp://``, ``smtps://``) and ``.eml`` files (``file://``), built from ``PORTAIL_MAIL_URL``."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ..settings import SettingsError, url_options
from .file import FileMailer
from .message import MailRejected, build_message
from .smtp import SmtpMailer

__all__ = ["FileMailer", "MailRejected", "SmtpMailer", "build_message", "mailer_from_url"]

_TRUE = ("1", "true", "yes", "on")


def mailer_from_url(url: str, *, sender: str, sender_name: str = "") -> FileMailer | SmtpMailer:
    """``file://var/mail`` | ``smtp://user:pass@host:587?starttls=1`` | ``smtps://host:465``.

    Options: ``from=`` (sender address; default the utility's e-mail), ``timeout=`` seconds.
    """
    parts = urlsplit(url)
    options = url_options(url)
    sender = options.get("from", sender)
    if parts.scheme == "file":
        return FileMailer((parts.netloc + parts.path) or "var/mail", sender, sender_name, echo=True)
    if parts.scheme not in ("smtp", "smtps"):
        raise SettingsError([f"PORTAIL_MAIL_URL: unknown scheme {parts.scheme}:// (expected file://, smtp://, smtps://)"])
    if not parts.hostname:
        raise SettingsError(["PORTAIL_MAIL_URL: an smtp:// URL names its server (smtp://host:587?starttls=1)"])
    tls = parts.scheme == "smtps"
    starttls = options.get("starttls", "").lower() in _TRUE
    try:
        port = parts.port or (465 if tls else 587 if starttls else 25)
        timeout = float(options.get("timeout", "15"))
    except ValueError as exc:
        raise SettingsError([f"PORTAIL_MAIL_URL: {exc}"]) from None
    if tls and starttls:
        raise SettingsError(["PORTAIL_MAIL_URL: smtps:// is TLS already; starttls=1 is for smtp://"])
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not (username + password).isascii():
        raise SettingsError(["PORTAIL_MAIL_URL: the SMTP user name and password must be ASCII (percent-encoded)"])
    return SmtpMailer(parts.hostname, port, sender, sender_name, tls=tls, starttls=starttls, username=username,
                      password=password, timeout=timeout)
