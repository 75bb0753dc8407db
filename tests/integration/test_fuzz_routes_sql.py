"""The fuzz pass on real databases: what the fakes accept, SQL may not (PostgreSQL refuses a NUL
character in any text parameter). Every route, every text path parameter and every field at once,
with a few values known to trouble databases and drivers; never a 5xx. The wide, generated pass
runs on fakes (``tests/unit/test_fuzz_routes.py``); this one is a fixed list, to stay quick.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from portail_adapters.memory import FixedClock
from portail_adapters.passwords import Argon2Hasher
from portail_adapters.payment import SimulatorGateway
from portail_adapters.sql import SqlUnitOfWorkFactory
from tests.fuzz import World, cases
from tests.support import BASE_URL, make_portal

VALUES = ["C1\x00", "\ud800", "x" * 300, "' OR 1=1 --"]


def test_no_route_answers_5xx_on_sql(engine):
    clock = FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock, passwords=Argon2Hasher.fast_for_tests())
    world = World(attrs.evolve(portal, payments=SimulatorGateway(engine, clock, BASE_URL)))
    failures = []
    with world.client:
        for case in cases():
            identity, method, route, target = case.values
            if target != "*" and not target.startswith("{"):
                continue  # one field at a time is the fakes' job
            for value in VALUES:
                response = world.send(identity, method, route, target, value, "urlencoded")
                if response.status_code >= 500:
                    failures.append(f"{case.id} {value[:20]!r}: {response.status_code}")
    assert not failures, "\n".join(failures)
