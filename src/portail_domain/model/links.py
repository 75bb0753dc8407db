"""Links as intents: where a link leads, never how its URL is spelt (the web layer knows that)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import attrs

LinkValue = str | int | uuid.UUID


@attrs.frozen
class Link:
    """A route of the front end by its name (``"password_new"``), with its path and query parameters.

    An adapter (``ports.Links``) turns it into an absolute URL; a name that no route has fails there.
    """

    route: str
    path: Mapping[str, LinkValue] = attrs.field(factory=dict)
    query: Mapping[str, LinkValue] = attrs.field(factory=dict)
