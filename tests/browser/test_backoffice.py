"""The back office in a real browser: a staff sign-in with the TOTP code, the team page, a second-factor
reset, the member's enrolment (QR code, key, recovery codes) and the journal; axe on every page.

Uses the demo's staff (``portail demo``) and the browser fixtures of ``tests/browser/conftest.py``.
"""

from __future__ import annotations

import re

import pyotp
import pytest

from portail_adapters.demo_staff import DEMO_STAFF

conftest = pytest.importorskip("tests.browser.conftest")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ADMIN, AGENT = DEMO_STAFF


def _password(page, base_url: str, who) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Identifiant (e-mail)").fill(who.email)
    page.get_by_label("Mot de passe").fill(who.password)
    page.get_by_role("button", name="Connexion").click()


def test_sign_in_with_code_reset_a_colleague_who_enrols_again(page, live_portal):
    _password(page, live_portal, ADMIN)
    page.wait_for_url(re.compile(r".*/connexion/code"))
    assert conftest.axe_violations(page) == []
    page.get_by_label("Code à 6 chiffres de votre application, ou un code de secours").fill("000000")
    page.get_by_role("button", name="Valider").click()
    assert page.get_by_role("alert").is_visible() and conftest.axe_violations(page) == []
    page.get_by_label("Code à 6 chiffres de votre application, ou un code de secours").fill(
        pyotp.TOTP(ADMIN.totp_secret).now())
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(f"{live_portal}/agent")
    menu = page.get_by_role("navigation", name="Menu des agents")
    assert menu.get_by_role("link", name="Équipe").is_visible()

    menu.get_by_role("link", name="Équipe").click()
    page.wait_for_url(f"{live_portal}/agent/equipe")
    assert conftest.axe_violations(page) == []
    page.get_by_role("row", name=re.compile(AGENT.name)).get_by_role(
        "button", name="Réinitialiser la double authentification").click()
    page.wait_for_url(re.compile(r".*/agent/equipe\?fait=reset_2fa"))
    assert "Double authentification à activer" in page.get_by_role("row", name=re.compile(AGENT.name)).inner_text()
    page.get_by_role("button", name="Se déconnecter").click()

    _password(page, live_portal, AGENT)
    page.wait_for_url(f"{live_portal}/agent/securite")
    assert page.get_by_role("img", name=re.compile("QR code")).is_visible()
    assert page.locator("code.uri").inner_text().startswith("otpauth://totp/")
    assert conftest.axe_violations(page) == []
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Saisissez le code à 6 chiffres affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Vos codes de secours"
    assert page.locator("ul.recovery-codes li").count() == 10
    assert conftest.axe_violations(page) == []
    page.get_by_role("link", name="J'ai noté mes codes : continuer").click()
    page.wait_for_url(f"{live_portal}/agent")
    assert not page.get_by_role("navigation", name="Menu des agents").get_by_role("link", name="Équipe").count()

    page.get_by_role("navigation", name="Menu des agents").get_by_role("link", name="Journal").click()
    page.wait_for_url(f"{live_portal}/agent/journal")
    assert page.get_by_role("cell", name="Double authentification réinitialisée").is_visible()
    assert page.get_by_role("cell", name="Double authentification activée").is_visible()
    assert conftest.axe_violations(page) == []
