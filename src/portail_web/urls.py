"""Internal links: every path comes from a route's name, never from a literal."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import HTTPConnection


def path_for(request: HTTPConnection, name: str, /, *, query: dict[str, Any] | None = None, **path_params: Any) -> str:
    """The path of route ``name`` (with ``query`` appended): a relative link, independent of the Host header."""
    path = str(request.app.url_path_for(name, **path_params))
    if query:
        path += "?" + urlencode({key: value for key, value in query.items() if value is not None})
    return path
