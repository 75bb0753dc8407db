"""French is the source language; every string a visitor can read (pages and e-mails) has its English translation."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portail_domain.model.values import Money
from portail_web.formatting import m3, money
from portail_web.i18n import LOCALE_DIR, pick_language, translations

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("src/portail_web/templates/**.html", "jinja2"),
    ("src/portail_web/templates/mail/**.txt", "jinja2"),
    ("src/portail_web/**.py", "python"),
]
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
OPTIONS = {"src/portail_web/templates/**.html": JINJA, "src/portail_web/templates/mail/**.txt": JINJA}


@cache
def source_strings() -> frozenset[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, options_map=OPTIONS, keywords={"_": None, "N_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return frozenset(found)


def test_the_mail_templates_are_extracted():
    assert "Ce lien ne sera valide que pendant %(minutes)s mn." in source_strings()


def test_every_source_string_has_an_english_translation():
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = sorted(source_strings() - translated)
    assert missing == [], "untranslated (run `make messages`, then fill msgstr):\n" + "\n".join(missing)


def test_catalog_compiles_and_translates():
    assert translations("en").gettext("Mes factures") == "My invoices"
    assert translations("fr").gettext("Mes factures") == "Mes factures"


def test_language_choice():
    assert pick_language(None, None) == "fr"
    assert pick_language(None, "en-GB,en;q=0.8") == "en"
    assert pick_language("fr", "en") == "fr"
    assert pick_language("en", "fr", preferred="fr") == "fr"
    assert pick_language("xx", "de-DE") == "fr"


def test_french_money_and_volume_formats():
    assert money(Money(123456)) == "1\u202f234,56\u00a0€"
    assert money(Money(12345), "en") == "€123.45"
    assert m3(1_234_500) == "1\u202f234,500" and m3(12_000) == "12"
