"""The wired portal: the ports a running portal uses, handed to use cases by the clients."""

from __future__ import annotations

import attrs

from .model.legal import LegalInfo
from .model.limits import Limits
from .model.mandates import SepaCreditor
from .model.reminders import ReminderPolicy
from .model.request_desk import DueRules
from .ports import (
    BankDirectory,
    Clock,
    FileStore,
    Links,
    MailComposer,
    Mailer,
    PasswordHasher,
    PaymentGateway,
    Printer,
    Secrets,
    UnitOfWorkFactory,
)


@attrs.frozen
class UtilityCard:
    """The utility's contact card (footer, /a-propos, e-mails)."""

    name: str
    address: str
    email: str
    phone: str
    hours: str
    presentation: str = ""  # a few sentences on the utility (/a-propos); empty: none shown
    emergency_phone: str = ""  # leaks and breaks out of hours (/a-propos); empty: none shown


@attrs.frozen
class PortalConfig:
    base_url: str  # every absolute link (``Portal.links``) starts with this, never with a Host header
    utility: UtilityCard
    secret_key: bytes = attrs.field(default=b"", repr=False)  # keys HMACs (tokens, CSRF)
    limits: Limits = Limits()
    reminders: ReminderPolicy = ReminderPolicy()  # when payment reminders go out
    legal: LegalInfo = LegalInfo()  # legal pages, mediator in mails, retention periods
    sepa_creditor: SepaCreditor | None = None  # who collects direct debits; none: no online mandate
    request_due: DueRules = DueRules()  # days to answer a request, per category (overdue after)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


@attrs.define
class Portal:
    """Everything a client (web app, CLI, an embedding system) needs to run use cases.

    Built by ``portail_adapters.bootstrap`` from settings, or by hand from fakes in tests.
    Optional ports are ``None`` until configured; use cases that need them say so.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    secrets: Secrets
    passwords: PasswordHasher
    config: PortalConfig
    composer: MailComposer  # renders the mails the use cases queue
    links: Links  # turns link intents into absolute URLs (e-mails, the payment gateway's return)
    mailer: Mailer | None = None
    payments: PaymentGateway | None = None
    files: FileStore | None = None
    banks: BankDirectory | None = None  # checks IBANs and finds BICs (direct-debit mandates)
    printer: Printer | None = None  # the PDFs the portal files for the subscriber (signed mandates)
