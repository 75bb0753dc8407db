"""Mes documents through the web app (on fakes): tree, folder page, upload, download, refusals."""

from __future__ import annotations

import io
import re
import uuid

import pytest

from portail_domain.model.documents import FolderKind
from portail_domain.model.publishing import Audience
from portail_domain.services.documents import document_tree
from portail_domain.services.publishing import publish_document
from portail_web import create_app
from portail_web.formatting import file_size
from tests.support import BASE_URL, WebClient, add_subscriber, set_limits

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500
HTML = b"<!doctype html><html><script>alert(1)</script></html>"


@pytest.fixture
def marie(memory_portal, web):
    subscriber = add_subscriber(memory_portal, "100001", email="marie@example.org", password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    return subscriber


def folder_of(portal, subscriber, kind=FolderKind.UPLOADS):
    return next(n.folder for n in document_tree(portal, subscriber.id) if n.folder.kind is kind)


def upload(web, folder_id, content, name="lettre.pdf", content_type="application/pdf"):
    page = f"/documents/dossiers/{folder_id}"
    token = web.csrf(page)
    return web.post(f"{page}/envoyer", data={"csrf_token": token}, files={"file": (name, content, content_type)},
                    follow_redirects=False)


def test_upload_list_download_byte_for_byte(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    response = upload(web, folder.id, PDF, "Attestation d'assurance.pdf")
    assert response.status_code == 303
    assert response.headers["location"] == f"/documents/dossiers/{folder.id}?envoye=1"
    page = web.get(response.headers["location"])
    assert "Votre document a été envoyé." in page.text
    assert "Attestation d&#39;assurance.pdf" in page.text and "Vous" in page.text
    link = re.search(r'href="(/documents/[0-9a-f-]{36})"', page.text).group(1)
    download = web.get(link)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Attestation_d_assurance.pdf\"; filename*=UTF-8''Attestation%20d%27assurance.pdf")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"


def test_tree_shows_a_marker_and_the_count_on_folders_with_documents(memory_portal, web, marie):
    publish_document(memory_portal, None, audience=Audience.subscriber("100001"), folder="Courriers",
                     filename="avis.pdf", data=io.BytesIO(PDF))
    page = web.get("/documents")
    assert page.status_code == 200
    items = re.findall(r'<li>\s*<a href="/documents/dossiers/[^"]+"><span class="marker"[^>]*>(▸?)</span>([^<]+)</a>'
                       r'\s*<span class="count">([^<]+)</span>', page.text)
    assert items == [("", "Contrats", "vide"), ("", "Factures", "vide"), ("▸", "Courriers", "1 document"),
                     ("", "Mes envois", "vide")]
    folder_page = web.get(f"/documents/dossiers/{folder_of(memory_portal, marie, FolderKind.LETTERS).id}")
    assert "avis.pdf" in folder_page.text and "Régie des Eaux de Test" in folder_page.text  # who added it


def test_english_interface_translates_the_standard_folders(memory_portal, web, marie):
    from portail_domain.model.accounts import Language

    marie.language = Language.EN
    with memory_portal.uow() as uow:
        uow.subscribers.update(marie)
        uow.commit()
    page = web.get("/documents")
    assert ">Letters</a>" in page.text and ">My uploads</a>" in page.text


@pytest.mark.parametrize(("content", "name", "content_type", "message"), [
    (ELF, "facture.pdf", "application/pdf", "Ce type de fichier n'est pas accepté"),  # a program renamed .pdf
    (HTML, "page.html", "text/html", "Ce type de fichier n'est pas accepté"),
    (b"", "vide.pdf", "application/pdf", "Le fichier envoyé est vide."),
])
def test_refused_uploads_say_why_and_keep_nothing(memory_portal, web, marie, content, name, content_type, message):
    folder = folder_of(memory_portal, marie)
    response = upload(web, folder.id, content, name, content_type)
    assert response.status_code in (400, 422)
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert memory_portal.files.objects == {}
    assert "Ce dossier ne contient aucun document." in response.text


def test_an_11_mb_file_is_refused_with_413_and_nothing_kept(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    response = upload(web, folder.id, PDF + b"\0" * (11 * 1024 * 1024))
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.text and "10 Mo par fichier" in response.text  # our page, in French
    assert memory_portal.files.objects == {}


def test_a_file_just_over_10_mb_is_refused_with_a_clear_message(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    response = upload(web, folder.id, PDF + b"\0" * (10 * 1024 * 1024 - len(PDF) + 1))
    assert response.status_code == 413
    assert "Le fichier dépasse la taille autorisée (10 Mo par fichier)." in response.text
    assert memory_portal.files.objects == {}


def test_a_10_mb_file_is_accepted(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    content = PDF + b"\0" * (10 * 1024 * 1024 - len(PDF))
    assert upload(web, folder.id, content).status_code == 303
    assert list(memory_portal.files.objects.values()) == [content]


def test_path_traversal_and_rtl_override_names_are_only_display_names(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    assert upload(web, folder.id, PDF, "../../../../etc/passwd").status_code == 303
    assert upload(web, folder.id, PDF, "facture\u202efdp.exe").status_code == 303
    page = web.get(f"/documents/dossiers/{folder.id}").text
    assert ">passwd.pdf</a>" in page and ">facturefdp.exe.pdf</a>" in page and "\u202e" not in page
    assert all(key.startswith("documents/") and "passwd" not in key for key in memory_portal.files.objects)


def test_over_quota_is_refused_with_a_clear_message(memory_portal, marie):
    set_limits(memory_portal, upload_quota_bytes=len(PDF) + 10)  # as PORTAIL settings would, before the app starts
    folder = folder_of(memory_portal, marie)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", PASSWORD)
        assert upload(web, folder.id, PDF).status_code == 303
        response = upload(web, folder.id, PDF, "deuxieme.pdf")
    assert response.status_code == 422
    assert f"Votre espace documents est plein ({file_size(len(PDF) + 10)})" in response.text
    assert len(memory_portal.files.objects) == 1


def test_no_file_chosen(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    page = f"/documents/dossiers/{folder.id}"
    response = web.post(f"{page}/envoyer", data={"csrf_token": web.csrf(page)}, follow_redirects=False)
    assert response.status_code == 400 and "Choisissez le fichier à envoyer." in response.text


def test_upload_without_csrf_token_is_refused(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    response = web.post(f"/documents/dossiers/{folder.id}/envoyer", files={"file": ("a.pdf", PDF, "application/pdf")},
                        follow_redirects=False)
    assert response.status_code == 403
    assert memory_portal.files.objects == {}


def test_store_down_shows_a_clear_message_and_keeps_nothing(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    memory_portal.files.down = True
    response = upload(web, folder.id, PDF)
    assert response.status_code == 503
    assert "Le stockage des documents ne répond pas." in response.text
    with memory_portal.uow() as uow:
        assert uow.documents.for_subscriber(marie.id) == []


def test_another_subscribers_folder_and_document_are_404(memory_portal, web, marie):
    other = add_subscriber(memory_portal, "100002", email="jean@example.org")
    theirs = folder_of(memory_portal, other)
    publish_document(memory_portal, None, audience=Audience.subscriber("100002"), folder="uploads",
                     filename="secret.pdf", data=io.BytesIO(PDF))
    with memory_portal.uow() as uow:
        (document,) = uow.documents.for_subscriber(other.id)
    assert web.get(f"/documents/dossiers/{theirs.id}").status_code == 404
    assert web.get(f"/documents/{document.id}").status_code == 404
    assert upload(web, folder_of(memory_portal, marie).id, PDF).status_code == 303  # (own folder works)
    token = web.csrf("/documents")
    response = web.post(f"/documents/dossiers/{theirs.id}/envoyer", data={"csrf_token": token},
                        files={"file": ("x.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert response.status_code == 404
    with memory_portal.uow() as uow:
        assert len(uow.documents.for_subscriber(other.id)) == 1


UNKNOWN = "6f1c1a52-8d1e-4c41-9d3e-2b7f0e8c4a11"


@pytest.mark.parametrize("path", ["/documents/dossiers/not-a-uuid", "/documents/12345", "/documents/dossiers/%00",
                                  f"/documents/dossiers/{UNKNOWN}", f"/documents/{UNKNOWN}",
                                  f"/documents/{UNKNOWN.upper()}", "/documents/dossiers/../../etc/passwd"])
def test_malformed_or_unknown_ids_are_404(web, marie, path):
    assert web.get(path).status_code == 404


def test_pages_need_a_login(web):
    for path in ("/documents", f"/documents/dossiers/{uuid.uuid4()}", f"/documents/{uuid.uuid4()}"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion?next=")


def test_one_file_per_upload(memory_portal, web, marie):
    folder = folder_of(memory_portal, marie)
    page = f"/documents/dossiers/{folder.id}"
    response = web.post(f"{page}/envoyer", data={"csrf_token": web.csrf(page)}, follow_redirects=False,
                        files=[("file", ("a.pdf", PDF, "application/pdf")),
                               ("file", ("b.pdf", PDF, "application/pdf"))])
    assert response.status_code == 400
    assert memory_portal.files.objects == {}
