"""Internal links: every path comes from a route's name, never from a literal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Router

from portail_domain.model.links import Link


def path_for(request: HTTPConnection, name: str, /, *, query: dict[str, Any] | None = None, **path_params: Any) -> str:
    """The path of route ``name`` (with ``query`` appended): a relative link, independent of the Host header."""
    path = str(request.app.url_path_for(name, **path_params))
    if query:
        path += "?" + urlencode({key: value for key, value in query.items() if value is not None})
    return path


class RouteLinks:
    """``Links``: a link intent made an absolute URL, from the base URL and the app's route table.

    The one place that builds the links of e-mails and the payment gateway's return URLs. A
    route name that does not exist raises ``starlette.routing.NoMatchFound``.
    """

    def __init__(self, base_url: str, routes: Sequence[BaseRoute]) -> None:
        self.base_url = base_url.rstrip("/")
        self.router = Router(list(routes))

    def url(self, link: Link) -> str:
        params = {name: quote(str(value), safe="") for name, value in link.path.items()}
        url = self.base_url + str(self.router.url_path_for(link.route, **params))
        if link.query:
            url += "?" + urlencode(dict(link.query))
        return url
