"""IBANs and BICs checked against ``schwifty``'s registry (countries, lengths, structures, banks)."""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from portail_domain.model.mandates import BankAccount, BicRequired, IbanNotSepa, InvalidBic, InvalidIban

MAX_TYPED = 64  # an IBAN is 34 characters at most; with spaces, a little more


class SchwiftyBankDirectory:
    """``ports.BankDirectory``: any SEPA country's IBAN, its BIC derived where the registry knows the bank."""

    def account(self, iban: str, bic: str = "") -> BankAccount:
        typed = "".join(iban[:MAX_TYPED].split()).upper()
        if not typed:
            raise InvalidIban(field="iban", reason="empty")
        try:
            parsed = IBAN(typed)
        except SchwiftyException as exc:  # length, check digits, structure, country: which one, never the value
            raise InvalidIban(field="iban", reason=type(exc).__name__) from None
        if not parsed.in_sepa_zone:
            raise IbanNotSepa(field="iban", country=parsed.country_code)
        return BankAccount(str(parsed.compact), self._bic(parsed, bic))

    @staticmethod
    def _bic(iban: IBAN, typed: str) -> str:
        """The registry's BIC of the IBAN's bank when it knows it (a typed one is then ignored), else the typed one."""
        derived = iban.bic
        if derived is not None:
            return str(derived.compact)
        typed = "".join(typed[:MAX_TYPED].split()).upper()
        if not typed:
            raise BicRequired(field="bic")
        try:
            return str(BIC(typed).compact)
        except SchwiftyException:
            raise InvalidBic(field="bic") from None
