"""Back office, subscriber support (/agent/abonnes): search, the subscriber card, its actions.

Every action is a POST with CSRF. The activation code action answers with the letter itself
(a PDF download, never stored, ``Cache-Control: no-store``): the new code is readable nowhere
else. The others answer 303 back to the card with a notice.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_adapters.files.naming import content_disposition
from portail_domain.model.accounts import StaffUser
from portail_domain.model.support import MAX_QUERY
from portail_domain.portal import Portal
from portail_domain.services import support as service

from ..forms import read_form
from ..letters import activation_letter_pdf
from ..messages import N_
from ..security import escape_for_log
from ..staff import staff_page
from ..templating import render
from ..urls import path_for
from .contracts import SERVICES
from .contracts import SOURCES as READING_SOURCES
from .contracts import STATUSES as READING_STATUSES
from .requests import CATEGORIES as REQUEST_CATEGORIES
from .requests import STATUSES as REQUEST_STATUSES

security_log = logging.getLogger("portail.security")

KINDS = {
    "number": N_("Numéro d'abonné"),
    "name": N_("Nom"),
    "email": N_("E-mail"),
    "contract": N_("Contrat"),
    "meter": N_("Compteur"),
}
NOTICES = {
    "debloque": N_("La connexion de l'abonné est débloquée."),
    "sessions": N_("Les sessions de l'abonné sont fermées : il devra se reconnecter."),
}


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def _number(request: Request) -> str:
    return str(request.path_params["subscriber_number"])[:32]


@staff_page
async def search_page(request: Request, staff: StaffUser) -> Response:
    query = request.query_params.get("q", "")[:MAX_QUERY].strip()
    result = await run_in_threadpool(service.search_subscribers, _portal(request), query) if query else None
    return render(request, "support/search.html", {"query": query, "result": result, "kinds": KINDS})


@staff_page
async def card_page(request: Request, staff: StaffUser) -> Response:
    card = await run_in_threadpool(service.subscriber_card, _portal(request), staff, _number(request))
    return render(request, "support/card.html", {
        "card": card, "services": SERVICES, "reading_sources": READING_SOURCES,
        "reading_statuses": READING_STATUSES, "request_categories": REQUEST_CATEGORIES,
        "request_statuses": REQUEST_STATUSES, "today": _portal(request).clock.today(),
        "notice": NOTICES.get(request.query_params.get("fait", "")),
    })


@staff_page
async def activation_code(request: Request, staff: StaffUser) -> Response:
    await read_form(request)
    portal = _portal(request)
    letter = await run_in_threadpool(service.issue_activation_code, portal, staff, _number(request))
    subscriber = letter.subscriber
    pdf = activation_letter_pdf(letter, portal.config.utility, base_url=portal.config.base_url,
                                language=subscriber.language.value, today=portal.clock.today(),
                                link_minutes=int(portal.config.limits.link_validity.total_seconds() // 60))
    security_log.info("activation_code_issued subscriber=%s staff=%s", escape_for_log(subscriber.number), staff.id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"lettre-activation-{subscriber.number}.pdf"),
        "Cache-Control": "no-store",
    })


@staff_page
async def unblock(request: Request, staff: StaffUser) -> Response:
    await read_form(request)
    number = _number(request)
    forgotten = await run_in_threadpool(service.unblock_login, _portal(request), staff, number)
    security_log.info("login_unblocked subscriber=%s failures=%d staff=%s", escape_for_log(number), forgotten,
                      staff.id)
    return RedirectResponse(path_for(request, "staff_subscriber", subscriber_number=number,
                                     query={"fait": "debloque"}), status_code=303)


@staff_page
async def end_sessions(request: Request, staff: StaffUser) -> Response:
    await read_form(request)
    number = _number(request)
    ended = await run_in_threadpool(service.end_subscriber_sessions, _portal(request), staff, number)
    security_log.info("subscriber_sessions_ended subscriber=%s count=%d staff=%s", escape_for_log(number), ended,
                      staff.id)
    return RedirectResponse(path_for(request, "staff_subscriber", subscriber_number=number,
                                     query={"fait": "sessions"}), status_code=303)


routes = [
    Route("/agent/abonnes", search_page, name="staff_subscribers"),
    Route("/agent/abonnes/{subscriber_number}", card_page, name="staff_subscriber"),
    Route("/agent/abonnes/{subscriber_number}/code-activation", activation_code, methods=["POST"],
          name="staff_activation_code"),
    Route("/agent/abonnes/{subscriber_number}/debloquer", unblock, methods=["POST"], name="staff_unblock"),
    Route("/agent/abonnes/{subscriber_number}/sessions/fermer", end_sessions, methods=["POST"],
          name="staff_end_sessions"),
]
