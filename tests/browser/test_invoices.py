"""Paying an invoice with the simulator in a real Chromium (CSP enforced), and axe on the pages.

Uses the browser fixtures of ``tests/browser/conftest.py`` (a real ``portail demo`` + ``serve``).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_pay_an_invoice_with_the_simulator_and_it_leaves_the_a_payer_tab(browser, live_portal):
    context = browser.new_context(locale="fr-FR")  # CSP enforced: form-action must let the payment go
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    login(page, live_portal)
    page.goto(f"{live_portal}/factures?onglet=a-payer")
    rows = page.locator("tbody tr")
    before = rows.count()
    assert before >= 1
    number = rows.first.locator("a").inner_text()
    rows.first.locator("a").click()
    page.get_by_role("button", name="Régler la facture").click()
    page.wait_for_url("**/simulateur-paiement/**")
    assert "Ceci est une simulation" in page.content()
    page.get_by_label("Paiement accepté").check()
    page.get_by_role("button", name="Valider la simulation").click()
    page.wait_for_url("**/paiement/retour?idop=**")
    assert "est accepté" in page.content()
    page.goto(f"{live_portal}/factures?onglet=a-payer")
    assert number not in page.content() and page.locator("tbody tr").count() == before - 1
    assert [line for line in console if "Content Security Policy" in line] == []
    context.close()


def test_invoice_and_payment_pages_are_accessible(page, live_portal):
    login(page, live_portal)
    assert axe_violations(page) == []  # the home page with its invoices summary
    for path in ("/factures", "/factures?onglet=a-payer"):
        page.goto(f"{live_portal}{path}")
        assert axe_violations(page) == [], path
    page.locator("tbody tr a").first.click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Régler la facture").click()
    page.wait_for_url("**/simulateur-paiement/**")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Valider la simulation").click()
    page.wait_for_url("**/paiement/retour?idop=**")
    assert axe_violations(page) == []
