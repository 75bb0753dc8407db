"""Every route × every field with hostile text, logged in and not: the answer is never a 5xx.

On fakes, so it can afford many cases: control characters, lone surrogates (sent as the bytes
they would be, which are not UTF-8), strings that look like numbers and dates, very long values;
bodies urlencoded, multipart, or raw. Examples are derandomized: a run in CI is the run here.
The table of routes and fields, and how a request is built, are in ``tests/fuzz.py``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portail_adapters.memory import FakeGateway, FixedClock, MemoryDatabase, SequenceSecrets
from portail_domain.portal import Portal
from portail_web.app import CROSS_SITE_POSTS
from tests.fuzz import ENCODINGS, FIELDS, World, app_routes, cases, characters, hostile_text, key
from tests.support import make_portal

_original: list[World] = []


def fresh_world() -> World:
    """The same world for every case whichever ran before on this worker: built once, then copied
    (building it runs a dozen use cases; copying the fakes' data is five times cheaper)."""
    if not _original:
        _original.append(World(make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))))
    world = copy.copy(_original[0])
    world.portal = _copy_of(_original[0].portal)
    world.client = world.new_client()
    return world


def _copy_of(original: Portal) -> Portal:
    """The same data in new fakes; their counters start past what the original issued."""
    portal = make_portal(MemoryDatabase(tables=copy.deepcopy(original.uow.tables)), original.clock)
    portal.files.objects.update(original.files.objects)
    portal.files.content_types.update(original.files.content_types)
    gateway = FakeGateway(results=dict(original.payments.results), orders=dict(original.payments.orders),
                          ids=itertools.count(1000))
    return attrs.evolve(portal, secrets=SequenceSecrets(itertools.count(1000)), payments=gateway)


FUZZ = settings(max_examples=10, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize(("identity", "method", "route", "target"), list(cases()))
def test_no_route_answers_5xx_whatever_a_field_holds(identity, method, route, target):
    world = fresh_world()

    @FUZZ
    @given(value=hostile_text, encoding=st.sampled_from(ENCODINGS))
    def fuzz(value: str, encoding: str) -> None:
        response = world.send(identity, method, route, target, value, encoding)
        assert response.status_code < 500, (value, encoding, response.text[:500])

    with world.client:
        fuzz()


def post_routes() -> Iterator[object]:
    for method, route in app_routes():
        if method == "POST":
            for identity in ("anonymous", "subscriber"):
                yield pytest.param(identity, route, id=f"{identity}-{route.path_format}")


@pytest.mark.parametrize(("identity", "route"), list(post_routes()))
def test_any_csrf_token_but_the_right_one_is_refused_never_500(identity, route):
    """Issue 20: a non-ASCII token was a 500. Anything but the visitor's own token is refused
    (403, or the login redirect / 404 a route answers before it reads its form)."""
    world = fresh_world()

    @FUZZ
    @given(token=st.text(characters, max_size=80) | st.sampled_from(["é", "é" * 64, "０" * 64, "F" * 64]),
           encoding=st.sampled_from(ENCODINGS))
    def fuzz(token: str, encoding: str) -> None:
        response = world.send(identity, "POST", route, "", "", encoding, csrf=token)
        if route.path_format in CROSS_SITE_POSTS:  # the gateway's callbacks carry no token
            assert response.status_code < 500
            return
        refused = response.status_code in (403, 404) or response.headers.get("location", "").startswith(
            "/connexion?next=")
        assert refused, (token, response.status_code, response.text[:300])

    with world.client:
        fuzz()


def test_the_field_table_names_routes_of_the_app():
    """A route renamed or removed leaves no stale entry behind (a stale entry would fuzz nothing)."""
    assert set(FIELDS) <= {key(route, method) for method, route in app_routes()}
