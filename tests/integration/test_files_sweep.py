"""`portail files sweep` on real parts: which keys rows point to (memory, SQLite, PostgreSQL), the
command end to end on SQLite and the local disk, and the sweep on S3 (SeaweedFS) over SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import FixedClock, PlainPasswordHasher
from portail_adapters.settings import load_settings
from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_adapters.system import SystemClock
from portail_domain.model.files import SWEEP_BATCH
from portail_domain.model.publishing import Audience
from portail_domain.services.files import sweep_files
from portail_domain.services.publishing import publish_document
from portail_web.wiring import web_portal
from tests.integration.test_cli import portail
from tests.support import add_contract, add_subscriber, make_portal

PDF = b"%PDF-1.7\n" + b"x" * 3000 + b"\n%%EOF\n"


def _publish(portal, number="100001"):
    return publish_document(portal, None, audience=Audience.subscriber(number), folder="Courriers",
                            filename="avis.pdf", data=io.BytesIO(PDF))


def test_referenced_keys_are_documents_and_reading_photos(uow_factory, clock):
    portal = make_portal(uow_factory, clock)
    marie = add_subscriber(portal)
    document = _publish(portal)
    _, readings = add_contract(portal, marie)
    with portal.uow() as uow:
        reading = uow.readings.get(readings[0].id)
        reading.photo_key = "documents/ph/photo-only"  # a photo whose document row is gone
        uow.readings.update(reading)
        uow.commit()
    unknown = [f"documents/{n % 256:02x}/{uuid.UUID(int=n).hex}" for n in range(SWEEP_BATCH - 2)]
    with portal.uow(read_only=True) as uow:
        found = uow.documents.referenced_keys([*unknown, document.storage_key, "documents/ph/photo-only"])
        assert found == {document.storage_key, "documents/ph/photo-only"}
        assert uow.documents.referenced_keys([]) == set()
        assert uow.documents.referenced_keys(unknown[:3]) == set()


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_command_counts_then_deletes_only_the_old_orphan(tmp_path):
    files = tmp_path / "files"
    env = {"PORTAIL_FILES_URL": f"file://{files}", "PORTAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'portail.db'}",
           "PORTAIL_SECRET_KEY": "s" * 40, "PORTAIL_LOG_LEVEL": "WARNING"}
    portal = web_portal(load_settings(env), passwords=PlainPasswordHasher(), run_migrations=True)
    add_subscriber(portal, "100001", email="jean@example.org")
    kept = files / _publish(portal).storage_key
    store = LocalFileStore(files)
    for key in ("documents/0a/old-orphan", "documents/0b/young-orphan", "check/probe-0123"):
        store.put(key, io.BytesIO(b"%PDF-1.4 orphan"), content_type="application/pdf")
    partial = files / "documents" / "0a" / ".upload-k2j4"  # a killed upload's temp file: housekeeping's
    partial.write_bytes(b"%PDF-1.4 half")
    for path in (kept, files / "documents/0a/old-orphan", files / "check/probe-0123", partial):
        _age(path, 2)
    before = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())

    dry = portail("files", "sweep", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == ("files sweep: 3 objects found, 1 kept as referenced, 1 kept as younger than 1 h, "
                                  "would delete 1 orphans, 15 bytes")
    assert sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file()) == before

    done = portail("files", "sweep", "--delete", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("deleted 1 orphans, 15 bytes")
    after = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    assert after == [p for p in before if p != "documents/0a/old-orphan"]
    assert kept.read_bytes() == PDF

    patient = portail("files", "sweep", "--delete", "--older-than", "3", cwd=tmp_path, env=env)
    assert "0 kept as referenced, 2 kept as younger than 3 h, deleted 0 orphans" in patient.stdout
    _age(files / "documents/0b/young-orphan", 1.1)
    assert portail("files", "sweep", "--delete", cwd=tmp_path, env=env).stdout.strip().endswith(
        "deleted 1 orphans, 15 bytes")
    assert not (files / "documents/0b/young-orphan").exists() and kept.exists()


@pytest.mark.parametrize(("arguments", "problem"), [
    (["--older-than", "0"], "portail: --older-than: a number of hours, 1 or more"),
])
def test_the_command_refuses_a_limit_under_an_hour(tmp_path, monkeypatch, capsys, arguments, problem):
    from portail_web.cli import main

    monkeypatch.setenv("PORTAIL_FILES_URL", f"file://{tmp_path / 'files'}")
    monkeypatch.setenv("PORTAIL_DATABASE_URL", f"sqlite:///{tmp_path / 'portail.db'}")
    monkeypatch.setenv("PORTAIL_SECRET_KEY", "s" * 40)
    assert main(["files", "sweep", "--delete", *arguments]) == 2
    assert capsys.readouterr().err.strip() == problem


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_sweep_on_s3(sql_portal, seaweedfs):
    """The bucket's own times (LastModified) against the portal's clock; pages of 2 keys."""
    portal = sql_portal
    portal.clock = clock = FixedClock(datetime.now(UTC))
    portal.files = store = seaweedfs.store(page_size=2)
    add_subscriber(portal, "100001", email="jean@example.org")
    documents = [_publish(portal) for _ in range(3)]
    for n in range(2):
        store.put(f"documents/ff/orphan-{n}", io.BytesIO(b"%PDF-1.4 orphan"), content_type="application/pdf")
    store.put("check/probe-0123", io.BytesIO(b"probe"), content_type="text/plain")
    young = sweep_files(portal, delete=True)
    assert (young.found, young.too_young, young.orphans) == (5, 5, 0)
    clock.advance(hours=1, minutes=5)
    dry = sweep_files(portal)
    assert (dry.referenced, dry.orphans, dry.bytes, dry.dry_run) == (3, 2, 30, True)
    assert len(seaweedfs.keys(store.bucket)) == 6
    done = sweep_files(portal, delete=True, batch=2)
    assert (done.found, done.referenced, done.orphans) == (5, 3, 2)
    assert sorted(seaweedfs.keys(store.bucket)) == sorted(["check/probe-0123", *(d.storage_key for d in documents)])


@pytest.mark.s3
@pytest.mark.xdist_group("seaweedfs")
def test_the_command_on_s3(engine, seaweedfs, monkeypatch, capsys):
    from portail_web.cli import main

    bucket = seaweedfs.new_bucket()
    portal = make_portal(SqlUnitOfWorkFactory(engine), SystemClock())
    portal.files = seaweedfs.store(bucket)
    add_subscriber(portal, "100001", email="jean@example.org")
    _publish(portal)
    portal.files.put("documents/ff/orphan", io.BytesIO(b"%PDF-1.4 orphan"), content_type="application/pdf")
    for name, value in {"PORTAIL_FILES_URL": f"s3://{bucket}?endpoint={seaweedfs.endpoint}&region=us-east-1",
                        "PORTAIL_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                        "PORTAIL_SECRET_KEY": "s" * 40, "AWS_ACCESS_KEY_ID": seaweedfs.access_key,
                        "AWS_SECRET_ACCESS_KEY": seaweedfs.secret_key}.items():
        monkeypatch.setenv(name, value)
    assert main(["files", "sweep", "--delete"]) == 0
    assert capsys.readouterr().out.strip() == ("files sweep: 2 objects found, 0 kept as referenced, 2 kept as "
                                               "younger than 1 h, deleted 0 orphans, 0 bytes")
    assert len(seaweedfs.keys(bucket)) == 2
