"""A believable demo utility, built through the domain (entities, rules, repositories).

Idempotent: loading twice changes nothing. Deterministic: the same data on every machine,
dated relative to today so the demo always has three years of history.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import attrs

from portail_domain.model.accounts import Account, Language, Subscriber, hash_activation_code
from portail_domain.model.billing import Invoice
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, Service
from portail_domain.model.values import EmailAddress, MeterIndex, Money
from portail_domain.portal import Portal
from portail_domain.services.documents import ensure_default_folders

from .demo_documents import add_demo_documents, add_demo_invoice_pdfs
from .demo_requests import add_demo_requests
from .demo_staff import DEMO_STAFF, DemoStaff, add_demo_staff

DEMO_EMAIL = "marie.dupont@example.org"
DEMO_PASSWORD = "eau-potable-demo-2026"  # noqa: S105 - demo data only, printed by `portail demo`
# Activation to try with `make run`: subscriber 100002 by e-mail + number; 100007 (no e-mail on
# file) with this utility-issued code. Public on purpose: demo data only.
DEMO_ACTIVATION_NUMBER = "100002"
DEMO_CLAIM_NUMBER = "100007"
DEMO_CLAIM_CODE = "DEMO-CODE-EAU2-2026"

FIRST = ["Marie", "Jean", "Sophie", "Pierre", "Camille", "Luc", "Élodie", "Nicolas", "Chloé", "Antoine",
         "Julie", "Thomas", "Léa", "Hugo", "Manon", "Julien", "Sarah", "Mathieu", "Inès", "Olivier"]
LAST = ["Dupont", "Martin", "Bernard", "Robert", "Richard", "Durand", "Moreau", "Laurent", "Simon", "Michel",
        "Lefèvre", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Girard", "Bonnet", "Mercier"]
STREETS = ["rue de la Fontaine", "avenue de la Gare", "chemin des Vignes", "place de la Mairie",
           "rue du Moulin", "impasse des Oliviers", "boulevard Pasteur", "rue de l'Hérault"]
TOWNS = [("34230", "Paulhan"), ("34800", "Clermont-l'Hérault"), ("34230", "Usclas-d'Hérault"),
         ("34800", "Canet"), ("34800", "Aspiran")]


SOURCES = [ReadingSource.AGENT, ReadingSource.ESTIMATED, ReadingSource.AGENT, ReadingSource.SUBSCRIBER]


@attrs.frozen
class DemoSummary:
    created: bool
    subscribers: int
    email: str
    password: str
    activation_email: str = ""
    activation_number: str = DEMO_ACTIVATION_NUMBER
    claim_number: str = DEMO_CLAIM_NUMBER
    claim_code: str = DEMO_CLAIM_CODE
    staff: tuple[DemoStaff, ...] = DEMO_STAFF


def load_demo(portal: Portal, *, subscribers: int = 20, seed: int = 34230) -> DemoSummary:
    rng = random.Random(seed)
    today = portal.clock.today()
    with portal.uow() as uow:
        if uow.subscribers.by_number("100001") is not None:
            add_demo_staff(uow, portal)  # a demo loaded before the back office had staff gets them now
            uow.commit()
            return DemoSummary(False, subscribers, DEMO_EMAIL, DEMO_PASSWORD, _activation_email(uow))
        for n in range(subscribers):
            postal_code, city = TOWNS[n % len(TOWNS)]
            first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
            address = f"{rng.randint(1, 80)} {STREETS[n % len(STREETS)]}"
            email = DEMO_EMAIL if n == 0 else f"{first.lower()}.{last.lower()}{n}@example.org"
            subscriber = Subscriber(
                number=str(100001 + n),
                name=f"{first} {last}",
                email=EmailAddress.parse(_ascii(email)) if n % 7 != 6 else None,  # some have no e-mail on file
                phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                address=address,
                postal_code=postal_code,
                city=city,
                language=Language.EN if n == 5 else Language.FR,
                paperless=n % 3 == 0,
                activation_code_hash=hash_activation_code(DEMO_CLAIM_CODE) if n == 6 else None,
            )
            uow.subscribers.add(subscriber)
            folders = ensure_default_folders(uow, subscriber.id)
            add_demo_documents(uow, portal, subscriber, folders, f"C{100001 + n}-1", today)
            contracts = 2 if n in (0, 9) else 1
            for k in range(contracts):
                _contract_with_history(uow, rng, subscriber, n, k, today, leak=(n == 0 and k == 0),
                                       meter_change=(n == 3))
            add_demo_invoice_pdfs(uow, portal, subscriber, folders)
        holder = uow.subscribers.by_number("100001")
        assert holder is not None
        add_demo_requests(uow, portal, holder)
        uow.accounts.add(
            Account(password_hash=portal.passwords.hash(DEMO_PASSWORD), created_at=portal.clock.now(),
                    subscriber_id=holder.id)
        )
        add_demo_staff(uow, portal)
        activation_email = _activation_email(uow)
        uow.commit()
    return DemoSummary(True, subscribers, DEMO_EMAIL, DEMO_PASSWORD, activation_email)


def _activation_email(uow) -> str:
    subscriber = uow.subscribers.by_number(DEMO_ACTIVATION_NUMBER)
    return str(subscriber.email) if subscriber is not None and subscriber.email else ""


def _ascii(text: str) -> str:
    return text.replace("é", "e").replace("è", "e").replace("ï", "i")


def _usage_factor(on: date, next_on: date, today: date, *, leak: bool) -> float:
    """More water in summer; a leak multiplies the last period (it triggers the over-consumption alert)."""
    factor = 1.3 if on.month in (6, 7, 8) else 1.0
    is_last = next_on + timedelta(days=91 - 5) > today - timedelta(days=10)
    return factor * 3.2 if leak and is_last else factor


def _contract_with_history(uow, rng: random.Random, subscriber: Subscriber, n: int, k: int, today: date,
                           *, leak: bool, meter_change: bool) -> None:
    start = today - timedelta(days=3 * 365 + 30 + rng.randint(0, 60))
    second_home = k == 1
    contract = Contract(
        number=f"C{100001 + n}-{k + 1}",
        subscriber_id=subscriber.id,
        service=Service.BOTH if not second_home else Service.WATER,
        supply_address=(f"{subscriber.address}, {subscriber.postal_code} {subscriber.city}" if not second_home
                        else f"{rng.randint(1, 30)} rue des Jardins, 34800 Canet"),
        meter_number=f"M{20190000 + n * 10 + k}",
        meter_digits=5,
        start_on=start,
    )
    uow.contracts.add(contract)
    # Quarterly readings: agent twice a year, the others estimated or sent by the subscriber.
    litres_per_day = rng.randint(90, 160) * (0.4 if second_home else 1) * 2.2
    index = rng.randint(100, 900) * 1000
    meter = contract.meter_number
    readings: list[MeterReading] = []
    invoices_made = 0
    on = start
    quarter = 0
    while on <= today - timedelta(days=10):
        if meter_change and quarter == 6:
            # The old meter's last reading and the new meter's first, on the same day.
            readings.append(MeterReading(contract.id, meter, on, MeterIndex(index), ReadingSource.AGENT))
            meter = f"{meter}B"
            index = 0
            contract.meter_number = meter
        source = SOURCES[quarter % 4]
        readings.append(MeterReading(contract.id, meter, on, MeterIndex(index), source))
        days = 91 + rng.randint(-5, 5)
        next_on = on + timedelta(days=days)
        index += int(days * litres_per_day * _usage_factor(on, next_on, today, leak=leak) * rng.uniform(0.85, 1.15))
        if quarter % 2 == 1:
            invoices_made += 1
            issued = on + timedelta(days=7)
            if issued <= today:
                volume = (index - readings[-2].index.litres) / 1000 if len(readings) > 1 else 30
                amount = Money(int(volume * 420) + 4500)  # 4,20 € / m³ plus the standing charge
                recent = (today - issued).days < 210  # the last invoice of each contract is to pay
                uow.invoices.add(Invoice(
                    number=f"F{issued.year}-{100001 + n}{k}{invoices_made:02d}",
                    contract_id=contract.id,
                    issued_on=issued,
                    due_on=issued + timedelta(days=30),
                    amount=amount,
                    amount_paid=Money(0) if recent and n % 2 == 0 else amount,
                ))
        on = next_on
        quarter += 1
    if meter_change:
        uow.contracts.update(contract)
    uow.readings.add_many(readings)
