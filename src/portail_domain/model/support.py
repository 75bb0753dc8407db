"""Subscriber support (back office): finding a subscriber, their card, the account state.

Search keys: every subscriber is findable by number, name, e-mail, contract number and meter
number, whatever the case and the accents, by the start of the value (prefix). Each searchable
value is folded into one or more keys (``search_keys``); a query is folded the same way
(``query_prefixes``) and matches a key that starts with it. Storage keeps the keys in an
indexed column, so a search is a range scan, never a pass over every subscriber.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs

from .accounts import Account, Subscriber, WebSession
from .billing import Invoice, Payment
from .contracts import Contract, MeterReading
from .documents import Document
from .requests import Request
from .throttling import LoginAttempts
from .values import EmailAddress

SEARCH_LIMIT = 50  # results shown; the page says when there are more
MAX_QUERY = 100  # characters of a query that count
MAX_KEY = 200  # characters of a key kept (a prefix longer than that matches nothing anyway)
MAX_NAME_WORDS = 6  # a name is findable from each of its first words


class SearchKeyKind(enum.StrEnum):
    NUMBER = "number"
    NAME = "name"
    EMAIL = "email"
    CONTRACT = "contract"
    METER = "meter"


@attrs.frozen
class SearchKey:
    kind: SearchKeyKind
    key: str  # folded (``fold`` or ``compact``)
    label: str  # the value as written, to show what matched


_SEPARATORS = re.compile(r"[\W_]+")  # anything but letters and digits


def fold(text: str) -> str:
    """Lower case, no accents, words separated by one space (``"Éloïse  D'Arc"`` → ``"eloise d arc"``)."""
    if text.isascii():  # the import folds every name: the common case stays cheap
        bare = text.lower()
    else:  # decomposed before and after case folding: "ℌ" → "H" → "h", "ǰ" → "j" + caron
        folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
        bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", bare).strip()[:MAX_KEY].rstrip()


def compact(text: str) -> str:
    """``fold`` without the spaces: how identifiers are compared (``"C-2026 001"`` → ``"c2026001"``)."""
    return fold(text).replace(" ", "")


def _name_keys(name: str) -> list[str]:
    """The folded name from each of its words on: "Jean Dupont" is found by "jean d…" and "dup…"."""
    words = fold(name).split()
    return [" ".join(words[i:]) for i in range(min(len(words), MAX_NAME_WORDS))]


def subscriber_keys(number: str, name: str, email: EmailAddress | None) -> list[SearchKey]:
    """The keys of a subscriber's own fields (number, name, e-mail)."""
    keys = [SearchKey(SearchKeyKind.NUMBER, compact(number), number)]
    keys += [SearchKey(SearchKeyKind.NAME, key, name) for key in _name_keys(name)]
    if email is not None:
        keys.append(SearchKey(SearchKeyKind.EMAIL, compact(email.normalised), email.address))
    return _unique(keys)


def contract_keys(number: str, meter_number: str) -> list[SearchKey]:
    """The keys a contract adds to its subscriber (contract number, meter number)."""
    return _unique([SearchKey(SearchKeyKind.CONTRACT, compact(number), number),
                    SearchKey(SearchKeyKind.METER, compact(meter_number), meter_number)])


def _unique(keys: list[SearchKey]) -> list[SearchKey]:
    return [k for k in dict.fromkeys(keys) if k.key]


def query_prefixes(query: str) -> list[str]:
    """What a typed query is looked up as: its folded words, and the same without spaces
    (``"C 2026-001"`` finds the contract ``C2026001``; ``"jean dup"`` finds Jean Dupont)."""
    text = query[:MAX_QUERY]
    return sorted({p for p in (fold(text), compact(text)) if p})


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix`` (code point order),
    for a range ``key >= prefix AND key < prefix_end(prefix)`` that an index serves."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no surrogates: the next character after them
        last = 0xE000
    return prefix[:-1] + chr(last)


@attrs.frozen
class SearchHit:
    """A subscriber found, with the first key that matched (what to show as the reason)."""

    subscriber: Subscriber
    kind: SearchKeyKind
    label: str


@attrs.frozen
class SearchResult:
    query: str
    hits: list[SearchHit]
    more: bool  # more than ``SEARCH_LIMIT`` subscribers match: the agent should type more


# --- the subscriber card ------------------------------------------------------------------------

RECENT_READINGS = 6  # per contract and meter, on the card


@attrs.frozen
class AccountState:
    """The portal account as support sees it (never the password, nor its hash)."""

    activated: bool
    created_at: datetime | None
    last_login_at: datetime | None
    active_sessions: int
    failures: int  # counted login failures for the login e-mail
    blocked_until: datetime | None  # when logins are refused (blocked) or slowed down, until then
    has_activation_code: bool  # a utility-issued code is pending

    @classmethod
    def of(cls, account: Account | None, sessions: Sequence[WebSession], attempts: LoginAttempts | None,
           blocked_until: datetime | None, has_code: bool) -> AccountState:
        return cls(activated=account is not None, created_at=account.created_at if account else None,
                   last_login_at=account.last_login_at if account else None, active_sessions=len(sessions),
                   failures=attempts.failures if attempts else 0, blocked_until=blocked_until,
                   has_activation_code=has_code)


@attrs.frozen
class ContractView:
    contract: Contract
    recent_readings: list[MeterReading]  # newest first


@attrs.frozen
class InvoiceView:
    invoice: Invoice
    payments: list[Payment]


@attrs.frozen
class SubscriberCard:
    """What the subscriber sees on the portal, plus the state of their account."""

    subscriber: Subscriber
    account: AccountState
    contracts: list[ContractView]
    invoices: list[InvoiceView]
    documents: list[Document]
    requests: list[Request]


def recent_readings(readings: Sequence[MeterReading], contract_id: uuid.UUID) -> list[MeterReading]:
    """The contract's last ``RECENT_READINGS`` readings, newest first."""
    mine = [r for r in readings if r.contract_id == contract_id]
    return sorted(mine, key=lambda r: (r.read_on, r.meter_number), reverse=True)[:RECENT_READINGS]


@attrs.frozen
class ActivationLetter:
    """A new activation code and what its letter needs. The code exists nowhere else in clear."""

    subscriber: Subscriber
    code: str = attrs.field(repr=False)
