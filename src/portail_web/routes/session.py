"""Log in (/connexion) and out (/deconnexion)."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.accounts import LoginFailed, LoginThrottled
from portail_domain.model.values import normalise_email
from portail_domain.portal import Portal
from portail_domain.services.accounts import log_in, log_out

from ..auth import visitor
from ..forms import field, read_form
from ..messages import MESSAGES
from ..security import (
    DEVICE_COOKIE_MAX_AGE,
    cookie_names,
    device_cookie_for,
    device_cookie_name,
    device_from_cookie,
    escape_for_log,
    new_anonymous_binding,
    safe_next,
)
from ..templating import render
from ..urls import path_for

security_log = logging.getLogger("portail.security")


async def login_page(request: Request) -> Response:
    if visitor(request).identity is not None:
        return RedirectResponse(safe_next(request.query_params.get("next"), path_for(request, "home")), status_code=303)
    notice = (MESSAGES["password_saved"] if request.query_params.get("mot-de-passe") == "enregistre"
              else MESSAGES["account_closed"] if request.query_params.get("compte") == "ferme"
              else MESSAGES["logged_out"] if "deconnecte" in request.query_params else None)
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next"), ""),
                                          "notice": notice})


def _login(portal: Portal, email: str, password: str, old_token: str, user_agent: str, ip: str, device: str) -> str:
    _account, token = log_in(portal, email, password, client=ip, user_agent=user_agent, old_token=old_token,
                             device=device)
    return token


async def login(request: Request) -> Response:
    form = await read_form(request)
    email, password = field(form, "email", 254), form.get("password", "")[:1024]
    target = safe_next(form.get("next"), path_for(request, "home"))
    portal: Portal = request.app.state.portal
    ip = request.client.host if request.client else ""
    device_cookie, login = device_cookie_name(portal.config.https), normalise_email(email)
    device = device_from_cookie(portal.config.secret_key, request.cookies.get(device_cookie, ""), login)
    try:
        token = await run_in_threadpool(
            _login, portal, email, password, session_token(request),
            request.headers.get("user-agent", ""), ip, device,
        )
    except LoginThrottled as exc:
        security_log.warning("%s email=%s client=%s retry_after=%d key=%s",
                             "login_blocked" if exc.blocked else "login_throttled", escape_for_log(email),
                             escape_for_log(ip), exc.retry_after, escape_for_log(exc.key.split(":", 1)[0]))
        response = render(
            request, "login.html",
            {"error": MESSAGES["login_throttled"], "email": email, "next": form.get("next", "")},
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except LoginFailed:
        security_log.warning("login_failed email=%s client=%s", escape_for_log(email), escape_for_log(ip))
        return render(
            request, "login.html",
            {"error": MESSAGES["login_failed"], "email": email, "next": form.get("next", "")},
            status_code=400,
        )
    security_log.info("login email=%s client=%s", escape_for_log(email), escape_for_log(ip))
    signed_in = set_session_cookie(RedirectResponse(target, status_code=303), portal, token)
    if not device:  # this browser is now a known device of this account
        value = device_cookie_for(portal.config.secret_key, new_anonymous_binding(), login)
        signed_in.set_cookie(device_cookie, value, max_age=DEVICE_COOKIE_MAX_AGE, httponly=True, samesite="lax",
                             secure=portal.config.https, path="/")
    return signed_in


def set_session_cookie(response: Response, portal: Portal, token: str) -> Response:
    """Give the browser a new session's token (login, and the staff's second factor)."""
    session_cookie, _ = cookie_names(portal.config.https)
    response.set_cookie(session_cookie, token, httponly=True, samesite="lax", secure=portal.config.https, path="/")
    return response


def session_token(request: Request) -> str:
    """The session token the browser sent (empty when none)."""
    session_cookie, _ = cookie_names(request.app.state.portal.config.https)
    return request.cookies.get(session_cookie, "")


async def logout(request: Request) -> Response:
    await read_form(request)
    portal: Portal = request.app.state.portal
    session_cookie, _ = cookie_names(portal.config.https)
    token = session_token(request)
    if token:
        await run_in_threadpool(log_out, portal, token)
        security_log.info("logout client=%s", escape_for_log(request.client.host if request.client else "-"))
    response = RedirectResponse(path_for(request, "login", query={"deconnecte": 1}), status_code=303)
    response.delete_cookie(session_cookie, path="/", secure=portal.config.https, httponly=True, samesite="lax")
    return response


routes = [
    Route("/connexion", login_page, methods=["GET"], name="login"),
    Route("/connexion", login, methods=["POST"], name="login_submit"),
    Route("/deconnexion", logout, methods=["POST"], name="logout"),
]
