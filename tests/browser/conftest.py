"""A real portal process and a real Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from portail_adapters.demo import DEMO_EMAIL, DEMO_PASSWORD
from portail_adapters.demo_staff import DEMO_STAFF
from tests.browser.live import running_portal

CHROMIUM = os.environ.get("PORTAIL_TEST_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (make test installs Debian's chromium when run as root)"
    if not AXE.exists():
        return "axe-core is not installed (make test runs npm install)"
    return None


@pytest.fixture(scope="session")
def browser_tools() -> None:
    problem = _missing()
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="session")
def live_portal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the live portal runs: its database is ``var/portail.db`` there (tests read its outbox)."""
    return tmp_path_factory.mktemp("portal")


@pytest.fixture(scope="session")
def live_portal(live_portal_dir: Path, browser_tools: None) -> Iterator[str]:
    """``portail demo`` then ``portail serve`` in a directory of its own; yields the base URL."""
    with running_portal(live_portal_dir) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser(browser_tools: None):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page, *, impacts=("serious", "critical")) -> list[str]:
    """Run axe-core on the page; the serious and critical violations, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def login(page, base_url: str, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form, as the demo subscriber by default."""
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Identifiant (e-mail)").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{base_url}/")


STAFF_CODE_FIELD = "Code à 6 chiffres de votre application, ou un code de secours"


def staff_login(page, base_url: str) -> None:
    """Sign in as the demo administrator: password, then the current TOTP code. A code already used
    in its 30-second step (another test signed in just before) is refused: wait for the next step
    and give that one."""
    admin = DEMO_STAFF[0]
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Identifiant (e-mail)").fill(admin.email)
    page.get_by_label("Mot de passe").fill(admin.password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(re.compile(r".*/connexion/code"))
    for _attempt in range(2):
        page.get_by_label(STAFF_CODE_FIELD).fill(pyotp.TOTP(admin.totp_secret).now())
        page.get_by_role("button", name="Valider").click()
        page.wait_for_load_state()
        if page.url == f"{base_url}/agent":
            return
        time.sleep(31 - time.time() % 30)
    raise AssertionError(f"the code step did not let the administrator in: {page.url}")
