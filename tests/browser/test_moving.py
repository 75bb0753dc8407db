"""Moving out and in, and the instalment schedule, in a real browser at desktop and phone widths: a bad
index refused with the reading rules' message, then the declaration filed; every page checked with axe-core."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize(("width", "category"), [(1280, "demenagement"), (390, "emmenagement")])
def test_a_moving_declaration_with_a_bad_index_is_refused_then_filed(browser, live_portal, width, category):
    context = browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        conftest.login(page, live_portal)
        page.goto(f"{live_portal}/demandes")
        link = "Déclarer un déménagement" if category == "demenagement" else "Déclarer un emménagement"
        page.get_by_role("link", name=link).first.click()
        page.wait_for_url(f"{live_portal}/demandes/nouvelle?categorie={category}")
        assert page.get_by_role("heading", level=1).inner_text() == link
        assert conftest.axe_violations(page) == []
        # The demo's first contract: no other browser test writes a reading on it (test_contracts uses -2).
        page.get_by_label("Contrat concerné").select_option("C100001-1")
        day = (date.today() - timedelta(days=1)).isoformat()  # the demo's readings stop 10 days ago
        if category == "demenagement":
            page.get_by_label("Date du départ").fill(day)
            page.get_by_label("Nouvelle adresse (pour la facture de clôture)").fill("4 avenue du Port, 34200 Sète")
        else:
            page.get_by_label("Date de l'arrivée").fill(day)
            page.get_by_label("Nom de l'occupant").fill("Lucie Bernard")
        page.get_by_label("Index du compteur ce jour-là (m³)").fill("1")
        page.get_by_role("button", name="Envoyer la déclaration").click()
        assert page.inner_text("#index-error") == "L'index saisi est inférieur au dernier index connu de ce compteur."
        assert page.get_by_label("Index du compteur ce jour-là (m³)").get_attribute("aria-invalid") == "true"
        assert conftest.axe_violations(page) == []
        page.get_by_label("Index du compteur ce jour-là (m³)").fill("99999")
        page.get_by_role("button", name="Envoyer la déclaration").click()
        page.wait_for_url(re.compile(r".*/demandes/[0-9a-f-]+\?envoyee=1$"))
        facts = page.inner_text("dl.card-details")
        assert "C100001-1" in facts and "99" in facts
        assert ("4 avenue du Port, 34200 Sète" in facts) == (category == "demenagement")
        assert ("Lucie Bernard" in facts) == (category == "emmenagement")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
        assert conftest.axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_schedule_tab_is_accessible(browser, live_portal, width):
    context = browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        conftest.login(page, live_portal)
        page.goto(f"{live_portal}/factures")
        page.get_by_role("link", name="Échéancier").click()
        page.wait_for_url(f"{live_portal}/factures?onglet=echeancier")
        assert page.get_by_role("heading", name="Échéancier du contrat C100001-2").is_visible()  # the demo's
        assert page.get_by_role("table").locator("tbody tr").count() == 10
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert conftest.axe_violations(page) == []
        page.goto(f"{live_portal}/contrats/C100001-2")
        assert page.get_by_role("heading", name="Échéancier du contrat C100001-2").is_visible()
        assert conftest.axe_violations(page) == []
    finally:
        context.close()
