"""The home page's reads gathered in one unit of work: the same as the three use cases, fewer queries."""

from __future__ import annotations

import attrs
import pytest

from portail_adapters.sql.uow import SqlUnitOfWorkFactory
from portail_domain.services.billing import invoice_overview
from portail_domain.services.contracts import contracts_at_a_glance, overconsumption_alerts
from portail_domain.services.home import home_page
from tests.support import add_contract, add_invoice, add_subscriber, make_portal, statements


@pytest.fixture
def portal(uow_factory, clock):
    return make_portal(uow_factory, clock)


def _subscriber_with_history(portal, number="100001", email="marie@example.org"):
    subscriber = add_subscriber(portal, number, email=email)
    add_contract(portal, subscriber, f"C{number}", leak=True)
    add_contract(portal, subscriber, f"D{number}", periods=3)
    add_invoice(portal, subscriber, f"F{number}-1", contract_number=f"C{number}")
    add_invoice(portal, subscriber, f"F{number}-2", paid=12345, contract_number=f"D{number}", issued="2026-01-01",
                due="2026-02-01")
    return subscriber


def test_the_home_page_shows_what_the_three_use_cases_show(portal):
    marie = _subscriber_with_history(portal)
    _subscriber_with_history(portal, "200002", "paul@example.org")  # never on Marie's page
    page = home_page(portal, marie.id)
    overview = invoice_overview(portal, marie.id, unpaid_only=True)
    assert _invoices(page.invoices) == _invoices(overview)
    assert _alerts(page.alerts) == _alerts(overconsumption_alerts(portal, marie.id))
    assert _glances(page.glances) == _glances(contracts_at_a_glance(portal, marie.id))
    assert [line.invoice.number for line in page.invoices.lines] == ["F100001-1"]
    assert [alert.contract.number for alert in page.alerts] == ["C100001"]
    assert sorted(g.contract.number for g in page.glances) == ["C100001", "D100001"]


def _invoices(overview):
    return ([(line.invoice.number, line.contract_number, line.invoice.remaining, line.direct_debit)
             for line in overview.lines], overview.total_due, overview.next_due_on)


def _alerts(alerts):
    return [(a.contract.number, a.period, a.usual_litres_per_day, a.notified_at) for a in alerts]


def _glances(glances):
    return [(g.contract.number, g.last_reading.id if g.last_reading else None, g.change_percent) for g in glances]


@pytest.mark.parametrize("contracts", [1, 6])
def test_the_home_page_reads_in_four_statements_whatever_the_history(engine, clock, contracts):
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    marie = add_subscriber(portal)
    for k in range(contracts):
        add_contract(portal, marie, f"C{k}", periods=4 + 3 * k)
        add_invoice(portal, marie, f"F{k}", contract_number=f"C{k}")
    with statements(engine, "SELECT") as selects:
        page = home_page(portal, marie.id)
    assert len(page.glances) == contracts and len(page.invoices.lines) == contracts
    assert len(selects) == 4  # contracts, invoices with mandates, readings, alerts already sent


@pytest.mark.parametrize("invoices", [1, 30])
def test_the_invoice_list_reads_in_one_statement_with_its_contract_numbers_and_mandates(engine, clock, invoices):
    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    marie = _subscriber_with_history(portal)
    _subscriber_with_history(portal, "200002", "paul@example.org")  # never on Marie's list
    for k in range(invoices):
        add_invoice(portal, marie, f"G{k:02d}", contract_number="D100001", issued=f"2025-{k % 12 + 1:02d}-01")
    with statements(engine, "SELECT") as selects:
        overview = invoice_overview(portal, marie.id)
    assert len(selects) == 1  # the invoices with their contracts' numbers and mandates
    numbers = {line.invoice.number: line.contract_number for line in overview.lines}
    extra = {f"G{k:02d}": "D100001" for k in range(invoices)}
    assert numbers == {"F100001-1": "C100001", "F100001-2": "D100001", **extra}
    assert [line.invoice.issued_on for line in overview.lines] == sorted(
        (line.invoice.issued_on for line in overview.lines), reverse=True)


def test_the_invoice_list_reads_each_contracts_mandates_once_and_says_which_invoices_they_collect(engine, clock):
    from datetime import UTC, datetime

    from portail_domain.model.mandates import BankAccount, Mandate, MandateMode, MandateStatus, SignatureEvidence
    from portail_domain.services.mandates import direct_debits
    from tests.support import IBAN_FR

    portal = make_portal(SqlUnitOfWorkFactory(engine), clock)
    marie = _subscriber_with_history(portal)
    for k in range(6):
        add_invoice(portal, marie, f"G{k}", contract_number="D100001", issued=f"2025-{k + 1:02d}-01",
                    due=f"2025-{k + 2:02d}-01")
    signed = SignatureEvidence(datetime(2025, 3, 15, tzinfo=UTC), "203.0.113.7", "test", "0" * 64)
    with portal.uow() as uow:
        contracts = {c.number: c for c in uow.contracts.for_subscriber(marie.id)}

        def mandate(number, rum, status, **more):
            return Mandate(rum, marie.id, contracts[number].id, MandateMode.ECHEANCE, "Marie Dupont",
                           BankAccount(IBAN_FR, "AGRIFRPPXXX"), datetime(2025, 3, 1, tzinfo=UTC), status, **more)
        uow.mandates.add(mandate("D100001", "RUM-OLD", MandateStatus.REVOKED, evidence=signed,
                                 revoked_at=datetime(2025, 5, 20, tzinfo=UTC)))
        uow.mandates.add(mandate("D100001", "RUM-NEW", MandateStatus.ACTIVE,
                                 evidence=attrs.evolve(signed, signed_at=datetime(2025, 5, 10, tzinfo=UTC))))
        uow.mandates.add(mandate("C100001", "RUM-WAITING", MandateStatus.PENDING))
        uow.commit()
    with portal.uow(read_only=True) as uow, statements(engine, "SELECT") as selects:
        numbered, mandates = uow.invoices.listing(marie.id)
    assert len(selects) == 1
    assert sorted(x.rum for x in mandates) == ["RUM-NEW", "RUM-OLD"]  # once each, never the pending one
    assert [i.number for i, _ in numbered] == [i.number for i in sorted(
        (i for i, _ in numbered), key=lambda i: (i.issued_on, i.number), reverse=True)]
    assert len({i.id for i, _ in numbered}) == len(numbered) == 8
    overview = invoice_overview(portal, marie.id)
    with portal.uow(read_only=True) as uow:
        expected = direct_debits(uow, [line.invoice for line in overview.lines], clock.today())
    shown = {line.invoice.number: line.direct_debit for line in overview.lines}
    assert shown == {line.invoice.number: expected.get(line.invoice.id) for line in overview.lines}
    # The old mandate (signed 15 March, revoked 20 May) collects what was issued after the one and due
    # before the other (G3); the new one (signed 10 May) what was issued after (G5, F100001-2); not G4.
    assert {n for n, debit in shown.items() if debit is not None} == {"G3", "G5", "F100001-2"}
