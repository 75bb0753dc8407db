"""Mes demandes in a real browser: from the over-consumption alert to a filed écrêtement request
with its certificate, the thread, accessibility of every page.

Uses the browser fixtures of ``tests/browser/conftest.py`` (skipped where they are absent).
"""

from __future__ import annotations

import re

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PDF = b"%PDF-1.4\n" + b"attestation de reparation de fuite\n" * 20 + b"%%EOF\n"


def test_leak_alert_leads_to_a_filed_request_with_its_certificate(page, live_portal):
    conftest.login(page, live_portal)
    page.get_by_role("link", name="Demander l'écrêtement de la facture").first.click()
    page.wait_for_url(re.compile(r".*/demandes/nouvelle\?categorie=ecretement&contrat=C100001-1$"))
    assert page.get_by_label("Type de demande").input_value() == "ecretement"
    assert page.get_by_label("Contrat concerné (facultatif)").input_value() == "C100001-1"
    assert "attestation de réparation de la fuite" in page.inner_text("#leak-relief")
    assert conftest.axe_violations(page) == []

    page.get_by_label("Votre message").fill("Fuite réparée, attestation jointe.")
    page.get_by_label("Pièce jointe (facultatif)").set_input_files(
        {"name": "attestation.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_url(re.compile(r".*/demandes/[0-9a-f-]+\?envoyee=1$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Demande D-")
    assert page.get_by_role("link", name="attestation.pdf").is_visible()
    assert conftest.axe_violations(page) == []


def test_request_list_and_refused_form_are_accessible(page, live_portal):
    conftest.login(page, live_portal)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes demandes").click()
    page.wait_for_url(f"{live_portal}/demandes")
    assert page.get_by_role("table").get_by_text("Compteur difficile d'accès").is_visible()  # the demo's
    assert conftest.axe_violations(page) == []
    page.get_by_role("row", name=re.compile("Compteur difficile")).get_by_role("link").click()
    assert page.get_by_text("Service clientèle").is_visible()
    assert conftest.axe_violations(page) == []

    page.goto(f"{live_portal}/demandes/nouvelle")
    page.get_by_label("Type de demande").select_option("meter")
    page.get_by_label("Objet").fill("Compteur")
    page.get_by_label("Votre message").fill("Voir la pièce jointe.")
    page.get_by_label("Pièce jointe (facultatif)").set_input_files(
        {"name": "virus.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00not a pdf"})
    page.get_by_role("button", name="Envoyer la demande").click()
    assert "PDF, JPEG ou PNG" in page.inner_text("#attachment-error")
    assert page.get_by_label("Objet").input_value() == "Compteur"
    assert conftest.axe_violations(page) == []
