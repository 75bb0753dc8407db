"""Running use cases from the event loop: reads inline where the database allows, writes in threads.

Every use case is synchronous. A page that only reads calls it through ``read``: when the
unit-of-work factory says its reads are short and never wait (``reads_inline``: the SQL one, on
SQLite and PostgreSQL) it runs right here on the event loop; otherwise in the thread pool, as
every writer does. Either way its read-only units of work may see each statement's own snapshot
(``per_statement`` on the factory: on PostgreSQL, read inline, no BEGIN and ROLLBACK round trips).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from portail_domain.portal import Portal
from portail_domain.ports import InlineWriteRefused

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("portail")


async def read(portal: Portal, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``, a use case that reads, and at most sometimes writes: inline when
    the database allows it.

    Inline, a writing unit of work is refused as it opens (``InlineWriteRefused``), and ``fn`` runs
    again in a thread: a writer must not hold the event loop while it waits for the write lock.
    So ``fn`` must do nothing but read before its first writing unit of work (a session's "last
    seen" once a minute, a subscriber's standard folders on the first visit).
    """
    factory = portal.uow
    per_statement = getattr(factory, "per_statement", None)
    with per_statement() if per_statement is not None else nullcontext():  # the thread inherits it
        if getattr(factory, "reads_inline", False):
            try:
                with factory.inline():  # type: ignore[attr-defined]  # offered with reads_inline (UnitOfWorkFactory)
                    return fn(*args, **kwargs)
            except InlineWriteRefused:
                log.debug("%s writes this time: run in a thread", getattr(fn, "__qualname__", fn))
        return await run_in_threadpool(fn, *args, **kwargs)
