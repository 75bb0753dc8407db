"""The one place that turns values into text for humans (money, dates, volumes)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from portail_domain.model.values import MeterIndex, Money

from .i18n import BABEL_LOCALES

PARIS = ZoneInfo("Europe/Paris")
# Parsed once: handing Babel a locale name makes it parse it again on every call (long pages
# format hundreds of values).
LOCALES = {language: Locale.parse(name) for language, name in BABEL_LOCALES.items()}


def money(value: Money | None, language: str = "fr") -> str:
    """``1 234,56 €`` in French (narrow no-break space, no-break space before €)."""
    if value is None:
        return ""
    return format_currency(value.as_decimal(), "EUR", locale=LOCALES[language])


def day(value: date | None, language: str = "fr", style: str = "medium") -> str:
    if value is None:
        return ""
    if style == "short":
        return value.strftime("%d/%m/%Y") if language == "fr" else value.isoformat()
    return format_date(value, style, locale=LOCALES[language])


def moment(value: datetime | None, language: str = "fr") -> str:
    if value is None:
        return ""
    return format_datetime(value, "short", tzinfo=PARIS, locale=LOCALES[language])


def number(value: Decimal | Fraction | int | float, language: str = "fr", places: int = 0) -> str:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=LOCALES[language])


def m3(value: MeterIndex | Decimal | int, language: str = "fr") -> str:
    """A volume in m³, three decimals only when there are some."""
    litres = value.litres if isinstance(value, MeterIndex) else int(value)
    places = 0 if litres % 1000 == 0 else 3
    return number(Decimal(litres).scaleb(-3), language, places)


FILE_SIZE_UNITS = {"fr": ("octets", "ko", "Mo"), "en": ("bytes", "kB", "MB")}


def file_size(value: int, language: str = "fr") -> str:
    """``12 ko``, ``1,5 Mo`` in French (1 ko = 1024 octets, as the 10 Mo upload limit)."""
    units = FILE_SIZE_UNITS.get(language, FILE_SIZE_UNITS["en"])
    if value < 1024:
        return f"{number(value, language)}\u00a0{units[0]}"
    if value < 1024 * 1024:
        return f"{number(Decimal(value) / 1024, language)}\u00a0{units[1]}"
    return f"{number(Decimal(value) / (1024 * 1024), language, 1)}\u00a0{units[2]}"


def size_limit(value: int, language: str = "fr") -> str:
    """A configured size limit as the pages print it: ``10 Mo`` for whole mebibytes, else ``file_size``."""
    mib = 1024 * 1024
    if value >= mib and value % mib == 0:
        return f"{value // mib} {FILE_SIZE_UNITS.get(language, FILE_SIZE_UNITS['en'])[2]}"
    return file_size(value, language)
