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
from starlette.routing import BaseRoute, Router

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


def path_for(request: HTTPConnection, name: str, /, *, query: dict[str, Any] | None = None, **path_params: Any) -> str:
    """The path of route ``name`` (with ``query`` appended): a relative link, independent of the Host header.

    Query values are percent-encoded with ``/`` left as is (``next=/factures``); None values are left out.
    """
    path = str(request.app.url_path_for(name, **path_params))
    pairs = {key: value for key, value in (query or {}).items() if value is not None}
    return path + "?" + urlencode(pairs, safe="/", quote_via=quote) if pairs else path


class RouteLinks:
    """``Links``: a link intent made an absolute URL, from the base URL and the app's route table.

    The one place that builds the links of e-mails and the payment gateway's return URLs. A
    route name that does not exist raises ``starlette.routing.NoMatchFound``.
    """

    def __init__(self, base_url: str, routes: Sequence[BaseRoute]) -> None:
        self.base_url = base_url.rstrip("/")
        self.router = Router(list(routes))

    def url(self, link: Link) -> str:
        # Path parameters are quoted by their convertors (``quoted`` for contract and invoice numbers).
        params = {name: str(value) for name, value in link.path.items()}
        url = self.base_url + str(self.router.url_path_for(link.route, **params))
        if link.query:
            url += "?" + urlencode(dict(link.query))
        return url
