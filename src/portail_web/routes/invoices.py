"""Mes factures: the list, the "À payer" tab, one invoice, its PDF, and paying it online."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from portail_domain.errors import GatewayError, NotFound
from portail_domain.invoices import invoice_detail, invoice_overview, invoice_pdf
from portail_domain.payments import PaymentDesk

from ..auth import require_subscriber
from ..forms import read_form
from ..security import escape_for_log
from ..templating import render

log = logging.getLogger("portail.payments")

UNPAID_TAB = "a-payer"
MAX_NOTIFICATION_BODY = 4096


def _portal(request: Request):  # noqa: ANN202 - Portal
    return request.app.state.portal


def _overview(request: Request, subscriber_id, unpaid_only: bool):  # noqa: ANN001, ANN202
    portal = _portal(request)
    with portal.uow(read_only=True) as uow:
        return invoice_overview(uow, subscriber_id, unpaid_only=unpaid_only, today=portal.clock.today())


async def invoice_list(request: Request) -> Response:
    subscriber = require_subscriber(request)
    unpaid_only = request.query_params.get("onglet") == UNPAID_TAB
    overview = await run_in_threadpool(_overview, request, subscriber.id, unpaid_only)
    return render(request, "invoices/list.html", {"overview": overview, "unpaid_only": unpaid_only})


def _detail(request: Request, subscriber_id, number: str):  # noqa: ANN001, ANN202
    with _portal(request).uow(read_only=True) as uow:
        return invoice_detail(uow, subscriber_id, number)


async def invoice_page(request: Request) -> Response:
    subscriber = require_subscriber(request)
    detail = await run_in_threadpool(_detail, request, subscriber.id, request.path_params["number"])
    return render(request, "invoices/detail.html", {"detail": detail})


def _pdf(request: Request, subscriber_id, number: str):  # noqa: ANN001, ANN202
    portal = _portal(request)
    with portal.uow(read_only=True) as uow:
        document = invoice_pdf(uow, subscriber_id, number)
    if portal.files is None:
        raise NotFound(what="file store")
    return document, portal.files.open(document.storage_key)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


async def invoice_pdf_download(request: Request) -> Response:
    subscriber = require_subscriber(request)
    number = request.path_params["number"]
    _document, chunks = await run_in_threadpool(_pdf, request, subscriber.id, number)
    filename = _SAFE_NAME.sub("_", f"facture-{number}.pdf")
    return StreamingResponse(chunks, media_type="application/pdf",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def pay(request: Request) -> Response:
    """Régler la facture: 303 to the gateway's payment page."""
    subscriber = require_subscriber(request)
    await read_form(request)
    desk = PaymentDesk.of(_portal(request))
    number = request.path_params["number"]
    try:
        url = await run_in_threadpool(desk.start_payment, subscriber.id, number)
    except GatewayError as exc:
        log.error("payment_start_failed invoice=%s error=%s", escape_for_log(number), escape_for_log(exc))
        raise
    return RedirectResponse(url, status_code=303)


def _operation_id(values) -> str:  # noqa: ANN001 - query params or form
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
    desk = PaymentDesk.of(_portal(request))
    payment, invoice = await run_in_threadpool(desk.handle_return, subscriber.id, operation_id)
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
        await run_in_threadpool(PaymentDesk.of(_portal(request)).confirm, operation_id)
    except GatewayError:
        log.warning("payment_return_unconfirmed operation=%s", escape_for_log(operation_id))
    return RedirectResponse(f"/paiement/retour?{urlencode({'idop': operation_id})}", status_code=303)


async def payment_notification(request: Request) -> Response:
    """The gateway's server-to-server notice (no session, no CSRF token): it only triggers a
    re-check with the gateway, so a forged one changes nothing."""
    operation_id = await _posted_operation_id(request)
    if operation_id is None:
        return PlainTextResponse("too large", status_code=413)
    if not operation_id:
        return PlainTextResponse("missing idOp", status_code=400)
    desk = PaymentDesk.of(_portal(request))
    try:
        await run_in_threadpool(desk.handle_notification, operation_id)
    except GatewayError:
        log.warning("payment_notification_unconfirmed operation=%s", escape_for_log(operation_id))
        return PlainTextResponse("gateway unavailable, retry later", status_code=503)
    return PlainTextResponse("OK")


routes = [
    Route("/factures", invoice_list, name="invoices"),
    Route("/factures/{number}", invoice_page, name="invoice"),
    Route("/factures/{number}/pdf", invoice_pdf_download, name="invoice_pdf"),
    Route("/factures/{number}/payer", pay, methods=["POST"], name="invoice_pay"),
    Route("/paiement/retour", payment_return, name="payment_return"),
    Route("/paiement/retour", payment_return_post, methods=["POST"], name="payment_return_post"),
    Route("/paiement/notification", payment_notification, methods=["POST"], name="payment_notification"),
]


def home_summary(portal, subscriber_id):  # noqa: ANN001, ANN201 - for the home page partial
    """What the home page shows about invoices: total due and next due date."""
    with portal.uow(read_only=True) as uow:
        return invoice_overview(uow, subscriber_id, unpaid_only=True, today=portal.clock.today())
