"""Mes demandes: filing a request, the thread, and the staff's replies."""

from __future__ import annotations

import uuid
from datetime import date

import attrs

from ..model import errors
from ..model.accounts import Subscriber
from ..model.contracts import Contract
from ..model.documents import AddedBy, Document, Download, FolderKind, clean_filename, inspect_file
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.requests import (
    MAX_ADDRESS,
    MAX_OCCUPANT,
    MOVE_CATEGORIES,
    REFERENCE_ATTEMPTS,
    AddressMissing,
    Attachment,
    Author,
    CategoryInvalid,
    MoveDetails,
    OccupantMissing,
    ReferenceTaken,
    Request,
    RequestCategory,
    RequestMessage,
    RequestStatus,
    RequestSummary,
    RequestThread,
    clean_line,
    clean_message,
    clean_subject,
    next_reference,
    parse_category,
)
from ..model.values import MeterIndex
from ..portal import Portal
from ..ports import FileStore, UnitOfWork
from .contracts import own_contract
from .documents import check_quota, default_folder, discard_object, download, store_document
from .mail import queue_mail


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


def notify_subscriber(uow: UnitOfWork, portal: Portal, kind: MailKind, subscriber: Subscriber,
                      request: Request) -> None:
    """Queue the ``kind`` mail about ``request`` to the subscriber's e-mail on file, if any."""
    if subscriber.email is not None:
        queue_mail(uow, portal, Mail(kind, subscriber.email.address, subscriber.language.value, {
            "reference": request.reference, "subject": request.subject,
            "link": Link("request", {"request_id": request.id})}))


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
    limits = portal.config.limits
    inspected = inspect_file(attachment.data, max_size=limits.upload_max_bytes)
    check_quota(uow, subscriber_id, inspected.size, limits.upload_quota_bytes)
    folder = default_folder(uow, subscriber_id, FolderKind.UPLOADS)
    document = store_document(
        uow, portal.files, portal.clock, subscriber_id=subscriber_id, folder_id=folder.id,
        filename=clean_filename(attachment.filename, inspected.content_type), content_type=inspected.content_type,
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
    The moving categories have their own form (``open_move_request``).
    """
    parsed_category = parse_category(category)
    if parsed_category in MOVE_CATEGORIES:
        raise CategoryInvalid(field="category")
    subject = clean_subject(subject)
    body = clean_message(message)
    with portal.uow() as uow:
        subscriber = _subscriber(uow, subscriber_id)
        contract = own_contract(uow, subscriber_id, contract_number.strip()) if contract_number.strip() else None
        return _file(uow, portal, subscriber, parsed_category, subject, body, contract, attachment, None)


def open_move_request(
    portal: Portal,
    subscriber_id: uuid.UUID,
    *,
    category: str,
    subject: str,
    contract_number: str,
    move_on: date,
    index: str,
    new_address: str = "",
    occupant: str = "",
    message: str = "",
    attachment: Attachment | None = None,
) -> Request:
    """File a moving-out (``demenagement``) or moving-in (``emmenagement``) request with its fields
    kept structured (``MoveDetails``), acknowledge it by e-mail, commit.

    The index on the day of the move follows the rules of a meter reading on the contract's meter
    (``Contract.check_reading``: the same errors, so the same messages); moving out needs the
    address for the final invoice, moving in the occupant's name; the message is optional. Nothing
    is kept when any of it is refused.
    """
    parsed_category = parse_category(category)
    if parsed_category not in MOVE_CATEGORIES:
        raise CategoryInvalid(field="category")
    subject = clean_subject(subject)
    body = clean_message(message) if message.strip() else ""
    moving_out = parsed_category is RequestCategory.MOVE_OUT
    address = clean_line(new_address, "new_address", MAX_ADDRESS, AddressMissing) if moving_out else None
    who = None if moving_out else clean_line(occupant, "occupant", MAX_OCCUPANT, OccupantMissing)
    with portal.uow() as uow:
        subscriber = _subscriber(uow, subscriber_id)
        contract = own_contract(uow, subscriber_id, contract_number.strip())
        parsed_index = MeterIndex.parse(index)
        contract.check_reading(meter_number=contract.meter_number, read_on=move_on, index=parsed_index,
                               history=list(uow.readings.for_contract(contract.id)), today=portal.clock.today())
        move = MoveDetails(uuid.uuid4(), move_on, parsed_index, address, who)
        return _file(uow, portal, subscriber, parsed_category, subject, body, contract, attachment, move)


def _subscriber(uow: UnitOfWork, subscriber_id: uuid.UUID) -> Subscriber:
    subscriber = uow.subscribers.get(subscriber_id)
    if subscriber is None:
        raise errors.NotFound(subscriber=str(subscriber_id))
    return subscriber


def _file(uow: UnitOfWork, portal: Portal, subscriber: Subscriber, category: RequestCategory, subject: str,
          body: str, contract: Contract | None, attachment: Attachment | None,
          move: MoveDetails | None) -> Request:
    """Add the request, its first message (when there is a text or a file) and its moving fields;
    acknowledge it; commit. A stored file is deleted again if anything fails."""
    now = portal.clock.now()
    request = Request(reference="", subscriber_id=subscriber.id, category=category, subject=subject,
                      created_at=now, contract_id=contract.id if contract else None, updated_at=now)
    stored: tuple[FileStore, Document] | None = None
    try:
        if attachment is not None:
            stored = _store_attachment(portal, uow, subscriber.id, attachment)
        _add_with_reference(uow, request, portal.clock.today().year)
        if body or stored is not None:
            uow.requests.add_message(RequestMessage(request.id, Author.SUBSCRIBER, subscriber.name, body, now,
                                                    attachment_id=stored[1].id if stored else None))
        if move is not None:
            uow.requests.add_move(attrs.evolve(move, request_id=request.id))
        notify_subscriber(uow, portal, MailKind.REQUEST_RECEIVED, subscriber, request)
        uow.commit()
    except BaseException:
        if stored is not None:
            discard_object(stored[0], stored[1].storage_key)
        raise
    return request


def thread_of(uow: UnitOfWork, request: Request, subscriber: Subscriber | None = None) -> RequestThread:
    messages = tuple(uow.requests.messages(request.id))
    attachments: dict[uuid.UUID, Document] = {}
    for message in messages:
        if message.attachment_id is not None:
            document = uow.documents.get(message.attachment_id)
            if document is not None and document.subscriber_id == request.subscriber_id:
                attachments[document.id] = document
    contract = uow.contracts.get(request.contract_id) if request.contract_id else None
    move = uow.requests.move_of(request.id) if request.category in MOVE_CATEGORIES else None
    return RequestThread(request, messages, attachments, contract.number if contract else None, subscriber, move)


def _own_request(uow: UnitOfWork, subscriber_id: uuid.UUID, request_id: uuid.UUID) -> Request:
    request = uow.requests.get(request_id)
    if request is None or request.subscriber_id != subscriber_id:
        raise errors.NotFound(request_id=str(request_id))  # someone else's request looks like none at all
    return request


def request_detail(portal: Portal, subscriber_id: uuid.UUID, request_id: uuid.UUID) -> RequestThread:
    """One of the subscriber's requests with its messages, oldest first; ``NotFound`` otherwise."""
    with portal.uow(read_only=True) as uow:
        return thread_of(uow, _own_request(uow, subscriber_id, request_id))


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
            _notify_staff(uow, portal, request)
            uow.commit()
        except BaseException:
            if stored is not None:
                discard_object(stored[0], stored[1].storage_key)
            raise
    return entry


def _notify_staff(uow: UnitOfWork, portal: Portal, request: Request) -> None:
    """Tell the assignee that the subscriber followed up (every active member of staff when no one
    is assigned, so a follow-up never waits unseen)."""
    assignee = uow.staff.get(request.assignee_id) if request.assignee_id else None
    recipients = [assignee] if assignee is not None and assignee.active else [s for s in uow.staff.list() if s.active]
    for member in recipients:
        queue_mail(uow, portal, Mail(MailKind.REQUEST_FOLLOW_UP, member.email.address, "fr", {
            "reference": request.reference, "subject": request.subject, "name": member.name,
            "link": Link("staff_request", {"request_id": request.id})}))


def staff_attachment(portal: Portal, request_id: uuid.UUID, document_id: uuid.UUID) -> Download:
    """A document joined to a message of this request (staff may read those, and only those)."""
    with portal.uow(read_only=True) as uow:
        request = uow.requests.get(request_id)
        if request is None or not any(m.attachment_id == document_id for m in uow.requests.messages(request.id)):
            raise errors.NotFound(document_id=str(document_id))
        document = uow.documents.get(document_id)
    if document is None or document.subscriber_id != request.subscriber_id:
        raise errors.NotFound(document_id=str(document_id))
    return download(portal, document)
