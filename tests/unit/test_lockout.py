"""Nobody locks the real subscriber out: device cookies for logins, per-client counting for links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portail_web import create_app
from tests.support import BASE_URL, WebClient, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"


@pytest.fixture
def browsers(memory_portal) -> Iterator[callable]:
    """Separate browsers (cookie jars) on the same portal."""
    opened: list[WebClient] = []

    def open_browser() -> WebClient:
        client = WebClient(create_app(memory_portal), base_url=BASE_URL)
        opened.append(client.__enter__())
        return client

    yield open_browser
    for client in opened:
        client.__exit__(None, None, None)


def try_login(browser: WebClient, password: str, email: str = "marie@example.org") -> int:
    return browser.submit("/connexion", data={"email": email, "password": password}).status_code


def test_an_attacker_elsewhere_does_not_lock_the_subscriber_out_of_her_own_browser(memory_portal, browsers):
    add_subscriber(memory_portal, password=PASSWORD)
    hers, attacker, new_one = browsers(), browsers(), browsers()
    assert try_login(hers, PASSWORD) == 303  # her browser becomes a known device of her account
    assert [try_login(attacker, f"devine-{n}") for n in range(12)][-1] == 429
    assert try_login(hers, PASSWORD) == 303
    assert try_login(new_one, PASSWORD) == 429  # unknown devices wait, as before


def test_a_device_cookie_counts_its_own_failures_and_only_for_its_account(memory_portal, browsers):
    add_subscriber(memory_portal, password=PASSWORD)
    add_subscriber(memory_portal, "100002", email="paul@example.org", password=PASSWORD)
    hers, pauls = browsers(), browsers()
    assert try_login(hers, PASSWORD) == 303 and try_login(pauls, PASSWORD, "paul@example.org") == 303
    assert [try_login(pauls, f"devine-{n}") for n in range(12)][-1] == 429  # Paul's cookie is not for Marie
    assert try_login(hers, PASSWORD) == 303
    assert [try_login(hers, f"oubli-{n}") for n in range(12)][-1] == 429  # her own device is throttled too
    assert try_login(hers, PASSWORD) == 429


def test_a_forged_device_cookie_is_ignored(memory_portal, browsers):
    add_subscriber(memory_portal, password=PASSWORD)
    attacker = browsers()
    attacker.cookies.set("portail_appareil", "abc." + "0" * 64)
    assert [try_login(attacker, f"devine-{n}") for n in range(12)][-1] == 429
    assert try_login(browsers(), PASSWORD) == 429


def ask_link(portal, client: str) -> str:
    from portail_domain.services.activation import request_password_link

    return request_password_link(portal, "marie@example.org", "100001", client=client)


def test_someone_elses_link_requests_do_not_silence_the_subscriber(memory_portal):
    add_subscriber(memory_portal)
    assert [ask_link(memory_portal, "203.0.113.7") for _ in range(8)] == ["sent"] * 5 + ["too_many"] * 3
    assert ask_link(memory_portal, "198.51.100.2") == "sent"


def test_refused_link_requests_do_not_push_the_hour_forward(memory_portal, clock):
    add_subscriber(memory_portal)
    for _ in range(5):
        assert ask_link(memory_portal, "203.0.113.7") == "sent"
    for _ in range(6):
        clock.advance(minutes=10)
        assert ask_link(memory_portal, "203.0.113.7") == "too_many"
    clock.advance(seconds=1)  # an hour and a second after the fifth link
    assert ask_link(memory_portal, "203.0.113.7") == "sent"


def test_links_from_every_address_have_a_ceiling(memory_portal):
    from portail_domain.model.throttling import LINKS_PER_HOUR_ALL_CLIENTS

    add_subscriber(memory_portal)
    outcomes = [ask_link(memory_portal, f"10.0.{n}.1") for n in range(LINKS_PER_HOUR_ALL_CLIENTS + 2)]
    assert outcomes == ["sent"] * LINKS_PER_HOUR_ALL_CLIENTS + ["too_many"] * 2
