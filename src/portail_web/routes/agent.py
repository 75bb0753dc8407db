"""Back-office pages not built yet: each answers a short "bientôt" page under the staff layout.

The staff menu links to every back-office area by route name; an area whose page is still to
come is registered here. To build one, register the real route (same name) in its own module,
listed before these in ``app.all_routes()`` (the first route of a name wins), and delete its line
below.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portail_domain.model.accounts import StaffUser

from ..staff import Endpoint, admin_page, staff_page
from ..templating import render

# (path, route name, title, administrators only)
PLACEHOLDERS: list[tuple[str, str, str, bool]] = []


def _placeholder(title: str, admins_only: bool) -> Endpoint:
    async def soon(request: Request, staff: StaffUser) -> Response:
        return render(request, "agent/soon.html", {"title": title})

    return (admin_page if admins_only else staff_page)(soon)


placeholder_routes = [
    Route(path, _placeholder(title, admins_only), name=name) for path, name, title, admins_only in PLACEHOLDERS
]
