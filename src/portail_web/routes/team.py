"""Équipe (/agent/equipe), administrators only: the staff list, invitations, disable, role, second-factor reset."""

from __future__ import annotations

import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_domain.model import errors
from portail_domain.model.accounts import StaffRole, StaffUser
from portail_domain.model.team import parse_role
from portail_domain.services import team as service

from ..forms import field, read_form
from ..messages import N_, message_for
from ..staff import admin_page
from ..templating import render
from ..urls import path_for

ROLES = {StaffRole.AGENT: N_("Agent"), StaffRole.ADMIN: N_("Administrateur")}
DONE = {  # ?fait=… after an action: what the page says
    "invite": N_("Invitation envoyée : le lien est valable %(hours)s heures."),
    "disable": N_("Le membre est désactivé ; ses sessions sont fermées."),
    "role": N_("Le rôle est modifié."),
    "reset_2fa": N_("La double authentification est réinitialisée : le membre l'activera à sa prochaine connexion."),
}
ACTIONS = ("disable", "reset_2fa", "role")


async def _page(request: Request, *, values: dict[str, str] | None = None, error: str | None = None,
                status_code: int = 200) -> Response:
    members = await run_in_threadpool(service.team, request.app.state.portal)
    done = request.query_params.get("fait", "")
    hours = int(request.app.state.portal.config.limits.staff_invitation_validity.total_seconds() // 3600)
    return render(request, "agent/team.html", {
        "members": members, "roles": ROLES, "values": values or {"email": "", "name": "", "role": "agent"},
        "error": error, "done": DONE.get(done) if not error else None, "hours": hours,
    }, status_code=status_code)


@admin_page
async def team_page(request: Request, staff: StaffUser) -> Response:
    return await _page(request)


@admin_page
async def invite(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    values = {"email": field(form, "email", 254), "name": field(form, "name", 200), "role": field(form, "role", 10)}
    try:
        role = parse_role(values["role"])
        await run_in_threadpool(service.invite_member, request.app.state.portal, staff, values["email"],
                                values["name"], role)
    except errors.DomainError as exc:
        return await _page(request, values=values, error=message_for(exc), status_code=400)
    return RedirectResponse(path_for(request, "staff_team", query={"fait": "invite"}), status_code=303)


@admin_page
async def manage(request: Request, staff: StaffUser) -> Response:
    form = await read_form(request)
    member_id: uuid.UUID = request.path_params["staff_id"]
    action = form.get("action", "")
    portal = request.app.state.portal
    try:
        if action == "disable":
            await run_in_threadpool(service.disable_member, portal, staff, member_id)
        elif action == "reset_2fa":
            await run_in_threadpool(service.reset_second_factor, portal, staff, member_id)
        elif action == "role":
            role = parse_role(form.get("role", ""))
            await run_in_threadpool(service.change_role, portal, staff, member_id, role)
        else:
            return await _page(request, error=N_("Action inconnue."), status_code=400)
    except errors.NotFound:
        raise
    except errors.DomainError as exc:
        return await _page(request, error=message_for(exc), status_code=400)
    return RedirectResponse(path_for(request, "staff_team", query={"fait": action}), status_code=303)


routes = [
    Route("/agent/equipe", team_page, name="staff_team"),
    Route("/agent/equipe", invite, methods=["POST"], name="staff_team_invite"),
    Route("/agent/equipe/{staff_id:uuid}", manage, methods=["POST"], name="staff_member"),
]
