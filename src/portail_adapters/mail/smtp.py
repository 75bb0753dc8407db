"""Deliver through an SMTP server: ``smtp://`` (optionally STARTTLS), ``smtps://`` (TLS from the start), AUTH."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Iterator

import attrs

from portail_domain.model.mail import OutgoingMail, PermanentFailure

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
        """Deliver now or raise (the outbox relay retries); ``PermanentFailure`` for a 5xx refusal
        of the message or of its recipient (retrying cannot help)."""
        message = build_message(mail, sender=self.sender, sender_name=self.sender_name)
        try:
            with self._session() as client:
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {_answers(exc.recipients)}") from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise
        if refused:  # some recipients refused, the others accepted: a retry would send it twice
            raise PermanentFailure(f"recipient refused: {_answers(refused)}")

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


def _text(answer: bytes | str) -> str:
    return (answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer).replace("\n", " ")[:300]


def _answers(refused: dict[str, tuple[int, bytes]]) -> str:
    """The server's last answer per refused recipient, as staff read it in the outbox."""
    return "; ".join(f"{code} {_text(text)}" for code, text in refused.values())[:400]
