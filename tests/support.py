"""Helpers shared by the tests: a portal on fakes, subscribers, a browser-like client."""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import attrs
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from portail_adapters.banking import SchwiftyBankDirectory
from portail_adapters.memory import (
    FakeGateway,
    MemoryFileStore,
    MemoryMailer,
    PlainPasswordHasher,
    SequenceSecrets,
)
from portail_adapters.sql.database import page_engine
from portail_domain.model.accounts import Account, Subscriber
from portail_domain.model.mandates import SepaCreditor
from portail_domain.model.values import EmailAddress
from portail_domain.portal import Portal, PortalConfig, UtilityCard
from portail_web.printing import PdfPrinter
from portail_web.wiring import web_mail

BASE_URL = "http://127.0.0.1:8000"
UTILITY = UtilityCard("Régie des Eaux de Test", "1 place de la Mairie, 34230 Paulhan", "contact@eau-test.example",
                      "04 67 00 00 00", "du lundi au vendredi")
CREDITOR = SepaCreditor("Régie des Eaux de Test", "FR72ZZZ123456")


def make_portal(uow, clock, *, passwords=None) -> Portal:
    composer, links = web_mail(BASE_URL, UTILITY)  # the real mail templates and links, as in production
    return Portal(
        uow=uow,
        clock=clock,
        secrets=SequenceSecrets(),
        passwords=passwords or PlainPasswordHasher(),
        config=PortalConfig(BASE_URL, UTILITY, secret_key=b"k" * 32, sepa_creditor=CREDITOR),
        composer=composer,
        links=links,
        mailer=MemoryMailer(),
        payments=FakeGateway(),
        files=MemoryFileStore(clock=clock),
        banks=SchwiftyBankDirectory(),
        printer=PdfPrinter(),
    )


def set_limits(portal: Portal, **limits: object) -> None:
    """Configure the portal's limits (upload size, quota, link validity, session timeouts) as settings would."""
    portal.config = attrs.evolve(portal.config, limits=attrs.evolve(portal.config.limits, **limits))


def add_subscriber(portal: Portal, number: str = "100001", *, email: str | None = "marie@example.org",
                   password: str | None = None, name: str = "Marie Dupont") -> Subscriber:
    """A subscriber, with an account when ``password`` is given."""
    subscriber = Subscriber(number=number, name=name, email=EmailAddress.parse(email) if email else None)
    with portal.uow() as uow:
        uow.subscribers.add(subscriber)
        if password is not None:
            uow.accounts.add(Account(password_hash=portal.passwords.hash(password), created_at=portal.clock.now(),
                                     subscriber_id=subscriber.id))
        uow.commit()
    return subscriber


@contextlib.contextmanager
def statements(engine: Engine, starting: str = "") -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block (those starting with ``starting``,
    case-insensitive, when given): how many queries a use case or a page costs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(starting.upper()):
            seen.append(statement)

    with listening(engine, "before_cursor_execute", record):
        yield seen


@contextlib.contextmanager
def listening(engine: Engine, name: str, listener: Callable[..., Any]) -> Iterator[None]:
    """``listener`` on the engine's ``name`` event inside the block, and on the pool of a page's
    reads beside it (PostgreSQL: ``page_engine``): every statement a page runs."""
    engines = [e for e in (engine, page_engine(engine)) if e is not None]
    for each in engines:
        event.listen(each, name, listener)
    try:
        yield
    finally:
        for each in engines:
            event.remove(each, name, listener)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient(TestClient):
    """A TestClient that reads the CSRF token of the page it submits from, as a browser does."""

    def csrf(self, page: str = "/connexion") -> str:
        match = CSRF.search(self.get(page).text)
        assert match, f"no csrf_token on {page}"
        return match.group(1)

    def submit(self, page: str, action: str | None = None, data: dict | None = None, **kwargs):
        """GET ``page``, then POST its form to ``action`` (default: the page) with the token."""
        token = self.csrf(page)
        return self.post(action or page, data={**(data or {}), "csrf_token": token}, follow_redirects=False,
                         **kwargs)

    def login(self, email: str, password: str):
        response = self.submit("/connexion", data={"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response


# --- invoices and payments (issue 6) ---------------------------------------------------------


def add_invoice(portal: Portal, subscriber: Subscriber, number: str = "F2026-0001", *, amount: int = 12345,
                paid: int = 0, cancelled: bool = False, issued: str = "2026-02-01", due: str = "2026-03-01",
                contract_number: str | None = None):
    """An invoice (amounts in cents) on the subscriber's contract, created when missing."""
    from datetime import date

    from portail_domain.model.billing import Invoice
    from portail_domain.model.contracts import Contract, Service
    from portail_domain.model.values import Money

    contract_number = contract_number or f"C{subscriber.number}"
    with portal.uow() as uow:
        contract = uow.contracts.by_number(contract_number)
        if contract is None:
            contract = Contract(contract_number, subscriber.id, Service.BOTH, "1 rue de la Fontaine, 34230 Paulhan",
                                f"M{subscriber.number}", date(2020, 1, 1))
            uow.contracts.add(contract)
        invoice = Invoice(number, contract.id, date.fromisoformat(issued), date.fromisoformat(due), Money(amount),
                          Money(paid), cancelled)
        uow.invoices.add(invoice)
        uow.commit()
    return invoice
def add_contract(portal: Portal, subscriber: Subscriber, number: str = "C1", *, per_day: int = 300,
                 periods: int = 8, every_days: int = 91, leak: bool = False, start=None, meter_digits: int = 5,
                 sources=None):
    """A contract with a reading every ``every_days`` days using ``per_day`` litres a day (the last
    period four times as much with ``leak``); ``sources`` cycles over the readings' sources.
    Returns ``(contract, readings)``."""
    from datetime import date, timedelta

    from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, Service
    from portail_domain.model.values import MeterIndex

    start = start or date(2024, 1, 1)
    sources = sources or [ReadingSource.AGENT]
    contract = Contract(number, subscriber.id, Service.BOTH, "1 rue X, 34230 Paulhan", "M1", start,
                        meter_digits=meter_digits)
    readings, index = [], 0
    for k in range(periods + 1):
        readings.append(MeterReading(contract.id, "M1", start + timedelta(days=every_days * k), MeterIndex(index),
                                     sources[k % len(sources)]))
        index += every_days * per_day * (4 if leak and k == periods - 1 else 1)
    with portal.uow() as uow:
        uow.contracts.add(contract)
        uow.readings.add_many(readings)
        uow.commit()
    return contract, readings


# --- requests (Mes demandes) -------------------------------------------------------------------


def add_staff(portal: Portal, email: str = "agent@eau-test.example", *, password: str, name: str = "Paul Agent",
              role: str = "agent", totp_secret: str | None = None):
    """A member of staff who can log in at /connexion (enrolled in TOTP with ``totp_secret``)."""
    from portail_domain.model.accounts import StaffRole, StaffUser

    staff = StaffUser(EmailAddress.parse(email), name, StaffRole(role), totp_secret=totp_secret)
    with portal.uow() as uow:
        uow.staff.add(staff)
        uow.accounts.add(Account(password_hash=portal.passwords.hash(password), created_at=portal.clock.now(),
                                 staff_id=staff.id))
        uow.commit()
    return staff


def staff_session(portal: Portal, staff) -> str:
    """A session of ``staff`` past the second factor, as /connexion/code leaves it: the cookie's value."""
    import secrets

    from portail_domain.model.accounts import WebSession, hash_token

    token = secrets.token_urlsafe(32)
    with portal.uow() as uow:
        account = uow.accounts.for_staff(staff.id)
        now = portal.clock.now()
        uow.sessions.add(WebSession(hash_token(token), account.id, now, now, second_factor=True))
        uow.commit()
    return token


def sign_in_staff(client: TestClient, portal: Portal, staff) -> None:
    """Put a session of ``staff`` past the second factor in ``client``'s cookies (the TOTP step has its own tests)."""
    client.cookies.set("portail_session", staff_session(portal, staff))


# --- import / export (issue 4) ----------------------------------------------------------------


def add_account(portal: Portal, number: str, password: str) -> None:
    """An account for an existing subscriber (as if they had activated it)."""
    with portal.uow() as uow:
        subscriber = uow.subscribers.by_number(number)
        uow.accounts.add(Account(password_hash=portal.passwords.hash(password), created_at=portal.clock.now(),
                                 subscriber_id=subscriber.id))
        uow.commit()


def change_email_on_portal(portal: Portal, number: str, new_email: str, password: str) -> None:
    """The subscriber changes their login e-mail on the portal: asks, then uses the link sent to it."""
    from portail_domain.model.accounts import Identity
    from portail_domain.services.activation import confirm_email_change, request_email_change

    with portal.uow() as uow:
        subscriber = uow.subscribers.by_number(number)
        account = uow.accounts.for_subscriber(subscriber.id)
        identity = Identity(account=account, subscriber=subscriber, staff=None, session=None)
    request_email_change(portal, identity, new_email, password)
    with portal.uow() as uow:
        link = next(e.mail for e in reversed(uow.outbox.pending()) if e.mail.to == new_email)
    token = re.search(r"jeton=([\w-]+)", link.text).group(1)
    confirm_email_change(portal, token)


def readings_csv(contract: str, meter: str, start: str, *, months: int, per_day: int, last_per_day: int) -> str:
    """A readings file: a reading every 30 days from ``start`` (ISO), ``per_day`` litres a day,
    ``last_per_day`` in the last period (a leak when it is more than twice ``per_day``)."""
    from datetime import date, timedelta

    day, litres = date.fromisoformat(start), 1_000_000
    lines = ["contract_number;meter_number;read_on;index"]
    for k in range(months + 1):
        lines.append(f"{contract};{meter};{(day + timedelta(days=30 * k)).isoformat()};"
                     f"{litres // 1000},{litres % 1000:03d}")
        litres += 30 * (last_per_day if k == months - 1 else per_day)
    return "\n".join(lines) + "\n"


# --- races between two transactions ----------------------------------------------------------


def run_while_held(first: Callable[[Callable[[], None]], Any], second: Callable[[], Any], *,
                   pause: float = 0.3) -> tuple[Any, Any]:
    """Race two transactions on the same rows, deterministically.

    ``first(hold)`` does its work in a transaction and calls ``hold()`` before committing;
    ``hold`` returns once ``second()`` has started and had ``pause`` seconds to reach the rows
    the first one holds. Returns both results; re-raises what either of them raised.
    """
    held, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    failures: list[BaseException] = []

    def hold() -> None:
        held.set()
        release.wait(10)

    def run(name: str, work: Callable[..., Any], *args: Any) -> None:
        try:
            results[name] = work(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            failures.append(exc)

    first_thread = threading.Thread(target=run, args=("first", first, hold))
    first_thread.start()
    held.wait(10)
    second_thread = threading.Thread(target=run, args=("second", second))
    second_thread.start()
    threading.Event().wait(pause)  # the second is now waiting for what the first holds
    release.set()
    first_thread.join(30)
    second_thread.join(30)
    if failures:
        raise failures[0]
    return results["first"], results["second"]


def payment_desk(portal: Portal) -> SimpleNamespace:
    """The billing use cases with ``portal`` bound, as the payment tests call them (``desk.start_payment(…)``)."""
    from portail_domain.services import billing

    names = ("start_payment", "confirm_payment", "handle_notification", "handle_return", "reconcile_pending")
    return SimpleNamespace(**{name: functools.partial(getattr(billing, name), portal) for name in names})


# --- direct debit (issue 16) --------------------------------------------------------------------

IBAN_FR = "FR7630006000000001000123420"  # a valid French IBAN whose bank schwifty knows (BIC derived)


def last_signing_code(portal: Portal) -> str:
    """The code of the latest signing-code e-mail in the outbox (what the subscriber reads)."""
    with portal.uow(read_only=True) as uow:
        subjects = [e.mail.subject for e in uow.outbox.pending()]
    codes = [m.group(1) for m in (re.search(r"(\d{6})$", s) for s in subjects) if m]
    assert codes, "no signing code was mailed"
    return codes[-1]


def start_mandate_for(portal: Portal, subscriber: Subscriber, contract_number: str, *, mode: str = "echeance",
                      iban: str = IBAN_FR, bic: str = "", holder: str = "Marie Dupont"):
    """A pending mandate (code mailed) for one of the subscriber's contracts."""
    from portail_domain.model.mandates import MandateRequest
    from portail_domain.services.mandates import start_mandate

    return start_mandate(portal, subscriber.id, MandateRequest(contract_number, mode, holder, iban, bic))


def sign_mandate_for(portal: Portal, subscriber: Subscriber, contract_number: str, **kwargs: Any):
    """A signed (active) mandate, as if the subscriber had typed the mailed code."""
    from portail_domain.services.mandates import sign_mandate

    start_mandate_for(portal, subscriber, contract_number, **kwargs)
    return sign_mandate(portal, subscriber.id, last_signing_code(portal), client_address="203.0.113.7",
                        user_agent="Mozilla/5.0 (test)")


# --- publishing (issue 13) ----------------------------------------------------------------------


class FailingPublishing:
    """A unit of work factory (wrapping ``factory``) whose ``publishing.STEP`` raises, after the steps
    before it have written their rows: a storage failing in the middle of a publication."""

    def __init__(self, factory: Callable[..., Any], step: str) -> None:
        self.factory, self.step = factory, step

    def __call__(self, *, read_only: bool = False) -> _FailingUnitOfWork:
        return _FailingUnitOfWork(self.factory(read_only=read_only), self.step)


class _FailingUnitOfWork:
    def __init__(self, uow: Any, step: str) -> None:
        self._uow, self._step = uow, step

    def __enter__(self) -> _FailingUnitOfWork:
        self._uow.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._uow.__exit__(*exc_info)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._uow, name)
        return _Broken(found, self._step) if name == "publishing" else found


class _Broken:
    def __init__(self, real: Any, step: str) -> None:
        self._real, self._step = real, step

    def __getattr__(self, name: str) -> Any:
        if name != self._step:
            return getattr(self._real, name)

        def fail(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"{name}: the database went away")

        return fail
