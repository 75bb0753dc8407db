"""The embedded payment simulator's pages (``PORTAIL_PAYMENT=simulator`` only).

They play the gateway: a page clearly labelled as a simulation, a ``decision`` form, then
what PayFiP does towards the portal: the server notification (the notification use case,
in-process) and the browser's return to ``/paiement/retour?idop=…``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portail_adapters.payment.simulator import DECISIONS, SimulatorGateway
from portail_domain.model.errors import GatewayError, NotFound
from portail_domain.services.billing import handle_notification

from ..forms import read_form
from ..templating import render


def _simulator(request: Request) -> SimulatorGateway:
    gateway = request.app.state.portal.payments
    if not isinstance(gateway, SimulatorGateway):
        raise NotFound(what="simulator")  # the simulator only exists in simulator mode
    return gateway


async def simulator_page(request: Request) -> Response:
    gateway = _simulator(request)
    operation = await run_in_threadpool(gateway.operation, request.path_params["operation_id"])
    return render(request, "simulator/page.html", {"operation": operation})


async def simulator_decide(request: Request) -> Response:
    gateway = _simulator(request)
    form = await read_form(request)
    operation_id = request.path_params["operation_id"]
    operation = await run_in_threadpool(gateway.operation, operation_id)
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        return render(request, "simulator/page.html", {"operation": operation, "error": True}, status_code=400)
    operation = await run_in_threadpool(gateway.decide, operation_id, decision)
    # As PayFiP does: first the server notification, then the browser goes back to the portal.
    try:
        await run_in_threadpool(handle_notification, request.app.state.portal, operation.operation_id)
    except GatewayError:
        pass  # the return page re-asks anyway
    separator = "&" if "?" in operation.return_url else "?"
    return RedirectResponse(operation.return_url + separator + urlencode({"idop": operation.operation_id}),
                            status_code=303)


routes = [
    Route("/simulateur-paiement/{operation_id}", simulator_page, name="simulator"),
    Route("/simulateur-paiement/{operation_id}", simulator_decide, methods=["POST"], name="simulator_decide"),
]
