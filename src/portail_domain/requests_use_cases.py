"""Mes demandes: filing a request, its thread, the subscriber's follow-ups and the staff's replies.

Attachments are ordinary documents in the subscriber's "Mes envois" folder (same file rules and
upload quota as Mes documents); a message points at its document. References read
``D-<year>-<number>``: the next number after the year's highest, retried when a concurrent
filing took it first (the unique constraint decides).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

import attrs

from . import errors
from .accounts import StaffUser, Subscriber
from .contracts import Contract, own_contract
from .documents import (
    AddedBy,
    Document,
    FolderKind,
    check_quota,
    default_folder,
    discard_object,
    inspect_file,
    store_document,
)
from .documents import clean_filename as _clean_filename
from .emails import compose
from .requests import Author, ReferenceTaken, Request, RequestCategory, RequestMessage, RequestStatus

if TYPE_CHECKING:
    from .portal import Portal
    from .ports import FileStore, OutgoingMail, UnitOfWork

MAX_SUBJECT = 200
MAX_MESSAGE = 5000
REFERENCE_ATTEMPTS = 10
STAFF_PAGE = 200  # requests shown to staff at once, newest first


class RequestInvalid(errors.InvalidValue):
    """A field of a request or message is missing or too long (``field`` names it)."""

    code = "request_invalid"


class CategoryInvalid(RequestInvalid):
    code = "request_category_invalid"


class SubjectMissing(RequestInvalid):
    code = "request_subject_missing"


class SubjectTooLong(RequestInvalid):
    code = "request_subject_too_long"


class MessageMissing(RequestInvalid):
    code = "request_message_missing"


class MessageTooLong(RequestInvalid):
    code = "request_message_too_long"


@attrs.frozen
class Attachment:
    """A file the subscriber joins to a message: its name as sent and its bytes (a file object)."""

    filename: str
    data: BinaryIO


@attrs.frozen
class RequestSummary:
    request: Request
    contract_number: str | None = None
    subscriber: Subscriber | None = None  # filled on the staff side


@attrs.frozen
class RequestThread:
    request: Request
    messages: tuple[RequestMessage, ...]
    attachments: dict[uuid.UUID, Document]  # by document id
    contract_number: str | None = None
    subscriber: Subscriber | None = None


# --- rules ---------------------------------------------------------------------------------


def parse_category(value: str) -> RequestCategory:
    try:
        return RequestCategory(value.strip())
    except ValueError:
        raise CategoryInvalid(field="category") from None


def clean_subject(value: str) -> str:
    """One line, 1 to 200 characters (spaces collapsed, control characters dropped)."""
    subject = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not subject:
        raise SubjectMissing(field="subject")
    if len(subject) > MAX_SUBJECT:
        raise SubjectTooLong(field="subject", max=MAX_SUBJECT)
    return subject


def clean_message(value: str) -> str:
    """1 to 5000 characters; line breaks kept, other control characters dropped."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if not text:
        raise MessageMissing(field="message")
    if len(text) > MAX_MESSAGE:
        raise MessageTooLong(field="message", max=MAX_MESSAGE)
    return text


def reference_for(year: int, number: int) -> str:
    return f"D-{year}-{number:06d}"


def next_reference(last: str | None, year: int) -> str:
    """The reference after ``last`` (the year's highest so far, or None)."""
    try:
        number = int((last or "").rsplit("-", 1)[-1]) + 1
    except ValueError:
        number = 1
    return reference_for(year, number)


def _add_with_reference(uow: UnitOfWork, request: Request, year: int) -> None:
    prefix = f"D-{year}-"
    for _ in range(REFERENCE_ATTEMPTS):
        request.reference = next_reference(uow.requests.last_reference(prefix), year)
        try:
            uow.requests.add(request)
            return
        except ReferenceTaken:
            continue  # someone filed at the same moment: take the next number
    raise ReferenceTaken(reference=request.reference)


# --- mails ---------------------------------------------------------------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "received_subject": "Votre demande {reference} a bien été reçue — {utility}",
        "received_body": (
            "Bonjour,\n\n"
            "Nous avons bien reçu votre demande {reference} « {subject} ». Nos services vous répondront "
            "sur le portail et vous serez prévenu par e-mail.\n\n"
            "Suivre votre demande : {link}"
        ),
        "answered_subject": "Réponse à votre demande {reference} — {utility}",
        "answered_body": (
            "Bonjour,\n\n"
            "Nos services ont répondu à votre demande {reference} « {subject} ». "
            "Lisez la réponse sur le portail :\n\n"
            "{link}"
        ),
    },
    "en": {
        "received_subject": "Your request {reference} was received — {utility}",
        "received_body": (
            "Hello,\n\n"
            "We have received your request {reference} “{subject}”. Our staff will answer on the portal "
            "and you will be told by e-mail.\n\n"
            "Follow your request: {link}"
        ),
        "answered_subject": "Answer to your request {reference} — {utility}",
        "answered_body": (
            "Hello,\n\n"
            "Our staff answered your request {reference} “{subject}”. Read the answer on the portal:\n\n"
            "{link}"
        ),
    },
}


def _request_mail(portal: Portal, kind: str, subscriber: Subscriber, request: Request) -> OutgoingMail | None:
    if subscriber.email is None:
        return None
    return compose(kind, subscriber.language.value, str(subscriber.email), portal.config, table=_TEXTS,
                   reference=request.reference, subject=request.subject,
                   link=portal.config.link(f"/demandes/{request.id}"))


# --- subscriber use cases --------------------------------------------------------------------


def list_requests(portal: Portal, subscriber_id: uuid.UUID) -> list[RequestSummary]:
    """The subscriber's requests, newest first, with the number of the contract concerned."""
    with portal.uow(read_only=True) as uow:
        requests = list(uow.requests.for_subscriber(subscriber_id))
        contracts = {c.id: c.number for c in uow.contracts.for_subscriber(subscriber_id)}
    return [RequestSummary(r, contracts.get(r.contract_id) if r.contract_id else None) for r in requests]


def request_form_contracts(portal: Portal, subscriber_id: uuid.UUID) -> list[Contract]:
    """The contracts the subscriber may name in a request."""
    with portal.uow(read_only=True) as uow:
        return list(uow.contracts.for_subscriber(subscriber_id))


def _store_attachment(portal: Portal, uow: UnitOfWork, subscriber_id: uuid.UUID,
                      attachment: Attachment) -> tuple[FileStore, Document]:
    """Check the file (type by content, size, quota) and store it in "Mes envois" (not committed)."""
    if portal.files is None:
        raise errors.StorageError("no file store is configured")
    inspected = inspect_file(attachment.data)
    check_quota(uow, subscriber_id, inspected.size)
    folder = default_folder(uow, subscriber_id, FolderKind.UPLOADS)
    document = store_document(
        uow, portal.files, portal.clock, subscriber_id=subscriber_id, folder_id=folder.id,
        filename=_clean_filename(attachment.filename, inspected.content_type), content_type=inspected.content_type,
        data=attachment.data, size=inspected.size, sha256=inspected.sha256, added_by=AddedBy.SUBSCRIBER,
    )
    return portal.files, document


def open_request(
    portal: Portal,
    subscriber_id: uuid.UUID,
    *,
    category: str,
    subject: str,
    message: str,
    contract_number: str = "",
    attachment: Attachment | None = None,
) -> Request:
    """File a request (and its first message, with its attachment), acknowledge it by e-mail, commit.

    Bad input raises before anything is kept: a ``RequestInvalid`` reason, ``NotFound`` (the
    contract is not the subscriber's), an ``UploadRejected`` reason, ``StorageError``.
    """
    parsed_category = parse_category(category)
    subject = clean_subject(subject)
    body = clean_message(message)
    stored: tuple[FileStore, Document] | None = None
    with portal.uow() as uow:
        subscriber = uow.subscribers.get(subscriber_id)
        if subscriber is None:
            raise errors.NotFound(subscriber=str(subscriber_id))
        contract = own_contract(uow, subscriber_id, contract_number.strip()) if contract_number.strip() else None
        now = portal.clock.now()
        request = Request(reference="", subscriber_id=subscriber_id, category=parsed_category, subject=subject,
                          created_at=now, contract_id=contract.id if contract else None, updated_at=now)
        try:
            if attachment is not None:
                stored = _store_attachment(portal, uow, subscriber_id, attachment)
            _add_with_reference(uow, request, portal.clock.today().year)
            uow.requests.add_message(RequestMessage(request.id, Author.SUBSCRIBER, subscriber.name, body, now,
                                                    attachment_id=stored[1].id if stored else None))
            mail = _request_mail(portal, "received", subscriber, request)
            if mail is not None:
                uow.outbox.add(mail, now)
            uow.commit()
        except BaseException:
            if stored is not None:
                discard_object(stored[0], stored[1].storage_key)
            raise
    return request


def _thread(uow: UnitOfWork, request: Request, subscriber: Subscriber | None = None) -> RequestThread:
    messages = tuple(uow.requests.messages(request.id))
    attachments: dict[uuid.UUID, Document] = {}
    for message in messages:
        if message.attachment_id is not None:
            document = uow.documents.get(message.attachment_id)
            if document is not None and document.subscriber_id == request.subscriber_id:
                attachments[document.id] = document
    contract = uow.contracts.get(request.contract_id) if request.contract_id else None
    return RequestThread(request, messages, attachments, contract.number if contract else None, subscriber)


def _own_request(uow: UnitOfWork, subscriber_id: uuid.UUID, request_id: uuid.UUID) -> Request:
    request = uow.requests.get(request_id)
    if request is None or request.subscriber_id != subscriber_id:
        raise errors.NotFound(request_id=str(request_id))  # someone else's request looks like none at all
    return request


def request_detail(portal: Portal, subscriber_id: uuid.UUID, request_id: uuid.UUID) -> RequestThread:
    """One of the subscriber's requests with its messages, oldest first; ``NotFound`` otherwise."""
    with portal.uow(read_only=True) as uow:
        return _thread(uow, _own_request(uow, subscriber_id, request_id))


def add_subscriber_message(portal: Portal, subscriber_id: uuid.UUID, request_id: uuid.UUID, *, message: str,
                           attachment: Attachment | None = None) -> RequestMessage:
    """The subscriber writes in the thread of their request. An answered request goes back to
    "in progress" (the staff has something new to read); a closed one refuses (``RequestClosed``)."""
    body = clean_message(message)
    stored: tuple[FileStore, Document] | None = None
    with portal.uow() as uow:
        request = _own_request(uow, subscriber_id, request_id)
        subscriber = uow.subscribers.get(subscriber_id)
        now = portal.clock.now()
        wanted = RequestStatus.IN_PROGRESS if request.status is RequestStatus.ANSWERED else request.status
        request.move_to(wanted, now)  # raises RequestClosed before any file is kept
        try:
            if attachment is not None:
                stored = _store_attachment(portal, uow, subscriber_id, attachment)
            entry = RequestMessage(request.id, Author.SUBSCRIBER, subscriber.name if subscriber else "", body, now,
                                   attachment_id=stored[1].id if stored else None)
            uow.requests.add_message(entry)
            uow.requests.update(request)
            uow.commit()
        except BaseException:
            if stored is not None:
                discard_object(stored[0], stored[1].storage_key)
            raise
    return entry


# --- staff use cases ---------------------------------------------------------------------------


def staff_requests(portal: Portal, status: RequestStatus | None = None,
                   limit: int = STAFF_PAGE) -> list[RequestSummary]:
    """Every subscriber's requests (of ``status`` when given), newest first, at most ``limit``."""
    with portal.uow(read_only=True) as uow:
        requests = list(uow.requests.recent(status, limit))
        subscribers: dict[uuid.UUID, Subscriber | None] = {}
        for request in requests:
            if request.subscriber_id not in subscribers:
                subscribers[request.subscriber_id] = uow.subscribers.get(request.subscriber_id)
        contracts: dict[uuid.UUID, Contract | None] = {}
        for request in requests:
            if request.contract_id and request.contract_id not in contracts:
                contracts[request.contract_id] = uow.contracts.get(request.contract_id)
    return [RequestSummary(r, _number(contracts.get(r.contract_id) if r.contract_id else None),
                           subscribers.get(r.subscriber_id)) for r in requests]


def _number(contract: Contract | None) -> str | None:
    return contract.number if contract else None


def staff_request_detail(portal: Portal, request_id: uuid.UUID) -> RequestThread:
    with portal.uow(read_only=True) as uow:
        request = uow.requests.get(request_id)
        if request is None:
            raise errors.NotFound(request_id=str(request_id))
        return _thread(uow, request, uow.subscribers.get(request.subscriber_id))


STAFF_STATUSES: Sequence[RequestStatus] = (RequestStatus.ANSWERED, RequestStatus.IN_PROGRESS, RequestStatus.CLOSED)


def staff_reply(portal: Portal, staff: StaffUser, request_id: uuid.UUID, *, message: str,
                status: str = "") -> RequestMessage:
    """A member of staff answers in the thread: the request becomes "answered" (or the chosen
    status among answered / in progress / closed) and the subscriber is told by e-mail."""
    body = clean_message(message)
    try:
        wanted = RequestStatus(status) if status else RequestStatus.ANSWERED
    except ValueError:
        raise RequestInvalid(field="status") from None
    if wanted not in STAFF_STATUSES:
        raise RequestInvalid(field="status")
    with portal.uow() as uow:
        request = uow.requests.get(request_id)
        if request is None:
            raise errors.NotFound(request_id=str(request_id))
        now = portal.clock.now()
        request.move_to(wanted, now)
        entry = RequestMessage(request.id, Author.STAFF, staff.name, body, now)
        uow.requests.add_message(entry)
        uow.requests.update(request)
        subscriber = uow.subscribers.get(request.subscriber_id)
        mail = _request_mail(portal, "answered", subscriber, request) if subscriber else None
        if mail is not None:
            uow.outbox.add(mail, now)
        uow.commit()
    return entry


def staff_attachment(portal: Portal, request_id: uuid.UUID, document_id: uuid.UUID) -> Document:
    """A document joined to a message of this request (staff may read those, and only those)."""
    with portal.uow() as uow:
        request = uow.requests.get(request_id)
        if request is None or not any(m.attachment_id == document_id for m in uow.requests.messages(request.id)):
            raise errors.NotFound(document_id=str(document_id))
        document = uow.documents.get(document_id)
    if document is None or document.subscriber_id != request.subscriber_id:
        raise errors.NotFound(document_id=str(document_id))
    return document
