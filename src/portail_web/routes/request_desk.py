"""The staff's requests desk: the dashboard (/agent), the queue (/agent/demandes, filters ``statut``,
``categorie``, ``agent``, ``retard``, ``page``), one request with its internal notes, assigning,
noting, replying (with an attachment), the écrêtement decision, and the reply templates (admins)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser
from portail_domain.model.relief import ReliefOutcome
from portail_domain.model.request_desk import MAX_NOTE, MAX_REASON, MAX_TEMPLATE_TITLE, RequestQuery
from portail_domain.model.requests import MAX_MESSAGE, STAFF_STATUSES, RequestCategory, RequestStatus
from portail_domain.model.values import normalise_email
from portail_domain.portal import Portal
from portail_domain.services import relief as relief_service
from portail_domain.services import request_desk as desk

from ..forms import check_csrf, field, read_form
from ..messages import message_for
from ..staff import admin_page, staff_page
from ..templating import render
from ..urls import path_for
from .requests import CATEGORIES, STATUSES, attachment_of, error_of, text_of

MAX_PAGE = 10_000


def _portal(request: Request) -> Portal:
    return request.app.state.portal


async def dashboard_page(request: Request, staff: StaffUser) -> Response:
    counts = await run_in_threadpool(desk.dashboard, _portal(request))
    return render(request, "agent/dashboard.html", {"counts": counts})


# --- the queue ----------------------------------------------------------------------------------


def _filters(request: Request) -> dict[str, str]:
    params = request.query_params
    return {"statut": params.get("statut", "")[:20], "categorie": params.get("categorie", "")[:20],
            "agent": params.get("agent", "")[:254].strip(), "retard": "1" if params.get("retard") == "1" else ""}


def _page_number(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_PAGE else 1


def _query(values: dict[str, str], staff: list[StaffUser], page: int) -> RequestQuery:
    """The filters as a query; an unknown value filters nothing (the form only offers known ones)."""
    statuses = {s.value: s for s in RequestStatus}
    categories = {c.value: c for c in RequestCategory}
    by_email = {s.email.normalised: s.id for s in staff}
    agent = values["agent"]
    return RequestQuery(
        status=statuses.get(values["statut"]), category=categories.get(values["categorie"]),
        assignee_id=by_email.get(normalise_email(agent)) if agent and agent != "aucun" else None,
        unassigned=agent == "aucun", page=page)


async def queue_page(request: Request, staff: StaffUser) -> Response:
    portal = _portal(request)
    values = _filters(request)
    members = await run_in_threadpool(desk.active_staff, portal)
    query = _query(values, members, _page_number(request.query_params.get("page", "1")))
    if values["retard"]:
        query = desk.overdue_query(portal, query)
    found = await run_in_threadpool(desk.request_queue, portal, query)
    filters = {name: value or None for name, value in values.items()}
    return render(request, "agent/requests.html", {
        "found": found, "values": values, "filters": filters, "members": members,
        "categories": CATEGORIES, "statuses": STATUSES,
    })


# --- one request ----------------------------------------------------------------------------------


async def _request_page(request: Request, *, values: dict[str, str] | None = None,
                        errors_by_field: dict[str, str] | None = None, status_code: int = 200) -> Response:
    portal = _portal(request)
    request_id: uuid.UUID = request.path_params["request_id"]
    found = await run_in_threadpool(desk.staff_thread, portal, request_id)
    values = dict(values or {"message": "", "status": RequestStatus.ANSWERED.value, "reason": "", "note": ""})
    chosen = request.query_params.get("modele", "")
    template = next((t for t in found.templates if str(t.id) == chosen), None)
    if template is not None and not values.get("message"):
        values["message"] = template.body
    relief = found.relief
    return render(request, "agent/request.html", {
        "desk": found, "thread": found.thread, "categories": CATEGORIES, "statuses": STATUSES,
        "reply_statuses": STAFF_STATUSES, "values": values, "errors": errors_by_field or {},
        "done": request.query_params.get("fait", "") if not errors_by_field else "",
        "max_message": MAX_MESSAGE, "max_note": MAX_NOTE, "max_reason": MAX_REASON,
        "days_left": relief.days_left(portal.clock.today()) if relief is not None else None,
        "outcomes": ReliefOutcome,
        "attachment_url": lambda document: path_for(request, "staff_request_attachment",
                                                    request_id=request_id, document_id=document.id),
    }, status_code=status_code)


async def request_page(request: Request, staff: StaffUser) -> Response:
    return await _request_page(request)


def _done(request: Request, what: str, anchor: str = "") -> Response:
    target = path_for(request, "staff_request", request_id=request.path_params["request_id"], query={"fait": what})
    return RedirectResponse(target + anchor, status_code=303)


async def _act(request: Request, values: dict[str, str], action: Callable[[], Any], done: str) -> Response:
    """Run ``action`` (a use case); a refusal shows the request page again with the message."""
    try:
        await run_in_threadpool(action)
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        name, text, status = error_of(exc)
        return await _request_page(request, values=values, errors_by_field={name: text}, status_code=status)
    return _done(request, done)


async def assign(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    assignee = field(form, "assignee", 254)
    return await _act(request, {"assignee": assignee}, lambda: desk.assign_request(
        _portal(request), staff, request.path_params["request_id"], assignee), "attribuee")


async def note(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    values = {"note": field(form, "note", MAX_NOTE + 1)}
    return await _act(request, values, lambda: desk.add_note(
        _portal(request), staff, request.path_params["request_id"], values["note"]), "note")


async def reply(request: Request, staff: StaffUser) -> Response:
    portal = _portal(request)
    async with request.form(max_files=1, max_fields=20) as form:
        check_csrf(request, form)
        values = {"message": text_of(form, "message", MAX_MESSAGE), "status": text_of(form, "status", 20).strip(),
                  "reason": text_of(form, "reason", MAX_REASON)}
        attachment, problem = attachment_of(form, portal.config.limits.upload_max_bytes)
        if problem is not None:
            name, text, status = problem
            return await _request_page(request, values=values, errors_by_field={name: text}, status_code=status)
        return await _act(request, values, lambda: desk.staff_reply(
            portal, staff, request.path_params["request_id"], message=values["message"], status=values["status"],
            reason=values["reason"], attachment=attachment), "reponse")


async def relief_decision(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    values = {"decision": field(form, "decision", 20), "relief_reason": field(form, "reason", MAX_REASON + 1)}
    return await _act(request, values, lambda: relief_service.decide_relief(
        _portal(request), staff, request.path_params["request_id"], decision=values["decision"],
        reason=values["relief_reason"]), "ecretement")


# --- reply templates (administrators) ------------------------------------------------------------


async def _templates_page(request: Request, *, values: dict[str, str] | None = None,
                          errors_by_field: dict[str, str] | None = None, status_code: int = 200) -> Response:
    templates = await run_in_threadpool(desk.reply_templates, _portal(request))
    return render(request, "agent/reply_templates.html", {
        "templates": templates, "categories": CATEGORIES, "values": values or {}, "errors": errors_by_field or {},
        "done": request.query_params.get("fait", "") if not errors_by_field else "",
        "max_title": MAX_TEMPLATE_TITLE, "max_message": MAX_MESSAGE,
    }, status_code=status_code)


async def templates_page(request: Request, staff: StaffUser) -> Response:
    return await _templates_page(request)


def _template_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        raise errors.NotFound(template_id=text) from None


async def save_template(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    values = {"category": field(form, "category", 20), "title": field(form, "title", MAX_TEMPLATE_TITLE + 1),
              "body": field(form, "body", MAX_MESSAGE + 1), "template": field(form, "template", 40),
              "action": field(form, "action", 10)}
    portal = _portal(request)
    try:
        template_id = _template_id(values["template"])
        if values["action"] == "delete" and template_id is not None:
            await run_in_threadpool(desk.delete_reply_template, portal, staff, template_id)
        else:
            await run_in_threadpool(lambda: desk.save_reply_template(
                portal, staff, category=values["category"], title=values["title"], body=values["body"],
                template_id=template_id))
    except errors.NotFound:
        return await _templates_page(request, values=values, errors_by_field={"template": message_for(
            errors.NotFound())}, status_code=404)
    except errors.DomainError as exc:
        name = getattr(exc, "field", "") or "body"
        return await _templates_page(request, values=values, errors_by_field={name: message_for(exc)},
                                     status_code=422)
    return RedirectResponse(path_for(request, "staff_reply_templates", query={"fait": "1"}), status_code=303)


routes = [
    Route("/agent", staff_page(dashboard_page), name="staff_dashboard"),
    Route("/agent/demandes", staff_page(queue_page), name="staff_requests"),
    Route("/agent/demandes/modeles", admin_page(templates_page), name="staff_reply_templates"),
    Route("/agent/demandes/modeles", admin_page(save_template), methods=["POST"], name="staff_reply_template_save"),
    Route("/agent/demandes/{request_id:uuid}", staff_page(request_page), name="staff_request"),
    Route("/agent/demandes/{request_id:uuid}/attribuer", staff_page(assign), methods=["POST"],
          name="staff_request_assign"),
    Route("/agent/demandes/{request_id:uuid}/note", staff_page(note), methods=["POST"], name="staff_request_note",
          max_body_size=256 * 1024),
    Route("/agent/demandes/{request_id:uuid}/reponse", staff_page(reply), methods=["POST"], name="staff_reply"),
    Route("/agent/demandes/{request_id:uuid}/ecretement", staff_page(relief_decision), methods=["POST"],
          name="staff_relief_decision"),
]
