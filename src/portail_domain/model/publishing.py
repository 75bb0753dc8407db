"""Documents the utility publishes: to one subscriber, or to an audience (all subscribers, a postal
code, the subscribers of a service) — e.g. the yearly note on the water's quality sent with an invoice.

A publication stores its file once; every subscriber of the audience gets a document row that
points to that one storage key (so a row's object is deleted only when no other row points to it).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from datetime import date

import attrs

from .accounts import Subscriber
from .contracts import Contract, Service
from .documents import DEFAULT_FOLDERS, FolderKind
from .errors import DomainError, InvalidValue, NotFound

_POSTAL_CODE = re.compile(r"[0-9]{5}")  # fullmatch: ASCII digits only


class AudienceKind(enum.StrEnum):
    SUBSCRIBER = "subscriber"  # one subscriber, by number
    ALL = "all"
    POSTAL_CODE = "postal_code"  # the postal code of the subscriber's address
    SERVICE = "service"  # subscribers with a current contract for water (or sanitation), "both" included


class InvalidAudience(InvalidValue):
    """Not one of ``all``, ``postal_code:NNNNN``, ``service:water``, ``service:sanitation``."""

    code = "audience_invalid"

    def __init__(self, audience: str = "") -> None:
        super().__init__(field="audience", audience=audience)


class SubscriberNumberMissing(InvalidValue):
    code = "audience_number_missing"

    def __init__(self) -> None:
        super().__init__(field="subscriber_number")


class AudienceAmbiguous(InvalidValue):
    """Both a subscriber number and an audience: publishing to many by mistake is worse than asking."""

    code = "audience_ambiguous"

    def __init__(self) -> None:
        super().__init__(field="subscriber_number")


class EmptyAudience(DomainError):
    """No subscriber matches: nothing is published."""

    code = "audience_empty"


class UnknownFolder(NotFound):
    """Not a standard folder (name or kind). A ``NotFound`` naming ``folder``."""

    code = "publish_folder_unknown"


# Services whose contracts belong to ``service:VALUE``: a "both" contract is water and sanitation.
SERVICES: dict[str, tuple[Service, ...]] = {
    Service.WATER.value: (Service.WATER, Service.BOTH),
    Service.SANITATION.value: (Service.SANITATION, Service.BOTH),
}


@attrs.frozen
class Audience:
    """Who a publication is for. ``str(audience)`` is its form value (``postal_code:34230``)."""

    kind: AudienceKind
    value: str = ""  # the subscriber number, the postal code or the service

    @classmethod
    def subscriber(cls, number: str) -> Audience:
        number = number.strip()
        if not number:
            raise SubscriberNumberMissing()
        return cls(AudienceKind.SUBSCRIBER, number[:32])

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``all``, ``postal_code:NNNNN`` or ``service:water|sanitation`` (spaces and case of the kind ignored)."""
        kind, _, value = unicodedata.normalize("NFKC", text).strip().partition(":")
        kind, value = kind.strip().casefold(), "".join(value.split())
        if kind == AudienceKind.ALL and not value:
            return cls(AudienceKind.ALL)
        if kind == AudienceKind.POSTAL_CODE and _POSTAL_CODE.fullmatch(value):
            return cls(AudienceKind.POSTAL_CODE, value)
        if kind == AudienceKind.SERVICE and value.casefold() in SERVICES:
            return cls(AudienceKind.SERVICE, value.casefold())
        raise InvalidAudience(audience=text[:40])

    @classmethod
    def choose(cls, subscriber_number: str, audience: str) -> Audience:
        """The form's two ways (DESIGN §9): ``subscriber_number`` or ``audience``, never both."""
        number, wanted = subscriber_number.strip(), audience.strip()
        if number and wanted:
            raise AudienceAmbiguous()
        return cls.parse(wanted) if wanted else cls.subscriber(number)

    @property
    def services(self) -> tuple[Service, ...]:
        return SERVICES.get(self.value, ()) if self.kind is AudienceKind.SERVICE else ()

    def includes(self, subscriber: Subscriber, contracts: Sequence[Contract], today: date) -> bool:
        """Whether ``subscriber`` (with their ``contracts``) is in the audience on ``today``."""
        if self.kind is AudienceKind.ALL:
            return True
        if self.kind is AudienceKind.SUBSCRIBER:
            return subscriber.number == self.value
        if self.kind is AudienceKind.POSTAL_CODE:
            return subscriber.postal_code == self.value
        return any(c.service in self.services and c.is_active(today) for c in contracts)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}" if self.value else self.kind.value


def publication_folder(reference: str) -> FolderKind:
    """The standard folder a publication goes to, by name (``Courriers``, any case) or kind (``letters``)."""
    wanted = unicodedata.normalize("NFKC", reference).strip().casefold()
    for kind, name in DEFAULT_FOLDERS:
        if wanted in (kind.value, name.casefold()):
            return kind
    raise UnknownFolder(folder=reference[:100])


def folder_name(kind: FolderKind) -> str:
    """The stored (French) name of a standard folder."""
    return next(name for k, name in DEFAULT_FOLDERS if k is kind)


@attrs.frozen
class AudienceSize:
    """How many subscribers an audience has, and how many of them get an e-mail (paperless, with an
    e-mail on file)."""

    subscribers: int
    mailed: int


@attrs.frozen
class Publication:
    """What a publication did: one stored object, ``subscribers`` document rows, ``mailed`` e-mails queued."""

    audience: Audience
    folder: FolderKind
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    subscribers: int
    mailed: int
