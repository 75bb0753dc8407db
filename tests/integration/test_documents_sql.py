"""Mes documents on SQLite and PostgreSQL: counts in one query, quota sums, the web flow on the
local disk store, and `portail documents add` as staff run it."""

from __future__ import annotations

import io
import re

import pytest

from portail_adapters.files import LocalFileStore
from portail_adapters.memory import PlainPasswordHasher
from portail_adapters.settings import load_settings
from portail_domain.model.documents import AddedBy, DocumentFolder, FolderKind
from portail_domain.services.documents import document_tree, upload_document
from portail_web import create_app
from portail_web.wiring import web_portal
from tests.integration.test_cli import portail
from tests.support import BASE_URL, WebClient, add_subscriber, statements

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 100 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
PASSWORD = "une-phrase-de-passe-solide"


def _folders(portal, subscriber):
    return {n.folder.kind: n.folder for n in document_tree(portal, subscriber.id)}


def _add(portal, subscriber, folder, content=PDF, added_by=AddedBy.SUBSCRIBER):
    return upload_document(portal, subscriber_id=subscriber.id, folder_id=folder.id, filename="f.pdf",
                           data=io.BytesIO(content), added_by=added_by)


def test_counts_and_quota_sums_per_subscriber(sql_portal):
    marie = add_subscriber(sql_portal, "100001")
    jean = add_subscriber(sql_portal, "100002", email="jean@example.org")
    mine, theirs = _folders(sql_portal, marie), _folders(sql_portal, jean)
    _add(sql_portal, marie, mine[FolderKind.UPLOADS])
    _add(sql_portal, marie, mine[FolderKind.UPLOADS], PNG)
    _add(sql_portal, marie, mine[FolderKind.LETTERS], added_by=AddedBy.UTILITY)
    _add(sql_portal, jean, theirs[FolderKind.UPLOADS])
    nobody = add_subscriber(sql_portal, "100003", email=None)
    with sql_portal.uow() as uow:
        assert uow.documents.count_by_folder(marie.id) == {mine[FolderKind.UPLOADS].id: 2,
                                                           mine[FolderKind.LETTERS].id: 1}
        assert uow.documents.bytes_used(marie.id, AddedBy.SUBSCRIBER) == len(PDF) + len(PNG)
        assert uow.documents.bytes_used(marie.id, AddedBy.UTILITY) == len(PDF)
        assert uow.documents.bytes_used(nobody.id, AddedBy.SUBSCRIBER) == 0
        assert uow.documents.count_by_folder(nobody.id) == {}


def _statements(engine, action) -> int:
    with statements(engine, "SELECT") as seen:
        action()
    return len(seen)


def test_the_tree_costs_the_same_queries_whatever_it_holds(sql_portal, engine):
    marie = add_subscriber(sql_portal, "100001")
    folders = _folders(sql_portal, marie)
    small = _statements(engine, lambda: document_tree(sql_portal, marie.id))
    with sql_portal.uow() as uow:
        for n in range(12):
            uow.folders.add(DocumentFolder(marie.id, f"Année {2014 + n}", parent_id=folders[FolderKind.LETTERS].id))
        uow.commit()
    for kind in FolderKind:
        if kind in folders:
            for _ in range(5):
                _add(sql_portal, marie, folders[kind], added_by=AddedBy.UTILITY)
    big = _statements(engine, lambda: document_tree(sql_portal, marie.id))
    assert big == small == 2


def test_web_flow_on_the_database_and_the_local_disk(sql_portal, tmp_path):
    sql_portal.files = LocalFileStore(tmp_path / "files")
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org", password=PASSWORD)
    folder = _folders(sql_portal, marie)[FolderKind.UPLOADS]
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        client.login("marie@example.org", PASSWORD)
        page = f"/documents/dossiers/{folder.id}"
        sent = client.post(f"{page}/envoyer", data={"csrf_token": client.csrf(page)},
                           files={"file": ("Relevé d'eau.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert sent.status_code == 303
        listing = client.get(page).text
        assert "Relevé d&#39;eau.pdf" in listing
        link = re.search(r'href="(/documents/[0-9a-f-]{36})"', listing).group(1)
        download = client.get(link)
        assert download.content == PDF
        assert download.headers["content-disposition"] == (
            "attachment; filename=\"Releve_d_eau.pdf\"; filename*=UTF-8''Relev%C3%A9%20d%27eau.pdf")
        tree = client.get("/documents").text
        assert re.search(r'<span class="marker" aria-hidden="true">▸</span>Mes envois</a>\s*'
                         r'<span class="count">1 document</span>', tree)
    stored = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == PDF and "eau" not in str(stored[0])


def test_staff_publish_from_the_command_line(tmp_path):
    (tmp_path / "avis.pdf").write_bytes(PDF)
    (tmp_path / "programme.pdf").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 100)
    env = {"PORTAIL_FILES_URL": f"file://{tmp_path / 'files'}",
           "PORTAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'portail.db'}", "PORTAIL_SECRET_KEY": "s" * 40}
    portal = web_portal(load_settings(env), passwords=PlainPasswordHasher(), run_migrations=True)
    jean = add_subscriber(portal, "100002", email="jean@example.org")
    done = portail("documents", "add", "100002", "Courriers", "avis.pdf", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added avis.pdf (") and "for subscriber 100002" in done.stdout
    letters = _folders(portal, jean)[FolderKind.LETTERS]
    with portal.uow() as uow:
        (document,) = uow.documents.in_folder(letters.id)
    assert document.added_by is AddedBy.UTILITY and b"".join(portal.files.open(document.storage_key)) == PDF
    refused = portail("documents", "add", "100002", "letters", "programme.pdf", cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "portail: programme.pdf: not a PDF, JPEG or PNG file (recognised by its content)")
    unknown = portail("documents", "add", "999999", "Grenier", "absent.pdf", cwd=tmp_path, env=env)
    assert (unknown.returncode, unknown.stderr.strip().splitlines()[-1]) == (1, "portail: absent.pdf: No such file "
                                                                             "or directory")
    with portal.uow() as uow:
        assert len(uow.documents.for_subscriber(jean.id)) == 1


@pytest.mark.parametrize(("number", "folder", "problem"), [
    ("999999", "letters", "portail: no subscriber '999999'"),
    ("100002", "Grenier", "portail: no folder 'Grenier' (Contrats, Factures, Courriers, Mes envois; "
                          "or contracts, invoices, letters, uploads)"),
])
def test_publish_names_what_it_cannot_find(tmp_path, monkeypatch, capsys, number, folder, problem):
    from portail_web.cli import main

    (tmp_path / "avis.pdf").write_bytes(PDF)
    env = {"PORTAIL_FILES_URL": f"file://{tmp_path / 'files'}",
           "PORTAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'portail.db'}", "PORTAIL_SECRET_KEY": "s" * 40}
    portal = web_portal(load_settings(env), passwords=PlainPasswordHasher(), run_migrations=True)
    add_subscriber(portal, "100002", email="jean@example.org")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["documents", "add", number, folder, str(tmp_path / "avis.pdf")]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == problem
    assert not (tmp_path / "files").exists() or not any(p.is_file() for p in (tmp_path / "files").rglob("*"))
