"""Subscriber support in a real browser: an agent finds a subscriber, opens the card, acts.

Main has no staff sign-in with the second factor yet (``/connexion/code`` is a placeholder), so
the agent's session is written straight into the live portal's database as the code step will
leave it (past the second factor), and its cookie given to the browser. When the code step
lands, sign in through it instead.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pypdf
import pytest

from portail_adapters.sql import SqlUnitOfWorkFactory, create_engine_from_url
from portail_domain.model.accounts import Account, StaffUser, WebSession, hash_token
from portail_domain.model.values import EmailAddress
from tests.browser.conftest import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def agent_page(browser, live_portal, live_portal_dir):
    engine = create_engine_from_url(f"sqlite:///{live_portal_dir / 'var' / 'portail.db'}")
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with SqlUnitOfWorkFactory(engine)() as uow:
        staff = uow.staff.by_email("support.browser@eau-test.example")
        if staff is None:
            staff = StaffUser(EmailAddress.parse("support.browser@eau-test.example"), "Sophie Support",
                              totp_secret="JBSWY3DPEHPK3PXP")
            uow.staff.add(staff)
            uow.accounts.add(Account(password_hash="-", created_at=now, staff_id=staff.id))
        account = uow.accounts.for_staff(staff.id)
        uow.sessions.add(WebSession(hash_token(token), account.id, now, now, second_factor=True))
        uow.commit()
    engine.dispose()
    context = browser.new_context(bypass_csp=True, locale="fr-FR", accept_downloads=True)
    context.add_cookies([{"name": "portail_session", "value": token, "url": live_portal}])
    page = context.new_page()
    yield page
    context.close()


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
