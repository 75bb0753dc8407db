"""Home, about, the legal pages, health, language choice."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from portail_domain.services.accounts import set_language
from portail_domain.services.home import home_page

from ..auth import VisitorMiddleware, require_subscriber, visitor
from ..forms import field, read_form
from ..i18n import LANGUAGES
from ..reads import read
from ..security import safe_next
from ..templating import render
from ..urls import path_for


async def home(request: Request) -> Response:
    identity = visitor(request).identity
    if identity is not None and identity.staff is not None:
        # Staff have no subscriber home: theirs is the back office (or its second-factor step).
        return RedirectResponse(path_for(request, "staff_dashboard"), status_code=303)
    subscriber = require_subscriber(request)
    page = await read(request.app.state.portal, home_page, request.app.state.portal, subscriber.id)
    return render(request, "home.html", {"subscriber": subscriber, "invoices_summary": page.invoices,
                                         "contract_alerts": page.alerts, "glances": page.glances})


async def about(request: Request) -> Response:
    return render(request, "about.html")


async def accessibility(request: Request) -> Response:
    return render(request, "legal/accessibility.html")


async def legal_notices(request: Request) -> Response:
    return render(request, "legal/notices.html")


async def privacy(request: Request) -> Response:
    return render(request, "legal/privacy.html")


def _database_answers(request: Request) -> bool:
    try:
        with request.app.state.portal.uow(read_only=True) as uow:
            return uow.ping()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


async def healthz(request: Request) -> Response:
    ok = await run_in_threadpool(_database_answers, request)
    return JSONResponse({"status": "ok" if ok else "unavailable", "database": ok}, status_code=200 if ok else 503)


def _remember_language(request: Request, code: str, next_path: str | None) -> Response:
    response = RedirectResponse(safe_next(next_path, path_for(request, "home")), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(VisitorMiddleware.LANGUAGE_COOKIE, code, max_age=365 * 86400, httponly=True,
                            samesite="lax", secure=request.app.state.portal.config.https)
    return response


async def language(request: Request) -> Response:
    """``/langue?code=en&next=/…``: remember the UI language in a cookie, go back."""
    return _remember_language(request, request.query_params.get("code", ""), request.query_params.get("next"))


async def save_language(request: Request) -> Response:
    """The header's language button of a logged-in subscriber: the saved preference changes too
    (it wins over the cookie, so the link alone would do nothing)."""
    form = await read_form(request, max_fields=5)
    code = field(form, "code", 5)
    subscriber = visitor(request).subscriber
    if subscriber is not None and code in LANGUAGES:
        await run_in_threadpool(set_language, request.app.state.portal, subscriber.id, code)
    return _remember_language(request, code, form.get("next"))


routes = [
    Route("/", home, name="home"),
    Route("/a-propos", about, name="about"),
    Route("/accessibilite", accessibility, name="accessibility"),
    Route("/mentions-legales", legal_notices, name="legal_notices"),
    Route("/confidentialite", privacy, name="privacy"),
    Route("/healthz", healthz, name="healthz"),
    Route("/langue", language, methods=["GET"], name="language"),
    Route("/langue", save_language, methods=["POST"], name="language_save"),
]
