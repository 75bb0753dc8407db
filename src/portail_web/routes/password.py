"""Créer / Renouveler mot de passe (/mot-de-passe) and the e-mailed link (/mot-de-passe/nouveau).

The link's token leaves the URL at once: the first GET puts it in a short-lived HttpOnly
cookie and redirects to the same page without it, so it stays out of the history, the
logs of anything downstream and any Referer.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.accounts import LinkInvalid, TokenPurpose
from portail_domain.model.errors import InvalidValue
from portail_domain.model.values import EmailAddress
from portail_domain.portal import Portal
from portail_domain.services.activation import check_link, request_password_link, set_password_with_link

from ..forms import field, read_form
from ..messages import MESSAGES, message_for
from ..security import escape_for_log, token_shaped
from ..templating import render
from ..urls import path_for

security_log = logging.getLogger("portail.security")

LINK_COOKIES = {TokenPurpose.PASSWORD: "portail_jeton", TokenPurpose.EMAIL: "portail_jeton_email"}


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def link_cookie_name(portal: Portal, purpose: TokenPurpose) -> str:
    return ("__Host-" if portal.config.https else "") + LINK_COOKIES[purpose]


def take_token_from_url(request: Request, purpose: TokenPurpose) -> Response:
    """``?jeton=…`` -> a short-lived HttpOnly cookie, then 303 to the same path without it.
    A value that cannot be one of our tokens is a dead link at once."""
    portal: Portal = request.app.state.portal
    token = request.query_params["jeton"]
    if not token_shaped(token):
        return dead_link(request, purpose)
    response = RedirectResponse(request.url.path, status_code=303)
    response.set_cookie(link_cookie_name(portal, purpose), token,
                        max_age=int(portal.config.limits.link_validity.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=portal.config.https)
    return response


def forget_token(request: Request, response: Response, purpose: TokenPurpose) -> Response:
    portal: Portal = request.app.state.portal
    response.delete_cookie(link_cookie_name(portal, purpose), path="/", secure=portal.config.https, httponly=True,
                           samesite="lax")
    return response


def token_from_cookie(request: Request, purpose: TokenPurpose) -> str:
    return request.cookies.get(link_cookie_name(request.app.state.portal, purpose), "")[:128]


def token_is_live(portal: Portal, token: str, purpose: TokenPurpose) -> bool:
    try:
        check_link(portal, token, purpose)
    except LinkInvalid:
        return False
    return True


def dead_link(request: Request, purpose: TokenPurpose) -> Response:
    response = render(request, "accounts/link_dead.html", {"purpose": purpose.value}, status_code=400)
    return forget_token(request, response, purpose)


async def link_page(request: Request, purpose: TokenPurpose, template: str) -> Response:
    """The page an e-mailed link opens: first take the token out of the URL, then show ``template``
    while the token lives, or say the link is dead."""
    if "jeton" in request.query_params:
        return take_token_from_url(request, purpose)
    token = token_from_cookie(request, purpose)
    if not token or not await run_in_threadpool(token_is_live, request.app.state.portal, token, purpose):
        return dead_link(request, purpose)
    return render(request, template)


# --- /mot-de-passe ---------------------------------------------------------------------------


async def request_page(request: Request) -> Response:
    return render(request, "accounts/password_request.html")


async def request_link(request: Request) -> Response:
    form = await read_form(request)
    email, code = field(form, "email", 254), field(form, "code", 100)
    try:
        EmailAddress.parse(email)
    except InvalidValue as exc:
        return render(request, "accounts/password_request.html",
                      {"error": message_for(exc), "error_field": "email", "email": email, "code": code},
                      status_code=400)
    if not code:
        return render(request, "accounts/password_request.html",
                      {"error": MESSAGES["code_missing"], "error_field": "code", "email": email}, status_code=400)
    response = render(request, "accounts/password_sent.html", {"email": email})
    # Whether anything matched must not show in the time of the answer: the lookup and the work
    # only a match does (token, e-mail) run after the answer has left, and the connection closes
    # with it, so not even the next request on it waits for that work.
    response.background = BackgroundTask(_request_link, request.app.state.portal, email, code, client_of(request))
    response.headers["Connection"] = "close"
    return response


def _request_link(portal: Portal, email: str, code: str, client: str) -> None:
    outcome = request_password_link(portal, email, code, client=client)
    security_log.info("password_link_requested email=%s client=%s outcome=%s", escape_for_log(email),
                      escape_for_log(client), outcome)


# --- /mot-de-passe/nouveau -------------------------------------------------------------------


async def new_password_page(request: Request) -> Response:
    return await link_page(request, TokenPurpose.PASSWORD, "accounts/password_new.html")


def _set_password(portal: Portal, token: str, password: str, confirm: str) -> str:
    return set_password_with_link(portal, token, password, confirm).login


async def set_password(request: Request) -> Response:
    form = await read_form(request)
    password, confirm = form.get("password", "")[:1024], form.get("password_confirm", "")[:1024]
    token = token_from_cookie(request, TokenPurpose.PASSWORD)
    try:
        login = await run_in_threadpool(_set_password, request.app.state.portal, token, password, confirm)
    except LinkInvalid:
        return dead_link(request, TokenPurpose.PASSWORD)
    except InvalidValue as exc:
        return render(request, "accounts/password_new.html", {"error": message_for(exc)}, status_code=400)
    security_log.info("password_set email=%s client=%s", escape_for_log(login), escape_for_log(client_of(request)))
    return forget_token(request, RedirectResponse(path_for(request, "login", query={"mot-de-passe": "enregistre"}),
                                                  status_code=303), TokenPurpose.PASSWORD)


routes = [
    Route("/mot-de-passe", request_page, methods=["GET"], name="password_request"),
    Route("/mot-de-passe", request_link, methods=["POST"], name="password_link_send"),
    Route("/mot-de-passe/nouveau", new_password_page, methods=["GET"], name="password_new"),
    Route("/mot-de-passe/nouveau", set_password, methods=["POST"], name="password_set"),
]
