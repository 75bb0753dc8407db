"""Mes demandes on fakes: status moves, references, ownership, attachments, the mails."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model import errors
from portail_domain.model.accounts import Language, StaffUser
from portail_domain.model.documents import AddedBy, FolderKind, QuotaExceeded, UnsupportedFileType
from portail_domain.model.limits import Limits
from portail_domain.model.request_desk import RequestQuery
from portail_domain.model.requests import (
    NEXT,
    Attachment,
    CategoryInvalid,
    MessageMissing,
    MessageTooLong,
    Request,
    RequestCategory,
    RequestInvalid,
    RequestStatus,
    SubjectMissing,
    SubjectTooLong,
)
from portail_domain.model.values import EmailAddress
from portail_domain.services.request_desk import request_queue, staff_reply
from portail_domain.services.requests import (
    add_subscriber_message,
    list_requests,
    open_request,
    request_detail,
    staff_attachment,
)
from tests.support import add_contract, add_subscriber, set_limits

PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 500
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
AGENT = StaffUser(EmailAddress.parse("agent@eau-test.example"), "Paul Agent")


def new_request(status: RequestStatus = RequestStatus.NEW) -> Request:
    return Request("D-2026-000001", uuid.uuid4(), RequestCategory.OTHER, "Objet", NOW, status=status)


def file(portal, subscriber, **kwargs):
    values = {"category": "installation", "subject": "Fuite sous l'évier", "message": "Bonjour, une fuite."}
    return open_request(portal, subscriber.id, **{**values, **kwargs})


def outbox(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending()]


# --- status moves ------------------------------------------------------------------------


def test_answered_request_is_reopened_by_going_back_to_in_progress():
    request = new_request(RequestStatus.ANSWERED)
    request.move_to(RequestStatus.IN_PROGRESS, NOW)
    assert request.status is RequestStatus.IN_PROGRESS and request.updated_at == NOW


@pytest.mark.parametrize(("current", "wanted"), [
    (RequestStatus.IN_PROGRESS, RequestStatus.NEW),
    (RequestStatus.ANSWERED, RequestStatus.NEW),
])
def test_status_never_goes_back_to_new(current, wanted):
    with pytest.raises(errors.StatusGoesBack):
        new_request(current).move_to(wanted, NOW)


@pytest.mark.parametrize("wanted", list(RequestStatus))
def test_closed_request_refuses_every_move(wanted):
    with pytest.raises(errors.RequestClosed):
        new_request(RequestStatus.CLOSED).move_to(wanted, NOW)


@given(st.lists(st.sampled_from(list(RequestStatus)), max_size=12))
def test_any_sequence_of_moves_follows_the_table(moves):
    """Whatever is asked: an allowed move happens, anything else raises and changes nothing;
    once closed, always closed; nothing ever goes back to new."""
    request = new_request()
    for wanted in moves:
        before = request.status
        try:
            request.move_to(wanted, NOW)
        except (errors.StatusGoesBack, errors.RequestClosed):
            assert request.status is before
            assert before is RequestStatus.CLOSED or (wanted is not before and wanted not in NEXT[before])
        else:
            assert before is not RequestStatus.CLOSED
            assert wanted is before or wanted in NEXT[before]
            assert request.status is wanted
        if before is not RequestStatus.NEW:
            assert request.status is not RequestStatus.NEW


# --- filing ---------------------------------------------------------------------------------


def test_filing_gives_references_in_sequence_and_acknowledges_by_mail(memory_portal):
    marie = add_subscriber(memory_portal, "100001", email="marie@example.org")
    first = file(memory_portal, marie)
    second = file(memory_portal, marie, subject="Compteur bloqué", category="meter")
    assert (first.reference, second.reference) == ("D-2026-000001", "D-2026-000002")
    assert [r.request.reference for r in list_requests(memory_portal, marie.id)] == [second.reference,
                                                                                        first.reference]
    mails = outbox(memory_portal)
    assert [m.to for m in mails] == ["marie@example.org"] * 2
    assert "D-2026-000001" in mails[0].subject and "bien été reçue" in mails[0].subject
    assert f"http://127.0.0.1:8000/demandes/{first.id}" in mails[0].text
    assert "Fuite sous l&#39;évier" in mails[0].html  # the subscriber's words are escaped in HTML


def test_acknowledgement_in_the_subscribers_language_and_none_without_email(memory_portal):
    john = add_subscriber(memory_portal, "100002", email="john@example.org")
    with memory_portal.uow() as uow:
        stored = uow.subscribers.get(john.id)
        stored.language = Language.EN
        uow.subscribers.update(stored)
        uow.commit()
    file(memory_portal, john)
    nobody = add_subscriber(memory_portal, "100003", email=None)
    file(memory_portal, nobody)
    (mail,) = outbox(memory_portal)
    assert mail.to == "john@example.org" and mail.subject.startswith("Your request D-2026-")


def test_reference_taken_by_a_concurrent_filing_is_retried(memory_portal, monkeypatch):
    """Two filings read the same highest reference; the second insert loses and takes the next one."""
    marie = add_subscriber(memory_portal)
    file(memory_portal, marie)  # D-2026-000001 exists
    from portail_adapters.memory import repositories

    stale = iter([None])  # the first look-up still sees no request this year
    real = repositories.MemoryRequests.last_reference
    monkeypatch.setattr(repositories.MemoryRequests, "last_reference",
                        lambda self, prefix: next(stale, None) or real(self, prefix))
    request = file(memory_portal, marie)
    assert request.reference == "D-2026-000002"


def test_references_restart_each_year_and_never_repeat(memory_portal, clock):
    marie = add_subscriber(memory_portal)
    seen = {file(memory_portal, marie).reference for _ in range(3)}
    clock.current = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    seen.add(file(memory_portal, marie).reference)
    assert seen == {"D-2026-000001", "D-2026-000002", "D-2026-000003", "D-2027-000001"}


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"category": "vacances"}, CategoryInvalid, "category"),
    ({"subject": "  \n "}, SubjectMissing, "subject"),
    ({"subject": "x" * 201}, SubjectTooLong, "subject"),
    ({"message": "\x00\x01 "}, MessageMissing, "message"),
    ({"message": "x" * 5001}, MessageTooLong, "message"),
])
def test_bad_fields_are_refused_and_nothing_is_kept(memory_portal, kwargs, error, field):
    marie = add_subscriber(memory_portal)
    with pytest.raises(error) as caught:
        file(memory_portal, marie, **kwargs)
    assert caught.value.field == field
    assert list_requests(memory_portal, marie.id) == [] and outbox(memory_portal) == []


def test_limits_are_inclusive_and_subject_is_one_line(memory_portal):
    marie = add_subscriber(memory_portal)
    request = file(memory_portal, marie, subject="a\nb" + "x" * 197, message="y" * 5000)
    assert request.subject == "a b" + "x" * 197
    assert request_detail(memory_portal, marie.id, request.id).messages[0].body == "y" * 5000


def test_another_subscribers_contract_is_not_found(memory_portal):
    marie = add_subscriber(memory_portal, "100001")
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    add_contract(memory_portal, paul, "C-PAUL", periods=1)
    with pytest.raises(errors.NotFound):
        file(memory_portal, marie, contract_number="C-PAUL")
    with pytest.raises(errors.NotFound):
        file(memory_portal, marie, contract_number="C-NONE")
    assert list_requests(memory_portal, marie.id) == []


def test_own_contract_is_named_on_the_request(memory_portal):
    marie = add_subscriber(memory_portal)
    add_contract(memory_portal, marie, "C-MARIE", periods=1)
    request = file(memory_portal, marie, category="ecretement", contract_number="C-MARIE")
    (summary,) = list_requests(memory_portal, marie.id)
    assert summary.contract_number == "C-MARIE" and request.category is RequestCategory.LEAK_RELIEF


def test_attachment_lands_in_mes_envois_and_counts_against_the_quota(memory_portal):
    marie = add_subscriber(memory_portal)
    request = file(memory_portal, marie, attachment=Attachment("../../attestation plombier.exe",
                                                                  io.BytesIO(PDF)))
    thread = request_detail(memory_portal, marie.id, request.id)
    (document,) = thread.attachments.values()
    assert thread.messages[0].attachment_id == document.id
    assert document.filename == "attestation plombier.exe.pdf" and document.content_type == "application/pdf"
    with memory_portal.uow() as uow:
        assert uow.folders.get(document.folder_id).kind is FolderKind.UPLOADS
        assert uow.documents.bytes_used(marie.id, AddedBy.SUBSCRIBER) == len(PDF)
    assert b"".join(memory_portal.files.open(document.storage_key)) == PDF


def test_refused_attachment_keeps_nothing(memory_portal):
    marie = add_subscriber(memory_portal)
    with pytest.raises(UnsupportedFileType):
        file(memory_portal, marie, attachment=Attachment("facture.pdf", io.BytesIO(EXE)))
    with memory_portal.uow() as uow:
        assert list(uow.documents.for_subscriber(marie.id)) == []
    assert list_requests(memory_portal, marie.id) == [] and outbox(memory_portal) == []
    assert memory_portal.files.objects == {}


def test_attachment_over_the_quota_is_refused(memory_portal, monkeypatch):
    marie = add_subscriber(memory_portal)
    set_limits(memory_portal, upload_quota_bytes=len(PDF) * 2 - 1)
    file(memory_portal, marie, attachment=Attachment("a.pdf", io.BytesIO(PDF)))
    with pytest.raises(QuotaExceeded):
        file(memory_portal, marie, attachment=Attachment("b.pdf", io.BytesIO(PDF)))
    assert len(list_requests(memory_portal, marie.id)) == 1
    assert Limits().upload_quota_bytes == 200 * 1024 * 1024  # the default quota


# --- the thread -----------------------------------------------------------------------------


def test_another_subscribers_request_is_not_found(memory_portal):
    marie = add_subscriber(memory_portal, "100001")
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    request = file(memory_portal, paul)
    with pytest.raises(errors.NotFound):
        request_detail(memory_portal, marie.id, request.id)
    with pytest.raises(errors.NotFound):
        add_subscriber_message(memory_portal, marie.id, request.id, message="Je m'invite")
    assert len(request_detail(memory_portal, paul.id, request.id).messages) == 1


def test_staff_answer_then_follow_up_reopens_then_closed_refuses(memory_portal, clock):
    marie = add_subscriber(memory_portal)
    request = file(memory_portal, marie)
    clock.advance(hours=2)
    staff_reply(memory_portal, AGENT, request.id, message="Un technicien passera jeudi.")
    thread = request_detail(memory_portal, marie.id, request.id)
    assert thread.request.status is RequestStatus.ANSWERED
    assert [(m.author.value, m.author_name) for m in thread.messages] == [("subscriber", "Marie Dupont"),
                                                                          ("staff", "Paul Agent")]
    answered = outbox(memory_portal)[-1]
    assert answered.subject.startswith(f"Réponse à votre demande {request.reference}")
    assert "technicien" not in answered.text  # the answer itself is read on the portal, after login

    clock.advance(hours=1)
    add_subscriber_message(memory_portal, marie.id, request.id, message="Jeudi je ne suis pas là.")
    assert request_detail(memory_portal, marie.id, request.id).request.status is RequestStatus.IN_PROGRESS

    clock.advance(hours=1)
    staff_reply(memory_portal, AGENT, request.id, message="Rendez-vous vendredi. Demande close.",
                status="closed", reason="Intervention programmée")
    with pytest.raises(errors.RequestClosed):
        add_subscriber_message(memory_portal, marie.id, request.id, message="Merci !",
                                  attachment=Attachment("a.pdf", io.BytesIO(PDF)))
    with pytest.raises(errors.RequestClosed):
        staff_reply(memory_portal, AGENT, request.id, message="Encore")
    thread = request_detail(memory_portal, marie.id, request.id)
    assert len(thread.messages) == 4 and thread.request.status is RequestStatus.CLOSED
    assert memory_portal.files.objects == {}  # the refused follow-up's file was never kept


def test_follow_up_on_a_new_request_keeps_it_new(memory_portal):
    marie = add_subscriber(memory_portal)
    request = file(memory_portal, marie)
    add_subscriber_message(memory_portal, marie.id, request.id, message="J'oubliais : c'est urgent.")
    assert request_detail(memory_portal, marie.id, request.id).request.status is RequestStatus.NEW


@pytest.mark.parametrize("status", ["new", "bogus"])
def test_staff_cannot_pick_a_status_outside_the_reply_choices(memory_portal, status):
    marie = add_subscriber(memory_portal)
    request = file(memory_portal, marie)
    with pytest.raises(RequestInvalid):
        staff_reply(memory_portal, AGENT, request.id, message="ok", status=status)
    assert len(request_detail(memory_portal, marie.id, request.id).messages) == 1


def test_staff_list_newest_first_filtered_by_status(memory_portal, clock):
    marie = add_subscriber(memory_portal, "100001")
    paul = add_subscriber(memory_portal, "100002", email="paul@example.org")
    old = file(memory_portal, marie)
    clock.advance(minutes=5)
    new = file(memory_portal, paul)
    staff_reply(memory_portal, AGENT, old.id, message="Réglé.")
    queue = request_queue(memory_portal, RequestQuery())
    assert [i.summary.request.reference for i in queue.items] == [new.reference, old.reference]
    (answered,) = request_queue(memory_portal, RequestQuery(status=RequestStatus.ANSWERED)).items
    assert answered.summary.request.id == old.id and answered.summary.subscriber.number == "100001"
    assert request_queue(memory_portal, RequestQuery(status=RequestStatus.CLOSED)).items == []


def test_staff_reads_only_the_attachments_of_the_request(memory_portal):
    marie = add_subscriber(memory_portal)
    with_file = file(memory_portal, marie, attachment=Attachment("a.pdf", io.BytesIO(PDF)))
    other = file(memory_portal, marie)
    (document,) = request_detail(memory_portal, marie.id, with_file.id).attachments.values()
    assert staff_attachment(memory_portal, with_file.id, document.id).document.id == document.id
    with pytest.raises(errors.NotFound):
        staff_attachment(memory_portal, other.id, document.id)


def test_demo_has_believable_requests_one_answered_by_staff(memory_portal):
    from portail_adapters.demo import load_demo

    load_demo(memory_portal, subscribers=3)
    with memory_portal.uow() as uow:
        marie = uow.subscribers.by_number("100001")
    found = list_requests(memory_portal, marie.id)
    statuses = {s.request.status for s in found}
    assert len(found) == 3 and RequestStatus.ANSWERED in statuses and RequestStatus.NEW in statuses
    assert len({s.request.reference for s in found}) == 3
    answered = next(s for s in found if s.request.status is RequestStatus.ANSWERED)
    thread = request_detail(memory_portal, marie.id, answered.request.id)
    assert [m.author.value for m in thread.messages] == ["subscriber", "staff"]
    leak = next(s for s in found if s.request.category is RequestCategory.LEAK_RELIEF)
    assert leak.contract_number == "C100001-1"
    (certificate,) = request_detail(memory_portal, marie.id, leak.request.id).attachments.values()
    assert certificate.content_type == "application/pdf"
    assert memory_portal.files.objects[certificate.storage_key].startswith(b"%PDF-")
    file(memory_portal, marie)  # a new filing after the demo takes a free reference
