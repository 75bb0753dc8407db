"""Every French string of the invoice, payment and simulator pages has its English translation."""

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "src" / "portail_web"
OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}


def test_invoice_pages_are_fully_translated():
    pages = WEB / "templates"
    templates = [*sorted((pages / "invoices").glob("*.html")), *sorted((pages / "simulator").glob("*.html")),
                 pages / "home" / "_invoices.html"]
    found = {message for path in templates
             for _line, message, _comments, _context in extract_from_file("jinja2", path, options=OPTIONS)}
    assert len(found) > 40
    with (WEB / "locale" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    missing = sorted(m for m in found if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []
