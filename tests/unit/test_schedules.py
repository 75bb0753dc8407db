"""Instalment schedules (échéanciers): the import's rules and the pages that show them (on fakes)."""

from __future__ import annotations

import pytest

from portail_domain.model.schedules import InstalmentStatus
from portail_domain.model.values import Money
from tests.support import add_subscriber
from tests.unit.test_exchange_import import CONTRACTS, SUBSCRIBERS, load, rejected

PASSWORD = "une-phrase-de-passe-solide"
NBSP = "\u00a0"  # before € (formatting.money)
SCHEDULE = ("contract_number;due_on;amount;status\n"
            "C1;2026-01-10;30,00;paid\n"
            "C1;10/02/2026;30,00;paid\n"
            "C1;2026-03-10;30,00;unpaid\n"
            "C1;2026-04-10;30,00;planned\n"
            "C1;2026-05-10;30,00;\n")


@pytest.fixture
def portal(memory_portal):
    load(memory_portal, "subscribers", SUBSCRIBERS)
    load(memory_portal, "contracts", CONTRACTS)
    return memory_portal


def instalments(portal, number="C1"):
    with portal.uow() as uow:
        contract = uow.contracts.by_number(number)
        return [(i.due_on.isoformat(), i.amount.cents, i.status.value)
                for i in sorted(uow.instalments.for_contracts([contract.id]), key=lambda i: i.due_on)]


def test_a_schedule_imports_and_the_same_file_again_changes_nothing(portal):
    assert str(load(portal, "schedules", SCHEDULE)) == "5 created, 0 updated, 0 unchanged"
    assert instalments(portal) == [("2026-01-10", 3000, "paid"), ("2026-02-10", 3000, "paid"),
                                   ("2026-03-10", 3000, "unpaid"), ("2026-04-10", 3000, "planned"),
                                   ("2026-05-10", 3000, "planned")]
    assert str(load(portal, "schedules", SCHEDULE)) == "0 created, 0 updated, 5 unchanged"
    assert len(instalments(portal)) == 5


def test_a_row_for_a_known_due_date_updates_it_and_a_missing_status_column_keeps_the_status(portal):
    load(portal, "schedules", SCHEDULE)
    summary = load(portal, "schedules", "contract_number;due_on;amount;status\nC1;2026-04-10;30;paid\n")
    assert (summary.created, summary.updated) == (0, 1)
    summary = load(portal, "schedules", "contract_number;due_on;amount\nC1;2026-04-10;32,50\n")
    assert (summary.created, summary.updated) == (0, 1)
    assert ("2026-04-10", 3250, "paid") in instalments(portal)


def test_a_bad_file_names_each_problem_and_imports_nothing(portal):
    lines = rejected(portal, "schedules", "contract_number;due_on;amount;status\n"
                                          "C1;2026-01-10;30;paid\n"
                                          "C9;2026-02-10;30;paid\n"
                                          "C1;2026-02-30;30;paid\n"
                                          "C1;2026-03-10;-5;planned\n"
                                          "C1;2026-04-10;30;later\n"
                                          "C1;10/01/2026;30;paid\n")
    assert lines == [
        "schedules.csv:3: contract_number: unknown contract 'C9' (import contracts first)",
        "schedules.csv:4: due_on: '2026-02-30' is not a real date",
        "schedules.csv:5: amount: an instalment is a positive amount",
        "schedules.csv:6: status: 'later' is not one of planned, paid, unpaid, cancelled",
        "schedules.csv:7: due_on: the instalment of contract C1 due on 2026-01-10 is already on line 2 of this file",
    ]
    assert instalments(portal) == []


def test_a_file_without_a_required_column_is_refused_by_its_header(portal):
    [line] = rejected(portal, "schedules", "contract_number;due_on\nC1;2026-01-10\n")
    assert line.startswith("schedules.csv") and "amount" in line


@pytest.fixture
def marie_web(portal, web):
    from tests.support import add_account

    add_account(portal, "100001", PASSWORD)
    web.login("marie@example.org", PASSWORD)
    return web


def test_the_schedule_tab_shows_each_instalment_and_what_was_paid(portal, marie_web):
    load(portal, "schedules", SCHEDULE.replace("C1;2026-05-10;30,00;", "C1;2026-05-10;30,00;cancelled"))
    page = marie_web.get("/factures?onglet=echeancier")
    assert page.status_code == 200
    assert "Échéancier du contrat C1" in page.text
    text = page.text.replace(NBSP, " ")
    assert "Payé : 60,00 € sur 120,00 € — reste 60,00 €." in text  # the cancelled one is not owed
    assert "Prochaine échéance : 30,00 € le 10 avr. 2026." in text
    assert page.text.count("<tr>") == 1 + 5
    for badge in ("Payée", "Impayée", "À venir", "Annulée"):
        assert badge in page.text
    assert 'aria-current="page">Échéancier' in page.text


def test_the_contract_page_shows_its_schedule_and_a_contract_without_one_shows_none(portal, marie_web):
    assert "Échéancier du contrat" not in marie_web.get("/contrats/C1").text
    assert "Aucun échéancier" in marie_web.get("/factures?onglet=echeancier").text
    load(portal, "schedules", SCHEDULE)
    page = marie_web.get("/contrats/C1")
    assert "Échéancier du contrat C1" in page.text and "Payé : 60,00 € sur 150,00 €" in page.text.replace(NBSP, " ")


def test_another_subscriber_sees_none_of_the_schedule(portal, web):
    load(portal, "schedules", SCHEDULE)
    add_subscriber(portal, "100002", email="paul@example.org", password=PASSWORD, name="Paul Martin")
    web.login("paul@example.org", PASSWORD)
    assert "Échéancier du contrat" not in web.get("/factures?onglet=echeancier").text
    assert web.get("/contrats/C1").status_code == 404


def test_totals_count_paid_instalments_only():
    from datetime import date

    from portail_domain.model.schedules import Instalment, Schedule

    schedule = Schedule("C1", [Instalment(None, date(2026, 1, 1), Money(1000), InstalmentStatus.PAID),  # type: ignore[arg-type]
                               Instalment(None, date(2026, 2, 1), Money(1000), InstalmentStatus.UNPAID)],  # type: ignore[arg-type]
                        date(2026, 3, 1))
    assert (schedule.total, schedule.paid, schedule.remaining, schedule.next_due) == (
        Money(2000), Money(1000), Money(1000), None)
