"""PayFiP (DGFiP) in web-service mode: the ``PaymentGateway`` for French public utilities.

- ``creerPaiementSecurise`` (numcli, exer, refdet, objet, montant in cents, mel, saisie,
  urlnotif, urlredirect) gives an ``idOp``; the payer goes to ``…/tpa/paiementws.web?idop=…``.
- The notification carries only the idOp; the truth is ``recupererDetailPaiementSecurise``:
  ``resultrans`` P or V = paid (card, direct debit), R or Z = refused, A = abandoned; the
  faults P5 = no result yet (still running) and P1 = unknown idOp (expired, cleaned up).
- ``saisie`` comes from ``PORTAIL_PAYFIP_MODE``: T test, X activation, W production.
- ``exer`` is the year of the payment in Europe/Paris, ``objet`` is left out when nothing of
  the label survives PayFiP's alphabet; the limits the real service enforces (mel 6 to 80
  characters, 1 € to 100 000 €, a 6-digit numcli) are checked before calling, so the payer
  reads why instead of a bare gateway error. Facts and their sources: docs/payfip.md.

The envelopes are built by ``soap.py`` (why not zeep: see there and docs/payfip.md).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from portail_domain.model.billing import GatewayResult, PaymentOrder, PaymentStatus, StartedPayment
from portail_domain.model.errors import GatewayError
from portail_domain.model.values import Money
from portail_domain.ports import Clock

from . import soap

REFDET = re.compile(r"^[A-Za-z0-9]{6,30}$")
NUMCLI = re.compile(r"^[0-9]{6}$")
MEL_LENGTH = (6, 80)
AMOUNT_RANGE = (Money(100), Money(100_000_00))  # 1 € to 100 000 €
RESULTS = {
    "P": PaymentStatus.PAID, "V": PaymentStatus.PAID,
    "R": PaymentStatus.REFUSED, "Z": PaymentStatus.REFUSED,
    "A": PaymentStatus.ABANDONED,
}
STILL_RUNNING = "P5"
UNKNOWN_OPERATION = "P1"
MODES = ("T", "X", "W")

log = logging.getLogger("portail.payments")


class PayfipOrderRefused(GatewayError):
    """PayFiP would refuse this order: said before calling, and no call is made."""

    code = "payment_unavailable"


class PayfipEmailUnusable(PayfipOrderRefused):
    code = "payment_email_unusable"


class PayfipAmountOutOfRange(PayfipOrderRefused):
    code = "payment_amount_out_of_range"


def payfip_objet(label: str) -> str:
    """PayFiP's ``objet``: at most 100 characters among unaccented letters, digits and spaces."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    text = re.sub(r"[-'_/.,;:]", " ", text)
    text = re.sub(r"[^A-Za-z0-9 ]", "", text)
    return re.sub(r"\s+", " ", text).strip()[:100].rstrip()


def payment_page(service_url: str) -> str:
    """``https://www.payfip.gouv.fr/tpa/services/securite`` -> ``…/tpa/paiementws.web``."""
    url = urlsplit(service_url)
    return f"{url.scheme}://{url.netloc}/tpa/paiementws.web"


class PayfipGateway:
    name = "payfip"

    def __init__(self, service_url: str, client_number: str, mode: str, clock: Clock, *, timeout: float = 15) -> None:
        if mode not in MODES:
            raise ValueError(f"PayFiP mode is one of {', '.join(MODES)}, not {mode!r}")
        self.service_url = service_url
        self.client_number = client_number
        self.mode = mode
        self.clock = clock
        self.timeout = timeout
        self.page_url = payment_page(service_url)

    def _call(self, operation: str, fields: dict[str, str]) -> dict[str, str]:
        try:
            return soap.call(self.service_url, operation, fields, timeout=self.timeout)
        except soap.SoapTransportError as exc:
            raise GatewayError(f"PayFiP did not answer: {exc}") from None

    def start(self, order: PaymentOrder) -> StartedPayment:
        fields = self.creation_fields(order)
        try:
            answer = self._call("creerPaiementSecurise", fields)
        except soap.SoapFault as fault:
            raise GatewayError(f"PayFiP refused the payment: {fault.code} {fault.message}", fault=fault.code) from None
        operation_id = answer.get("idOp", "")
        if not operation_id or len(operation_id) > 64:
            raise GatewayError("PayFiP answered without a usable idOp")
        return StartedPayment(operation_id, self.redirect_url(operation_id))

    def creation_fields(self, order: PaymentOrder) -> dict[str, str]:
        """``creerPaiementSecurise``'s ``arg0``, in the order the real service was recorded
        receiving it; raises ``PayfipOrderRefused`` for what the service would refuse."""
        if not NUMCLI.match(self.client_number):
            log.error("payfip_refused_locally reason=numcli: PORTAIL_PAYFIP_NUMCLI must be 6 digits")
            raise PayfipOrderRefused("PORTAIL_PAYFIP_NUMCLI must be the 6-digit client number")
        if not MEL_LENGTH[0] <= len(order.email) <= MEL_LENGTH[1] or "@" not in order.email:
            raise PayfipEmailUnusable(f"PayFiP accepts an e-mail of 6 to 80 characters, not {len(order.email)}")
        if not AMOUNT_RANGE[0].cents <= order.amount.cents <= AMOUNT_RANGE[1].cents:
            raise PayfipAmountOutOfRange(f"PayFiP accepts 1 € to 100 000 €, not {order.amount}")
        if not REFDET.match(order.reference):
            raise ValueError(f"refdet must be 6 to 30 letters or digits: {order.reference!r}")
        objet = payfip_objet(order.label)
        fields = {
            # The payment's year where the utility is (see docs/payfip.md for why not the debt's).
            "exer": str(self.clock.today().year),
            "mel": order.email,
            "montant": str(order.amount.cents),
            "numcli": self.client_number,
            "objet": objet,
            "refdet": order.reference,
            "saisie": self.mode,
            "urlnotif": order.notify_url,
            "urlredirect": order.return_url,
        }
        if not objet:
            del fields["objet"]  # the real service accepts it absent; an empty one is unknown ground
        return fields

    def redirect_url(self, operation_id: str) -> str:
        return f"{self.page_url}?{urlencode({'idop': operation_id})}"

    def fetch_result(self, operation_id: str) -> GatewayResult:
        try:
            answer = self._call("recupererDetailPaiementSecurise", {"idOp": operation_id})
        except soap.SoapFault as fault:
            if fault.code == STILL_RUNNING:
                return GatewayResult(operation_id, PaymentStatus.PENDING.value)
            if fault.code == UNKNOWN_OPERATION:
                return GatewayResult(operation_id, PaymentStatus.EXPIRED.value)
            raise GatewayError(f"PayFiP fault: {fault.code} {fault.message}", fault=fault.code) from None
        code = answer.get("resultrans", "")
        status = RESULTS.get(code)
        montant = answer.get("montant", "")
        return GatewayResult(
            operation_id=answer.get("idOp", ""),
            status=status.value if status else f"unknown resultrans {code[:5]}",
            amount=Money(int(montant)) if montant.isdigit() else None,
            reference=answer.get("refdet") or None,
            client_number=answer.get("numcli") or None,
            transaction_reference=_transaction_reference(answer),
        )


def _transaction_reference(answer: dict[str, str]) -> str | None:
    """numauto (the bank's authorisation number) with the transaction date, for exports."""
    numauto = answer.get("numauto", "")
    when = answer.get("dattrans", "") + answer.get("heurtrans", "")
    try:
        stamp = datetime.strptime(when, "%d%m%Y%H%M").strftime("%Y%m%d%H%M") if when else ""
    except ValueError:
        stamp = ""
    return " ".join(part for part in (numauto, stamp) if part)[:64] or None
