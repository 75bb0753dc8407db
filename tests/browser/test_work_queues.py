"""The back office's readings queue in a real browser: a subscriber sends an implausible reading, a member
of staff rejects it with a reason from /agent/releves, the subscriber sees it rejected; axe on each page."""

from __future__ import annotations

import re

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_staff_reject_a_reading_to_review_and_the_subscriber_sees_why(page, live_portal):
    conftest.login(page, live_portal)
    page.goto(f"{live_portal}/contrats/C100001-1/releve")
    last = re.search(r"Dernier index connu : ([\d\u202f\u00a0 ,]+) m³", page.inner_text("main")).group(1)
    litres = int(round(float(re.sub(r"[\u202f\u00a0 ]", "", last).replace(",", ".")) * 1000))
    sent = f"{(litres + 9_000_000) / 1000:.3f}".replace(".", ",")  # 9,000 m³ more: implausible
    page.get_by_label("Index du compteur (m³)").fill(sent)
    page.get_by_role("button", name="Envoyer la relève").click()
    page.wait_for_url(re.compile(r".*/contrats/C100001-1\?releve="))
    page.get_by_role("button", name="Se déconnecter").click()

    conftest.staff_login(page, live_portal)
    page.get_by_role("navigation", name="Menu des agents").get_by_role("link", name="Relevés à valider").click()
    page.wait_for_url(f"{live_portal}/agent/releves")
    assert conftest.axe_violations(page) == []
    card = page.get_by_role("region", name=re.compile(r"Contrat C100001-1 — index .* m³"))
    assert card.get_by_text("Consommation induite").is_visible()
    card.get_by_role("button", name="Refuser ce relevé").click()  # no reason: the browser asks for one
    assert page.url == f"{live_portal}/agent/releves"
    card.get_by_label("Motif du refus (envoyé à l'abonné)").fill("Index impossible : vérifiez le compteur")
    card.get_by_role("button", name="Refuser ce relevé").click()
    page.wait_for_url(re.compile(r".*/agent/releves\?fait=reject"))
    assert "l'abonné en est informé" in page.get_by_role("status").inner_text()
    assert conftest.axe_violations(page) == []
    page.get_by_role("button", name="Se déconnecter").click()

    conftest.login(page, live_portal)
    page.goto(f"{live_portal}/contrats/C100001-1")
    row = page.get_by_role("row", name=re.compile("Rejetée"))
    assert "Motif : Index impossible : vérifiez le compteur" in row.first.inner_text()
    assert conftest.axe_violations(page) == []
