"""The event loop ``portail serve`` runs: asyncio's own, taking one new connection per turn."""

from __future__ import annotations

import asyncio
from typing import Any


class ServingLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, accepting one waiting connection per turn instead of all of them.

    The pages read on the event loop (``portail_web.reads``), and under that load neither stock
    loop shared the work out evenly (``bench/README.md``): uvloop served two of 16 keep-alive
    connections half as often as the others (p99 three times the median); asyncio's loop is even
    within a worker, but accepts every connection waiting on the shared socket in one go (up to
    the backlog, bpo-27906), so with several workers the first to wake took all 16 of a burst and
    two workers served no more than one. Taking one per turn, a worker busy with a page leaves
    the next connection to an idle one.
    """

    def _accept_connection(self, protocol_factory: Any, sock: Any, sslcontext: Any = None, server: Any = None,
                           backlog: int = 100, *args: Any, **kwargs: Any) -> None:
        super()._accept_connection(  # type: ignore[misc]  # a private hook of the selector loop
            protocol_factory, sock, sslcontext, server, 1, *args, **kwargs)
