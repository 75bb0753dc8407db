"""Mes factures: the list, the "À payer" tab, one invoice, its PDF, and paying it online."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.errors import GatewayError, NotFound
from portail_domain.portal import Portal
from portail_domain.services import billing
from portail_domain.services.schedules import subscriber_schedules

from ..auth import require_subscriber
from ..downloads import send_download
from ..forms import read_form
from ..reads import read
from ..security import escape_for_log
from ..templating import render
from ..urls import path_for

log = logging.getLogger("portail.payments")

UNPAID_TAB = "a-payer"
SCHEDULE_TAB = "echeancier"
MAX_NOTIFICATION_BODY = 4096


def _portal(request: Request) -> Portal:
    return request.app.state.portal


async def invoice_list(request: Request) -> Response:
    subscriber = require_subscriber(request)
    if request.query_params.get("onglet") == SCHEDULE_TAB:
        found = await read(_portal(request), subscriber_schedules, _portal(request), subscriber.id)
        return render(request, "invoices/schedule.html", {"schedules": found})
    unpaid_only = request.query_params.get("onglet") == UNPAID_TAB
    overview = await read(_portal(request), billing.invoice_overview, _portal(request), subscriber.id,
                          unpaid_only=unpaid_only)
    return render(request, "invoices/list.html", {"overview": overview, "unpaid_only": unpaid_only})


async def invoice_page(request: Request) -> Response:
    subscriber = require_subscriber(request)
    detail = await read(_portal(request), billing.invoice_detail, _portal(request), subscriber.id,
                                     request.path_params["number"])
    return render(request, "invoices/detail.html", {"detail": detail})


async def invoice_pdf_download(request: Request) -> Response:
    subscriber = require_subscriber(request)
    number = request.path_params["number"]
    return await send_download(request, lambda: billing.invoice_pdf(_portal(request), subscriber.id, number),
                               filename=f"facture-{number}.pdf")


async def pay(request: Request) -> Response:
    """Régler la facture: 303 to the gateway's payment page."""
    subscriber = require_subscriber(request)
    await read_form(request)
    number = request.path_params["number"]
    try:
        url = await run_in_threadpool(billing.start_payment, _portal(request), subscriber.id, number)
    except GatewayError as exc:
        log.error("payment_start_failed invoice=%s error=%s", escape_for_log(number), escape_for_log(exc))
        raise
    return RedirectResponse(url, status_code=303)


def _operation_id(values: Mapping[str, object]) -> str:  # query params or form
    # PayFiP spells it idOp in the notification and idop in its own URLs; the simulator uses idop.
    for name in ("idOp", "idop", "idoperation"):
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:64]
    return ""


async def payment_return(request: Request) -> Response:
    """The payer's browser comes back from the gateway: re-ask the gateway, show the result."""
    subscriber = require_subscriber(request)
    operation_id = _operation_id(request.query_params)
    if not operation_id:
        raise NotFound(what="payment")
    payment, invoice = await run_in_threadpool(billing.handle_return, _portal(request), subscriber.id, operation_id)
    return render(request, "invoices/payment_return.html", {"payment": payment, "invoice": invoice})


async def _posted_operation_id(request: Request) -> str | None:
    """The idOp of a gateway's POST (form body or query), or None when the body is too large."""
    body = await request.body()
    if len(body) > MAX_NOTIFICATION_BODY:
        return None
    async with request.form(max_files=0, max_fields=10) as form:
        return _operation_id(form) or _operation_id(request.query_params)


async def payment_return_post(request: Request) -> Response:
    """A gateway that brings the browser back with a POST (cross-site, so without our session
    cookie): re-check, then send the browser to the GET page, which carries the cookie."""
    operation_id = await _posted_operation_id(request)
    if not operation_id:
        raise NotFound(what="payment")
    try:
        await run_in_threadpool(billing.confirm_payment, _portal(request), operation_id)
    except GatewayError:
        log.warning("payment_return_unconfirmed operation=%s", escape_for_log(operation_id))
    return RedirectResponse(path_for(request, "payment_return", query={"idop": operation_id}), status_code=303)


async def payment_notification(request: Request) -> Response:
    """The gateway's server-to-server notice (no session, no CSRF token): it only triggers a
    re-check with the gateway, so a forged one changes nothing."""
    operation_id = await _posted_operation_id(request)
    if operation_id is None:
        return PlainTextResponse("too large", status_code=413)
    if not operation_id:
        return PlainTextResponse("missing idOp", status_code=400)
    try:
        await run_in_threadpool(billing.handle_notification, _portal(request), operation_id)
    except GatewayError:
        log.warning("payment_notification_unconfirmed operation=%s", escape_for_log(operation_id))
        return PlainTextResponse("gateway unavailable, retry later", status_code=503)
    return PlainTextResponse("OK")


# Invoice numbers come from the billing system and may hold a "/": quoted converter, suffixed routes first.
routes = [
    Route("/factures", invoice_list, name="invoices"),
    Route("/factures/{number:quoted}/pdf", invoice_pdf_download, name="invoice_pdf"),
    Route("/factures/{number:quoted}/payer", pay, methods=["POST"], name="invoice_pay"),
    Route("/factures/{number:quoted}", invoice_page, name="invoice"),
    Route("/paiement/retour", payment_return, name="payment_return"),
    Route("/paiement/retour", payment_return_post, methods=["POST"], name="payment_return_post"),
    Route("/paiement/notification", payment_notification, methods=["POST"], name="payment_notification"),
]

