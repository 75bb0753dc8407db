"""The requests desk in a real browser: the dashboard, the queue with its filters, a request, an
internal note and a reply; axe on every page. Uses the demo's administrator (``portail demo``)."""

from __future__ import annotations

import re

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_dashboard_queue_note_and_reply(page, live_portal):
    conftest.staff_login(page, live_portal)
    assert page.get_by_role("heading", name="Tableau de bord").is_visible()
    assert conftest.axe_violations(page) == []

    page.get_by_role("link", name="Demandes en cours de traitement").click()
    page.wait_for_url(re.compile(r".*/agent/demandes\?statut=in_progress"))
    page.get_by_label("Statut").select_option("")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r".*/agent/demandes\?"))
    assert conftest.axe_violations(page) == []
    page.locator("table tbody tr th a").first.click()
    page.wait_for_url(re.compile(r".*/agent/demandes/[0-9a-f-]+$"))
    assert conftest.axe_violations(page) == []

    page.get_by_label("Nouvelle note interne").fill("Rappeler l'abonné jeudi")
    page.get_by_role("button", name="Ajouter la note").click()
    page.wait_for_url(re.compile(r".*\?fait=note"))
    assert page.get_by_text("Rappeler l'abonné jeudi").is_visible()

    page.get_by_label("Réponse à l'abonné").fill("Un technicien passera jeudi matin.")
    page.get_by_label("Statut après la réponse").select_option("in_progress")
    page.get_by_role("button", name="Envoyer la réponse").click()
    page.wait_for_url(re.compile(r".*\?fait=reponse"))
    assert page.get_by_role("status").filter(has_text="Votre réponse est enregistrée").is_visible()
    assert page.get_by_text("Un technicien passera jeudi matin.").is_visible()
    assert conftest.axe_violations(page) == []
