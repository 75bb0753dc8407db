"""Issue 17 in a real Chromium: every subscriber page at 1280 and 390 px (no sideways scroll, axe
clean at any impact), the pay button in view on a phone, the menu disclosure, the error summary."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login
from tests.browser.live import running_portal
from tests.browser.tour import HEIGHTS, tour

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory, browser_tools):
    """A demo portal of this module's own: the other browser tests pay the demo's invoices."""
    with running_portal(tmp_path_factory.mktemp("phone")) as base_url:
        yield base_url


def test_every_subscriber_page_fits_both_widths_and_is_accessible(browser, live_portal):
    figures = tour(browser, live_portal, None, "test")
    for width, found in figures.items():
        assert found["pages"] == 17, width  # 2 public pages, 15 of the logged-in subscriber
        assert found["overflow"] == [], width  # document.documentElement.scrollWidth <= innerWidth
        assert found["regions"] == {}, width  # and no table scrolls inside the page either
        assert found["axe"] == {}, width


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": HEIGHTS[390]}, locale="fr-FR")  # CSP enforced
    page = context.new_page()
    yield page
    context.close()


def test_on_a_phone_the_pay_button_is_in_view_and_the_menu_folds(phone, live_portal):
    login(phone, live_portal)
    pay = phone.locator(".due").get_by_role("button", name="Régler")
    box = pay.bounding_box()
    assert pay.is_visible() and box["y"] + box["height"] <= HEIGHTS[390]  # no scrolling needed
    menu = phone.get_by_role("navigation", name="Menu principal")
    assert not menu.get_by_role("link", name="Mes factures").is_visible()
    menu.get_by_text("Menu", exact=True).click()  # <details>: no script involved
    menu.get_by_role("link", name="Mes factures").click()
    phone.wait_for_url(f"{live_portal}/factures")
    card = phone.locator("tbody tr").first
    assert card.get_by_role("button", name="Régler").is_visible()  # the card holds its pay button


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(phone, live_portal):
    login(phone, live_portal)
    phone.goto(f"{live_portal}/donnees-personnelles")
    phone.locator("#phone").fill("appelez-moi")
    phone.locator("#postal_code").fill("ABC")
    phone.locator("#city").fill("Paulhan-sur-Hérault")
    phone.get_by_role("button", name="Enregistrer").click()
    phone.wait_for_load_state()
    assert phone.evaluate("document.activeElement.id") == "error-summary"  # autofocus, no script needed
    links = phone.locator("#error-summary a")
    assert links.count() == 2  # every error at once
    assert phone.locator("#city").input_value() == "Paulhan-sur-Hérault"  # typed values kept
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.getAttribute('href')") == "#postal_code"
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "postal_code"
    assert phone.locator("#postal_code").get_attribute("aria-invalid") == "true"


def test_the_error_summary_works_without_script(browser, live_portal):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    login(page, live_portal)
    page.goto(f"{live_portal}/contrats/C100001-1/releve")
    page.locator("#index").fill("douze")
    page.get_by_role("button", name="Envoyer la relève").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"  # autofocus
    assert page.locator("#error-summary a").get_attribute("href") == "#index"
    assert page.locator("#index").input_value() == "douze"
    context.close()
