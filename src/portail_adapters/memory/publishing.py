"""A publication to an audience in memory, over the tables of one ``MemoryUnitOfWork`` (the same rule
as the SQL statements: ``Audience.includes``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from portail_domain.model.accounts import Subscriber
from portail_domain.model.contracts import Contract
from portail_domain.model.documents import Document, DocumentFolder, FolderKind
from portail_domain.model.mail import OutgoingMail
from portail_domain.model.publishing import Audience, AudienceSize

if TYPE_CHECKING:
    from .repositories import MemoryUnitOfWork


def _mailed(subscriber: Subscriber) -> bool:
    return subscriber.paperless and subscriber.email is not None


class MemoryPublishing:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    def _audience(self, audience: Audience, today: date) -> Iterator[Subscriber]:
        contracts: dict[uuid.UUID, list[Contract]] = {}
        for contract in self.uow.contracts.rows.values():
            contracts.setdefault(contract.subscriber_id, []).append(contract)
        for subscriber in list(self.uow.subscribers.rows.values()):
            if audience.includes(subscriber, contracts.get(subscriber.id, []), today):
                yield subscriber

    def _root_folders(self, kind: FolderKind) -> dict[uuid.UUID, DocumentFolder]:
        """Each subscriber's first root folder of ``kind`` (by position, then id, as the SQL picks it)."""
        found: dict[uuid.UUID, DocumentFolder] = {}
        ordered = sorted(self.uow.folders.rows.values(), key=lambda f: (f.position, str(f.id)), reverse=True)
        for folder in ordered:
            if folder.kind is kind and folder.parent_id is None:
                found[folder.subscriber_id] = folder
        return found

    def size(self, audience: Audience, today: date) -> AudienceSize:
        found = list(self._audience(audience, today))
        return AudienceSize(len(found), sum(1 for s in found if _mailed(s)))

    def add_default_folders(self, audience: Audience, today: date, folders: Sequence[tuple[FolderKind, str]]) -> int:
        subscribers = list(self._audience(audience, today))
        created = 0
        for position, (kind, name) in enumerate(folders):
            have = self._root_folders(kind)
            for subscriber in subscribers:
                if subscriber.id not in have:
                    self.uow.folders.add(DocumentFolder(subscriber.id, name, kind, position=position))
                    created += 1
        return created

    def link(self, audience: Audience, today: date, folder: FolderKind, document: Document) -> int:
        folders = self._root_folders(folder)
        linked = 0
        for subscriber in self._audience(audience, today):
            if subscriber.id in folders:
                self.uow.documents.add(attrs.evolve(document, subscriber_id=subscriber.id,
                                                    folder_id=folders[subscriber.id].id, id=uuid.uuid4()))
                linked += 1
        return linked

    def queue_notices(self, audience: Audience, today: date, mails: Mapping[str, OutgoingMail],
                      now: datetime) -> int:
        queued = 0
        for subscriber in self._audience(audience, today):
            mail = mails.get(subscriber.language.value)
            if mail is not None and subscriber.email is not None and _mailed(subscriber):
                self.uow.outbox.add(attrs.evolve(mail, to=subscriber.email.address), now)
                queued += 1
        return queued
