"""``create_app(portal)``: the Starlette application, built explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portail_adapters.bootstrap import CONCURRENCY
from portail_adapters.sql.database import database_unavailable
from portail_domain.model.errors import DomainError, NotConfigured, NotFound, StorageError
from portail_domain.portal import Portal

from .auth import LoginRequired, VisitorMiddleware
from .mail_relay import relay_forever
from .messages import MESSAGES, message_for
from .routes import (
    agent,
    agent_documents,
    agent_mails,
    agent_payments,
    agent_readings,
    contracts,
    documents,
    invoices,
    journal,
    mandates,
    pages,
    password,
    personal,
    request_desk,
    requests,
    second_factor,
    session,
    simulator,
    support,
    team,
)
from .security import UNSAFE_METHODS, SecurityHeadersMiddleware, escape_for_log, same_origin
from .staff import AdminOnly, StaffAreaMiddleware
from .templating import Templates, render
from .urls import RouteTable, path_for

log = logging.getLogger("portail")
security_log = logging.getLogger("portail.security")

STATIC_DIR = Path(__file__).parent / "static"
FORM_MARGIN = 1024 * 1024  # the fields around the largest upload
# Server-to-server endpoints that carry no browser Origin and no CSRF token.
# The payment callbacks only trigger a re-check with the gateway: a forged one changes nothing.
CROSS_SITE_POSTS: set[str] = {"/paiement/notification", "/paiement/retour"}


def all_routes() -> list[BaseRoute]:
    return [
        *pages.routes,
        *session.routes,
        *contracts.routes,
        *invoices.routes,
        *mandates.routes,
        *simulator.routes,
        *documents.routes,
        *password.routes,
        *personal.routes,
        *requests.routes,
        *support.routes,
        *request_desk.routes,
        *journal.routes,
        *second_factor.routes,
        *team.routes,
        *agent_readings.routes,
        *agent_payments.routes,
        *agent_mails.routes,
        *agent_documents.routes,
        # Last: a page not built yet ("bientôt"); a real route of the same name listed above wins.
        *agent.placeholder_routes,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


class OriginCheckMiddleware:
    """Cross-site unsafe requests are refused before any endpoint runs (403)."""

    def __init__(self, app: ASGIApp, *, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS and scope["path"] not in CROSS_SITE_POSTS:
            connection = HTTPConnection(scope)
            if not same_origin(dict(connection.headers), self.base_url):
                security_log.warning(
                    "cross_site_refused path=%s origin=%s",
                    escape_for_log(scope["path"]),
                    escape_for_log(connection.headers.get("origin", "-")),
                )
                await PlainTextResponse("Forbidden", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TooLargePageMiddleware:
    """Starlette's body limit answers a bare English "Content Too Large"; show our own page.

    The limit itself (``max_body_size`` on the app and on upload routes) still refuses the
    body before it is read whole; only the 413 answer is replaced by the French error page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replacing = False

        async def send_wrapper(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                replacing = content_type.startswith(b"text/plain")
                if replacing:
                    return
            if replacing:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    page = render(Request(scope), "error.html", {"status": 413}, status_code=413)
                    page.headers["Connection"] = "close"  # the rest of the body is not read
                    await page(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not hasattr(request.state, "visitor"):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
    message = MESSAGES["admin_only"] if isinstance(exc, AdminOnly) else None
    if exc.status_code == 400 and str(exc.detail).startswith("Part exceeded maximum size"):
        message = MESSAGES["value_too_long"]  # a form field over 1 MB: say so, not just "bad request"
    return render(request, "error.html", {"status": exc.status_code, "message": message}, status_code=exc.status_code)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = 404 if isinstance(exc, NotFound) else 503 if isinstance(exc, StorageError | NotConfigured) else 400
    return render(request, "error.html", {"status": status, "message": message_for(exc)}, status_code=status)


async def login_required(request: Request, exc: Exception) -> Response:
    if getattr(request.state, "visitor", None) is not None and request.state.visitor.identity is not None:
        # Logged in, but not as what this page needs (staff on a subscriber page): no redirect loop.
        return render(request, "error.html", {"status": 403}, status_code=403)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(path_for(request, "login", query={"next": target}), status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):  # down or restarting: a 503 that says to come back, not a bug
        log.warning("database_unavailable path=%s error=%s", escape_for_log(request.url.path),
                    escape_for_log(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        if not hasattr(request.state, "visitor"):
            response: Response = PlainTextResponse("Service indisponible", status_code=503)
        else:
            response = render(request, "error.html", {"status": 503, "message": MESSAGES["service_unavailable"]},
                              status_code=503)
        response.headers["Retry-After"] = "30"
        return response
    log.exception("unhandled error on %s", escape_for_log(request.url.path), exc_info=exc)
    if not hasattr(request.state, "visitor"):
        return PlainTextResponse("Erreur interne", status_code=500)
    return render(request, "error.html", {"status": 500}, status_code=500)


def payment_origin(portal: Portal) -> str:
    """The gateway's origin: "Régler la facture" posts here and is redirected there (CSP form-action)."""
    if portal.payments is None:
        return ""
    url = urlsplit(portal.payments.redirect_url("x"))
    return f"{url.scheme}://{url.netloc}" if url.scheme in ("http", "https") and url.netloc else ""


def create_app(portal: Portal, *, debug: bool = False, deliver_mail_every: float | None = None,
               freeze_heap: bool = False) -> Starlette:
    """The web app for ``portal``. Nothing happens at import time; everything is built here.

    With ``deliver_mail_every`` (seconds), the app also runs the outbox relay in the background (it queues
    the day's payment reminders too). With ``freeze_heap`` (a served worker, not a test), the objects
    alive once the app has started are set aside from the garbage collector's full passes
    (``gc.freeze``): the libraries' hundred thousand long-lived objects were walked by every full
    collection, a 60–90 ms pause of the whole worker a few times a minute under load (the p99 of
    ``/factures`` in ``bench/bench_pages.py``); now each full pass walks only what requests created.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info("portal %s serving at %s", portal.config.utility.name, portal.config.base_url)
        # As many threads as pooled connections (anyio's default is 40): a thread never waits
        # for a connection, and the pool never opens extra ones under load.
        to_thread.current_default_thread_limiter().total_tokens = CONCURRENCY
        if freeze_heap:
            gc.collect()
            gc.freeze()
        relay = None
        if deliver_mail_every and portal.mailer is not None:
            relay = asyncio.create_task(relay_forever(portal, deliver_mail_every))
        try:
            yield
        finally:
            if relay is not None:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay

    app = Starlette(
        debug=debug,
        routes=all_routes(),
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=portal.config.https, form_targets=payment_origin(portal)),
            Middleware(OriginCheckMiddleware, base_url=portal.config.base_url),
            Middleware(VisitorMiddleware, portal=portal),
            Middleware(StaffAreaMiddleware),  # /agent/…: staff past the second factor only
            Middleware(TooLargePageMiddleware),
            # Inside our middleware (not Starlette(max_body_size=…), which sits outside all of it), so the
            # 413 gets the security headers and the French page.
            # The largest form: one upload of the configured size and its fields.
            Middleware(RequestBodyLimitMiddleware, max_body_size=portal.config.limits.upload_max_bytes + FORM_MARGIN),
        ],
        exception_handlers={
            HTTPException: http_error,
            DomainError: domain_error,
            LoginRequired: login_required,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.portal = portal
    app.state.route_table = RouteTable(app.routes)  # every link of the pages and redirects, by route name
    app.state.templates = Templates(portal.config.limits, app.state.route_table)
    return app
