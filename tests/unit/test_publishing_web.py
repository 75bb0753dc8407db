"""Publier un document (/agent/documents) through the web app, on fakes: count the recipients, publish to
one subscriber or a postal code, and every bad input answered with its message, a 4xx and nothing stored."""

from __future__ import annotations

import re

import pytest

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_web.app import create_app
from tests.support import BASE_URL, WebClient, add_staff, set_limits, sign_in_staff
from tests.unit.test_publishing import PDF, TOWN, people

PASSWORD = "une-phrase-de-passe-solide"
EXE = b"MZ\x90\x00" + b"\x00" * 64


@pytest.fixture
def staff_web(memory_portal):
    people(memory_portal, TOWN)
    staff = add_staff(memory_portal, password=PASSWORD, totp_secret="JBSWY3DPEHPK3PXP" * 2)
    with WebClient(create_app(memory_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, memory_portal, staff)
        yield client


def post(client, data, file=("note-qualite-2025.pdf", PDF, "application/pdf")):
    token = client.csrf("/agent/documents")
    return client.post("/agent/documents", data={**data, "csrf_token": token}, follow_redirects=False,
                       files={"file": file} if file else {"file": ("", b"", "application/octet-stream")})


def stored(portal):
    with portal.uow() as uow:
        return len(portal.files.objects), len(uow.documents.rows), len(uow.outbox.pending())


def test_the_page_is_in_the_staff_menu_and_on_the_dashboard(staff_web):
    page = staff_web.get("/agent/documents")
    assert page.status_code == 200 and "<h1>Publier un document</h1>" in page.text
    assert re.search(r'<a href="/agent/documents" aria-current="page">Documents</a>', page.text)
    assert 'value="subscriber" checked' in page.text and 'enctype="multipart/form-data"' not in page.text
    assert 'href="/agent/documents"' in staff_web.get("/agent").text


def test_staff_count_then_publish_to_a_postal_code(memory_portal, staff_web):
    counted = staff_web.get("/agent/documents", params={"audience": "postal_code", "postal_code": "34230"})
    assert counted.status_code == 200
    assert "Ce document sera publié pour 3 abonnés" in counted.text
    assert "dont 2 à la facture électronique, prévenus par e-mail" in counted.text
    assert '<input type="hidden" name="audience" value="postal_code:34230">' in counted.text
    assert "Publier pour 3 abonnés" in counted.text
    done = post(staff_web, {"audience": "postal_code:34230", "folder": "letters"})
    assert done.status_code == 303 and done.headers["location"] == "/agent/documents?publie=3&courriels=2"
    page = staff_web.get(done.headers["location"])
    assert "Document publié pour 3 abonnés. 2 e-mails sont en file d'envoi." in page.text
    assert stored(memory_portal) == (1, 3, 2)
    with memory_portal.uow() as uow:
        (entry,) = uow.audit.search(AuditQuery(), 10)
    assert entry.action is AuditAction.DOCUMENT_PUBLISH and entry.target == "postal_code:34230"


def test_staff_publish_to_one_subscriber(memory_portal, staff_web):
    counted = staff_web.get("/agent/documents", params={"audience": "subscriber", "subscriber_number": "100002"})
    assert "Ce document sera publié pour 1 abonné" in counted.text
    assert '<input type="hidden" name="subscriber_number" value="100002">' in counted.text
    done = post(staff_web, {"subscriber_number": "100002", "folder": "invoices"})
    assert done.headers["location"] == "/agent/documents?publie=1&courriels=0"
    assert stored(memory_portal) == (1, 1, 0)  # 100002 is not paperless: no e-mail
    with memory_portal.uow() as uow:
        (document,) = uow.documents.rows.values()
        (entry,) = uow.audit.search(AuditQuery(), 10)
        assert uow.folders.get(document.folder_id).name == "Factures"
    assert entry.subscriber_number == "100002" and document.filename == "note-qualite-2025.pdf"


@pytest.mark.parametrize(("data", "file", "status", "field", "message"), [
    ({"subscriber_number": "100001", "folder": "letters"}, None, 400, "file", "Choisissez le fichier à publier."),
    ({"subscriber_number": "100001", "folder": "letters"}, ("note.pdf", EXE, "application/pdf"), 422, "file",
     "Ce type de fichier n'est pas accepté"),
    ({"subscriber_number": "100001", "folder": "letters"}, ("vide.pdf", b"", "application/pdf"), 422, "file",
     "Le fichier envoyé est vide."),
    ({"subscriber_number": "999999", "folder": "letters"}, "pdf", 422, "subscriber_number",
     "Aucun abonné n'a ce numéro"),
    ({"audience": "postal_code:3423", "folder": "letters"}, "pdf", 400, "audience", "un code postal (5 chiffres)"),
    ({"audience": "tout le monde", "folder": "letters"}, "pdf", 400, "audience", "Choisissez les destinataires"),
    ({"audience": "postal_code", "postal_code": "ABC", "folder": "letters"}, "pdf", 400, "postal_code",
     "Choisissez les destinataires"),
    ({"audience": "postal_code:99999", "folder": "letters"}, "pdf", 422, "audience",
     "Aucun abonné ne correspond à ces destinataires : rien n'a été publié."),
    ({"audience": "all", "subscriber_number": "100001", "folder": "letters"}, "pdf", 400, "subscriber_number",
     "pas les deux"),
    ({"folder": "letters"}, "pdf", 400, "subscriber_number", "Saisissez le numéro de l'abonné."),
    ({"audience": "all", "folder": "Grenier"}, "pdf", 400, "folder", "Choisissez le dossier dans la liste"),
])
def test_bad_input_is_refused_with_its_message_and_nothing_is_stored(memory_portal, staff_web, data, file, status,
                                                                     field, message):
    response = post(staff_web, data, ("note.pdf", PDF, "application/pdf") if file == "pdf" else file)
    assert response.status_code == status
    assert message in response.text
    assert f'<li><a href="#{field}">' in response.text  # the error summary leads to the field
    assert stored(memory_portal) == (0, 0, 0)
    with memory_portal.uow() as uow:
        assert not uow.folders.rows and not list(uow.audit.search(AuditQuery(), 10))


def test_a_file_too_large_is_413_before_anything_is_stored(memory_portal, staff_web):
    set_limits(memory_portal, upload_max_bytes=len(PDF) - 1)
    response = post(staff_web, {"audience": "all", "folder": "letters"})
    assert response.status_code == 413 and "Le fichier dépasse la taille autorisée" in response.text
    assert "Publier pour 4 abonnés" in response.text  # the recipients stand: choose another file
    assert stored(memory_portal) == (0, 0, 0)


def test_counting_says_what_is_wrong_with_the_recipients(staff_web):
    unknown = staff_web.get("/agent/documents", params={"subscriber_number": "999999"})
    assert unknown.status_code == 422 and "Aucun abonné n'a ce numéro" in unknown.text
    empty = staff_web.get("/agent/documents", params={"audience": "postal_code", "postal_code": "99999"})
    assert empty.status_code == 200 and "Aucun abonné ne correspond à ces destinataires." in empty.text
    assert "multipart/form-data" not in empty.text  # nothing to publish to
    both = staff_web.get("/agent/documents", params={"audience": "all", "subscriber_number": "100001"})
    assert both.status_code == 400 and "pas les deux" in both.text
    water = staff_web.get("/agent/documents", params={"audience": "service:water"})
    assert "Ce document sera publié pour 3 abonnés" in water.text  # "both" counts as water


def test_the_page_is_in_english_too(memory_portal, staff_web):
    staff_web.cookies.set("portail_langue", "en")
    page = staff_web.get("/agent/documents", params={"audience": "all"}, headers={"accept-language": "en"})
    assert "Publish a document" in page.text and "This document will be published for 4 subscribers" in page.text
