"""Two uploads at the same moment are counted one after the other against the quota."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_domain.model.accounts import Subscriber
from portail_domain.model.documents import AddedBy, Document, QuotaExceeded
from portail_domain.services.documents import check_quota, ensure_default_folders
from tests.support import run_while_held

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def test_simultaneous_uploads_cannot_both_slip_under_the_quota(engine):
    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        subscriber = Subscriber("100001", "Marie Dupont")
        uow.subscribers.add(subscriber)
        folder = ensure_default_folders(uow, subscriber.id)[3]
        uow.commit()

    def upload(uow, size):
        check_quota(uow, subscriber.id, size, quota=1000)
        document_id = uuid.uuid4()
        uow.documents.add(Document(subscriber.id, folder.id, "a.pdf", "application/pdf", size, "0" * 64,
                                   f"documents/{document_id.hex[:2]}/{document_id.hex}", AddedBy.SUBSCRIBER,
                                   NOW, id=document_id))

    def first(hold):
        with factory() as uow:
            upload(uow, 600)
            hold()
            uow.commit()
            return "stored"

    def second():
        with factory() as uow:
            try:
                upload(uow, 600)  # waits for the first, then sees its 600 bytes
            except QuotaExceeded:
                return "refused"
            uow.commit()
            return "stored"

    assert run_while_held(first, second) == ("stored", "refused")
    with factory() as uow:
        assert uow.documents.bytes_used(subscriber.id, AddedBy.SUBSCRIBER) == 600


def test_the_quota_counts_only_the_subscribers_own_uploads(memory_portal):
    with memory_portal.uow() as uow:
        subscriber = Subscriber("100001", "Marie Dupont")
        uow.subscribers.add(subscriber)
        check_quota(uow, subscriber.id, 1000, quota=1000)  # exactly at the quota is allowed
        with pytest.raises(QuotaExceeded):
            check_quota(uow, subscriber.id, 1001, quota=1000)
