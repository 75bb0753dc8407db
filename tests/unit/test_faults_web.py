"""A database that is down or restarting gives a 503 that says to come back, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from portail_web import create_app
from tests.support import BASE_URL, WebClient, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"


@pytest.fixture
def web(memory_portal):
    """A browser that sees what a real one sees: the error page, not the server's exception."""
    with WebClient(create_app(memory_portal), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client


class DatabaseDown:
    def __call__(self, **_kwargs: object) -> object:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.mark.parametrize("path", ["/factures", "/"])
def test_pages_say_the_service_is_unavailable_while_the_database_is_down(web, memory_portal, path):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    working = memory_portal.uow
    memory_portal.uow = DatabaseDown()
    response = web.get(path)
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    memory_portal.uow = working
    assert web.get(path).status_code == 200


def test_a_bug_is_still_a_500(web, memory_portal):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)

    def broken(**_kwargs: object) -> object:
        raise ValueError("a bug")

    memory_portal.uow = broken
    assert web.get("/factures").status_code == 500
