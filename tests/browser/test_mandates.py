"""Signing up for direct debit in a real Chromium, with axe at 1280 and 390 px wide.

The signing code is read where a subscriber would get it: the e-mail queued by the live portal.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations, login

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

IBAN = "FR76 3000 6000 0000 0100 0123 420"


def signing_code(workdir: Path) -> str:
    with sqlite3.connect(workdir / "var" / "portail.db") as db:
        subjects = [row[0] for row in db.execute("SELECT subject FROM outbox ORDER BY created_at")]
    return next(m.group(1) for m in (re.search(r"(\d{6})$", s) for s in reversed(subjects)) if m)


@pytest.mark.parametrize("width", [1280, 390])
def test_sign_and_revoke_a_mandate(browser, live_portal, live_portal_dir, width):
    # axe is injected as a script: the page's CSP is bypassed (the invoice flow test runs with it enforced).
    context = browser.new_context(bypass_csp=True, locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    login(page, live_portal)
    page.goto(f"{live_portal}/prelevement")
    assert axe_violations(page) == []
    page.get_by_label("Prélèvement à l'échéance", exact=False).check()
    page.get_by_label("Titulaire du compte").fill("Marie Dupont")
    page.get_by_label("IBAN").fill(IBAN)
    page.get_by_role("button", name="Recevoir le code de signature").click()
    page.wait_for_url("**/prelevement?fait=code")
    assert "FR76 •••• •••• 3420" in page.content() and "0100 0123" not in page.content()
    assert axe_violations(page) == []
    rum = page.locator("#rum").inner_text()

    page.get_by_label("Code de signature reçu par e-mail (6 chiffres)").fill("000000" if width == 390 else "99999")
    page.get_by_role("button", name="Signer le mandat").click()  # a wrong code first (or one the form refuses)
    if width == 390:
        assert "Essais restants : 4" in page.content()
        assert axe_violations(page) == []
    page.get_by_label("Code de signature reçu par e-mail (6 chiffres)").fill(signing_code(live_portal_dir))
    page.get_by_role("button", name="Signer le mandat").click()
    page.wait_for_url("**/prelevement?fait=signe")
    assert "Votre mandat est signé" in page.content() and rum in page.content()
    assert axe_violations(page) == []
    page.screenshot(path=str(live_portal_dir / f"prelevement-{width}.png"), full_page=True)

    page.get_by_role("button", name=f"Révoquer le mandat {rum}").click()
    page.wait_for_url("**/prelevement?fait=revoque")
    assert "Votre mandat est révoqué" in page.content()
    context.close()
