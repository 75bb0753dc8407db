"""Prélèvement automatique (/prelevement): start a SEPA mandate, sign it with the mailed code, revoke it.

The IBAN goes from the form to the use case and nowhere else: no log line, no page (masked), no
error message carries it.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.errors import InvalidValue
from portail_domain.model.mandates import (
    BicRequired,
    ContractEnded,
    MandateRequest,
    NoEmailOnFile,
    NoPendingMandate,
    SigningCodeDead,
    WrongSigningCode,
)
from portail_domain.portal import Portal
from portail_domain.services import mandates

from .. import mandate_wording
from ..auth import require_subscriber
from ..forms import field, read_form
from ..messages import MESSAGES, message_for
from ..security import escape_for_log
from ..templating import render
from ..urls import path_for
from .password import client_of

security_log = logging.getLogger("portail.security")

NOTICES = {"code": "mandate_code_sent", "signe": "mandate_signed", "revoque": "mandate_revoked"}


def _portal(request: Request) -> Portal:
    return request.app.state.portal


async def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    subscriber = require_subscriber(request)
    view = await run_in_threadpool(mandates.mandates_view, _portal(request), subscriber.id)
    return render(request, "mandates/page.html", {
        "view": view, "wording": mandate_wording, "form": None,
        "notice": MESSAGES.get(NOTICES.get(request.query_params.get("fait", ""), "")), **context,
    }, status_code)


async def mandates_page(request: Request) -> Response:
    return await _page(request)


async def start(request: Request) -> Response:
    subscriber = require_subscriber(request)
    form = await read_form(request)
    typed = MandateRequest(contract_number=field(form, "contract", 64), mode=field(form, "mode", 10),
                           holder=field(form, "holder", 200), iban=field(form, "iban", 64), bic=field(form, "bic", 20))
    try:
        await run_in_threadpool(mandates.start_mandate, _portal(request), subscriber.id, typed)
    except (InvalidValue, ContractEnded, NoEmailOnFile) as exc:
        field_name = exc.field if isinstance(exc, InvalidValue) else ""
        # The form comes back with what was typed, but never the IBAN: it is typed again.
        shown = {"contract": typed.contract_number, "mode": typed.mode, "holder": typed.holder, "bic": typed.bic}
        return await _page(request, 400, error=message_for(exc), error_field=field_name, form=shown,
                           ask_bic=isinstance(exc, BicRequired) or bool(typed.bic))
    return RedirectResponse(path_for(request, "mandates", query={"fait": "code"}), status_code=303)


async def sign(request: Request) -> Response:
    subscriber = require_subscriber(request)
    form = await read_form(request)
    try:
        await run_in_threadpool(lambda: mandates.sign_mandate(
            _portal(request), subscriber.id, field(form, "code", 20), client_address=client_of(request),
            user_agent=request.headers.get("user-agent", "")[:200]))
    except WrongSigningCode as exc:
        return await _page(request, 400, sign_error=message_for(exc), tries_left=exc.tries_left)
    except (SigningCodeDead, NoPendingMandate) as exc:
        security_log.warning("mandate_sign_refused subscriber=%s reason=%s client=%s", subscriber.number, exc.code,
                             escape_for_log(client_of(request)))
        return await _page(request, 400, error=message_for(exc))
    return RedirectResponse(path_for(request, "mandates", query={"fait": "signe"}), status_code=303)


async def revoke(request: Request) -> Response:
    subscriber = require_subscriber(request)
    await read_form(request)
    await run_in_threadpool(mandates.revoke_mandate, _portal(request), subscriber.id, request.path_params["rum"])
    return RedirectResponse(path_for(request, "mandates", query={"fait": "revoque"}), status_code=303)


routes = [
    Route("/prelevement", mandates_page, methods=["GET"], name="mandates"),
    Route("/prelevement", start, methods=["POST"], name="mandate_start"),
    Route("/prelevement/signer", sign, methods=["POST"], name="mandate_sign"),
    Route("/prelevement/{rum}/revoquer", revoke, methods=["POST"], name="mandate_revoke"),
]
