"""Publishing a document to one subscriber or an audience, on the fakes: the audience rules, one stored
file shared by every row, folders for those who had none, one e-mail per paperless subscriber, the
audit entry, all or nothing, and deletion that keeps a file another row still points to."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.accounts import Language, Subscriber
from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.contracts import Contract, Service
from portail_domain.model.documents import DEFAULT_FOLDERS, FolderKind, UnsupportedFileType
from portail_domain.model.errors import NotFound
from portail_domain.model.publishing import (
    Audience,
    AudienceAmbiguous,
    AudienceKind,
    EmptyAudience,
    InvalidAudience,
    SubscriberNumberMissing,
    UnknownFolder,
    publication_folder,
)
from portail_domain.model.values import EmailAddress
from portail_domain.services.documents import document_tree, open_document, orphaned_keys
from portail_domain.services.publishing import audience_size, publish_document
from tests.support import FailingPublishing, add_staff

PDF = b"%PDF-1.7\n" + b"qualite de l'eau " * 40 + b"\n%%EOF\n"
TODAY = date(2026, 3, 10)


# --- the audience ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("all", Audience(AudienceKind.ALL)), (" ALL ", Audience(AudienceKind.ALL)),
    ("postal_code:34230", Audience(AudienceKind.POSTAL_CODE, "34230")),
    ("postal_code: 34 230", Audience(AudienceKind.POSTAL_CODE, "34230")),
    ("postal_code:３４２３０", Audience(AudienceKind.POSTAL_CODE, "34230")),  # full-width digits (NFKC)
    ("service:water", Audience(AudienceKind.SERVICE, "water")),
    ("Service:Sanitation", Audience(AudienceKind.SERVICE, "sanitation")),
])
def test_audiences_are_read_from_their_form_value(text, expected):
    assert Audience.parse(text) == expected
    assert Audience.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "tous", "all:1", "postal_code", "postal_code:3423", "postal_code:342300",
                                  "postal_code:2A004", "postal_code:٣٤٢٣٠", "service:both", "service:", "service:gaz",
                                  "subscriber:1"])
def test_anything_else_is_refused(text):
    with pytest.raises(InvalidAudience):
        Audience.parse(text)


@given(st.text(max_size=40))
def test_a_parsed_audience_reads_back_as_itself(text):
    try:
        audience = Audience.parse(text)
    except InvalidAudience:
        return
    assert Audience.parse(str(audience)) == audience and audience.kind is not AudienceKind.SUBSCRIBER


@given(st.text(min_size=1, max_size=20).filter(str.strip), st.text(min_size=1, max_size=20).filter(str.strip))
def test_a_number_and_an_audience_together_are_refused(number, audience):
    with pytest.raises(AudienceAmbiguous):
        Audience.choose(number, audience)


def test_a_number_alone_is_one_subscriber_and_nothing_at_all_asks_for_it():
    assert Audience.choose(" 100001 ", "") == Audience(AudienceKind.SUBSCRIBER, "100001")
    assert Audience.choose("", "all") == Audience(AudienceKind.ALL)
    with pytest.raises(SubscriberNumberMissing):
        Audience.choose(" ", "")


def _contract(service: Service, *, start=date(2020, 1, 1), end=None) -> Contract:
    return Contract("C1", Subscriber("1", "X").id, service, "1 rue X", "M1", start, end_on=end)


@pytest.mark.parametrize(("contracts", "water", "sanitation"), [
    ([], False, False),
    ([_contract(Service.WATER)], True, False),
    ([_contract(Service.SANITATION)], False, True),
    ([_contract(Service.BOTH)], True, True),
    ([_contract(Service.BOTH, end=TODAY - timedelta(days=1))], False, False),  # moved out
    ([_contract(Service.WATER, start=TODAY + timedelta(days=1))], False, False),  # not started yet
    ([_contract(Service.WATER, end=TODAY), _contract(Service.SANITATION, end=date(2021, 1, 1))], True, False),
])
def test_a_service_audience_is_the_subscribers_with_a_current_contract_for_it(contracts, water, sanitation):
    subscriber = Subscriber("1", "X", postal_code="34230")
    assert Audience.parse("service:water").includes(subscriber, contracts, TODAY) is water
    assert Audience.parse("service:sanitation").includes(subscriber, contracts, TODAY) is sanitation
    assert Audience.parse("all").includes(subscriber, contracts, TODAY)
    assert Audience.parse("postal_code:34230").includes(subscriber, contracts, TODAY)
    assert not Audience.parse("postal_code:34000").includes(subscriber, contracts, TODAY)


@pytest.mark.parametrize(("reference", "kind"), [
    ("Courriers", FolderKind.LETTERS), ("letters", FolderKind.LETTERS), (" factures ", FolderKind.INVOICES),
    ("CONTRACTS", FolderKind.CONTRACTS), ("Mes envois", FolderKind.UPLOADS)])
def test_a_publication_goes_to_a_standard_folder_by_name_or_kind(reference, kind):
    assert publication_folder(reference) is kind


@pytest.mark.parametrize("reference", ["", "other", "Grenier", "Contrats/2026"])
def test_any_other_folder_is_unknown(reference):
    with pytest.raises(UnknownFolder) as refused:
        publication_folder(reference)
    assert isinstance(refused.value, NotFound) and "folder" in refused.value.params


# --- publishing on the fakes -------------------------------------------------------------------


def people(portal, specs):
    """Subscribers from (number, postal code, paperless, language, service or None); those with a
    service have a contract for it. Returns them by number."""
    found = {}
    with portal.uow() as uow:
        for number, postal_code, paperless, language, service in specs:
            subscriber = Subscriber(number, f"Abonné {number}", email=EmailAddress.parse(f"a{number}@example.org"),
                                    postal_code=postal_code, paperless=paperless, language=Language(language))
            uow.subscribers.add(subscriber)
            if service is not None:
                uow.contracts.add(Contract(f"C{number}", subscriber.id, Service(service), "1 rue X", f"M{number}",
                                           date(2020, 1, 1)))
            found[number] = subscriber
        uow.commit()
    return found


TOWN = [("100001", "34230", True, "fr", "both"), ("100002", "34230", False, "fr", "water"),
        ("100003", "34230", True, "en", "sanitation"), ("100004", "34000", True, "fr", "water")]


def _publish(portal, audience, staff=None, *, folder="Courriers", data=PDF, filename="Qualité de l'eau 2025.pdf"):
    return publish_document(portal, staff, audience=Audience.parse(audience) if ":" in audience or audience == "all"
                            else Audience.subscriber(audience), folder=folder, filename=filename,
                            data=io.BytesIO(data))


def test_a_postal_code_gets_one_stored_file_a_row_each_and_the_paperless_one_mail(memory_portal):
    town = people(memory_portal, TOWN)
    staff = add_staff(memory_portal, password="une-phrase-de-passe-solide")
    assert audience_size(memory_portal, Audience.parse("postal_code:34230")).subscribers == 3
    done = _publish(memory_portal, "postal_code:34230", staff)
    assert (done.subscribers, done.mailed, done.folder) == (3, 2, FolderKind.LETTERS)
    assert list(memory_portal.files.objects) == [done.storage_key]  # stored once
    with memory_portal.uow() as uow:
        rows = {n: uow.documents.for_subscriber(s.id) for n, s in town.items()}
        mails = sorted((e.mail.to, e.mail.subject) for e in uow.outbox.pending())
        (entry,) = uow.audit.search(AuditQuery(), 10)
    assert {n: len(r) for n, r in rows.items()} == {"100001": 1, "100002": 1, "100003": 1, "100004": 0}
    assert {r[0].storage_key for n, r in rows.items() if r} == {done.storage_key}
    assert mails == [("a100001@example.org", "Un nouveau document est disponible dans votre espace abonné — "
                                             "Régie des Eaux de Test"),
                     ("a100003@example.org", "A new document is in your subscriber area — Régie des Eaux de Test")]
    assert (entry.action, entry.target, entry.subscriber_number) == (AuditAction.DOCUMENT_PUBLISH,
                                                                     "postal_code:34230", None)
    assert entry.after["subscribers"] == "3" and entry.after["mailed"] == "2" and entry.after["folder"] == "letters"
    # Subscribers who had no folders got the standard ones; the letter is marked in their tree.
    tree = document_tree(memory_portal, town["100003"].id)
    assert [(n.folder.name, n.count) for n in tree] == [("Contrats", 0), ("Factures", 0), ("Courriers", 1),
                                                         ("Mes envois", 0)]
    assert b"".join(open_document(memory_portal, town["100003"].id, rows["100003"][0].id).chunks) == PDF


def test_folders_a_subscriber_already_has_are_not_made_twice(memory_portal):
    town = people(memory_portal, TOWN)
    document_tree(memory_portal, town["100001"].id)  # the first visit made them
    _publish(memory_portal, "all", folder="factures")
    _publish(memory_portal, "service:water", folder="contracts")
    with memory_portal.uow() as uow:
        for subscriber in town.values():
            kinds = [f.kind for f in uow.folders.for_subscriber(subscriber.id)]
            assert sorted(kinds) == sorted(kind for kind, _ in DEFAULT_FOLDERS)
        water = {s.number for s in town.values() if uow.documents.for_subscriber(s.id)
                 and len(uow.documents.for_subscriber(s.id)) == 2}
    assert water == {"100001", "100002", "100004"}  # "both" counts as water


@pytest.mark.parametrize(("audience", "folder", "data", "error"), [
    ("postal_code:99999", "letters", PDF, EmptyAudience),
    ("999999", "letters", PDF, NotFound),
    ("all", "Grenier", PDF, UnknownFolder),
    ("all", "letters", b"MZ\x90\x00" + b"\x00" * 64, UnsupportedFileType),
])
def test_a_refused_publication_stores_nothing(memory_portal, audience, folder, data, error):
    people(memory_portal, TOWN)
    with pytest.raises(error):
        _publish(memory_portal, audience, folder=folder, data=data)
    assert memory_portal.files.objects == {}
    with memory_portal.uow() as uow:
        assert not uow.documents.rows and not uow.folders.rows and not uow.outbox.pending()


@pytest.mark.parametrize("step", ["link", "queue_notices"])
def test_a_publication_that_fails_after_storing_leaves_no_row_and_no_file(memory_portal, step):
    people(memory_portal, TOWN)
    memory_portal.uow = FailingPublishing(memory_portal.uow, step)
    with pytest.raises(RuntimeError):
        _publish(memory_portal, "all")
    assert memory_portal.files.objects == {}
    with memory_portal.uow() as uow:
        assert not uow.documents.rows and not uow.folders.rows and not uow.outbox.pending()


def test_the_shared_file_goes_only_with_its_last_row(memory_portal):
    town = people(memory_portal, TOWN[:2])
    done = _publish(memory_portal, "all")
    with memory_portal.uow() as uow:
        first, second = (uow.documents.for_subscriber(s.id)[0] for s in town.values())
        uow.documents.remove(first.id)
        assert orphaned_keys(uow, [first.storage_key]) == []
        uow.documents.remove(second.id)
        assert orphaned_keys(uow, [first.storage_key, second.storage_key]) == [done.storage_key]
