"""Translations: French is the source language of the UI; catalogs translate from it.

The ``.po`` files are committed and compiled in memory at start-up (no ``.mo`` to ship).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog for ``language`` (French, the source, needs none)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_language(cookie: str | None, accept_language: str | None, preferred: str | None = None) -> str:
    """The subscriber's saved language first, then the cookie, then the browser, then French."""
    for candidate in (preferred, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE
