"""Mes données personnelles: the few fields a subscriber may change themselves.

Only phone, postal address, language and the paperless flag; name, number and e-mail
come from the utility (the login e-mail changes through a confirmed link, see activation).
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import attrs

from . import errors
from .accounts import Language, Subscriber

if TYPE_CHECKING:
    from .ports import UnitOfWork

_PHONE = re.compile(r"^\+?[0-9][0-9 .\-()]{5,24}$")
_POSTAL_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]{1,9}$")


class InvalidPhone(errors.InvalidValue):
    code = "invalid_phone"


class InvalidPostalCode(errors.InvalidValue):
    code = "invalid_postal_code"


class InvalidLanguage(errors.InvalidValue):
    code = "invalid_language"


class ValueTooLong(errors.InvalidValue):
    code = "value_too_long"


@attrs.frozen
class PersonalData:
    """What the form may change, parsed at the edge into plain values."""

    phone: str
    address: str
    postal_code: str
    city: str
    language: str
    paperless: bool

    def checked(self) -> PersonalData:
        """The same data, cleaned; raises the ``InvalidValue`` of the first bad field."""
        phone = " ".join(self.phone.split())
        if phone and (not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 6):
            raise InvalidPhone(field="phone")
        postal_code = self.postal_code.strip().upper()
        if postal_code and not _POSTAL_CODE.match(postal_code):
            raise InvalidPostalCode(field="postal_code")
        address, city = " ".join(self.address.split()), " ".join(self.city.split())
        if len(address) > 300:
            raise ValueTooLong(field="address", maximum=300)
        if len(city) > 100:
            raise ValueTooLong(field="city", maximum=100)
        if self.language not in {language.value for language in Language}:
            raise InvalidLanguage(field="language")
        return PersonalData(phone, address, postal_code, city, self.language, self.paperless)


def update_personal_data(uow: UnitOfWork, subscriber_id: uuid.UUID, data: PersonalData) -> Subscriber:
    """Save the changeable fields of the subscriber; nothing else moves."""
    clean = data.checked()
    subscriber = uow.subscribers.get(subscriber_id)
    if subscriber is None:
        raise errors.NotFound()
    subscriber.phone = clean.phone
    subscriber.address = clean.address
    subscriber.postal_code = clean.postal_code
    subscriber.city = clean.city
    subscriber.language = Language(clean.language)
    subscriber.paperless = clean.paperless
    uow.subscribers.update(subscriber)
    return subscriber
