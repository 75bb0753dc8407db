"""Write each message as an ``.eml`` file (the embedded setup: ``file://var/mail``).

With ``echo`` on, the links in each message are also printed on the console, so someone
trying the portal with ``make run`` can follow an activation link without a mail server.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import attrs

from portail_domain.model.mail import OutgoingMail

from .message import build_message

_LINK = re.compile(r"https?://\S+")


@attrs.frozen
class FileMailer:
    directory: Path = attrs.field(converter=Path)
    sender: str
    sender_name: str = ""
    echo: bool = False

    def send(self, mail: OutgoingMail) -> None:
        # 8bit: the file stays readable (and its links clickable) in a text editor.
        message = build_message(mail, sender=self.sender, sender_name=self.sender_name, transfer_encoding="8bit")
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        path = self.directory / f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)  # readers never see half a message
        if self.echo:
            links = "".join(f"\n    {link}" for link in _LINK.findall(mail.text))
            print(f"[mail] to {mail.to}: {mail.subject} -> {path}{links}", file=sys.stderr, flush=True)
