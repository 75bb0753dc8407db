"""Mes contrats in a real browser: row links, the chart without script, a reading sent, accessibility.

Uses the browser fixtures of ``tests/browser/conftest.py`` (skipped where they are absent).
"""

from __future__ import annotations

import re

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_contract_pages_work_without_script_and_are_accessible(page, live_portal):
    conftest.login(page, live_portal)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes contrats").click()
    page.wait_for_url(f"{live_portal}/contrats")
    assert conftest.axe_violations(page) == []
    page.get_by_role("link", name="C100001-1").click()  # the row's link
    page.wait_for_url(f"{live_portal}/contrats/C100001-1")
    chart = page.get_by_role("img", name=re.compile("Consommation en litres par jour"))
    assert chart.is_visible()
    assert page.get_by_role("table", name=re.compile("Consommation par période")).is_visible()
    assert page.locator("#surconsommation").is_visible()  # the demo's leak
    assert conftest.axe_violations(page) == []


def test_a_reading_sent_from_the_form_shows_what_it_implies(page, live_portal):
    conftest.login(page, live_portal)
    page.goto(f"{live_portal}/contrats/C100001-2/releve")
    last = re.search(r"Dernier index connu : ([\d\u202f\u00a0 ,]+) m³", page.inner_text("main")).group(1)
    litres = int(round(float(re.sub(r"[\u202f\u00a0 ]", "", last).replace(",", ".")) * 1000))
    assert conftest.axe_violations(page) == []
    page.get_by_label("Index du compteur (m³)").fill("abc")
    page.get_by_role("button", name="Envoyer la relève").click()
    assert "Saisissez l'index avec des chiffres" in page.get_by_role("alert").inner_text()
    assert conftest.axe_violations(page) == []
    page.get_by_label("Index du compteur (m³)").fill(f"{(litres + 5_000) / 1000:.3f}".replace(".", ","))
    page.get_by_role("button", name="Envoyer la relève").click()
    page.wait_for_url(re.compile(r".*/contrats/C100001-2\?releve="))
    assert "est enregistrée" in page.locator("#confirmation").inner_text()


def test_no_script_no_inline_style_under_the_real_csp(browser, live_portal):
    context = browser.new_context(locale="fr-FR", viewport={"width": 375, "height": 800})  # CSP enforced
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    conftest.login(page, live_portal)
    for path in ("/", "/contrats", "/contrats/C100001-1", "/contrats/C100001-1/releve"):
        page.goto(f"{live_portal}{path}")
    chart_width = page.goto(f"{live_portal}/contrats/C100001-1") and page.get_by_role("img").first.bounding_box()
    context.close()
    assert refused == []
    assert chart_width["width"] <= 375  # the chart fits a phone: nothing to scroll sideways
