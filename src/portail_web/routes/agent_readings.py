"""Relevés à valider (/agent/releves): staff accept or reject the readings flagged "to review"."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser
from portail_domain.model.review import MAX_REASON
from portail_domain.services import review as service

from ..forms import field, read_form
from ..messages import N_, message_for
from ..staff import staff_page
from ..templating import render
from ..urls import path_for
from .contracts import SOURCES, STATUSES

DONE = {
    "accept": N_("Le relevé est validé : il compte pour la consommation et l'export."),
    "reject": N_("Le relevé est refusé : l'abonné en est informé par e-mail."),
}


async def _page(request: Request, *, error: str | None = None, failed: str = "", reason: str = "",
                status_code: int = 200) -> Response:
    lines = await run_in_threadpool(service.readings_to_review, request.app.state.portal)
    done = request.query_params.get("fait", "")
    return render(request, "agent/readings.html", {
        "lines": lines, "sources": SOURCES, "statuses": STATUSES, "max_reason": MAX_REASON,
        "done": DONE.get(done) if not error else None, "error": error, "failed": failed, "reason": reason,
    }, status_code=status_code)


@staff_page
async def readings_page(request: Request, staff: StaffUser) -> Response:
    return await _page(request)


@staff_page
async def decide(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    reading_id: uuid.UUID = request.path_params["reading_id"]
    decision, reason = field(form, "decision", 20), field(form, "reason", MAX_REASON * 2)
    try:
        await run_in_threadpool(service.review_reading, request.app.state.portal, staff, reading_id, decision,
                                reason)
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        return await _page(request, error=message_for(exc), failed=str(reading_id), reason=reason,
                           status_code=409 if exc.code == "already_reviewed" else 400)
    return RedirectResponse(path_for(request, "staff_readings", query={"fait": decision}), status_code=303)


routes = [
    Route("/agent/releves", readings_page, name="staff_readings"),
    Route("/agent/releves/{reading_id:uuid}", decide, methods=["POST"], name="staff_reading_decision"),
]
