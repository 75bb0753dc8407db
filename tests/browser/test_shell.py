"""The portal as a subscriber sees it in a real browser: log in, the five areas, accessibility."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_login_page_is_accessible(page, live_portal):
    page.goto(f"{live_portal}/connexion")
    assert page.get_by_role("link", name="Créer / Renouveler mot de passe").is_visible()
    assert axe_violations(page) == []


def test_subscriber_logs_in_and_sees_the_five_areas(page, live_portal):
    login(page, live_portal)
    menu = page.get_by_role("navigation", name="Menu principal")
    for area in ("Mes demandes", "Mes factures", "Mes données personnelles", "Mes contrats", "Mes documents"):
        assert menu.get_by_role("link", name=area).is_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{live_portal}/connexion?deconnecte=1")
    assert page.get_by_text("Vous êtes déconnecté.").is_visible()
    page.goto(f"{live_portal}/")
    assert page.url.startswith(f"{live_portal}/connexion")


def test_readable_on_a_phone(browser, live_portal):
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    login(page, live_portal)
    # No horizontal scrolling on a small screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_no_inline_script_or_style_is_needed(browser, live_portal):
    """With the CSP enforced (no bypass), the page loads its stylesheet and reports no violation."""
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(f"{live_portal}/connexion")
    color = page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor")
    assert color == "rgb(11, 79, 138)"  # the stylesheet applied
    assert violations == []
    context.close()
