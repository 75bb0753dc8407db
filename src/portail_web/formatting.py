"""The one place that turns values into text for humans (money, dates, volumes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from babel import Locale
from babel.dates import format_date, format_datetime, tokenize_pattern
from babel.numbers import format_currency, format_decimal

from portail_domain.model.values import MeterIndex, Money

from .i18n import BABEL_LOCALES

PARIS = ZoneInfo("Europe/Paris")
LOCALES = {language: Locale.parse(name) for language, name in BABEL_LOCALES.items()}

# Babel takes 50–250 µs per value (a page formats hundreds). So each language's separators,
# currency layout and date patterns are taken from Babel once, here, and applied with plain
# string operations; tests/unit/test_formatting.py checks the output equals Babel's.


@attrs.frozen
class _Numbers:
    group: str  # "\u202f" in French
    decimal: str
    minus: str
    money: tuple[str, str]  # prefix, suffix of a positive amount: ("", "\u00a0€") in French
    negative_money: tuple[str, str]

    @classmethod
    def of(cls, locale: Locale) -> _Numbers:
        sample = format_decimal(Decimal("1234567.5"), format="#,##0.0", locale=locale)  # 1 234 567,5
        minus = format_decimal(Decimal(-1), format="#,##0", locale=locale)[:-1]
        grouped = f"1{sample[1]}234{sample[1]}567{sample[-2]}89"
        layouts = []
        for amount in ("1234567.89", "-1234567.89"):
            text = format_currency(Decimal(amount), "EUR", locale=locale)
            at = text.index(grouped)
            layouts.append((text[:at], text[at + len(grouped):]))
        return cls(sample[1], sample[-2], minus, layouts[0], layouts[1])

    def digits(self, value: Decimal, places: int) -> str:
        """``value`` rounded half-even to ``places`` decimals, grouped by thousands (Babel's way)."""
        rounded = abs(value).quantize(_STEPS[places], rounding=ROUND_HALF_EVEN)
        text = f"{rounded:,f}".translate({ord(","): self.group, ord("."): self.decimal})
        return self.minus + text if value.is_signed() else text


_STEPS = [Decimal(1).scaleb(-places) for places in range(10)]
NUMBERS = {language: _Numbers.of(locale) for language, locale in LOCALES.items()}


def _date_pattern(pattern: str, locale: Locale) -> Callable[[date | datetime], str] | None:
    """A CLDR date/time pattern as a plain function, or None if it uses a field not handled here."""
    parts: list[Callable[[Any], str]] = []
    for _kind, token in tokenize_pattern(pattern):
        part = _literal(token) if isinstance(token, str) else _date_field(*token, locale)
        if part is None:
            return None
        parts.append(part)
    return lambda value: "".join(part(value) for part in parts)


def _literal(text: str) -> Callable[[Any], str]:
    return lambda _: text


def _date_field(field: str, width: int, locale: Locale) -> Callable[[Any], str] | None:
    """One field of a CLDR pattern (``v`` a date, or a datetime for hours and minutes)."""
    if field == "d":
        return lambda v: str(v.day).zfill(width)
    if field == "M" and width <= 2:
        return lambda v: str(v.month).zfill(width)
    if field == "M":
        names = locale.months["format"]["abbreviated" if width == 3 else "wide"]
        return lambda v: str(names[v.month])
    if field == "y":
        return lambda v: str(v.year % 100).zfill(2) if width == 2 else str(v.year).zfill(width)
    if field == "H":
        return lambda v: str(v.hour).zfill(width)
    if field == "m":
        return lambda v: str(v.minute).zfill(width)
    return None


def _moment_pattern(locale: Locale) -> Callable[[date | datetime], str] | None:
    glue = locale.datetime_formats["short"]
    if glue.count("{0}") != 1 or glue.count("{1}") != 1 or "'" in glue:
        return None
    pattern = glue.replace("{1}", locale.date_formats["short"].pattern).replace(
        "{0}", locale.time_formats["short"].pattern)
    return _date_pattern(pattern, locale)


MEDIUM_DATES = {language: _date_pattern(locale.date_formats["medium"].pattern, locale)
                for language, locale in LOCALES.items()}
MOMENTS = {language: _moment_pattern(locale) for language, locale in LOCALES.items()}


def money(value: Money | None, language: str = "fr") -> str:
    """``1 234,56 €`` in French (narrow no-break space, no-break space before €)."""
    if value is None:
        return ""
    numbers = NUMBERS[language]
    euros, cents = divmod(abs(value.cents), 100)
    prefix, suffix = numbers.negative_money if value.cents < 0 else numbers.money
    return f"{prefix}{_grouped(euros, numbers)}{numbers.decimal}{cents:02d}{suffix}"


def day(value: date | None, language: str = "fr", style: str = "medium") -> str:
    if value is None:
        return ""
    return _day(value, language, style)


# A page prints few distinct days, and the same ones for every subscriber (bills of one run share
# their dates): each is formatted once. A pure function of its arguments: nothing to go stale.
@lru_cache(maxsize=4096)
def _day(value: date, language: str, style: str) -> str:
    if style == "short":
        return value.strftime("%d/%m/%Y") if language == "fr" else value.isoformat()
    fast = MEDIUM_DATES[language] if style == "medium" else None
    return fast(value) if fast is not None else format_date(value, style, locale=LOCALES[language])


def moment(value: datetime | None, language: str = "fr") -> str:
    if value is None:
        return ""
    fast = MOMENTS[language]
    if fast is not None and value.tzinfo is not None:
        return fast(value.astimezone(PARIS))
    return format_datetime(value, "short", tzinfo=PARIS, locale=LOCALES[language])


def number(value: Decimal | Fraction | int | float, language: str = "fr", places: int = 0) -> str:
    if places == 0 and type(value) in (int, Fraction) and value >= 0:
        # The common case (litres, days, counts): a whole number, no Decimal on the way.
        # round() of a Fraction is exact and half-even, as Babel rounds.
        return _grouped(round(value), NUMBERS[language])
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    elif not isinstance(value, Decimal):
        value = Decimal(str(value))  # as Babel reads a float: its shortest repr
    if not value.is_finite() or places >= len(_STEPS):
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(value, format=pattern, locale=LOCALES[language])
    return NUMBERS[language].digits(value, places)


def m3(value: MeterIndex | Decimal | int, language: str = "fr") -> str:
    """A volume in m³, three decimals only when there are some."""
    litres = value.litres if isinstance(value, MeterIndex) else int(value)
    if litres >= 0:  # whole cubic metres, then three decimals only when there are some
        numbers = NUMBERS[language]
        cubic_metres, rest = divmod(litres, 1000)
        whole = _grouped(cubic_metres, numbers)
        return f"{whole}{numbers.decimal}{rest:03d}" if rest else whole
    places = 0 if litres % 1000 == 0 else 3
    return number(Decimal(litres).scaleb(-3), language, places)


def _grouped(whole: int, numbers: _Numbers) -> str:
    """A non-negative whole number grouped by thousands."""
    return f"{whole:,}".replace(",", numbers.group) if whole >= 1000 else str(whole)


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
