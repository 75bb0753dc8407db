"""OutgoingMail -> a MIME message (text + HTML alternative), refusing anything that could inject headers."""

from __future__ import annotations

import email.policy
import email.utils
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from portail_domain.model.errors import InvalidEmail
from portail_domain.model.mail import OutgoingMail
from portail_domain.model.values import EmailAddress

# SMTP line endings; raise_on_defect turns a malformed header into an error instead of a guess.
POLICY = email.policy.SMTP.clone(raise_on_defect=True)


class MailRejected(ValueError):
    """The message cannot be sent as it is (a header with a line break, a malformed address)."""


def _single_line(name: str, value: str) -> str:
    if any(ch in value for ch in "\r\n\x00") or any(ord(ch) < 32 and ch != "\t" for ch in value):
        raise MailRejected(f"{name}: header values are single lines")
    return value


def _address(name: str, value: str, display_name: str = "") -> Address:
    _single_line(name, value)
    _single_line(name, display_name)
    try:
        parsed = EmailAddress.parse(value)
    except InvalidEmail as exc:
        raise MailRejected(f"{name}: not an e-mail address") from exc
    local, _, domain = parsed.address.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)


def build_message(
    mail: OutgoingMail, *, sender: str, sender_name: str = "", now: datetime | None = None,
    transfer_encoding: str = "quoted-printable",
) -> EmailMessage:
    """A message ready for SMTP or an .eml file. Raises ``MailRejected`` rather than send something unsafe."""
    message = EmailMessage(policy=POLICY)
    from_address = _address("From", sender, sender_name)
    message["From"] = from_address
    message["To"] = _address("To", mail.to)
    message["Subject"] = _single_line("Subject", mail.subject)
    message["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = email.utils.make_msgid(domain=from_address.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, cte=transfer_encoding)
    if mail.html:
        message.add_alternative(mail.html, subtype="html", cte=transfer_encoding)
    return message
