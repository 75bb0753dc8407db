"""Mes données personnelles: contact details, password, login e-mail, open sessions, data export, closing."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.accounts import Identity, LinkInvalid, LoginFailed, PersonalData, TokenPurpose, WrongPassword
from portail_domain.model.errors import DomainError, InvalidFields, InvalidValue
from portail_domain.model.privacy import EXPORT_SECTIONS
from portail_domain.portal import Portal
from portail_domain.services.accounts import active_sessions, end_other_sessions, update_personal_data
from portail_domain.services.activation import change_password, confirm_email_change, request_email_change
from portail_domain.services.privacy import close_account, export_personal_data

from ..auth import require_subscriber, visitor
from ..forms import field, read_form
from ..i18n import translations
from ..messages import EXPORT_KEY, MESSAGES, message_for
from ..security import cookie_names, escape_for_log
from ..templating import render
from ..urls import path_for
from .password import client_of, dead_link, forget_token, link_page, token_from_cookie

security_log = logging.getLogger("portail.security")

NOTICES = {"enregistre": "data_saved", "mot-de-passe": "password_changed", "e-mail": "email_link_sent",
           "e-mail-confirme": "email_changed", "sessions": "sessions_ended"}


def _identity(request: Request) -> Identity:
    require_subscriber(request)
    identity = visitor(request).identity
    assert identity is not None
    return identity


async def _page(request: Request, identity: Identity, status_code: int = 200, **context: Any) -> Response:
    portal: Portal = request.app.state.portal
    sessions = await run_in_threadpool(active_sessions, portal, identity)
    return render(request, "accounts/personal.html", {
        "subscriber": identity.subscriber, "sessions": sessions, "current": identity.session.token_hash,
        "notice": MESSAGES.get(NOTICES.get(request.query_params.get("fait", ""), "")), **context,
    }, status_code)


async def personal_page(request: Request) -> Response:
    return await _page(request, _identity(request))


async def save_personal(request: Request) -> Response:
    identity = _identity(request)
    form = await read_form(request)
    data = PersonalData(
        phone=field(form, "phone", 40), address=field(form, "address", 400), postal_code=field(form, "postal_code", 20),
        city=field(form, "city", 200), language=field(form, "language", 5),
        paperless=form.get("paperless", "") in ("1", "on", "true", "oui"),
    )
    try:
        await run_in_threadpool(update_personal_data, request.app.state.portal, require_subscriber(request).id, data)
    except InvalidValue as exc:
        problems = exc.problems if isinstance(exc, InvalidFields) else [exc]
        errors = {p.field or "phone": message_for(p) for p in problems}
        return await _page(request, identity, 400, errors=errors, form=data)
    return RedirectResponse(path_for(request, "personal", query={"fait": "enregistre"}), status_code=303)


# --- password --------------------------------------------------------------------------------


async def password_page(request: Request) -> Response:
    _identity(request)
    return render(request, "accounts/personal_password.html", {})


async def save_password(request: Request) -> Response:
    identity = _identity(request)
    form = await read_form(request)
    try:
        await run_in_threadpool(change_password, request.app.state.portal, identity,
                                form.get("current_password", "")[:1024], form.get("password", "")[:1024],
                                form.get("password_confirm", "")[:1024])
    except (LoginFailed, WrongPassword, InvalidValue) as exc:
        if not isinstance(exc, InvalidValue):
            security_log.warning("password_change_refused account=%s reason=%s client=%s", identity.account.id,
                                 exc.code, escape_for_log(client_of(request)))
        error_field = "password" if isinstance(exc, InvalidValue) else "current_password"
        return render(request, "accounts/personal_password.html",
                      {"error": message_for(exc), "error_field": error_field}, 400)
    security_log.info("password_changed account=%s client=%s", identity.account.id,
                      escape_for_log(client_of(request)))
    return RedirectResponse(path_for(request, "personal", query={"fait": "mot-de-passe"}), status_code=303)


# --- login e-mail ----------------------------------------------------------------------------


async def change_email(request: Request) -> Response:
    identity = _identity(request)
    form = await read_form(request)
    email = field(form, "email", 254)
    try:
        await run_in_threadpool(request_email_change, request.app.state.portal, identity, email,
                                form.get("password", "")[:1024])
    except DomainError as exc:
        security_log.warning("email_change_refused account=%s reason=%s client=%s", identity.account.id, exc.code,
                             escape_for_log(client_of(request)))
        return await _page(request, identity, 400, email_error=message_for(exc), new_email=email)
    security_log.info("email_change_requested account=%s client=%s", identity.account.id,
                      escape_for_log(client_of(request)))
    return RedirectResponse(path_for(request, "personal", query={"fait": "e-mail"}), status_code=303)


async def confirm_email_page(request: Request) -> Response:
    return await link_page(request, TokenPurpose.EMAIL, "accounts/email_confirm.html")


def _confirm_email(portal: Portal, token: str) -> str:
    return confirm_email_change(portal, token).number


async def confirm_email(request: Request) -> Response:
    await read_form(request)
    token = token_from_cookie(request, TokenPurpose.EMAIL)
    try:
        number = await run_in_threadpool(_confirm_email, request.app.state.portal, token)
    except LinkInvalid:
        return dead_link(request, TokenPurpose.EMAIL)
    except InvalidValue as exc:
        return render(request, "accounts/email_confirm.html", {"error": message_for(exc)}, 400)
    security_log.info("email_changed subscriber=%s client=%s", escape_for_log(number),
                      escape_for_log(client_of(request)))
    target = (path_for(request, "personal", query={"fait": "e-mail-confirme"}) if visitor(request).identity
              else path_for(request, "login"))
    return forget_token(request, RedirectResponse(target, status_code=303), TokenPurpose.EMAIL)


# --- sessions --------------------------------------------------------------------------------



async def end_sessions(request: Request) -> Response:
    identity = _identity(request)
    await read_form(request)
    ended = await run_in_threadpool(end_other_sessions, request.app.state.portal, identity)
    security_log.info("sessions_ended account=%s count=%d client=%s", identity.account.id, ended,
                      escape_for_log(client_of(request)))
    return RedirectResponse(path_for(request, "personal", query={"fait": "sessions"}), status_code=303)


# --- data rights: the export, closing the account ----------------------------------------


async def export_data(request: Request) -> Response:
    """``/donnees-personnelles/export``: a JSON file whose ``key`` explains each section, in the visitor's language."""
    identity = _identity(request)
    subscriber = require_subscriber(request)
    portal: Portal = request.app.state.portal
    data = await run_in_threadpool(export_personal_data, portal, subscriber.id)
    gettext = translations(request.state.visitor.language).gettext
    document = {
        "portal": portal.config.utility.name,
        "key": {section: gettext(EXPORT_KEY[section]) for section in ("exported_at", *EXPORT_SECTIONS)},
        **data,
    }
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    number = re.sub(r"[^A-Za-z0-9_-]", "_", subscriber.number)
    day = portal.clock.today().isoformat()
    security_log.info("data_exported account=%s client=%s", identity.account.id, escape_for_log(client_of(request)))
    return Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="mes-donnees-{number}-{day}.json"',
        "Cache-Control": "private, no-store",
    })


async def close(request: Request) -> Response:
    """``POST /donnees-personnelles/fermer``: the password again, then the login goes and the session ends."""
    identity = _identity(request)
    form = await read_form(request)
    portal: Portal = request.app.state.portal
    try:
        await run_in_threadpool(close_account, portal, identity, form.get("password", "")[:1024])
    except (WrongPassword, LoginFailed) as exc:
        security_log.warning("account_close_refused account=%s reason=%s client=%s", identity.account.id, exc.code,
                             escape_for_log(client_of(request)))
        return await _page(request, identity, 400, close_error=message_for(exc))
    security_log.info("account_closed account=%s client=%s", identity.account.id, escape_for_log(client_of(request)))
    response = RedirectResponse(path_for(request, "login", query={"compte": "ferme"}), status_code=303)
    session_cookie, _ = cookie_names(portal.config.https)
    response.delete_cookie(session_cookie, path="/", secure=portal.config.https, httponly=True, samesite="lax")
    return response


routes = [
    Route("/donnees-personnelles", personal_page, methods=["GET"], name="personal"),
    Route("/donnees-personnelles", save_personal, methods=["POST"], name="personal_save"),
    Route("/donnees-personnelles/mot-de-passe", password_page, methods=["GET"], name="personal_password"),
    Route("/donnees-personnelles/mot-de-passe", save_password, methods=["POST"], name="personal_password_save"),
    Route("/donnees-personnelles/e-mail", change_email, methods=["POST"], name="personal_email"),
    Route("/donnees-personnelles/e-mail/confirmer", confirm_email_page, methods=["GET"], name="email_confirm"),
    Route("/donnees-personnelles/e-mail/confirmer", confirm_email, methods=["POST"], name="email_confirm_submit"),
    Route("/donnees-personnelles/sessions/fermer", end_sessions, methods=["POST"], name="end_sessions"),
    Route("/donnees-personnelles/export", export_data, methods=["GET"], name="personal_export"),
    Route("/donnees-personnelles/fermer", close, methods=["POST"], name="personal_close"),
]
