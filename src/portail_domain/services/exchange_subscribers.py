"""Importing subscribers: an upsert by subscriber number that keeps accounts, hashes activation
codes, and merges the e-mail on file with what the subscriber changed on the portal."""

from __future__ import annotations

import logging
from typing import Any

from ..model.accounts import Subscriber, hash_activation_code, normalise_code
from ..model.exchange import SubscriberRow
from ..model.values import EmailAddress, normalise_email
from .exchange_importer import Importer, changed

security_log = logging.getLogger("portail.security")
MIN_ACTIVATION_CODE = 8  # utility-issued random codes: shorter ones are guessable


def _mask(email: EmailAddress | None) -> str:
    if email is None:
        return "(none)"
    local, _, domain = email.address.partition("@")
    return f"{local[:1]}***@{domain}"


def _sent(email: EmailAddress | None) -> str:
    """How ``Subscriber.billing_email`` keeps what the billing system sent ("" for an empty cell)."""
    return email.address if email is not None else ""


def _spelling(email: EmailAddress | None) -> str | None:
    return email.address if email is not None else None


class SubscribersImport(Importer):
    kind = "subscribers"
    key_column = "subscriber_number"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.email_changes: list[tuple[str, str, str]] = []

    def check(self, row: SubscriberRow) -> bool:
        code = row.activation_code
        if code is not None and not MIN_ACTIVATION_CODE <= len(normalise_code(code)) <= 128:
            self.problems.add(row.line, "activation_code",
                              f"an activation code has {MIN_ACTIVATION_CODE} to 128 characters")
            return False
        return True

    def apply(self, rows: list[SubscriberRow]) -> None:
        existing = self.exchange.subscribers_by_number([r.number for r in rows])
        codes = self._hash_codes(rows, existing)
        new: list[Subscriber] = []
        updated: list[Subscriber] = []
        for row in rows:
            values = self.given({"name": row.name, "phone": row.phone, "address": row.address,
                                 "postal_code": row.postal_code, "city": row.city, "email": row.email})
            subscriber = existing.get(row.number)
            code_hash = codes.get(row.number)
            if subscriber is None:
                billing_email = _sent(values["email"]) if "email" in values else None
                new.append(Subscriber(number=row.number, activation_code_hash=code_hash,
                                      billing_email=billing_email, **values))
                self.count(True)
                continue
            has_email = "email" in values
            sent = values.pop("email", None)
            differs = changed(subscriber, values)
            remembered = False  # only what billing sent changed: written, but not an update of the data
            if has_email:
                shown, remembered = self._merge_email(subscriber, sent)
                differs = differs or shown
            if code_hash is not None:
                subscriber.activation_code_hash = code_hash
                differs = True
            if differs or remembered:
                updated.append(subscriber)
            self.count(False if differs else None)
        self.exchange.save_subscribers(new, updated)

    def _merge_email(self, subscriber: Subscriber, sent: EmailAddress | None) -> tuple[bool, bool]:
        """A three-way merge of the e-mail on file: (the e-mail on file changed, what billing sent changed).

        The file's e-mail is applied only when it differs from what the billing system sent
        last time (it changed it on purpose); otherwise the e-mail on file stays, so a change the
        subscriber made on the portal survives the nightly import. Before any import carried an
        e-mail (``billing_email`` unknown), the file's e-mail is applied, as it always was.
        """
        last = subscriber.billing_email
        old = subscriber.email
        differs = False
        if last is None or normalise_email(last) != (sent.normalised if sent else ""):
            if old != sent:  # EmailAddress compares the normalised forms
                self.email_changes.append((subscriber.number, _mask(old), _mask(sent)))
            if _spelling(old) != _spelling(sent):
                subscriber.email = sent
                differs = True
        elif old is not None and old == sent and old.address != sent.address:
            subscriber.email = sent  # billing's new spelling of the same address
            differs = True
        remembered = last != _sent(sent)
        subscriber.billing_email = _sent(sent)
        return differs, remembered

    def _hash_codes(self, rows: list[SubscriberRow], existing: dict[str, Subscriber]) -> dict[str, str]:
        """The stored form of the codes that are new or differ.

        A code only serves to claim an account: once the subscriber has one, the file's code
        is ignored, so a nightly file never re-arms a code that was used (and cleared).
        """
        todo = [(r, r.activation_code) for r in rows if r.activation_code is not None]
        if not todo:
            return {}
        claimed = self.exchange.with_account([s.id for s in existing.values()])
        hashes = {}
        for row, code in todo:
            current = existing.get(row.number)
            if current is not None and current.id in claimed:
                continue
            code_hash = hash_activation_code(code)
            if current is None or current.activation_code_hash != code_hash:
                hashes[row.number] = code_hash
        return hashes

    def committed(self) -> None:
        for number, old, new in self.email_changes:
            security_log.info("import: e-mail on file of subscriber %s changed from %s to %s", number, old, new)
