"""The legal pages (accessibility, legal notices, privacy), the footer that links them, the mediator
on the site and in mails, and the cookies the portal really sets."""

from __future__ import annotations

import re
from datetime import date

import attrs
import pytest

from portail_adapters.bootstrap import config_from
from portail_adapters.settings import SettingsError, load_settings
from portail_domain.model.legal import Accessibility, AccessibilityStatus, Host, Mediator, Publisher
from portail_domain.services.activation import request_password_link
from tests.support import add_contract, add_invoice, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
LEGAL_PAGES = ("/accessibilite", "/mentions-legales", "/confidentialite")


def with_legal(portal, **changes) -> None:
    portal.config = attrs.evolve(portal.config, legal=attrs.evolve(portal.config.legal, **changes))


@pytest.mark.parametrize("path", LEGAL_PAGES)
def test_legal_pages_answer_without_login(web, path):
    page = web.get(path)
    assert page.status_code == 200 and "<h1>" in page.text


@pytest.mark.parametrize("path", ["/connexion", "/mot-de-passe", "/a-propos", *LEGAL_PAGES, "/", "/factures",
                                  "/donnees-personnelles", "/page-qui-n-existe-pas"])
def test_every_page_links_the_legal_pages_with_the_accessibility_status(web, memory_portal, path):
    add_subscriber(memory_portal, password=PASSWORD)
    web.login("marie@example.org", PASSWORD)
    footer = web.get(path).text.split('<footer class="site">', 1)[1]
    for target in LEGAL_PAGES:
        assert f'href="{target}"' in footer
    assert "Accessibilité : non conforme" in footer


def test_the_declared_status_needs_an_audit_date(web, memory_portal):
    with_legal(memory_portal, accessibility=Accessibility(AccessibilityStatus.PARTIAL))
    assert "Accessibilité : non conforme" in web.get("/").text  # no audit, no claim
    with_legal(memory_portal, accessibility=Accessibility(AccessibilityStatus.PARTIAL, date(2026, 2, 3),
                                                          "a11y@eau-test.example"))
    page = web.get("/accessibilite").text
    assert "Accessibilité : partiellement conforme" in page
    assert "est partiellement conforme au référentiel général" in page and "3 février 2026" in page
    assert "mailto:a11y@eau-test.example" in page and "Défenseur des droits" in page
    english = web.get("/accessibilite", headers={"accept-language": "en"}).text
    assert "Accessibility: partially compliant" in english


def test_settings_refuse_a_conformity_without_audit_date(tmp_path):
    env = {"PORTAIL_SECRET_KEY_FILE": str(tmp_path / "s"), "PORTAIL_ACCESSIBILITY_STATUS": "conforme"}
    with pytest.raises(SettingsError) as raised:
        load_settings(env, create_secret=False)
    assert raised.value.problems == [
        "PORTAIL_ACCESSIBILITY_STATUS: 'conforme' needs the audit that found it: set PORTAIL_ACCESSIBILITY_AUDIT_DATE"]
    settings = load_settings({**env, "PORTAIL_ACCESSIBILITY_AUDIT_DATE": "2026-01-31"}, create_secret=False)
    accessibility = config_from(settings).legal.accessibility
    assert accessibility.status is AccessibilityStatus.CONFORME and accessibility.audit_date == date(2026, 1, 31)


def test_legal_notices_show_publisher_director_host_and_mediator(web, memory_portal):
    with_legal(memory_portal, publisher=Publisher("Régie des Eaux de Test", "1 place de la Mairie", "04 67 00 00 00",
                                                  "123 456 789 00012", "Jeanne Martin", "dpo@eau-test.example"),
               host=Host("Hébergeur SAS", "2 rue des Serveurs, 59100 Roubaix", "03 20 00 00 00"))
    page = web.get("/mentions-legales").text
    for text in ("Régie des Eaux de Test", "123 456 789 00012", "Jeanne Martin", "Hébergeur SAS",
                 "2 rue des Serveurs, 59100 Roubaix", "Médiation de l&#39;eau", "BP 40463, 75366 Paris Cedex 08",
                 'href="https://www.mediation-eau.fr"'):
        assert text in page


def test_the_mediator_is_on_the_site_and_in_every_mail(web, memory_portal):
    mediator = Mediator("Médiateur de test", "10 rue de la Paix, 75002 Paris", "https://mediateur.example")
    with_legal(memory_portal, mediator=mediator)
    memory_portal.composer.mediator = mediator  # as wiring builds it from the same settings
    assert "Médiateur de test" in web.get("/a-propos").text and "https://mediateur.example" in web.get(
        "/mentions-legales").text
    add_subscriber(memory_portal)
    request_password_link(memory_portal, "marie@example.org", "100001")
    with memory_portal.uow() as uow:
        [entry] = uow.outbox.pending()
    assert "Médiateur de test, 10 rue de la Paix, 75002 Paris, https://mediateur.example" in entry.mail.text
    assert "https://mediateur.example" in entry.mail.html


def test_privacy_page_prints_the_configured_retention_periods(web, memory_portal):
    from portail_domain.model.legal import Retention

    with_legal(memory_portal, retention=Retention(invoices_years=6, requests_years=1, security_days=180,
                                                  unused_account_years=2))
    page = web.get("/confidentialite").text
    for text in ("6 ans après l'émission", "1 an après la clôture", "180 jours", "après 2 ans sans connexion",
                 "PayFiP", "logiciel de facturation", "relais de messagerie", "CNIL"):
        assert text in page


COOKIE_NAME = re.compile(r"^(?:__Host-)?([^=;\s]+)=")


def cookies_set(response) -> set[str]:
    return {COOKIE_NAME.match(v).group(1) for k, v in response.headers.multi_items() if k == "set-cookie"}


def test_every_cookie_the_portal_sets_is_listed_on_the_privacy_page(web, memory_portal):
    """A journey through everything that sets a cookie: visit, language, activation link, login, pages, logout."""
    marie = add_subscriber(memory_portal, password=PASSWORD)
    add_contract(memory_portal, marie, "C1", periods=3)
    add_invoice(memory_portal, marie, contract_number="C1")
    seen: set[str] = set()

    def visit(response):
        seen.update(cookies_set(response))
        return response

    for path in ("/", "/connexion", *LEGAL_PAGES, "/langue?code=en&next=/", "/langue?code=fr&next=/"):
        visit(web.get(path, follow_redirects=False))
    request_password_link(memory_portal, "marie@example.org", "100001")
    with memory_portal.uow() as uow:
        token = re.search(r"jeton=([\w-]+)", uow.outbox.pending()[-1].mail.text).group(1)
    visit(web.get(f"/mot-de-passe/nouveau?jeton={token}", follow_redirects=False))
    visit(web.login("marie@example.org", PASSWORD))
    for path in ("/", "/contrats", "/contrats/C1", "/factures", "/donnees-personnelles", "/documents", "/demandes"):
        visit(web.get(path, follow_redirects=False))
    visit(web.submit("/", "/deconnexion"))
    assert {"portail_session", "portail_csrf", "portail_lang", "portail_jeton"} <= seen
    table = web.get("/confidentialite").text.split('id="cookies"', 1)[1]
    listed = set(re.findall(r"<code>([^<]+)</code>", table))
    assert seen <= listed, f"cookies set but not on the privacy page: {seen - listed}"
