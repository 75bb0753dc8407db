"""SEPA direct debit (prélèvement): mandates, their signature by an e-mailed code, and their rules.

A subscriber signs a mandate online for one of their contracts: the portal shows its text, mails
a 6-digit code to the e-mail on file, and the mandate is signed when the code comes back (within
10 minutes, at most 5 tries). The IBAN is checked by a ``ports.BankDirectory`` (an adapter knows
the countries, lengths and banks); here it is a value that never prints whole.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import ClassVar

import attrs

from . import errors
from .billing import DirectDebit, Invoice

CODE_VALIDITY = timedelta(minutes=10)
CODE_TRIES = 5
CODE_DIGITS = 6
HOLDER_MAX = 70  # SEPA: the debtor's name, 70 characters at most
RUM_MAX = 35  # SEPA: a mandate reference (référence unique de mandat), 35 characters at most
RUM_PREFIX = "PORTAIL"


class MandateMode(enum.StrEnum):
    """How the contract's invoices are collected (the form's and the export's values)."""

    ECHEANCE = "echeance"  # each invoice on its due date
    MENSUEL = "mensuel"  # monthly instalments (mensualisation)


class MandateStatus(enum.StrEnum):
    PENDING = "pending"  # shown and code sent, not signed yet
    ACTIVE = "active"
    REVOKED = "revoked"


# --- errors ---------------------------------------------------------------------------------


class MandateError(errors.DomainError):
    code = "mandate_error"


class InvalidIban(errors.InvalidValue):
    """Not an IBAN: wrong length for its country, wrong check digits, wrong structure (``reason``)."""

    code = "invalid_iban"


class IbanNotSepa(InvalidIban):
    """A valid IBAN of a country outside the SEPA zone."""

    code = "iban_not_sepa"


class BicRequired(errors.InvalidValue):
    """The bank of this IBAN is not known: the form asks for its BIC."""

    code = "bic_required"


class InvalidBic(errors.InvalidValue):
    code = "invalid_bic"


class InvalidHolder(errors.InvalidValue):
    code = "invalid_holder"


class InvalidMode(errors.InvalidValue):
    code = "invalid_mode"


class NoEmailOnFile(MandateError):
    """The signing code goes to the e-mail on file: without one, no online mandate."""

    code = "mandate_no_email"


class NoPendingMandate(MandateError):
    """Nothing to sign: no mandate started, already signed (a replayed code), or started again since."""

    code = "mandate_none_pending"


class WrongSigningCode(MandateError):
    code = "mandate_wrong_code"

    def __init__(self, *, tries_left: int) -> None:
        super().__init__(tries_left=tries_left)
        self.tries_left = tries_left


class SigningCodeDead(MandateError):
    """The code's 10 minutes are over, or its 5 tries are used: start again."""

    code = "mandate_code_dead"


class MandateNotActive(MandateError):
    code = "mandate_not_active"


class ContractEnded(MandateError):
    """The contract's supply has ended: nothing left to collect."""

    code = "mandate_contract_ended"


# --- values ---------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class BankAccount:
    """An IBAN (electronic format, checked by a ``BankDirectory``) and its bank's BIC.

    Its ``repr`` and ``masked`` never show the whole IBAN: only the PDF of the signed mandate
    and the export to the billing system do.
    """

    iban: str
    bic: str

    @property
    def country(self) -> str:
        return self.iban[:2]

    @property
    def masked(self) -> str:
        """``FR76 •••• •••• 1234``: the country, the check digits and the last four characters."""
        return f"{self.iban[:4]} •••• •••• {self.iban[-4:]}"

    @property
    def formatted(self) -> str:
        """The whole IBAN in groups of four (the signed mandate's PDF only)."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))

    def __repr__(self) -> str:
        return f"BankAccount({self.masked!r}, {self.bic!r})"

    __str__ = __repr__


_CREDITOR_ID = re.compile(r"^([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def creditor_id_problem(text: str) -> str | None:
    """Why ``text`` is not a SEPA creditor identifier (ICS), or None.

    ``CCkkBBBnnn…``: country, two check digits (ISO 7064 mod 97-10 over the national
    identifier and the country, the business code left out), a 3-character business code and
    the national identifier; a French one (``FR``) is 13 characters long.
    """
    match = _CREDITOR_ID.match(text)
    if not match:
        return "expected 2 letters, 2 check digits, a 3-character business code and the national identifier"
    country, check, _business, national = match.groups()
    if country == "FR" and len(text) != 13:
        return "a French creditor identifier is 13 characters long (FRkkZZZnnnnnn)"
    if _mod97(national + country + check) != 1:
        return "its check digits are wrong"
    return None


@attrs.frozen
class SepaCreditor:
    """Who collects: the utility's name and SEPA creditor identifier (ICS), as on every mandate."""

    name: str
    identifier: str


@attrs.frozen
class MandateRequest:
    """What the subscriber typed, as plain strings (the web form, an embedding system)."""

    contract_number: str
    mode: str
    holder: str
    iban: str
    bic: str = ""

    def checked_mode(self) -> MandateMode:
        try:
            return MandateMode(self.mode)
        except ValueError:
            raise InvalidMode(field="mode") from None

    def checked_holder(self) -> str:
        holder = " ".join(self.holder.split())
        if not holder:
            raise InvalidHolder(field="holder")
        if len(holder) > HOLDER_MAX:
            raise InvalidHolder(field="holder", maximum=HOLDER_MAX)
        return holder


_NOT_RUM = re.compile(r"[^A-Z0-9]")


def new_rum(contract_number: str, random_token: str) -> str:
    """``PORTAIL-<contract>-<10 hex>``: letters, digits and dashes only (SEPA allows more), 35 at most."""
    contract = _NOT_RUM.sub("", contract_number.upper())[:14] or "X"
    suffix = hashlib.sha256(random_token.encode()).hexdigest()[:10].upper()
    return f"{RUM_PREFIX}-{contract}-{suffix}"


def new_code(random_token: str) -> str:
    """A 6-digit signing code from a random token (``ports.Secrets``)."""
    return f"{int(hashlib.sha256(random_token.encode()).hexdigest(), 16) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_digest(secret_key: bytes, mandate_id: uuid.UUID, code: str) -> str:
    """The stored form of a signing code: keyed (a million codes are quickly tried on a plain hash)
    and bound to its mandate."""
    message = f"mandate|{mandate_id}|{code}".encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())[:20]


@attrs.frozen
class SigningChallenge:
    """The code mailed for a pending mandate: its digest, its deadline and the tries left."""

    code_hash: str
    expires_at: datetime
    tries_left: int = CODE_TRIES

    def alive(self, now: datetime) -> bool:
        return now <= self.expires_at and self.tries_left > 0


@attrs.frozen
class SignatureEvidence:
    """What proves the signature: when, from where, with which browser, with which code (its digest)."""

    signed_at: datetime
    client_address: str
    user_agent: str
    code_hash: str


@attrs.define(eq=False)
class Mandate:
    """A SEPA direct-debit mandate of one contract, signed by its subscriber (or on its way)."""

    PRINTED: ClassVar[str] = "mandat-prelevement-{rum}.pdf"

    rum: str
    subscriber_id: uuid.UUID  # who signed it: theirs to see and revoke, whoever the contract's holder becomes
    contract_id: uuid.UUID
    mode: MandateMode
    holder: str
    account: BankAccount
    created_at: datetime
    status: MandateStatus = MandateStatus.PENDING
    challenge: SigningChallenge | None = None
    evidence: SignatureEvidence | None = None
    revoked_at: datetime | None = None
    document_id: uuid.UUID | None = None  # the signed mandate's PDF in the subscriber's Contrats folder
    id: uuid.UUID = attrs.field(factory=uuid.uuid4)

    @classmethod
    def start(cls, *, rum: str, subscriber_id: uuid.UUID, contract_id: uuid.UUID, mode: MandateMode, holder: str,
              account: BankAccount, now: datetime, code: str, secret_key: bytes) -> Mandate:
        """A pending mandate whose ``code`` (mailed by the caller) signs it within ``CODE_VALIDITY``."""
        mandate = cls(rum, subscriber_id, contract_id, mode, holder, account, now)
        mandate.challenge = SigningChallenge(code_digest(secret_key, mandate.id, code), now + CODE_VALIDITY)
        return mandate

    @property
    def signed_at(self) -> datetime | None:
        return self.evidence.signed_at if self.evidence else None

    @property
    def is_active(self) -> bool:
        return self.status is MandateStatus.ACTIVE

    def sign(self, code: str, *, secret_key: bytes, now: datetime, client_address: str, user_agent: str) -> None:
        """Sign with the mailed code, or count a wrong try (the caller saves it either way).

        Raises ``NoPendingMandate`` when already signed or revoked (a replayed code signs nothing
        twice), ``SigningCodeDead`` past the deadline or the last try, ``WrongSigningCode`` otherwise.
        """
        if self.status is not MandateStatus.PENDING or self.challenge is None:
            raise NoPendingMandate()
        if not self.challenge.alive(now):
            raise SigningCodeDead()
        digest = code_digest(secret_key, self.id, normalise_code(code))
        if not hmac.compare_digest(digest, self.challenge.code_hash):
            self.challenge = attrs.evolve(self.challenge, tries_left=self.challenge.tries_left - 1)
            if self.challenge.tries_left <= 0:
                raise SigningCodeDead()
            raise WrongSigningCode(tries_left=self.challenge.tries_left)
        self.status = MandateStatus.ACTIVE
        self.evidence = SignatureEvidence(now, client_address[:45], user_agent[:200], digest)
        self.challenge = None

    def revoke(self, now: datetime) -> None:
        """End an active mandate: nothing more is collected with it (the export tells the billing system)."""
        if self.status is not MandateStatus.ACTIVE:
            raise MandateNotActive(rum=self.rum)
        self.status = MandateStatus.REVOKED
        self.revoked_at = now

    def collects(self, invoice: Invoice) -> bool:
        """Whether this mandate pays ``invoice`` on its due date: an "échéance" mandate of the
        invoice's contract, signed by the day the invoice was issued and not revoked before it fell due.
        (Monthly instalments pay a schedule, not invoices one by one.)"""
        if self.mode is not MandateMode.ECHEANCE or self.contract_id != invoice.contract_id:
            return False
        if self.evidence is None or self.status is MandateStatus.PENDING:
            return False
        if self.evidence.signed_at.date() > invoice.issued_on:
            return False
        return self.revoked_at is None or self.revoked_at.date() > invoice.due_on


def direct_debit(invoice: Invoice, mandates: Iterable[Mandate], today: date) -> DirectDebit | None:
    """How ``invoice`` is collected by direct debit, if one of ``mandates`` (of its contract) does."""
    if invoice.cancelled or not any(m.collects(invoice) for m in mandates):
        return None
    return DirectDebit(invoice.due_on, debited=invoice.due_on <= today)


@attrs.frozen
class MandateDocument:
    """What the PDF of a signed mandate shows: the mandate (the IBAN whole), who collects, who pays."""

    mandate: Mandate
    creditor: SepaCreditor
    creditor_address: str
    contract_number: str
    supply_address: str
    debtor_address: str
    email: str  # where the signing code went
    language: str


@attrs.frozen
class MandatesView:
    """/prelevement: the subscriber's mandates (newest first), the one waiting for its code, and
    the contracts a new mandate may be for."""

    mandates: tuple[Mandate, ...]
    contract_numbers: dict[uuid.UUID, str]  # of every contract named on the page
    open_contracts: dict[uuid.UUID, str]  # those a new mandate may be for (still supplied)
    pending: Mandate | None
    creditor: SepaCreditor | None
    email: str | None  # where the signing code goes

    @property
    def signed(self) -> tuple[Mandate, ...]:
        return tuple(m for m in self.mandates if m.status is not MandateStatus.PENDING)
