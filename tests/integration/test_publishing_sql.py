"""Publishing on SQL: the publishing repository's contract (memory, SQLite, PostgreSQL), a publication
through the web app, all or nothing when the database fails mid-way, and a shared file that outlives
the rows of the subscribers who leave."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from portail_domain.model.accounts import Language, Subscriber
from portail_domain.model.contracts import Contract, Service
from portail_domain.model.documents import DEFAULT_FOLDERS, AddedBy, Document, FolderKind
from portail_domain.model.errors import NotFound
from portail_domain.model.legal import years
from portail_domain.model.mail import OutgoingMail
from portail_domain.model.publishing import Audience
from portail_domain.model.values import EmailAddress
from portail_domain.services.documents import ensure_default_folders, open_document
from portail_domain.services.privacy import apply_retention
from portail_domain.services.publishing import publish_document
from portail_web.app import create_app
from tests.support import BASE_URL, FailingPublishing, WebClient, add_invoice, add_staff, add_subscriber, sign_in_staff

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 10)
PDF = b"%PDF-1.7\n" + b"qualite de l'eau " * 40 + b"\n%%EOF\n"
PASSWORD = "une-phrase-de-passe-solide"


def _world(uow_factory):
    """Five subscribers: 34230 (paperless fr, not paperless, paperless en without e-mail), 34000 (paperless
    en with a water contract, and an ended sanitation one)."""
    specs = [("100001", "34230", True, "fr", "a@example.org"), ("100002", "34230", False, "fr", "b@example.org"),
             ("100003", "34230", True, "en", None), ("100004", "34000", True, "en", "d@example.org"),
             ("100005", "34000", False, "fr", "e@example.org")]
    found = {}
    with uow_factory() as uow:
        for number, code, paperless, language, email in specs:
            s = Subscriber(number, f"Abonné {number}", email=EmailAddress.parse(email) if email else None,
                           postal_code=code, paperless=paperless, language=Language(language))
            uow.subscribers.add(s)
            found[number] = s
        uow.contracts.add(Contract("C4", found["100004"].id, Service.WATER, "x", "M4", date(2020, 1, 1)))
        uow.contracts.add(Contract("C5", found["100005"].id, Service.SANITATION, "x", "M5", date(2020, 1, 1),
                                   end_on=date(2025, 12, 31)))
        ensure_default_folders(uow, found["100001"].id)  # one has folders already
        uow.commit()
    return found


def _document(key: str) -> Document:
    return Document(subscriber_id=uuid.UUID(int=0), folder_id=uuid.UUID(int=0), filename="note.pdf",
                    content_type="application/pdf", size=len(PDF), sha256="ab" * 32, storage_key=key,
                    added_by=AddedBy.UTILITY, added_at=NOW)


def test_publishing_repository_contract(uow_factory):
    people = _world(uow_factory)
    town, water, sanitation = Audience.parse("postal_code:34230"), Audience.parse("service:water"), \
        Audience.parse("service:sanitation")
    with uow_factory() as uow:
        sizes = [uow.publishing.size(a, TODAY) for a in (town, water, sanitation, Audience.parse("all"),
                                                         Audience.subscriber("100002"), Audience.subscriber("9"))]
        assert [(s.subscribers, s.mailed) for s in sizes] == [(3, 1), (1, 1), (0, 0), (5, 2), (1, 0), (0, 0)]
        assert uow.publishing.add_default_folders(town, TODAY, DEFAULT_FOLDERS) == 8  # 2 subscribers × 4
        assert uow.publishing.add_default_folders(town, TODAY, DEFAULT_FOLDERS) == 0
        assert uow.publishing.link(town, TODAY, FolderKind.LETTERS, _document("documents/ab/shared")) == 3
        assert uow.publishing.link(water, TODAY, FolderKind.LETTERS, _document("documents/cd/none")) == 0  # no folder
        mails = {"fr": OutgoingMail("", "Objet", "Texte", "<p>Texte</p>"),
                 "en": OutgoingMail("", "Subject", "Text", "<p>Text</p>")}
        assert uow.publishing.queue_notices(Audience.parse("all"), TODAY, mails, NOW) == 2
        assert uow.documents.referenced_keys(["documents/ab/shared", "documents/cd/none"]) == {"documents/ab/shared"}
        uow.commit()
    with uow_factory() as uow:
        rows = {n: uow.documents.for_subscriber(s.id) for n, s in people.items()}
        assert {n: len(r) for n, r in rows.items()} == {"100001": 1, "100002": 1, "100003": 1, "100004": 0,
                                                         "100005": 0}
        ids = [r[0].id for r in rows.values() if r]
        assert len(set(ids)) == 3 and all(i.version == 4 for i in ids)  # made by the database, random
        for number in ("100002", "100003"):
            folders = uow.folders.for_subscriber(people[number].id)
            assert [(f.name, f.kind, f.position) for f in folders] == [
                (name, kind, position) for position, (kind, name) in enumerate(DEFAULT_FOLDERS)]
            letters = next(f for f in folders if f.kind is FolderKind.LETTERS)
            (document,) = uow.documents.in_folder(letters.id)
            assert (document.filename, document.added_at, document.storage_key) == ("note.pdf", NOW,
                                                                                   "documents/ab/shared")
        mails = sorted((e.mail.to, e.mail.subject, e.mail.text, e.mail.html, e.created_at, e.attempts)
                       for e in uow.outbox.pending())
    assert mails == [("a@example.org", "Objet", "Texte", "<p>Texte</p>", NOW, 0),
                     ("d@example.org", "Subject", "Text", "<p>Text</p>", NOW, 0)]


def test_staff_publish_to_a_postal_code_on_sql(sql_portal):
    _world(sql_portal.uow)
    staff = add_staff(sql_portal, password=PASSWORD, totp_secret="JBSWY3DPEHPK3PXP" * 2)
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        sign_in_staff(client, sql_portal, staff)
        counted = client.get("/agent/documents", params={"audience": "postal_code", "postal_code": "34230"})
        assert "Ce document sera publié pour 3 abonnés" in counted.text
        token = client.csrf("/agent/documents")
        done = client.post("/agent/documents", data={"csrf_token": token, "audience": "postal_code:34230",
                                                     "folder": "letters"},
                           files={"file": ("Qualité de l'eau.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert done.headers["location"] == "/agent/documents?publie=3&courriels=1"
    assert len(sql_portal.files.objects) == 1
    with sql_portal.uow() as uow:
        (mail,) = uow.outbox.pending()
    assert mail.mail.to == "a@example.org" and "« Qualité de l'eau.pdf »" in mail.mail.text


@pytest.mark.parametrize("step", ["link", "queue_notices"])
def test_a_publication_failing_in_the_database_leaves_no_row_and_no_file(sql_portal, step):
    _world(sql_portal.uow)
    sql_portal.uow = FailingPublishing(sql_portal.uow, step)
    with pytest.raises(RuntimeError):
        publish_document(sql_portal, None, audience=Audience.parse("all"), folder="letters", filename="n.pdf",
                         data=io.BytesIO(PDF))
    assert sql_portal.files.objects == {}
    with sql_portal.uow() as uow:
        assert all(not uow.documents.for_subscriber(s.id) for s in uow.subscribers.list())
        assert len(uow.folders.for_subscriber(uow.subscribers.by_number("100002").id)) == 0
        assert not uow.outbox.pending()


def test_the_shared_file_stays_while_another_subscriber_still_has_it(sql_portal):
    marie = add_subscriber(sql_portal, "100001", email="marie@example.org", password=PASSWORD)
    jean = add_subscriber(sql_portal, "100002", email="jean@example.org", password=PASSWORD)
    done = publish_document(sql_portal, None, audience=Audience.parse("all"), folder="invoices",
                            filename="note.pdf", data=io.BytesIO(PDF))
    # Marie closes her account: her documents stay (retention rules), Jean's file is untouched.
    with WebClient(create_app(sql_portal), base_url=BASE_URL) as client:
        client.login("marie@example.org", PASSWORD)
        closed = client.submit("/donnees-personnelles", "/donnees-personnelles/fermer", {"password": PASSWORD})
        assert closed.status_code == 303
    with sql_portal.uow() as uow:
        mine, theirs = (uow.documents.for_subscriber(s.id)[0] for s in (marie, jean))
    # Each row is the PDF of an old invoice, paid: retention deletes Marie's first, then Jean's.
    cutoff = sql_portal.clock.today() - years(sql_portal.config.legal.retention.invoices_years)
    for subscriber, row, issued in ((marie, mine, cutoff - timedelta(days=10)), (jean, theirs, cutoff)):
        invoice = add_invoice(sql_portal, subscriber, f"F{subscriber.number}", amount=100, paid=100,
                              issued=str(issued), due=str(issued + timedelta(days=30)),
                              contract_number=f"C{subscriber.number}")
        with sql_portal.uow() as uow:
            invoice.pdf_document_id = row.id
            uow.invoices.update(invoice)
            uow.commit()
    first = apply_retention(sql_portal)
    assert (first.invoices, first.files) == (1, 0)  # Marie's row went; the file is Jean's too
    with pytest.raises(NotFound):
        open_document(sql_portal, marie.id, mine.id)
    assert b"".join(open_document(sql_portal, jean.id, theirs.id).chunks) == PDF
    sql_portal.clock.advance(days=20)
    second = apply_retention(sql_portal)
    assert (second.invoices, second.files) == (1, 1)  # the last row went: so did the file
    assert done.storage_key not in sql_portal.files.objects
