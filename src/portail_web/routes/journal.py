"""The audit log (journal) in the back office: ``/agent/journal?agent=&abonne=&depuis=&page=``."""

from __future__ import annotations

from datetime import date, datetime, time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portail_domain.model.audit import AuditAction, AuditQuery
from portail_domain.model.values import normalise_email
from portail_domain.services.audit import audit_page

from ..formatting import PARIS
from ..messages import N_
from ..staff import require_staff
from ..templating import render

ACTIONS = {
    AuditAction.SUBSCRIBER_VIEW: N_("Fiche abonné consultée"),
    AuditAction.ACTIVATION_CODE: N_("Nouveau code d'activation"),
    AuditAction.UNBLOCK_LOGIN: N_("Connexion débloquée"),
    AuditAction.END_SESSIONS: N_("Sessions fermées"),
    AuditAction.REQUEST_REPLY: N_("Réponse à une demande"),
    AuditAction.REQUEST_NOTE: N_("Note interne"),
    AuditAction.REQUEST_ASSIGN: N_("Demande attribuée"),
    AuditAction.READING_DECISION: N_("Relevé validé ou refusé"),
    AuditAction.PAYMENT_RESOLUTION: N_("Paiement traité"),
    AuditAction.DOCUMENT_PUBLISH: N_("Document publié"),
    AuditAction.MAIL_RETRY: N_("Courriel renvoyé"),
    AuditAction.MAIL_DISCARD: N_("Courriel abandonné"),
    AuditAction.STAFF_INVITE: N_("Membre invité"),
    AuditAction.STAFF_DISABLE: N_("Membre désactivé"),
    AuditAction.STAFF_ROLE: N_("Rôle modifié"),
    AuditAction.STAFF_RESET_2FA: N_("Double authentification réinitialisée"),
    AuditAction.STAFF_ENROL: N_("Double authentification activée"),
    AuditAction.STAFF_RECOVERY_CODE: N_("Connexion avec un code de secours"),
    AuditAction.REPLY_TEMPLATE: N_("Modèle de réponse modifié"),
    AuditAction.RELIEF_DECISION: N_("Écrêtement accordé ou refusé"),
}
BAD_DATE = N_("Saisissez une date au format AAAA-MM-JJ, par exemple 2026-01-31.")
MAX_PAGE = 10_000


def _since(text: str) -> datetime | None:
    """``depuis``: a day (from midnight, the utility's time); raises ValueError when it is not one."""
    return datetime.combine(date.fromisoformat(text), time(0), PARIS) if text else None


async def journal(request: Request) -> Response:
    require_staff(request)
    params = request.query_params
    values = {"agent": params.get("agent", "")[:254].strip(), "abonne": params.get("abonne", "")[:32].strip(),
              "depuis": params.get("depuis", "")[:10].strip()}
    page = params.get("page", "1")
    page_number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) <= MAX_PAGE else 1
    try:
        since = _since(values["depuis"])
    except ValueError:
        return render(request, "agent/journal.html", {"values": values, "errors": {"depuis": BAD_DATE},
                                                      "found": None, "actions": ACTIONS}, status_code=400)
    query = AuditQuery(staff_email=normalise_email(values["agent"]) if values["agent"] else None,
                       subscriber_number=values["abonne"] or None, since=since, page=page_number)
    found = await run_in_threadpool(audit_page, request.app.state.portal, query)
    return render(request, "agent/journal.html", {"values": values, "errors": {}, "found": found,
                                                  "actions": ACTIONS})


routes = [
    Route("/agent/journal", journal, name="staff_audit"),
]
