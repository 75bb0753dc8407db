"""The orphan sweep's rule on the in-memory fakes, under every interleaving hypothesis finds.

Uploads go in two steps (the object, then its row commits within the age limit, as every upload
does: seconds), crash between them, lose their row later (a retention run stopped halfway), while
the fake clock moves; sweeps run between those steps and with uploads going on *during* the sweep
(between two listed objects, and between the database check and each deletion). Whatever the
order: a sweep never deletes an object a committed row points to, and deletes every object older
than the limit that no row points to (a dry run counts them and deletes nothing).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from portail_adapters.memory import FixedClock, MemoryDatabase, MemoryFileStore
from portail_domain.model.contracts import MeterReading, ReadingSource
from portail_domain.model.documents import AddedBy, Document, new_storage_key
from portail_domain.model.files import ORPHAN_MIN_AGE, StoredObject
from portail_domain.model.values import MeterIndex
from portail_domain.services.files import sweep_files
from tests.support import make_portal


class InterleavedStore(MemoryFileStore):
    """A memory store that lets other work happen while a sweep lists and deletes."""

    meanwhile: Callable[[], None] = staticmethod(lambda: None)

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        for found in super().list_objects(prefix):
            self.meanwhile()
            yield found

    def delete(self, key: str) -> None:
        self.meanwhile()  # another worker runs between the sweep's check and this deletion
        super().delete(key)


class Uploads(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.clock = FixedClock()
        self.portal = make_portal(MemoryDatabase(), self.clock)
        self.files = InterleavedStore(clock=self.clock)
        self.portal.files = self.files
        self.pending: dict[str, tuple[Document, bool]] = {}  # key -> its row, as a reading's photo or not
        self.counter = 0

    # --- what uploads do --------------------------------------------------------------------

    def _write(self, size: int, photo: bool) -> None:
        self.counter += 1
        document = Document(uuid.uuid4(), uuid.uuid4(), "f.pdf", "application/pdf", size, "0" * 64, "",
                            AddedBy.SUBSCRIBER, self.clock.now())
        document.storage_key = new_storage_key(document.id)
        self.files.put(document.storage_key, io.BytesIO(b"x" * size), content_type="application/pdf")
        self.pending[document.storage_key] = (document, photo)

    def _committable(self) -> list[str]:
        """Uploads whose row may still commit: an upload commits within the age limit of its write."""
        now = self.clock.now()
        written = {k: self.files.modified.get(k) for k in self.pending}
        return sorted(k for k, at in written.items() if at is not None and now - at < ORPHAN_MIN_AGE)

    def _commit(self, key: str) -> None:
        document, photo = self.pending.pop(key)
        with self.portal.uow() as uow:
            uow.documents.add(document)
            if photo:  # a meter photo: the reading points to the key too (then the document may go)
                uow.readings.add(MeterReading(uuid.uuid4(), "M1", date(2026, 1, 1), MeterIndex(1000),
                                              ReadingSource.SUBSCRIBER, photo_key=key))
            uow.commit()

    @rule(size=st.integers(1, 50), photo=st.booleans())
    def write_object(self, size: int, photo: bool) -> None:
        self._write(size, photo)

    @rule(data=st.data())
    def commit_row(self, data: st.DataObject) -> None:
        keys = self._committable()
        if keys:
            self._commit(data.draw(st.sampled_from(keys)))

    @rule(data=st.data())
    def crash_before_commit(self, data: st.DataObject) -> None:
        if self.pending:
            self.pending.pop(data.draw(st.sampled_from(sorted(self.pending))))  # its object stays, alone

    @rule(data=st.data())
    def lose_document_row(self, data: st.DataObject) -> None:
        with self.portal.uow() as uow:
            documents = sorted(uow.documents.list(), key=lambda d: d.storage_key)
            if documents:
                uow.documents.remove(data.draw(st.sampled_from(documents)).id)
                uow.commit()

    @rule(minutes=st.sampled_from([0, 1, 30, 59, 60, 61, 120]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule()
    def foreign_object(self) -> None:
        """Outside ``documents/`` (a ``portail check`` probe): never the sweep's."""
        self.files.put(f"check/probe-{self.counter}", io.BytesIO(b"p"), content_type="text/plain")
        self.counter += 1

    # --- the sweep --------------------------------------------------------------------------

    def _held(self) -> set[str]:
        with self.portal.uow() as uow:
            return ({d.storage_key for d in uow.documents.list()}
                    | {r.photo_key for r in uow.readings.list() if r.photo_key is not None})

    @rule(delete=st.booleans(), data=st.data(),
          meanwhile=st.lists(st.sampled_from(["write", "commit", "tick"]), max_size=8))
    def sweep(self, delete: bool, data: st.DataObject, meanwhile: list[str]) -> None:
        cutoff = self.clock.now() - ORPHAN_MIN_AGE
        held = self._held()
        listed = {k: v for k, v in self.files.objects.items() if k.startswith("documents/")}
        doomed = {k for k in listed if self.files.modified[k] < cutoff and k not in held}
        foreign = {k for k in self.files.objects if not k.startswith("documents/")}

        def step() -> None:
            if not meanwhile:
                return
            action = meanwhile.pop(0)
            if action == "write":
                self._write(3, photo=False)
            elif action == "commit" and (keys := self._committable()):
                self._commit(data.draw(st.sampled_from(keys)))
            elif action == "tick":
                self.clock.advance(seconds=20)

        self.files.meanwhile = step
        try:
            report = sweep_files(self.portal, delete=delete)
        finally:
            self.files.meanwhile = lambda: None
        assert report.found == len(listed)
        assert (report.orphans, report.bytes) == (len(doomed), sum(len(listed[k]) for k in doomed))
        assert report.referenced + report.too_young + report.orphans == report.found
        if delete:
            assert not doomed & set(self.files.objects)  # every old orphan went
        else:
            assert set(listed) <= set(self.files.objects)  # a dry run deletes nothing
        assert foreign <= set(self.files.objects)

    @invariant()
    def every_row_points_to_an_object(self) -> None:
        if hasattr(self, "portal"):
            assert self._held() <= set(self.files.objects)


TestUploadsAndSweeps = Uploads.TestCase
TestUploadsAndSweeps.settings = settings(max_examples=150, stateful_step_count=30)


def test_an_age_limit_under_an_hour_is_refused(memory_portal):
    with pytest.raises(ValueError):
        sweep_files(memory_portal, min_age=timedelta(minutes=59))


def test_a_longer_age_limit_keeps_more(memory_portal, clock):
    memory_portal.files.put("documents/ab/orphan", io.BytesIO(b"12345"), content_type="application/pdf")
    clock.advance(hours=2)
    assert sweep_files(memory_portal, delete=True, min_age=timedelta(hours=3)).too_young == 1
    report = sweep_files(memory_portal, delete=True)
    assert (report.orphans, report.bytes, memory_portal.files.objects) == (1, 5, {})
    assert report.line() == ("files sweep: 1 objects found, 0 kept as referenced, 0 kept as younger than 1 h, "
                             "deleted 1 orphans, 5 bytes")
