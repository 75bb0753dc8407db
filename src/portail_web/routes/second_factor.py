"""The staff's second factor: the code step of a sign-in (/connexion/code) and enrolment (/agent/securite).

Both read the session token from the cookie and hand it to the use case, which re-reads the
session in its own transaction; on success the browser gets a new session id.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model.accounts import LoginThrottled
from portail_domain.model.second_factor import NotEnrolled, SecondFactorFailed
from portail_domain.portal import Portal
from portail_domain.services import second_factor as service

from ..auth import visitor
from ..forms import field, read_form
from ..messages import MESSAGES
from ..otp import grouped, provisioning_uri, qr_svg
from ..security import escape_for_log, safe_next
from ..templating import render
from ..urls import path_for
from .session import session_token, set_session_cookie

security_log = logging.getLogger("portail.security")
MAX_CODE = 64


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _throttled(request: Request, template: str, context: dict[str, object], exc: LoginThrottled) -> Response:
    security_log.warning("second_factor_throttled client=%s retry_after=%d", escape_for_log(_client(request)),
                         exc.retry_after)
    response = render(request, template, {**context, "error": MESSAGES["login_throttled"]}, status_code=429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# --- /connexion/code ---------------------------------------------------------------------------


async def code_page(request: Request) -> Response:
    seen = visitor(request)
    target = safe_next(request.query_params.get("next"), path_for(request, "staff_dashboard"))
    if seen.staff is not None:
        return RedirectResponse(target, status_code=303)
    pending = seen.staff_pending
    if pending is None:
        return RedirectResponse(path_for(request, "login"), status_code=303)
    if not pending.enrolled:
        return RedirectResponse(path_for(request, "staff_security"), status_code=303)
    return render(request, "agent/code.html", {"next": safe_next(request.query_params.get("next"), "")})


async def code_submit(request: Request) -> Response:
    form = await read_form(request)
    code, next_ = field(form, "code", MAX_CODE), safe_next(form.get("next"), "")
    if visitor(request).staff is not None:  # already past it (a second tab)
        return RedirectResponse(next_ or path_for(request, "staff_dashboard"), status_code=303)
    if visitor(request).staff_pending is None:
        return RedirectResponse(path_for(request, "login"), status_code=303)
    portal, client = _portal(request), _client(request)
    try:
        accepted = await run_in_threadpool(
            lambda: service.verify_code(portal, session_token(request), code, client=client))
    except NotEnrolled:
        return RedirectResponse(path_for(request, "staff_security"), status_code=303)
    except LoginThrottled as exc:
        return _throttled(request, "agent/code.html", {"next": next_}, exc)
    except SecondFactorFailed:
        security_log.warning("second_factor_failed client=%s", escape_for_log(client))
        return render(request, "agent/code.html", {"next": next_, "error": MESSAGES["second_factor_failed"]},
                      status_code=400)
    security_log.info("second_factor email=%s client=%s recovery=%s", escape_for_log(accepted.staff.email),
                      escape_for_log(client), accepted.recovery_codes_left is not None)
    if accepted.recovery_codes_left is not None:  # say how many are left, where new ones are
        target = path_for(request, "staff_security", query={"secours": accepted.recovery_codes_left})
    else:
        target = next_ or path_for(request, "staff_dashboard")
    return set_session_cookie(RedirectResponse(target, status_code=303), portal, accepted.token)


# --- /agent/securite ---------------------------------------------------------------------------


async def _enrolment_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    portal = _portal(request)
    pending = visitor(request).staff_pending
    assert pending is not None  # StaffAreaMiddleware lets only staff reach /agent
    try:
        secret = await run_in_threadpool(service.enrolment_secret, portal, session_token(request))
    except SecondFactorFailed:
        return RedirectResponse(path_for(request, "login_code"), status_code=303)
    uri = provisioning_uri(secret, pending.email.address, portal.config.utility.name)
    return render(request, "agent/enrol.html", {
        "staff": pending, "secret": grouped(secret), "uri": uri,
        "qr": qr_svg(uri, f"QR code : {portal.config.utility.name}, {pending.email.address}"), "error": error,
    }, status_code=status_code)


async def security_page(request: Request) -> Response:
    """Enrolment for a member without a second factor; the state of theirs for the others."""
    staff = visitor(request).staff
    if staff is None:
        return await _enrolment_page(request)
    left = await run_in_threadpool(service.recovery_codes_left, _portal(request), staff)
    used = request.query_params.get("secours", "")
    return render(request, "agent/security.html", {"staff": staff, "left": left, "just_used": used.isdigit()})


async def enrol(request: Request) -> Response:
    form = await read_form(request)
    if visitor(request).staff is not None:  # already enrolled and signed in: nothing to confirm
        return RedirectResponse(path_for(request, "staff_security"), status_code=303)
    portal, client = _portal(request), _client(request)
    try:
        enrolled = await run_in_threadpool(
            lambda: service.confirm_enrolment(portal, session_token(request), field(form, "code", MAX_CODE),
                                              client=client))
    except LoginThrottled as exc:
        security_log.warning("enrolment_throttled client=%s", escape_for_log(client))
        response = await _enrolment_page(request, error=MESSAGES["login_throttled"], status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except SecondFactorFailed:
        return await _enrolment_page(request, error=MESSAGES["second_factor_failed"], status_code=400)
    security_log.info("second_factor_enrolled client=%s", escape_for_log(client))
    # Shown in this answer, not after a redirect: the codes are stored hashed only, so this is the one time.
    response = render(request, "agent/recovery_codes.html", {"codes": enrolled.recovery_codes})
    return set_session_cookie(response, portal, enrolled.token)


routes = [
    Route("/connexion/code", code_page, name="login_code"),
    Route("/connexion/code", code_submit, methods=["POST"], name="login_code_submit"),
    Route("/agent/securite", security_page, name="staff_security"),
    Route("/agent/securite", enrol, methods=["POST"], name="staff_security_submit"),
]
