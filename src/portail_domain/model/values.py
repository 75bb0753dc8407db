"""Value objects: money in integer cents, meter index in litres, e-mail addresses."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

import attrs

from .errors import InvalidAmount, InvalidEmail, InvalidIndex, InvalidValue

_DECIMAL = re.compile(r"^([+-]?)(\d+)(?:[.,](\d+))?$")


def _parse_decimal(text: str, places: int, error: type[InvalidValue], what: str) -> int:
    """Parse ``12,5`` / ``12.50`` into an integer count of 10**-places units, exactly."""
    cleaned = str(text).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    match = _DECIMAL.match(cleaned)
    if not match:
        raise error(f"{what} is not a number: {text!r}", value=text)
    sign, whole, frac = match.groups()
    frac = frac or ""
    if len(frac) > places:
        if frac[places:].strip("0"):
            raise error(f"{what} has more than {places} decimals: {text!r}", value=text)
        frac = frac[:places]
    if len(whole) > 15:
        raise error(f"{what} is too large: {text!r}", value=text)
    units = int(whole + frac.ljust(places, "0"))
    return -units if sign == "-" else units


@attrs.frozen(order=True)
class Money:
    """An amount in euro cents. Arithmetic stays in integers: no float ever."""

    cents: int = attrs.field(validator=attrs.validators.instance_of(int))

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def parse(cls, text: str) -> Money:
        """``"12,34"``, ``"12.3"``, ``"-5"`` → Money; refuses more than 2 decimals."""
        return cls(_parse_decimal(text, 2, InvalidAmount, "amount"))

    @classmethod
    def from_decimal(cls, value: Decimal) -> Money:
        try:
            cents = value * 100
            if cents != cents.to_integral_value():
                raise InvalidAmount(f"amount has more than 2 decimals: {value}", value=str(value))
            return cls(int(cents))
        except InvalidOperation as exc:
            raise InvalidAmount(f"amount is not a number: {value}", value=str(value)) from exc

    def as_decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)

    def __add__(self, other: Money) -> Money:
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __bool__(self) -> bool:
        return self.cents != 0

    @property
    def is_positive(self) -> bool:
        return self.cents > 0

    def __str__(self) -> str:  # plain, locale-free; the web formats for humans
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{cents:02d}"


MAX_INDEX_LITRES = 10**9 * 1000  # a 9-digit meter in m³, with 3 decimals


@attrs.frozen(order=False)
class MeterIndex:
    """A meter index, held in litres (m³ with three decimals, exactly); ordered by its litres."""

    litres: int = attrs.field(validator=attrs.validators.instance_of(int))

    @litres.validator
    def _non_negative(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value < 0:
            raise InvalidIndex("a meter index cannot be negative", value=value)
        if value >= MAX_INDEX_LITRES:
            raise InvalidIndex("a meter index has at most 9 digits", value=value)

    @classmethod
    def parse(cls, text: str) -> MeterIndex:
        """``"1234"``, ``"1234,5"``, ``"1234.567"`` (m³) → MeterIndex; at most 3 decimals."""
        litres = _parse_decimal(text, 3, InvalidIndex, "index")
        if str(text).strip().startswith(("-", "+")):
            raise InvalidIndex("a meter index is written with digits only", value=text)
        return cls(litres)

    @classmethod
    def from_m3(cls, value: Decimal | int) -> MeterIndex:
        return cls(int(Decimal(value) * 1000))

    @property
    def m3(self) -> Decimal:
        return Decimal(self.litres).scaleb(-3)

    def __sub__(self, other: MeterIndex) -> int:
        """Litres between two indexes."""
        return self.litres - other.litres

    # Written out rather than attrs' order=True, which builds a tuple of the fields for each
    # comparison (a contract's page compares every reading with the one before it, twice).
    def __lt__(self, other: object) -> bool:
        return self.litres < other.litres if type(other) is MeterIndex else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.litres <= other.litres if type(other) is MeterIndex else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.litres > other.litres if type(other) is MeterIndex else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.litres >= other.litres if type(other) is MeterIndex else NotImplemented

    def __str__(self) -> str:
        whole, frac = divmod(self.litres, 1000)
        return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)


def normalise_email(text: str) -> str:
    """The comparison form of an e-mail address: NFKC then casefold, trimmed.

    Idempotent. ``casefold`` (unlike ``lower``/``upper`` round trips) keeps the dotless
    ``ı`` distinct, so ``mıke@`` never reaches ``mike@``. Mail always goes to the address on
    file, never to the one typed, so a look-alike can never receive someone else's link.
    """
    value = text.strip()
    for _ in range(10):  # NFKC and casefold interact; iterate to the fixed point (1-2 rounds)
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold()).strip()
        if folded == value:
            break
        value = folded
    return value


_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f<>(),;:\"\[\]\\]+@[^@\s\x00-\x1f\x7f<>(),;:\"\[\]\\]+\.[^@\s.]{2,}$")


@attrs.frozen
class EmailAddress:
    """An e-mail address as typed (for sending) with its normalised form (for comparing)."""

    address: str = attrs.field(eq=False)
    normalised: str

    @classmethod
    def parse(cls, text: str) -> EmailAddress:
        raw = unicodedata.normalize("NFKC", str(text).strip())
        if len(raw) > 254 or not _EMAIL.match(raw):
            raise InvalidEmail(f"not an e-mail address: {text!r}", value=text, field="email")
        return cls(raw, normalise_email(raw))

    def __str__(self) -> str:
        return self.address
