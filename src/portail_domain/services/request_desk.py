"""The staff's requests desk (/agent/demandes): the dashboard's counts, the queue, a request with its
internal notes, assigning, noting, replying (with an attachment; closing needs a reason), and the
reply templates administrators keep. Every action writes its audit entry in its own transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import attrs

from ..model import errors
from ..model.accounts import StaffUser
from ..model.audit import AuditAction
from ..model.contracts import PARIS, Contract
from ..model.documents import AddedBy, Document, FolderKind, clean_filename, inspect_file
from ..model.mail import MailKind
from ..model.relief import ReliefFile
from ..model.request_desk import (
    MAX_NOTE,
    AssigneeUnknown,
    Dashboard,
    InternalNote,
    NoteMissing,
    QueueItem,
    QueuePage,
    ReplyTemplate,
    RequestQuery,
    TemplateInvalid,
    clean_reason,
    clean_template_title,
)
from ..model.requests import (
    STAFF_STATUSES,
    Attachment,
    Author,
    Request,
    RequestCategory,
    RequestInvalid,
    RequestMessage,
    RequestStatus,
    RequestSummary,
    RequestThread,
    clean_message,
    parse_category,
)
from ..model.values import normalise_email
from ..portal import Portal
from ..ports import FileStore, UnitOfWork
from .audit import record_audit
from .documents import default_folder, discard_object, store_document
from .relief import relief_file
from .requests import notify_subscriber, thread_of

PAYMENT_CHECK_AFTER = timedelta(hours=1)  # a payment still pending after this is looked at by staff


def dashboard(portal: Portal) -> Dashboard:
    """The back office's counts: one count query each, whatever the data size."""
    now = portal.clock.now()
    today = portal.clock.today()
    month_start = datetime.combine(today.replace(day=1), time(0), PARIS)  # the utility's month
    with portal.uow(read_only=True) as uow:
        d = uow.dashboard
        return Dashboard(
            requests_new=d.requests_with_status(RequestStatus.NEW),
            requests_in_progress=d.requests_with_status(RequestStatus.IN_PROGRESS),
            requests_overdue=d.requests_overdue(portal.config.request_due.cutoffs(now)),
            readings_to_review=d.readings_to_review(),
            payments_to_check=d.payments_to_check(now - PAYMENT_CHECK_AFTER),
            mails_failing=d.mails_failing(),
            accounts_activated_this_month=d.accounts_activated(month_start),
            subscribers_with_email=d.subscribers_with_email(),
        )


def active_staff(portal: Portal) -> list[StaffUser]:
    """The members of staff a request may be given to, by name."""
    with portal.uow(read_only=True) as uow:
        return [s for s in uow.staff.list() if s.active]


def overdue_query(portal: Portal, query: RequestQuery) -> RequestQuery:
    """``query`` restricted to the requests overdue now."""
    return attrs.evolve(query, overdue_cutoffs=portal.config.request_due.cutoffs(portal.clock.now()))


def request_queue(portal: Portal, query: RequestQuery) -> QueuePage:
    """One page of the staff queue, newest first, with each request's subscriber, contract, assignee and due date."""
    now = portal.clock.now()
    due = portal.config.request_due
    with portal.uow(read_only=True) as uow:
        found = list(uow.requests.search(query, query.page_size + 1))
        page = found[: query.page_size]
        subscribers = {i: uow.subscribers.get(i) for i in {r.subscriber_id for r in page}}
        contracts = {i: uow.contracts.get(i) for i in {r.contract_id for r in page if r.contract_id}}
        staff = {s.id: s.name for s in uow.staff.list()}
    items = [QueueItem(RequestSummary(r, _number(contracts.get(r.contract_id) if r.contract_id else None),
                                      subscribers.get(r.subscriber_id)),
                       due_at=due.due_at(r.category, r.created_at),
                       overdue=due.is_overdue(r.category, r.status, r.created_at, now),
                       assignee_name=staff.get(r.assignee_id) if r.assignee_id else None) for r in page]
    return QueuePage(items, query, has_next=len(found) > query.page_size)


def _number(contract: Contract | None) -> str | None:
    return contract.number if contract else None


@attrs.frozen
class StaffThread:
    """A request as staff see it: the thread, internal notes, who is on it, the due date, templates."""

    thread: RequestThread
    notes: list[InternalNote]
    staff: list[StaffUser]  # the active members, to assign to
    assignee: StaffUser | None
    due_at: datetime
    overdue: bool
    templates: list[ReplyTemplate]  # for the request's category
    relief: ReliefFile | None  # écrêtement requests only


def staff_thread(portal: Portal, request_id: uuid.UUID) -> StaffThread:
    """One request for staff; ``NotFound`` when there is none."""
    due = portal.config.request_due
    with portal.uow(read_only=True) as uow:
        request = _request(uow, request_id)
        thread = thread_of(uow, request, uow.subscribers.get(request.subscriber_id))
        members = [s for s in uow.staff.list() if s.active]
        return StaffThread(
            thread=thread,
            notes=list(uow.requests.notes(request.id)),
            staff=members,
            assignee=uow.staff.get(request.assignee_id) if request.assignee_id else None,
            due_at=due.due_at(request.category, request.created_at),
            overdue=due.is_overdue(request.category, request.status, request.created_at, portal.clock.now()),
            templates=list(uow.reply_templates.list(request.category)),
            relief=relief_file(uow, request),
        )


def _request(uow: UnitOfWork, request_id: uuid.UUID) -> Request:
    request = uow.requests.get(request_id)
    if request is None:
        raise errors.NotFound(request_id=str(request_id))
    return request


def _subscriber_number(uow: UnitOfWork, request: Request) -> str | None:
    subscriber = uow.subscribers.get(request.subscriber_id)
    return subscriber.number if subscriber else None


def assign_request(portal: Portal, staff: StaffUser, request_id: uuid.UUID, assignee_email: str) -> Request:
    """Give the request to an active member of staff (by e-mail), or to no one (empty)."""
    with portal.uow() as uow:
        request = _request(uow, request_id)
        assignee = None
        if assignee_email.strip():
            assignee = uow.staff.by_email(normalise_email(assignee_email.strip()))
            if assignee is None or not assignee.active:
                raise AssigneeUnknown(field="assignee")
        before = uow.staff.get(request.assignee_id) if request.assignee_id else None
        request.assignee_id = assignee.id if assignee else None
        uow.requests.update(request)
        record_audit(uow, portal, staff, AuditAction.REQUEST_ASSIGN, subscriber=_subscriber_number(uow, request),
                     target=request.reference, before={"assignee": before.email.normalised if before else ""},
                     after={"assignee": assignee.email.normalised if assignee else ""})
        uow.commit()
    return request


def add_note(portal: Portal, staff: StaffUser, request_id: uuid.UUID, note: str) -> InternalNote:
    """An internal note on the request: staff see it, the subscriber never does (nor their data export)."""
    try:
        body = clean_message(note)
    except RequestInvalid:
        raise NoteMissing(field="note", max=MAX_NOTE) from None
    with portal.uow() as uow:
        request = _request(uow, request_id)
        entry = InternalNote(request.id, staff.id, staff.name, body, portal.clock.now())
        uow.requests.add_note(entry)
        record_audit(uow, portal, staff, AuditAction.REQUEST_NOTE, subscriber=_subscriber_number(uow, request),
                     target=request.reference)
        uow.commit()
    return entry


def _reply_status(status: str) -> RequestStatus:
    try:
        wanted = RequestStatus(status) if status else RequestStatus.ANSWERED
    except ValueError:
        raise RequestInvalid(field="status") from None
    if wanted not in STAFF_STATUSES:
        raise RequestInvalid(field="status")
    return wanted


def _store_staff_attachment(portal: Portal, uow: UnitOfWork, subscriber_id: uuid.UUID,
                            attachment: Attachment) -> tuple[FileStore, Document]:
    """Check the file as a subscriber's upload is checked (type by content, size) and store it in the
    subscriber's "Courriers" folder; the utility's files do not count against the subscriber's quota."""
    if portal.files is None:
        raise errors.StorageError("no file store is configured")
    inspected = inspect_file(attachment.data, max_size=portal.config.limits.upload_max_bytes)
    folder = default_folder(uow, subscriber_id, FolderKind.LETTERS)
    document = store_document(
        uow, portal.files, portal.clock, subscriber_id=subscriber_id, folder_id=folder.id,
        filename=clean_filename(attachment.filename, inspected.content_type), content_type=inspected.content_type,
        data=attachment.data, size=inspected.size, sha256=inspected.sha256, added_by=AddedBy.UTILITY,
    )
    return portal.files, document


def staff_reply(portal: Portal, staff: StaffUser, request_id: uuid.UUID, *, message: str, status: str = "",
                reason: str = "", attachment: Attachment | None = None) -> RequestMessage:
    """A member of staff answers in the thread (with a file, optionally): the request becomes
    "answered" (or in progress / closed: closing needs a ``reason``) and the subscriber is told by e-mail."""
    body = clean_message(message)
    wanted = _reply_status(status)
    closing_reason = clean_reason(reason) if wanted is RequestStatus.CLOSED else None
    stored: tuple[FileStore, Document] | None = None
    with portal.uow() as uow:
        request = _request(uow, request_id)
        before = request.status
        now = portal.clock.now()
        request.move_to(wanted, now)  # raises RequestClosed before any file is kept
        request.closing_reason = closing_reason or request.closing_reason
        try:
            if attachment is not None:
                stored = _store_staff_attachment(portal, uow, request.subscriber_id, attachment)
            entry = RequestMessage(request.id, Author.STAFF, staff.name, body, now,
                                   attachment_id=stored[1].id if stored else None)
            uow.requests.add_message(entry)
            uow.requests.update(request)
            subscriber = uow.subscribers.get(request.subscriber_id)
            if subscriber is not None:
                notify_subscriber(uow, portal, MailKind.REQUEST_ANSWERED, subscriber, request)
            after: dict[str, object] = {"status": wanted.value}
            if closing_reason:
                after["reason"] = closing_reason
            record_audit(uow, portal, staff, AuditAction.REQUEST_REPLY, subscriber=subscriber,
                         target=request.reference, before={"status": before.value}, after=after)
            uow.commit()
        except BaseException:
            if stored is not None:
                discard_object(stored[0], stored[1].storage_key)
            raise
    return entry


# --- reply templates (administrators) ---------------------------------------------------------


def reply_templates(portal: Portal) -> list[ReplyTemplate]:
    with portal.uow(read_only=True) as uow:
        return list(uow.reply_templates.list())


def reply_template(portal: Portal, template_id: uuid.UUID) -> ReplyTemplate:
    with portal.uow(read_only=True) as uow:
        template = uow.reply_templates.get(template_id)
    if template is None:
        raise errors.NotFound(template_id=str(template_id))
    return template


def save_reply_template(portal: Portal, admin: StaffUser, *, category: str, title: str, body: str,
                        template_id: uuid.UUID | None = None) -> ReplyTemplate:
    """Create a template (``template_id`` None) or change one; administrators only (the caller checks)."""
    try:
        parsed: RequestCategory = parse_category(category)
    except RequestInvalid:
        raise TemplateInvalid(field="category") from None
    clean_title = clean_template_title(title)
    try:
        text = clean_message(body)
    except RequestInvalid:
        raise TemplateInvalid(field="body") from None
    with portal.uow() as uow:
        now = portal.clock.now()
        if template_id is None:
            template = ReplyTemplate(parsed, clean_title, text, now)
            uow.reply_templates.add(template)
            before: dict[str, object] = {}
        else:
            old = uow.reply_templates.get(template_id)
            if old is None:
                raise errors.NotFound(template_id=str(template_id))
            before = {"category": old.category.value, "title": old.title, "body": old.body}
            template = ReplyTemplate(parsed, clean_title, text, now, id=old.id)
            uow.reply_templates.update(template)
        record_audit(uow, portal, admin, AuditAction.REPLY_TEMPLATE, target=clean_title, before=before,
                     after={"category": parsed.value, "title": clean_title, "body": text})
        uow.commit()
    return template


def delete_reply_template(portal: Portal, admin: StaffUser, template_id: uuid.UUID) -> None:
    with portal.uow() as uow:
        old = uow.reply_templates.get(template_id)
        if old is None:
            raise errors.NotFound(template_id=str(template_id))
        uow.reply_templates.remove(template_id)
        record_audit(uow, portal, admin, AuditAction.REPLY_TEMPLATE, target=old.title,
                     before={"category": old.category.value, "title": old.title, "body": old.body}, after={})
        uow.commit()

