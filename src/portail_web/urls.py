"""Internal links: every path comes from a route's name, never from a literal.

Routes whose parameter is a business number (a contract, an invoice) declare it
``{contract_number:quoted}``: any text, matched across ``/``, and quoted whole when a path is
built, so a number holding ``/``, ``?``, ``#``, ``%`` or a space comes back intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, Mount, NoMatchFound, Route, Router

from portail_domain.model.links import Link


class QuotedConvertor(Convertor[str]):
    """Any text; in a built path, every reserved character is percent-encoded (``/`` too).

    The server decodes the path before routing, so ``%2F`` arrives as ``/``: hence the regex
    spans ``/`` (as Starlette's ``path`` does) and routes with a suffix come first.
    """

    regex = ".*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return quote(str(value), safe="")


# Starlette looks convertors up by name when a Route is built: the route modules import this one.
register_url_convertor("quoted", QuotedConvertor())


class RouteTable:
    """Paths by route name, looked up in a dict built once.

    Starlette's ``url_path_for`` tries every route in turn, each miss an exception: a page with
    thirty links paid for that walk thirty times (7 % of a loaded server's samples under py-spy).
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.router = Router(list(routes))
        self.named: dict[str, Route | Mount] = {}
        for route in routes:
            if isinstance(route, Route | Mount) and route.name and route.name not in self.named:
                self.named[route.name] = route
        # A route without parameters always has the same path.
        self.fixed = {name: str(route.url_path_for(name)) for name, route in self.named.items()
                      if isinstance(route, Route) and not route.param_convertors}
        # A route with parameters: its path format and convertors, filled in as Starlette's
        # ``replace_params`` does, without building a URLPath (a table row's link, many per page).
        self.formats = {name: (route.path_format, route.param_convertors) for name, route in self.named.items()
                        if isinstance(route, Route) and route.param_convertors}

    def path(self, name: str, /, **path_params: Any) -> str:
        """The path of route ``name``; ``NoMatchFound`` when there is no such route or the parameters differ."""
        if not path_params and name in self.fixed:
            return self.fixed[name]
        spec = self.formats.get(name)
        if spec is not None and path_params.keys() == spec[1].keys():
            path, convertors = spec
            for key, value in path_params.items():
                path = path.replace("{" + key + "}", convertors[key].to_string(value))
            return path
        route = self.named.get(name)
        if route is None:
            # Names inside mounts ("static:…") and anything unusual: Starlette's own walk.
            return str(self.router.url_path_for(name, **path_params))
        try:
            return str(route.url_path_for(name, **path_params))
        except NoMatchFound:
            return str(self.router.url_path_for(name, **path_params))


    def link(self, name: str, /, *, query: dict[str, Any] | None = None, **path_params: Any) -> str:
        """The path of route ``name`` with ``query`` appended (see ``path_for``): the templates' ``url_for``."""
        path = self.path(name, **path_params)
        pairs = {key: value for key, value in (query or {}).items() if value is not None}
        return path + "?" + urlencode(pairs, safe="/", quote_via=quote) if pairs else path


def route_table(request: HTTPConnection) -> RouteTable:
    """The app's route table, built on first use."""
    state = request.app.state
    table: RouteTable | None = getattr(state, "route_table", None)
    if table is None:
        table = state.route_table = RouteTable(request.app.routes)
    return table


def path_for(request: HTTPConnection, name: str, /, *, query: dict[str, Any] | None = None, **path_params: Any) -> str:
    """The path of route ``name`` (with ``query`` appended): a relative link, independent of the Host header.

    Query values are percent-encoded with ``/`` left as is (``next=/factures``); None values are left out.
    """
    return route_table(request).link(name, query=query, **path_params)


class RouteLinks:
    """``Links``: a link intent made an absolute URL, from the base URL and the app's route table.

    The one place that builds the links of e-mails and the payment gateway's return URLs. A
    route name that does not exist raises ``starlette.routing.NoMatchFound``.
    """

    def __init__(self, base_url: str, routes: Sequence[BaseRoute]) -> None:
        self.base_url = base_url.rstrip("/")
        self.routes = RouteTable(routes)

    def url(self, link: Link) -> str:
        # Path parameters are quoted by their convertors (``quoted`` for contract and invoice numbers).
        params = {name: str(value) for name, value in link.path.items()}
        url = self.base_url + self.routes.path(link.route, **params)
        if link.query:
            url += "?" + urlencode(dict(link.query))
        return url
