"""What French law asks a public service's portal to show: accessibility, mediator, publisher, host,
and how long each kind of data is kept (the values the legal pages and the retention job use)."""

from __future__ import annotations

import enum
from datetime import date, timedelta

import attrs


class AccessibilityStatus(enum.StrEnum):
    """RGAA 4.1 conformity levels (décret 2019-768 art. 4), as the statement prints them."""

    CONFORME = "conforme"  # every criterion met
    PARTIAL = "partiellement conforme"  # at least 50 % of the criteria met
    NON_CONFORME = "non conforme"  # less than 50 %, or no audit yet


@attrs.frozen
class Accessibility:
    """The utility's declared audit. Without an audit date the site is "non conforme" (no claim without proof)."""

    declared: AccessibilityStatus = AccessibilityStatus.NON_CONFORME
    audit_date: date | None = None
    contact: str = ""  # where to report a barrier; the utility's e-mail when empty

    @property
    def status(self) -> AccessibilityStatus:
        return self.declared if self.audit_date is not None else AccessibilityStatus.NON_CONFORME


@attrs.frozen
class Mediator:
    """The consumer mediator the utility belongs to (Code de la consommation L612-1, L616-1, R616-1)."""

    name: str = "Médiation de l'eau"
    address: str = "BP 40463, 75366 Paris Cedex 08"
    url: str = "https://www.mediation-eau.fr"


@attrs.frozen
class Publisher:
    """Who publishes the portal (LCEN art. 6 III): the utility, its director of publication, its DPO."""

    name: str = ""
    address: str = ""
    phone: str = ""
    siret: str = ""
    director: str = ""  # directeur de la publication
    dpo_email: str = ""  # délégué à la protection des données (RGPD art. 37)


@attrs.frozen
class Host:
    """Who hosts the portal (LCEN art. 6 III)."""

    name: str = ""
    address: str = ""
    phone: str = ""


def years(count: int) -> timedelta:
    """A period of ``count`` years, as retention counts it (365 days a year, leap days aside)."""
    return timedelta(days=365 * count)


@attrs.frozen
class Retention:
    """How long each kind of data is kept (the privacy page prints these; ``portail retention apply`` applies them)."""

    invoices_years: int = 10  # invoices and their payments, from the issue date (Code de commerce L123-22)
    requests_years: int = 5  # requests, from their closing (prescription, Code civil 2224)
    security_days: int = 365  # security events (logins, password changes…), from the event
    unused_account_years: int = 3  # an account nobody logged in to for this long is closed…
    warning_days: int = 30  # …this long after a warning e-mail


@attrs.frozen
class LegalInfo:
    accessibility: Accessibility = Accessibility()
    mediator: Mediator = Mediator()
    publisher: Publisher = Publisher()
    host: Host = Host()
    retention: Retention = Retention()
