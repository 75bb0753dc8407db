"""Publier un document in a real Chromium, at 1280 and 390 px: staff count the recipients, publish a PDF
(to the demo subscriber, or to a postal code), a refusal first; the subscriber finds it in Courriers;
axe on every page."""

from __future__ import annotations

import re

import pytest

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PDF = b"%PDF-1.7\n" + b"Qualite de l'eau distribuee en 2025. " * 50 + b"\n%%EOF\n"


@pytest.mark.parametrize(("width", "choice", "filename"), [
    (1280, "Un abonné", "qualite-eau-100001.pdf"),
    (390, "Les abonnés d'un code postal", "qualite-eau-34230.pdf"),
])
def test_staff_publish_and_the_subscriber_finds_it(browser, live_portal, width, choice, filename):
    context = browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    conftest.staff_login(page, live_portal)
    page.goto(f"{live_portal}/agent")
    page.get_by_role("link", name="publier un document").click()
    page.wait_for_url(f"{live_portal}/agent/documents")
    assert conftest.axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll

    page.get_by_role("radio", name=choice, exact=True).check()
    if choice == "Un abonné":
        page.get_by_label("Numéro d'abonné (pour « Un abonné »)").fill("100001")
    else:
        page.get_by_label("Code postal (pour « Les abonnés d'un code postal »)").fill("34230")
    page.get_by_role("button", name="Compter les destinataires").click()
    page.wait_for_url(re.compile(r".*/agent/documents\?.*"))
    counted = page.get_by_role("status").inner_text()
    assert re.search(r"Ce document sera publié pour \d+ abonnés?", counted), counted
    assert conftest.axe_violations(page) == []

    publish = page.get_by_role("button", name=re.compile(r"Publier pour \d+ abonnés?"))
    page.get_by_label("Fichier").set_input_files(
        files=[{"name": "note.exe", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" + b"\x00" * 64}])
    publish.click()
    assert "Ce type de fichier n'est pas accepté" in page.get_by_role("alert").inner_text()
    assert conftest.axe_violations(page) == []

    page.get_by_label("Fichier").set_input_files(files=[{"name": filename, "mimeType": "application/pdf",
                                                        "buffer": PDF}])
    page.get_by_role("button", name=re.compile(r"Publier pour \d+ abonnés?")).click()
    page.wait_for_url(re.compile(r".*/agent/documents\?publie=\d+&courriels=\d+"))
    assert re.search(r"Document publié pour \d+ abonnés?\.", page.get_by_role("status").inner_text())
    assert conftest.axe_violations(page) == []
    page.get_by_role("button", name="Se déconnecter").click()

    conftest.login(page, live_portal)  # the demo subscriber, 100001, at Paulhan (34230)
    page.goto(f"{live_portal}/documents")
    page.get_by_role("link", name=re.compile("Courriers")).first.click()
    assert page.get_by_role("link", name=filename).is_visible()
    assert conftest.axe_violations(page) == []
    context.close()
