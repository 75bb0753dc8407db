"""Mes demandes: the subscriber's requests, filing one (with an attachment), the thread and
follow-ups; and the staff's side (/agent/demandes): the list, a request, the reply."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.documents import FileTooLarge, UploadRejected
from portail_domain.model.requests import (
    MAX_ADDRESS,
    MAX_MESSAGE,
    MAX_OCCUPANT,
    MAX_SUBJECT,
    MOVE_CATEGORIES,
    Attachment,
    RequestCategory,
    RequestStatus,
)
from portail_domain.model.requests import Request as RequestModel
from portail_domain.portal import Portal
from portail_domain.services import relief as relief_service
from portail_domain.services import requests as service

from ..auth import require_subscriber, visitor
from ..downloads import send_download
from ..forms import check_csrf, field, is_upload
from ..i18n import translations
from ..messages import N_, message_for
from ..reads import read
from ..staff import require_staff
from ..templating import render
from ..urls import path_for
from .contracts import FIELD_OF, parse_day

CATEGORIES = {
    RequestCategory.INSTALLATION: N_("Problème sur mon installation"),
    RequestCategory.LEAK_RELIEF: N_("Écrêtement de facture après une fuite (loi Warsmann)"),
    RequestCategory.BILLING: N_("Facturation"),
    RequestCategory.METER: N_("Compteur"),
    RequestCategory.MOVE_OUT: N_("Déménagement (départ du logement)"),
    RequestCategory.MOVE_IN: N_("Emménagement (arrivée dans le logement)"),
    RequestCategory.MOVING: N_("Emménagement ou déménagement"),
    RequestCategory.OTHER: N_("Autre demande"),
}
# The free-form request's choices: moving has its own forms; "moving" only names old requests.
FREE_CATEGORIES = {k: v for k, v in CATEGORIES.items() if k not in MOVE_CATEGORIES and k != RequestCategory.MOVING}
MOVE_SUBJECTS = {
    RequestCategory.MOVE_OUT: N_("Déménagement — contrat %(number)s, le %(date)s"),
    RequestCategory.MOVE_IN: N_("Emménagement — contrat %(number)s, le %(date)s"),
}
# (label, badge style)
STATUSES = {
    RequestStatus.NEW: (N_("Envoyée"), "info"),
    RequestStatus.IN_PROGRESS: (N_("En cours de traitement"), "warn"),
    RequestStatus.ANSWERED: (N_("Répondue"), "ok"),
    RequestStatus.CLOSED: (N_("Close"), "info"),
}
NO_CONTRACT = N_("Choisissez un de vos contrats dans la liste.")


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def error_of(exc: errors.DomainError) -> tuple[str, str, int]:
    """(field, message, status) for a refused request or message."""
    if isinstance(exc, FileTooLarge):
        return "attachment", message_for(exc), 413
    if isinstance(exc, UploadRejected):
        return "attachment", message_for(exc), 422
    if isinstance(exc, errors.StorageError):
        return "attachment", message_for(exc), 503
    if isinstance(exc, errors.NotFound):
        return "contract", NO_CONTRACT, 422
    if isinstance(exc, errors.RequestClosed):
        return "message", message_for(exc), 409
    return getattr(exc, "field", "") or "message", message_for(exc), 422


def attachment_of(form: FormData, max_bytes: int) -> tuple[Attachment | None, tuple[str, str, int] | None]:
    sent = form.get("attachment")
    if not is_upload(sent):
        return None, None
    if sent.size is not None and sent.size > max_bytes:
        return None, error_of(FileTooLarge())
    return Attachment(sent.filename or "", sent.file), None


def text_of(form: FormData, name: str, max_length: int) -> str:
    value = form.get(name)
    return field({name: value if isinstance(value, str) else ""}, name, max_length + 1)


# --- subscriber ----------------------------------------------------------------------------


async def request_list(request: Request) -> Response:
    subscriber = require_subscriber(request)
    found = await read(_portal(request), service.list_requests, _portal(request), subscriber.id)
    return render(request, "requests/list.html", {"requests": found, "categories": CATEGORIES,
                                                  "statuses": STATUSES})


async def _new_page(request: Request, values: dict[str, str], errors_by_field: dict[str, str] | None = None,
                    status_code: int = 200) -> Response:
    subscriber = require_subscriber(request)
    contracts = await run_in_threadpool(service.request_form_contracts, _portal(request), subscriber.id)
    if values.get("category") in MOVE_CATEGORIES:
        return render(request, "requests/move.html", {
            "values": values,
            "errors": errors_by_field or {},
            "contracts": contracts,
            "moving_out": values["category"] == RequestCategory.MOVE_OUT.value,
            "today": _portal(request).clock.today(),
            "max_address": MAX_ADDRESS,
            "max_occupant": MAX_OCCUPANT,
            "max_message": MAX_MESSAGE,
        }, status_code=status_code)
    return render(request, "requests/new.html", {
        "values": values,
        "errors": errors_by_field or {},
        "contracts": contracts,
        "categories": FREE_CATEGORIES,
        "leak_relief": values.get("category") == RequestCategory.LEAK_RELIEF.value,
        # "Écrêtement — contrat N" proposed as the subject when the alert's link brought them here
        "prefill_subject": values.get("category") == RequestCategory.LEAK_RELIEF.value and bool(values.get("contract"))
        and not errors_by_field,
        "max_subject": MAX_SUBJECT,
        "max_message": MAX_MESSAGE,
    }, status_code=status_code)


async def new_request_form(request: Request) -> Response:
    """The form; ``?categorie=ecretement&contrat=<number>`` (the over-consumption alert) preselects both;
    ``?categorie=demenagement`` / ``emmenagement`` is the moving form."""
    subscriber = require_subscriber(request)
    category = request.query_params.get("categorie", "")
    category = category if category in {c.value for c in RequestCategory} else ""
    wanted = request.query_params.get("contrat", "")
    contracts = await run_in_threadpool(service.request_form_contracts, _portal(request), subscriber.id)
    contract = wanted if any(c.number == wanted for c in contracts) else ""  # someone else's: ignored
    if not contract and category in MOVE_CATEGORIES and len(contracts) == 1:
        contract = contracts[0].number  # the one contract the move can be about
    return await _new_page(request, {"category": category, "contract": contract, "subject": "", "message": "",
                                     "move_on": "", "index": "", "new_address": "", "occupant": ""})


async def file_request(request: Request) -> Response:
    subscriber = require_subscriber(request)
    problem: tuple[str, str, int] | None = None
    async with request.form(max_files=1, max_fields=20) as form:
        check_csrf(request, form)
        values = {
            "category": text_of(form, "category", 20).strip(),
            "subject": text_of(form, "subject", MAX_SUBJECT),
            "message": text_of(form, "message", MAX_MESSAGE),
            "contract": text_of(form, "contract", 64).strip(),
        }
        moving = values["category"] in MOVE_CATEGORIES
        if moving:
            values.update({"move_on": text_of(form, "move_on", 20).strip(), "index": text_of(form, "index", 40).strip(),
                           "new_address": text_of(form, "new_address", MAX_ADDRESS),
                           "occupant": text_of(form, "occupant", MAX_OCCUPANT)})
        attachment, problem = attachment_of(form, _portal(request).config.limits.upload_max_bytes)
        if problem is None:
            try:
                filed = await run_in_threadpool(_move if moving else _open, request, subscriber.id, values, attachment)
            except errors.DomainError as exc:
                problem = _move_error_of(exc) if moving else error_of(exc)
    if problem is None:
        return RedirectResponse(path_for(request, "request", request_id=filed.id, query={"envoyee": 1}),
                                status_code=303)
    name, text, status = problem
    return await _new_page(request, values, {name: text}, status_code=status)


def _open(request: Request, subscriber_id: uuid.UUID, values: dict[str, str],
          attachment: Attachment | None) -> RequestModel:
    return service.open_request(_portal(request), subscriber_id, category=values["category"],
                                subject=values["subject"], message=values["message"],
                                contract_number=values["contract"], attachment=attachment)


class _BadMoveDate(errors.InvalidValue):
    code = "move_date_invalid"


def _move(request: Request, subscriber_id: uuid.UUID, values: dict[str, str],
          attachment: Attachment | None) -> RequestModel:
    """The moving form: the date as a reading's, the subject written for the staff's list."""
    if not values["contract"]:
        raise errors.NotFound(what="contract")
    move_on = parse_day(values["move_on"])
    if move_on is None:
        raise _BadMoveDate(field="move_on")
    category = RequestCategory(values["category"])
    language = visitor(request).language
    subject = translations(language).gettext(MOVE_SUBJECTS[category]) % {
        "number": values["contract"], "date": move_on.isoformat()}
    return service.open_move_request(
        _portal(request), subscriber_id, category=category.value, subject=subject[:MAX_SUBJECT],
        contract_number=values["contract"], move_on=move_on, index=values["index"],
        new_address=values["new_address"], occupant=values["occupant"], message=values["message"],
        attachment=attachment)


def _move_error_of(exc: errors.DomainError) -> tuple[str, str, int]:
    """Where a refused moving form's message goes: a reading's rules speak of ``move_on`` and ``index``."""
    if isinstance(exc, _BadMoveDate):
        return "move_on", message_for(exc), 422
    reading_field = next((f for cls, f in FIELD_OF if isinstance(exc, cls)), None)
    if reading_field in ("index", "read_on"):
        return ("move_on" if reading_field == "read_on" else reading_field), message_for(exc), 422
    return error_of(exc)


async def _detail_page(request: Request, *, values: dict[str, str] | None = None,
                       errors_by_field: dict[str, str] | None = None, status_code: int = 200) -> Response:
    subscriber = require_subscriber(request)
    portal = _portal(request)
    thread = await read(portal, service.request_detail, portal, subscriber.id, request.path_params["request_id"])
    relief = await read(portal, relief_service.own_relief_file, portal, subscriber.id, thread.request.id)
    return render(request, "requests/detail.html", {
        "thread": thread,
        "relief": relief,
        "days_left": relief.days_left(_portal(request).clock.today()) if relief is not None else None,
        "categories": CATEGORIES,
        "statuses": STATUSES,
        "values": values or {"message": ""},
        "errors": errors_by_field or {},
        "filed": request.query_params.get("envoyee") == "1" and not errors_by_field,
        "sent": request.query_params.get("message") == "1" and not errors_by_field,
        "max_message": MAX_MESSAGE,
        "attachment_url": lambda document: path_for(request, "document_download", document_id=document.id),
    }, status_code=status_code)


async def request_page(request: Request) -> Response:
    return await _detail_page(request)


async def add_message(request: Request) -> Response:
    subscriber = require_subscriber(request)
    request_id: uuid.UUID = request.path_params["request_id"]
    problem: tuple[str, str, int] | None = None
    async with request.form(max_files=1, max_fields=20) as form:
        check_csrf(request, form)
        values = {"message": text_of(form, "message", MAX_MESSAGE)}
        attachment, problem = attachment_of(form, _portal(request).config.limits.upload_max_bytes)
        if problem is None:
            try:
                await run_in_threadpool(
                    lambda: service.add_subscriber_message(_portal(request), subscriber.id, request_id,
                                                          message=values["message"], attachment=attachment))
            except errors.NotFound:
                raise
            except errors.DomainError as exc:
                problem = error_of(exc)
    if problem is None:
        return RedirectResponse(path_for(request, "request", request_id=request_id, query={"message": 1}) + "#fil",
                                status_code=303)
    name, text, status = problem
    return await _detail_page(request, values=values, errors_by_field={name: text}, status_code=status)


# --- staff (the rest of the desk is in ``request_desk.py``) ---------------------------------------


async def staff_download(request: Request) -> Response:
    """An attachment of the request, for staff (only documents joined to this request's messages)."""
    require_staff(request)
    request_id, document_id = request.path_params["request_id"], request.path_params["document_id"]
    return await send_download(request, lambda: service.staff_attachment(_portal(request), request_id, document_id))


routes = [
    Route("/demandes", request_list, name="requests"),
    Route("/demandes/nouvelle", new_request_form, name="request_new"),
    Route("/demandes/nouvelle", file_request, methods=["POST"], name="request_file"),
    Route("/demandes/{request_id:uuid}", request_page, name="request"),
    Route("/demandes/{request_id:uuid}/messages", add_message, methods=["POST"], name="request_message"),
    Route("/agent/demandes/{request_id:uuid}/pieces/{document_id:uuid}", staff_download,
          name="staff_request_attachment"),
]
