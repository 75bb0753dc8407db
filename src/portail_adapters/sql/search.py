"""Support's subscriber search on SQL: the ``subscriber_search`` keys, written and read.

Keys are written with the subscriber or contract they come from (the repositories' add and
update, the import's batched saves), so they never go stale. A search is one index range per
prefix, read in key order a batch at a time and merged, until enough distinct subscribers are
found: its cost depends on the results wanted, not on the number of subscribers.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_

from portail_domain.model.accounts import Subscriber
from portail_domain.model.contracts import Contract
from portail_domain.model.support import SearchHit, SearchKeyKind, contract_keys, prefix_end, subscriber_keys
from portail_domain.model.values import EmailAddress

from . import mapping as m
from . import tables as t

BATCH = 200  # keys read at a time from one range
_CHUNK = 500  # ids per IN list (SQLite caps bound parameters)


def stale_subscriber_keys(connection: Connection, subscriber_ids: Sequence[uuid.UUID]) -> None:
    """Remove the keys of these subscribers' own fields (before writing the new ones)."""
    c = t.subscriber_search.c
    for start in range(0, len(subscriber_ids), _CHUNK):
        part = list(subscriber_ids[start:start + _CHUNK])
        connection.execute(delete(t.subscriber_search).where(c.subscriber_id.in_(part), c.contract_id.is_(None)))


def stale_contract_keys(connection: Connection, contract_ids: Sequence[uuid.UUID]) -> None:
    """Remove the keys of these contracts (before writing the new ones)."""
    c = t.subscriber_search.c
    for start in range(0, len(contract_ids), _CHUNK):
        part = list(contract_ids[start:start + _CHUNK])
        connection.execute(delete(t.subscriber_search).where(c.contract_id.in_(part)))


def key_rows(subscribers: Sequence[Subscriber] = (), contracts: Sequence[Contract] = ()) -> list[dict[str, Any]]:
    return [row for s in subscribers for row in m.subscriber_search_rows(s)] + [
        row for c in contracts for row in m.contract_search_rows(c)]


def write_keys(connection: Connection, subscribers: Sequence[Subscriber] = (),
               contracts: Sequence[Contract] = (), *, replace: bool = True) -> None:
    """Write the keys of these subscribers' own fields and of these contracts (``replace``: in
    place of their former keys; new ones have none)."""
    if replace:
        stale_subscriber_keys(connection, [s.id for s in subscribers])
        stale_contract_keys(connection, [c.id for c in contracts])
    rows = key_rows(subscribers, contracts)
    if rows:
        connection.execute(insert(t.subscriber_search), rows)


def _range(connection: Connection, prefix: str) -> Iterator[tuple[str, uuid.UUID, str, str]]:
    """(key, subscriber id, kind, label) of the keys starting with ``prefix``, in (key, id) order."""
    c = t.subscriber_search.c
    query = (select(c.key, c.subscriber_id, c.kind, c.label)
             .where(c.key >= prefix, c.key < prefix_end(prefix))
             .order_by(c.key, c.subscriber_id).limit(BATCH))
    after: tuple[str, uuid.UUID] | None = None
    while True:
        page = query if after is None else query.where(tuple_(c.key, c.subscriber_id) > tuple_(*after))
        rows = [(r.key, r.subscriber_id, r.kind, r.label) for r in connection.execute(page)]
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1][0], rows[-1][1]


def search(connection: Connection, prefixes: Sequence[str], limit: int) -> list[SearchHit]:
    """Up to ``limit`` subscribers with a key starting with one of ``prefixes``, by first matching key."""
    found: dict[uuid.UUID, tuple[str, str]] = {}
    for _key, subscriber_id, kind, label in heapq.merge(*(_range(connection, p) for p in prefixes),
                                                         key=lambda row: (row[0], row[1])):
        if subscriber_id not in found:
            found[subscriber_id] = (kind, label)
            if len(found) >= limit:
                break
    if not found:
        return []
    query = select(t.subscribers).where(t.subscribers.c.id.in_(list(found)))
    subscribers = {s.id: s for s in (m.subscriber_from_row(r) for r in connection.execute(query).mappings())}
    return [SearchHit(subscribers[i], SearchKeyKind(kind), label) for i, (kind, label) in found.items()
            if i in subscribers]


def rebuild(connection: Connection, batch: int = 2000) -> int:
    """Write every subscriber's and contract's keys afresh (the migration that adds the table runs
    it); reads only the columns the keys come from. Returns the number of keys written."""
    connection.execute(delete(t.subscriber_search))
    s, c = t.subscribers.c, t.contracts.c
    written = 0
    sources = (
        (select(s.id, s.number, s.name, s.email, s.email_normalised).order_by(s.id),
         lambda r: [m.search_row(k, r.id) for k in subscriber_keys(
             r.number, r.name, EmailAddress(r.email, r.email_normalised) if r.email else None)]),
        (select(c.id, c.subscriber_id, c.number, c.meter_number).order_by(c.id),
         lambda r: [m.search_row(k, r.subscriber_id, r.id) for k in contract_keys(r.number, r.meter_number)]),
    )
    for query, rows_of in sources:
        result = connection.execute(query.execution_options(yield_per=batch))  # this statement only
        for part in result.partitions():
            rows = [row for r in part for row in rows_of(r)]
            if rows:
                connection.execute(insert(t.subscriber_search), rows)
                written += len(rows)
    return written
