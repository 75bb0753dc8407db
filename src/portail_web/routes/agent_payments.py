"""Paiements à vérifier (/agent/paiements): flagged or long-pending payments; re-ask the gateway, resolve."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffUser
from portail_domain.model.review import MAX_REASON, PaymentResolution
from portail_domain.services import payment_checks as service

from ..forms import field, read_form
from ..messages import N_, message_for
from ..staff import staff_page
from ..templating import render
from ..urls import path_for

RESOLUTIONS = {
    PaymentResolution.SETTLED: N_("Encaissé (le service de paiement confirme : la facture est créditée)"),
    PaymentResolution.REFUNDED: N_("Remboursé (la facture ne change pas)"),
    PaymentResolution.CANCELLED: N_("Annulé (aucun argent n'a été prélevé)"),
}
DONE = {
    "verifier": N_("Le service de paiement a été interrogé : sa réponse est affichée."),
    "resolu": N_("Le paiement est traité."),
}


async def _page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    lines = await run_in_threadpool(service.payments_to_check, request.app.state.portal)
    done = request.query_params.get("fait", "")
    return render(request, "agent/payments.html", {
        "lines": lines, "resolutions": RESOLUTIONS, "max_note": MAX_REASON,
        "done": DONE.get(done) if not error else None, "error": error,
    }, status_code=status_code)


@staff_page
async def payments_page(request: Request, staff: StaffUser) -> Response:
    return await _page(request)


async def _act(request: Request, staff: StaffUser, recheck: bool) -> Response:
    form = await read_form(request)
    payment_id: uuid.UUID = request.path_params["payment_id"]
    portal = request.app.state.portal
    try:
        if recheck:
            await run_in_threadpool(service.recheck_payment, portal, staff, payment_id)
        else:
            await run_in_threadpool(service.resolve_payment, portal, staff, payment_id,
                                    field(form, "resolution", 20), field(form, "note", MAX_REASON * 2))
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        return await _page(request, error=message_for(exc), status_code=409 if exc.code == "payment_resolved" else
                           503 if exc.code == "gateway_error" else 400)
    return RedirectResponse(path_for(request, "staff_payments", query={"fait": "verifier" if recheck else "resolu"}),
                            status_code=303)


@staff_page
async def resolve(request: Request, staff: StaffUser) -> Response:
    return await _act(request, staff, recheck=False)


@staff_page
async def recheck(request: Request, staff: StaffUser) -> Response:
    return await _act(request, staff, recheck=True)


routes = [
    Route("/agent/paiements", payments_page, name="staff_payments"),
    Route("/agent/paiements/{payment_id:uuid}", resolve, methods=["POST"], name="staff_payment_resolution"),
    Route("/agent/paiements/{payment_id:uuid}/verifier", recheck, methods=["POST"], name="staff_payment_recheck"),
]
