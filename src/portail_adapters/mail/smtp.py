"""Deliver through an SMTP server: ``smtp://`` (optionally STARTTLS), ``smtps://`` (TLS from the start), AUTH."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Iterator

import attrs

from portail_domain.model.mail import OutgoingMail

from .message import build_message


@attrs.frozen
class SmtpMailer:
    host: str
    port: int
    sender: str
    sender_name: str = ""
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False  # smtp://…?starttls=1: upgrade, and refuse to go on in clear
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    timeout: float = 15.0
    tls_context: ssl.SSLContext | None = attrs.field(default=None, repr=False, eq=False)

    def send(self, mail: OutgoingMail) -> None:
        """Deliver now or raise (the outbox relay retries)."""
        message = build_message(mail, sender=self.sender, sender_name=self.sender_name)
        with self._session() as client:
            refused = client.send_message(message)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)

    def check(self) -> None:
        """Connect, greet, upgrade and log in as ``send`` does, then quit without sending; raise if refused."""
        with self._session() as client:
            client.noop()

    @contextlib.contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        context = self.tls_context or ssl.create_default_context()
        if self.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password)
            yield client
