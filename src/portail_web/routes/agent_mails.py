"""Courriels (/agent/courriels): mail not delivered, with the server's last answer; retry or discard."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser
from portail_domain.model.mail import MAX_ATTEMPTS, OutboxStatus
from portail_domain.services import mail as service

from ..forms import field, read_form
from ..messages import N_, message_for
from ..staff import staff_page
from ..templating import render
from ..urls import path_for

STATUSES = {
    OutboxStatus.PENDING: (N_("En attente"), "info"),
    OutboxStatus.FAILED: (N_("En échec"), "err"),
    OutboxStatus.DISCARDED: (N_("Abandonné"), "warn"),
    OutboxStatus.SENT: (N_("Envoyé"), "ok"),
}
DONE = {"retry": N_("Le courriel sera renvoyé dans la minute."), "discard": N_("Le courriel est abandonné.")}


async def _page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    entries = await run_in_threadpool(service.unsent_mail, request.app.state.portal)
    done = request.query_params.get("fait", "")
    return render(request, "agent/mails.html", {
        "entries": entries, "statuses": STATUSES, "max_attempts": MAX_ATTEMPTS,
        "done": DONE.get(done) if not error else None, "error": error,
    }, status_code=status_code)


@staff_page
async def mails_page(request: Request, staff: StaffUser) -> Response:
    return await _page(request)


@staff_page
async def act(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    entry_id: uuid.UUID = request.path_params["mail_id"]
    action = field(form, "action", 20)
    try:
        await run_in_threadpool(service.act_on_mail, request.app.state.portal, staff, entry_id, action)
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        return await _page(request, error=message_for(exc), status_code=400)
    return RedirectResponse(path_for(request, "staff_mails", query={"fait": action}), status_code=303)


routes = [
    Route("/agent/courriels", mails_page, name="staff_mails"),
    Route("/agent/courriels/{mail_id:uuid}", act, methods=["POST"], name="staff_mail_action"),
]
