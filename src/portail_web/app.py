"""``create_app(portal)``: the Starlette application, built explicitly."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from portail_domain.errors import DomainError, NotFound
from portail_domain.portal import Portal

from .auth import LoginRequired, StaffRequired, VisitorMiddleware
from .messages import message_for
from .routes import contracts, pages, session
from .security import UNSAFE_METHODS, SecurityHeadersMiddleware, escape_for_log, same_origin
from .templating import Templates, render

log = logging.getLogger("portail")
security_log = logging.getLogger("portail.security")

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY = 11 * 1024 * 1024  # the largest form: one 10 MB upload and its fields
# Server-to-server endpoints that carry no browser Origin and no CSRF token.
CROSS_SITE_POSTS: set[str] = set()


def all_routes() -> list[BaseRoute]:
    return [
        *pages.routes,
        *session.routes,
        *contracts.routes,
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


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not hasattr(request.state, "visitor"):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
    return render(request, "error.html", {"status": exc.status_code}, status_code=exc.status_code)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = 404 if isinstance(exc, NotFound) else 400
    return render(request, "error.html", {"status": status, "message": message_for(exc)}, status_code=status)


async def login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?next={quote(target, safe='/')}", status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", escape_for_log(request.url.path), exc_info=exc)
    if not hasattr(request.state, "visitor"):
        return PlainTextResponse("Erreur interne", status_code=500)
    return render(request, "error.html", {"status": 500}, status_code=500)


def create_app(portal: Portal, *, debug: bool = False) -> Starlette:
    """The web app for ``portal``. Nothing happens at import time; everything is built here."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info("portal %s serving at %s", portal.config.utility.name, portal.config.base_url)
        yield

    app = Starlette(
        debug=debug,
        routes=all_routes(),
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=portal.config.https),
            Middleware(OriginCheckMiddleware, base_url=portal.config.base_url),
            Middleware(VisitorMiddleware, portal=portal),
        ],
        exception_handlers={
            HTTPException: http_error,
            DomainError: domain_error,
            LoginRequired: login_required,
            StaffRequired: login_required,
            Exception: server_error,
        },
        lifespan=lifespan,
        max_body_size=MAX_BODY,
    )
    app.state.portal = portal
    app.state.templates = Templates()
    return app
