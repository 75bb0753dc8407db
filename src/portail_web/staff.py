"""The back office's guard: who may reach ``/agent/…``. Use it on every staff endpoint.

Two layers, so that a forgotten decorator does not open a page:

- ``StaffAreaMiddleware`` answers every request under ``/agent`` (any method, any path, a route
  or not) before routing: a visitor who is not staff (anonymous or a subscriber) gets the same
  404 page as an unknown address, so nothing tells them the back office exists (no login
  redirect, no 405, no 403). A member of staff who signed in with the password but has not
  given the second factor yet is sent (303) to ``/connexion/code``, or to ``/agent/securite``
  when they have no second factor to give yet (the one ``/agent`` page open to them: enrolment).
- ``@staff_page`` and ``@admin_page`` wrap an endpoint ``async def page(request, staff)``: they
  check again and hand it the ``StaffUser``. ``require_staff(request)`` / ``require_admin(request)``
  do the same inside an endpoint.

An agent on an administrators' page gets 403 ("réservé aux administrateurs"), not 404: they
are staff, the back office is no secret to them, and a clear refusal beats a dead link.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from portail_domain.model.accounts import StaffUser

from .auth import Visitor
from .templating import render
from .urls import path_for

STAFF_AREA = "/agent"
ENROL_ROUTE = "staff_security"  # the page where a member of staff enrols their second factor
CODE_ROUTE = "login_code"  # the second step of a staff sign-in

StaffEndpoint = Callable[[Request, StaffUser], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class NotStaff(HTTPException):
    """Not a member of staff past the second factor: the page "does not exist"."""

    def __init__(self) -> None:
        super().__init__(status_code=404)


class AdminOnly(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=403, detail="admin")


def in_staff_area(path: str) -> bool:
    return path == STAFF_AREA or path.startswith(STAFF_AREA + "/")


def require_staff(request: Request) -> StaffUser:
    """The member of staff of this session, past the second factor; else 404 (``NotStaff``)."""
    staff = request.state.visitor.staff
    if staff is None:
        raise NotStaff()
    return staff


def require_admin(request: Request) -> StaffUser:
    """An administrator past the second factor; 404 for non-staff, 403 for an agent."""
    staff = require_staff(request)
    if not staff.is_admin:
        raise AdminOnly()
    return staff


def staff_page(endpoint: StaffEndpoint) -> Endpoint:
    """Decorate ``async def page(request, staff)``: any member of staff past the second factor."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        return await endpoint(request, require_staff(request))

    return guarded


def admin_page(endpoint: StaffEndpoint) -> Endpoint:
    """Decorate ``async def page(request, staff)``: administrators only (an agent gets 403)."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        return await endpoint(request, require_admin(request))

    return guarded


class StaffAreaMiddleware:
    """Closes ``/agent/…`` to everyone but staff past their second factor (see the module's doc).

    Sits inside ``VisitorMiddleware`` (it reads ``request.state.visitor``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not in_staff_area(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        visitor: Visitor = request.state.visitor
        if visitor.staff is not None:
            await self.app(scope, receive, send)
            return
        pending = visitor.staff_pending
        if pending is None:
            await render(request, "error.html", {"status": 404}, status_code=404)(scope, receive, send)
            return
        enrolling = path_for(request, ENROL_ROUTE)
        if not pending.enrolled and scope["path"] == enrolling:
            await self.app(scope, receive, send)
            return
        target = enrolling if not pending.enrolled else path_for(request, CODE_ROUTE, query={"next": scope["path"]})
        await RedirectResponse(target, status_code=303)(scope, receive, send)
