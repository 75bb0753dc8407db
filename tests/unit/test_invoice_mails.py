""""Votre facture est disponible": what an invoices import tells subscribers (on fakes)."""

from __future__ import annotations

import pytest

from tests.unit.test_exchange_import import load, rejected

SUBSCRIBERS = ("subscriber_number;name;email\n"
               "100001;Marie Dupont;marie@example.org\n"
               "100002;Paul Martin;paul@example.org\n"
               "100003;Jeanne Roux;\n")
CONTRACTS = ("contract_number;subscriber_number;service;supply_address;meter_number;start_date\n"
             "C1;100001;both;1 rue Haute;M1;2024-01-01\n"
             "C2;100001;water;Jardin;M2;2024-01-01\n"
             "C3;100002;both;2 rue Basse;M3;2024-01-01\n"
             "C4;100003;both;3 rue Neuve;M4;2024-01-01\n")
HEADER = "invoice_number;contract_number;issued_on;due_on;amount;amount_paid\n"


@pytest.fixture
def portal(memory_portal):
    load(memory_portal, "subscribers", SUBSCRIBERS)
    load(memory_portal, "contracts", CONTRACTS)
    return memory_portal


def invoice_mails(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending() if "disponible" in e.mail.subject]


def test_one_mail_per_subscriber_per_file_even_with_several_invoices(portal):
    summary = load(portal, "invoices", HEADER + "F1;C1;2026-03-01;2026-03-31;40,00;\n"
                                                "F2;C2;2026-03-01;2026-04-15;12,50;\n"
                                                "F3;C3;2026-03-01;2026-03-31;99,90;\n"
                                                "F4;C4;2026-03-01;2026-03-31;10,00;\n")
    assert summary.mails == 2 and str(summary).endswith("; 2 invoice e-mail(s) queued")
    mails = {m.to: m for m in invoice_mails(portal)}
    assert set(mails) == {"marie@example.org", "paul@example.org"}  # Jeanne has no e-mail on file
    marie, paul = mails["marie@example.org"], mails["paul@example.org"]
    assert marie.subject.startswith("Vos factures sont disponibles")
    assert "2 nouvelles factures, d'un montant total de 52,50\u00a0€" in marie.text
    assert "31 mars 2026" in marie.text and "http://127.0.0.1:8000/factures\n" in marie.text
    assert paul.subject.startswith("Votre facture est disponible")
    assert "Votre facture F3 d'un montant de 99,90\u00a0€" in paul.text and "31 mars 2026" in paul.text
    assert "http://127.0.0.1:8000/factures/F3" in paul.text
    assert marie.html and "<a href=" in marie.html


def test_a_file_read_in_several_chunks_still_sends_one_mail(portal):
    from portail_domain.model.exchange import ImportLimits

    rows = "".join(f"F{n};C1;2026-03-01;2026-03-{10 + n};10;\n" for n in range(7))
    assert load(portal, "invoices", HEADER + rows, limits=ImportLimits(chunk_rows=2)).mails == 1
    [mail] = invoice_mails(portal)
    assert "7 nouvelles factures" in mail.text


def test_an_update_and_the_same_file_again_tell_nobody(portal):
    load(portal, "invoices", HEADER + "F1;C1;2026-03-01;2026-03-31;40,00;\n")
    assert len(invoice_mails(portal)) == 1
    again = load(portal, "invoices", HEADER + "F1;C1;2026-03-01;2026-03-31;40,00;\n")
    changed = load(portal, "invoices", HEADER + "F1;C1;2026-03-01;2026-03-31;40,00;40,00\n")
    assert (again.mails, changed.mails, changed.updated) == (0, 0, 1)
    assert len(invoice_mails(portal)) == 1


def test_a_rejected_file_queues_no_mail(portal):
    rejected(portal, "invoices", HEADER + "F1;C1;2026-03-01;2026-03-31;40,00;\nF2;C9;2026-03-01;2026-03-31;1;\n")
    assert invoice_mails(portal) == []


def test_the_mail_is_in_the_subscriber_s_language(portal):
    with portal.uow() as uow:
        paul = uow.subscribers.by_number("100002")
        from portail_domain.model.accounts import Language

        paul.language = Language.EN
        uow.subscribers.update(paul)
        uow.commit()
    load(portal, "invoices", HEADER + "F3;C3;2026-03-01;2026-03-31;99,90;\n")
    [mail] = invoice_mails(portal) or [None]
    assert mail is None  # the French subject filter finds none: it is in English
    with portal.uow() as uow:
        [entry] = uow.outbox.pending()
    assert entry.mail.subject.startswith("Your invoice is available") and "due by 31" in entry.mail.text
