"""Internal links come from route names: no template holds a literal path, every link on every
page leads to a route, and business numbers (contracts, invoices) round-trip through URLs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from starlette.routing import Match

from portail_web import create_app
from portail_web.templating import TEMPLATES_DIR
from tests.support import BASE_URL, WebClient, add_contract, add_invoice, add_staff, add_subscriber, sign_in_staff

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation " * 300 + b"\n%%EOF\n"
# Numbers as a billing system may write them: every character a URL treats specially.
AWKWARD_NUMBERS = ["C2/B", "A?b=1", "N#4", "50%", "50%2F", "C 12", "Été/2026", "a+b&c"]
LINK_ATTRIBUTE = re.compile(r'\b(href|action|src)="([^"]*)"')
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
PATH_LITERAL = re.compile(r"""["']/(?!/)""")


def _templates() -> list[Path]:
    return sorted(TEMPLATES_DIR.rglob("*.html"))


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_no_template_holds_a_literal_internal_path(template):
    source = template.read_text(encoding="utf-8")
    for attribute, value in LINK_ATTRIBUTE.findall(source):
        assert not value.startswith("/"), f'{attribute}="{value}": use url_for(...)'
        assert "}}/" not in value.replace(" ", ""), f'{attribute}="{value}": a path glued to a value, use url_for'
    for expression in JINJA.findall(source):
        assert not PATH_LITERAL.search(expression), f"{expression}: a literal path, use url_for(...)"


# --- every page a visitor, a subscriber and a staff user reach ---------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form" and (dict(attrs).get("method") or "get").lower() == "get":
            tag = "form-get"  # a search or filter form: its action is a page
        for name, value in attrs:
            if name in ("href", "action", "src") and value is not None:
                self.found.append((tag, name, value))


def _links(html: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def _route_answers(app, path: str, method: str) -> bool:
    """Some route of ``app`` takes ``method`` on ``path`` (as the server sees it: decoded)."""
    scope = {"type": "http", "path": unquote(path), "root_path": "", "method": method, "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in app.routes)


def _crawl(client: WebClient, starts: list[str]) -> dict[str, int]:
    """Every internal GET link reachable from ``starts``, with its status; fails on a link that is
    neither a fragment, tel:, mailto:, the mediator's site nor a site-relative path to a route of the app."""
    app = client.app
    # The one site the portal links to on purpose: the consumer mediator (Code de la consommation L616-1).
    external = {app.state.portal.config.legal.mediator.url}
    seen: dict[str, int] = {}
    queue = list(starts)
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        for tag, attribute, value in _links(response.text):
            if value.startswith(("#", "tel:", "mailto:")) or value in external:
                continue
            assert value.startswith("/") and not value.startswith("//"), f"{url}: {tag} {attribute}={value!r}"
            parts = urlsplit(value)
            method = "POST" if tag == "form" else "GET"
            assert _route_answers(app, parts.path, method), f"{url}: {tag} {attribute}={value!r} leads nowhere"
            if method == "GET" and not parts.path.startswith("/langue"):  # the language switch sets a cookie
                queue.append(value.split("#", 1)[0])
    return seen


def test_every_link_of_every_page_leads_to_a_route(memory_portal, web):
    marie = add_subscriber(memory_portal, password=PASSWORD)
    add_contract(memory_portal, marie, "C 1/2?x#y%z", leak=True)  # the home page alert links to a request
    add_invoice(memory_portal, marie, "F/2026 #1?%", contract_number="C 1/2?x#y%z", due="2026-04-01")
    agent = add_staff(memory_portal, password=PASSWORD, role="admin")

    # What a visitor opens without following a link: the error page and e-mailed links (here dead) too.
    visited = _crawl(web, ["/connexion", "/a-propos", "/nulle-part", "/mot-de-passe/nouveau",
                           "/donnees-personnelles/e-mail/confirmer"])
    assert visited.pop("/nulle-part") == 404
    assert visited.pop("/mot-de-passe/nouveau") == visited.pop("/donnees-personnelles/e-mail/confirmer") == 400
    assert set(visited.values()) == {200}, visited

    web.login("marie@example.org", PASSWORD)
    token = web.csrf("/demandes/nouvelle")
    filed = web.post("/demandes/nouvelle", data={"category": "installation", "subject": "Fuite", "message": "Fuite.",
                                                 "contract": "", "csrf_token": token},
                     files={"attachment": ("attestation.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert filed.status_code == 303
    visited = _crawl(web, ["/"])
    assert set(visited.values()) == {200}, visited
    for reached in ("/contrats/C%201%2F2%3Fx%23y%25z", "/contrats/C%201%2F2%3Fx%23y%25z/releve",
                    "/contrats/C%201%2F2%3Fx%23y%25z/consommations.csv", "/factures/F%2F2026%20%231%3F%25",
                    "/demandes/nouvelle?categorie=ecretement&contrat=C%201/2%3Fx%23y%25z"):
        assert reached in visited, sorted(visited)
    assert any(url.startswith("/documents/dossiers/") for url in visited)

    with WebClient(create_app(memory_portal), base_url=BASE_URL) as staff:
        sign_in_staff(staff, memory_portal, agent)
        visited = _crawl(staff, ["/"])
        assert set(visited.values()) == {200}, visited
        assert any("/pieces/" in url for url in visited), sorted(visited)


def test_every_route_and_mount_has_a_name_of_its_own(memory_portal):
    names = [route.name for route in create_app(memory_portal).routes]
    assert all(names) and len(names) == len(set(names)), names


# --- business numbers in URLs ------------------------------------------------------------------


@pytest.mark.parametrize("number", AWKWARD_NUMBERS)
@pytest.mark.parametrize(("name", "parameter"), [("contract", "contract_number"), ("reading_form", "contract_number"),
                                                 ("consumption_csv", "contract_number"), ("invoice", "number"),
                                                 ("invoice_pdf", "number")])
def test_a_number_round_trips_through_its_route(memory_portal, name, parameter, number):
    app = create_app(memory_portal)
    path = str(app.url_path_for(name, **{parameter: number}))
    assert "?" not in path and "#" not in path and " " not in path
    scope = {"type": "http", "path": unquote(path), "root_path": "", "method": "GET", "headers": []}
    matched = [(route.name, child["path_params"]) for route in app.routes
               for match, child in [route.matches(scope)] if match is Match.FULL]
    assert matched[0] == (name, {parameter: number})


# Not "50%2F": Starlette's TestClient decodes the path twice (httpx's URL.path, then unquote), a server once.
@pytest.mark.parametrize("number", [n for n in AWKWARD_NUMBERS if n != "50%2F"])
def test_a_contract_with_an_awkward_number_opens_from_its_link(memory_portal, web, number):
    marie = add_subscriber(memory_portal, password=PASSWORD)
    add_contract(memory_portal, marie, number)
    web.login("marie@example.org", PASSWORD)
    listing = web.get("/contrats").text
    link = re.search(r'class="row-link" href="([^"]+)"', listing).group(1)
    page = web.get(link)
    assert page.status_code == 200
    reading = re.search(r'href="([^"]+/releve)"', page.text).group(1)
    form = web.get(reading)
    assert form.status_code == 200
    action = re.search(r'<form method="post" action="([^"]+)"', form.text.split("</header>", 1)[1]).group(1)
    response = web.post(action, data={"index": "", "read_on": "2026-03-01", "csrf_token": web.csrf(reading)},
                        follow_redirects=False)
    assert response.status_code == 422  # the form came back to the right contract, with the refusal
