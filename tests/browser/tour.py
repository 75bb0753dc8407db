"""Every subscriber page at a desktop and a phone width: screenshots, sideways overflow, axe.

``make screenshots`` runs it (``python -m tests.browser.tour LABEL``): it starts a demo portal,
writes ``var/screenshots/LABEL-WIDTH-PAGE.png`` and prints, per width, the pages that scroll
sideways and axe's violations. The browser tests use its page list and its checks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from portail_adapters.demo import DEMO_EMAIL, DEMO_PASSWORD

CHROMIUM = os.environ.get("PORTAIL_TEST_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
HEIGHTS = {1280: 900, 390: 844}  # a desktop window; an iPhone 12-14 screen

# Pages reached by following the first link of a list: (name, list path, link selector).
FIRST_OF = [
    ("facture", "/factures", "main a[href^='/factures/']"),
    ("contrat", "/contrats", "main a[href^='/contrats/']"),
    ("demande", "/demandes", "main a[href^='/demandes/']:not([href$='nouvelle'])"),
    ("dossier", "/documents", "main a[href^='/documents/dossiers/']"),
]
FIXED = [
    ("accueil", "/"),
    ("factures", "/factures"),
    ("factures-a-payer", "/factures?onglet=a-payer"),
    ("contrats", "/contrats"),
    ("demandes", "/demandes"),
    ("demande-nouvelle", "/demandes/nouvelle"),
    ("documents", "/documents"),
    ("donnees-personnelles", "/donnees-personnelles"),
    ("mot-de-passe", "/donnees-personnelles/mot-de-passe"),
    ("a-propos", "/a-propos"),
]
PUBLIC = [("connexion", "/connexion"), ("activation", "/mot-de-passe")]


def log_in(page: Any, base_url: str, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


def subscriber_pages(page: Any, base_url: str) -> list[tuple[str, str]]:
    """(name, path) of every page the logged-in demo subscriber reaches, the reading form included."""
    pages = list(FIXED)
    for name, list_path, selector in FIRST_OF:
        page.goto(f"{base_url}{list_path}")
        href = page.locator(selector).first.get_attribute("href")
        pages.append((name, href))
        if name == "contrat":
            pages.append(("releve", f"{href}/releve"))
    return pages


def overflows(page: Any) -> bool:
    """Whether the page scrolls sideways."""
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(e => {
  const x = getComputedStyle(e).overflowX;
  return (x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth + 1;
}).length"""


def sideways_regions(page: Any) -> int:
    """How many regions inside the page scroll sideways (a table in a scrolling wrapper)."""
    return int(page.evaluate(SCROLLERS))


def axe(page: Any) -> list[str]:
    """axe-core's violations of any impact, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]]


def tour(browser: Any, base_url: str, out: Path | None, label: str) -> dict[int, dict[str, Any]]:
    """Visit every page at each width; screenshots into ``out`` (if given); the figures per width."""
    figures: dict[int, dict[str, Any]] = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": HEIGHTS[width]}, bypass_csp=True,
                                      locale="fr-FR")
        page = context.new_page()
        found: dict[str, Any] = {"overflow": [], "regions": {}, "axe": {}, "pages": 0}
        visits = [(name, path, False) for name, path in PUBLIC]
        visits.append(("login", "", True))
        for name, path, is_login in visits:
            if is_login:
                log_in(page, base_url)
                visits_after = subscriber_pages(page, base_url)
                for sub_name, sub_path in visits_after:
                    _visit(page, base_url, sub_name, sub_path, width, out, label, found)
                continue
            _visit(page, base_url, name, path, width, out, label, found)
        figures[width] = found
        context.close()
    return figures


def _visit(page: Any, base_url: str, name: str, path: str, width: int, out: Path | None, label: str,
           found: dict[str, Any]) -> None:
    page.goto(f"{base_url}{path}")
    found["pages"] += 1
    if out is not None:
        page.screenshot(path=str(out / f"{label}-{width}-{name}.png"), full_page=True)
    if overflows(page):
        found["overflow"].append(name)
    regions = sideways_regions(page)
    if regions:
        found["regions"][name] = regions
    violations = axe(page)
    if violations:
        found["axe"][name] = violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", nargs="?", default="now", help="prefix of the screenshot files")
    parser.add_argument("--out", default="var/screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.browser.live import running_portal

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir, running_portal(Path(workdir)) as base_url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        figures = tour(browser, base_url, out, args.label)
        browser.close()
    for width, found in figures.items():
        count = sum(len(v) for v in found["axe"].values())
        print(f"{width} px: {found['pages']} pages, {len(found['overflow'])} scroll sideways "
              f"{found['overflow']}, regions scrolling sideways {found['regions']}, {count} axe violations")
        for name, violations in found["axe"].items():
            for line in violations:
                print(f"  {name}: {line}")
    print(f"screenshots: {out}/{args.label}-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
