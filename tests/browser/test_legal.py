"""The legal pages in a real browser: reachable from the footer of any page, and accessible (axe-core)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize(("link", "heading"), [
    ("Accessibilité : non conforme", "Déclaration d'accessibilité"),
    ("Mentions légales", "Mentions légales"),
    ("Données personnelles et cookies", "Données personnelles et cookies"),
])
def test_legal_pages_are_linked_from_the_footer_and_accessible(page, live_portal, link, heading):
    page.goto(f"{live_portal}/connexion")
    page.get_by_role("navigation", name="Informations légales").get_by_role("link", name=link).click()
    # click() waits for the navigation to start, not for the new page: is_visible() alone raced it
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    assert axe_violations(page) == []


def test_the_data_rights_section_is_accessible(page, live_portal):
    login(page, live_portal)
    page.goto(f"{live_portal}/donnees-personnelles")
    assert page.get_by_role("heading", name="Fermer mon compte").is_visible()
    assert page.get_by_role("link", name="Télécharger mes données").is_visible()
    assert axe_violations(page) == []
