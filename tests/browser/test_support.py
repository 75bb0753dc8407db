"""Subscriber support in a real browser: an agent signs in (password, then the TOTP code), finds a
subscriber, opens the card, downloads the activation letter and unblocks the login; axe on each page.

Uses the demo's administrator (``portail demo``; the back-office test resets the demo agent's
second factor) and the browser fixtures of ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import pypdf
import pytest

from tests.browser.conftest import axe_violations, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def agent_context(browser, live_portal):
    context = browser.new_context(bypass_csp=True, locale="fr-FR", accept_downloads=True)
    staff_login(context.new_page(), live_portal)
    yield context
    context.close()


@pytest.fixture
def agent_page(agent_context):
    page = agent_context.new_page()
    yield page
    page.close()


def test_agent_finds_a_subscriber_without_accents_and_opens_the_card(agent_page, live_portal):
    page = agent_page
    page.goto(f"{live_portal}/agent")
    page.get_by_role("navigation", name="Menu des agents").get_by_role("link", name="Abonnés").click()
    page.get_by_label("Numéro d'abonné, nom, e-mail, numéro de contrat ou de compteur").fill("DUPONT")
    page.get_by_role("button", name="Rechercher").click()
    results = page.locator("#resultats")
    assert results.get_by_role("link", name="100001").is_visible()
    assert axe_violations(page) == []
    results.get_by_role("link", name="100001").click()
    page.wait_for_url(f"{live_portal}/agent/abonnes/100001")
    assert page.get_by_role("heading", name="Compte sur le portail").is_visible()
    assert page.locator("#etat-compte").get_by_text("Sessions ouvertes").is_visible()
    assert page.get_by_role("heading", name="Contrats").is_visible()
    assert axe_violations(page) == []


def test_agent_downloads_the_activation_letter_and_unblocks_the_login(agent_page, live_portal):
    page = agent_page
    page.goto(f"{live_portal}/agent/abonnes/100002")
    with page.expect_download() as download:
        page.get_by_role("button", name="Nouveau code d'activation (lettre PDF)").click()
    letter = download.value
    assert letter.suggested_filename == "lettre-activation-100002.pdf"
    text = pypdf.PdfReader(letter.path()).pages[0].extract_text()
    assert "Créer / Renouveler mot de passe" in text and live_portal in text
    page.reload()
    assert page.get_by_text("un code envoyé n'a pas encore servi").is_visible()
    page.get_by_role("button", name="Débloquer la connexion").click()
    page.wait_for_url(f"{live_portal}/agent/abonnes/100002?fait=debloque")
    assert page.get_by_role("status").get_by_text("La connexion de l'abonné est débloquée.").is_visible()
    assert axe_violations(page) == []
