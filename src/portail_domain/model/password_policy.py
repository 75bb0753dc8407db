"""The password rules of the portal (no composition rules: length, and nothing guessable).

A password is NFKC-normalised, then must be 12 to 128 characters long, must not be a
common password (the shipped list, compared case-insensitively, whole or once stripped of
leading and trailing digits and punctuation), and must not contain the subscriber number,
the e-mail address (or its part before the @) or the utility's name.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from . import errors
from .values import normalise_email

MIN_LENGTH = 12
MAX_LENGTH = 128
_EDGE = "0123456789!?.,;:*#@&$%€£+=_-~/\\|()[]{}<>'\" "


class PasswordRejected(errors.InvalidValue):
    """A new password breaks a rule; the subclass says which, the message says what to do."""

    code = "password_rejected"

    def __init__(self, message: str = "", **params: object) -> None:
        super().__init__(message, field="password", **params)


class PasswordMismatch(PasswordRejected):
    code = "password_mismatch"


class PasswordTooShort(PasswordRejected):
    code = "password_too_short"


class PasswordTooLong(PasswordRejected):
    code = "password_too_long"


class PasswordTooCommon(PasswordRejected):
    code = "password_too_common"


class PasswordPersonal(PasswordRejected):
    code = "password_personal"


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("portail_domain").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip() and line[0] != "#")


def _fold(text: str) -> str:
    return normalise_email(text)  # NFKC + casefold to a fixed point, trimmed


def check_password(
    password: str,
    confirm: str,
    *,
    subscriber_number: str | None = None,
    email: str | None = None,
    utility_name: str | None = None,
) -> str:
    """Return the normalised password, or raise the ``PasswordRejected`` naming the first broken rule."""
    if password != confirm:
        raise PasswordMismatch()
    value = unicodedata.normalize("NFKC", password)
    if len(value) < MIN_LENGTH:
        raise PasswordTooShort(minimum=MIN_LENGTH)
    if len(value) > MAX_LENGTH:
        raise PasswordTooLong(maximum=MAX_LENGTH)
    folded = _fold(value)
    common = common_passwords()
    if folded in common or folded.strip(_EDGE) in common or len(set(folded)) < 4:
        raise PasswordTooCommon()
    compact = folded.replace(" ", "")
    for item in _personal(subscriber_number, email, utility_name):
        if _fold(item) in folded or _fold(item).replace(" ", "") in compact:
            raise PasswordPersonal()
    return value


def _personal(subscriber_number: str | None, email: str | None, utility_name: str | None) -> list[str]:
    """What a password must not contain: the subscriber number, the address (and its local part), the utility."""
    personal = []
    if subscriber_number and len(subscriber_number.strip()) >= 3:
        personal.append(subscriber_number.strip())
    if email:
        address = _fold(email)
        personal.append(address)
        local = address.split("@", 1)[0]
        if len(local) >= 4:
            personal.append(local)
    if utility_name and len(utility_name.strip()) >= 4:
        personal.append(_fold(utility_name))
    return personal
