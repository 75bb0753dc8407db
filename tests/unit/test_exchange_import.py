"""Import rules on the in-memory fakes: what the billing system's files may and may not do."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portail_adapters.exchange_csv import import_stream
from portail_adapters.memory import FixedClock, MemoryDatabase
from portail_domain.model.accounts import Account, hash_activation_code
from portail_domain.model.documents import FolderKind
from portail_domain.model.exchange import ImportLimits, ImportRejected
from portail_domain.model.values import EmailAddress, Money
from tests.support import add_account, add_subscriber, change_email_on_portal, make_portal, readings_csv

SUBSCRIBERS = "subscriber_number;name;email;activation_code\n100001;Marie Dupont;marie@example.org;\n"
CONTRACTS = "contract_number;subscriber_number;service;supply_address;meter_number;start_date\n" \
            "C1;100001;both;1 rue Haute;M1;2024-01-01\n"
PDF = b"%PDF-1.4\n%fake but starts like a PDF\n%%EOF\n"


def load(portal, kind, text, *, name=None, base_dir=None, limits=None):
    data = text.encode() if isinstance(text, str) else text
    return import_stream(portal, kind, io.BytesIO(data), name=name or f"{kind}.csv", base_dir=base_dir,
                         limits=limits)


def rejected(portal, kind, text, **kwargs) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        load(portal, kind, text, **kwargs)
    return caught.value.lines()


@pytest.fixture
def portal(memory_portal):
    load(memory_portal, "subscribers", SUBSCRIBERS)
    load(memory_portal, "contracts", CONTRACTS)
    return memory_portal


def readings(portal):
    with portal.uow() as uow:
        contract = uow.contracts.by_number("C1")
        return [(r.read_on, r.index.litres) for r in uow.readings.for_contract(contract.id)]


# --- readings: the index never goes down ----------------------------------------------------

days = st.integers(min_value=0, max_value=700)
litres = st.integers(min_value=0, max_value=99_999_000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(days, litres), min_size=1, max_size=8), st.lists(st.tuples(days, litres), max_size=6))
def test_a_file_is_accepted_exactly_when_no_index_goes_down(first, second):
    portal = make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
    load(portal, "subscribers", SUBSCRIBERS)
    load(portal, "contracts", CONTRACTS)
    start = date(2024, 1, 1)
    stored: dict[date, int] = {}
    for batch in (first, second):
        rows = [(start + timedelta(days=d), v) for d, v in batch]
        text = "contract_number;meter_number;read_on;index\n" + "".join(
            f"C1;M1;{day.isoformat()};{v // 1000},{v % 1000:03d}\n" for day, v in rows)
        merged = dict(stored)
        distinct = len({day for day, _ in rows}) == len(rows)
        merged.update(rows)
        ordered = [merged[d] for d in sorted(merged)]
        expected_ok = distinct and ordered == sorted(ordered)
        try:
            load(portal, "readings", text)
            accepted = True
        except ImportRejected:
            accepted = False
        assert accepted == expected_ok
        if accepted:
            stored = merged
        assert readings(portal) == sorted(stored.items())  # a rejected file changes nothing


def test_a_reading_may_be_slotted_in_between_when_its_index_fits(portal):
    header = "contract_number;meter_number;read_on;index\n"
    load(portal, "readings", header + "C1;M1;2025-01-01;100\nC1;M1;2025-03-01;300\n")
    summary = load(portal, "readings", header + "C1;M1;2025-02-01;200\nC1;M1;2025-03-01;300\n")
    assert (summary.created, summary.updated, summary.unchanged) == (1, 0, 1)
    lines = rejected(portal, "readings", header + "C1;M1;2025-02-15;350\n")
    assert lines[0] == "readings.csv:2: index: 350 m³ is above the index 300 m³ read later, on 2025-03-01"


def test_the_contract_s_dates_and_meter_digits_bound_a_reading(portal):
    lines = rejected(portal, "readings", "contract_number;meter_number;read_on;index\n"
                                         "C1;M1;2023-12-31;1\nC1;M1;2026-03-11;2\nC1;M1;2025-01-01;100000\n")
    assert lines == [
        "readings.csv:2: read_on: before the start of contract C1 (2024-01-01)",
        "readings.csv:3: read_on: 2026-03-11 is in the future",
        "readings.csv:4: index: more than the 5 digits of meter M1",
    ]


def test_a_duplicate_key_is_found_across_chunks(portal):
    text = "contract_number;meter_number;read_on;index\n" + "".join(
        f"C1;M1;2025-01-{d:02d};{d}\n" for d in range(1, 6)) + "C1;M1;2025-01-02;2\n"
    lines = rejected(portal, "readings", text, limits=ImportLimits(chunk_rows=2))
    assert lines == ["readings.csv:7: read_on: the reading of meter M1 on 2025-01-02 is already on line 3 of this file"]
    assert readings(portal) == []


def test_problems_stop_after_fifty_and_say_how_many_more(portal):
    text = "contract_number;meter_number;read_on;index\n" + "".join(
        f"C9;M1;2025-01-01;{n}\n" for n in range(70))
    lines = rejected(portal, "readings", text)
    assert len(lines) == 51
    assert lines[0].startswith("readings.csv:2: contract_number: unknown contract 'C9'")
    assert lines[-1] == "readings.csv: … and 20 more problem(s)"


# --- subscribers --------------------------------------------------------------------------


def test_a_changed_e_mail_is_applied_the_account_kept_and_the_change_logged(memory_portal, caplog):
    subscriber = add_subscriber(memory_portal, "100001", email="marie@example.org", password="une-phrase-solide")
    with caplog.at_level(logging.INFO, logger="portail.security"):
        summary = load(memory_portal, "subscribers",
                       "subscriber_number;name;email\n100001;Marie Dupont;m.d@example.net\n")
    assert str(summary) == "0 created, 1 updated, 0 unchanged"
    with memory_portal.uow() as uow:
        again = uow.subscribers.by_number("100001")
        assert again.id == subscriber.id and str(again.email) == "m.d@example.net"
        assert uow.accounts.for_subscriber(subscriber.id) is not None
    logged = [r.getMessage() for r in caplog.records if r.name == "portail.security"]
    assert logged == ["import: e-mail on file of subscriber 100001 changed from m***@example.org to m***@example.net"]
    assert "marie@example.org" not in caplog.text


def test_an_e_mail_that_only_changes_case_is_an_update_but_not_a_security_event(memory_portal, caplog):
    load(memory_portal, "subscribers", "subscriber_number;name;email\n1;A;marie@example.org\n")
    with caplog.at_level(logging.INFO, logger="portail.security"):
        summary = load(memory_portal, "subscribers", "subscriber_number;name;email\n1;A;Marie@Example.org\n")
    assert summary.updated == 1 and not [r for r in caplog.records if r.name == "portail.security"]


def test_an_activation_code_is_stored_hashed_and_reimporting_it_changes_nothing(memory_portal):
    text = "subscriber_number;name;activation_code\n100001;Marie;K7QF-M2XD-9WPR\n"
    load(memory_portal, "subscribers", text)
    with memory_portal.uow() as uow:
        stored = uow.subscribers.by_number("100001").activation_code_hash
    assert "K7QF" not in stored and stored == hash_activation_code("k7qf m2xd 9wpr")  # as the letter's reader types it
    assert str(load(memory_portal, "subscribers", text)) == "0 created, 0 updated, 1 unchanged"
    assert load(memory_portal, "subscribers", text.replace("9WPR", "9WPS")).updated == 1
    assert rejected(memory_portal, "subscribers", "subscriber_number;name;activation_code\n1;A;1234\n") == [
        "subscribers.csv:2: activation_code: an activation code has 8 to 128 characters"]


def test_cells_that_break_a_rule_are_each_named(memory_portal):
    lines = rejected(memory_portal, "subscribers", "subscriber_number;name;email;postal_code\n"
                                                   ";Sans numéro;;\n2;;pas-un-email;\n3;C;;" + "9" * 11 + "\n")
    assert lines == [
        "subscribers.csv:2: subscriber_number: required, but empty",
        "subscribers.csv:3: name: required, but empty",
        "subscribers.csv:3: email: not an e-mail address: 'pas-un-email'",
        "subscribers.csv:4: postal_code: longer than 10 characters",
    ]


# --- contracts ----------------------------------------------------------------------------


def test_a_contract_never_changes_holder(portal):
    load(portal, "subscribers", "subscriber_number;name\n100002;Jean\n")
    lines = rejected(portal, "contracts", CONTRACTS.replace("C1;100001", "C1;100002"))
    assert lines == ["contracts.csv:2: subscriber_number: contract C1 belongs to another subscriber"]


def test_a_contract_for_an_unknown_subscriber_or_ending_before_it_starts_is_refused(portal):
    lines = rejected(portal, "contracts", "contract_number;subscriber_number;service;supply_address;meter_number;"
                                          "start_date;end_date\nC2;999;water;x;M2;2024-01-01;\n"
                                          "C3;100001;gaz;x;M3;2024-01-01;\nC4;100001;water;x;M4;2024-01-01;2023-01-01\n")
    assert lines == [
        "contracts.csv:2: subscriber_number: unknown subscriber '999' (import subscribers first)",
        "contracts.csv:3: service: 'gaz' is not one of water, sanitation, both",
        "contracts.csv:4: end_date: before the start date",
    ]


# --- invoices -----------------------------------------------------------------------------

INVOICES = "invoice_number;contract_number;issued_on;due_on;amount;amount_paid;pdf_file\n"


def test_a_payment_made_on_the_portal_is_not_undone_by_an_older_file(portal):
    load(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;100,00;0;\n")
    with portal.uow() as uow:
        invoice = uow.invoices.by_number("F1")
        invoice.record_payment(Money(10000))
        uow.invoices.update(invoice)
        uow.commit()
    assert load(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;100,00;0;\n").unchanged == 1
    with portal.uow() as uow:
        assert uow.invoices.by_number("F1").amount_paid == Money(10000)


def test_an_invoice_pdf_goes_to_the_factures_folder_once(portal, tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "F1.pdf").write_bytes(PDF)
    text = INVOICES + "F1;C1;2026-01-01;2026-02-01;12,5;;pdf/F1.pdf\n"
    assert load(portal, "invoices", text, base_dir=tmp_path).created == 1
    assert load(portal, "invoices", text, base_dir=tmp_path).unchanged == 1
    with portal.uow() as uow:
        invoice = uow.invoices.by_number("F1")
        subscriber = uow.subscribers.by_number("100001")
        documents = uow.documents.for_subscriber(subscriber.id)
        folder = uow.folders.get(documents[0].folder_id)
    assert len(documents) == 1 and invoice.pdf_document_id == documents[0].id
    assert folder.kind == FolderKind.INVOICES and folder.name == "Factures"
    assert b"".join(portal.files.open(documents[0].storage_key)) == PDF
    assert invoice.amount == Money(1250)


def test_a_missing_or_fake_pdf_is_a_row_error_and_no_file_is_left_behind(portal, tmp_path):
    (tmp_path / "ok.pdf").write_bytes(PDF)
    (tmp_path / "fake.pdf").write_bytes(b"<html>not a pdf</html>")
    lines = rejected(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;1;;ok.pdf\n"
                                                    "F2;C1;2026-01-01;2026-02-01;1;;nowhere.pdf\n"
                                                    "F3;C1;2026-01-01;2026-02-01;1;;fake.pdf\n"
                                                    "F4;C1;2026-01-01;2026-02-01;1;;/etc/passwd\n",
                     base_dir=tmp_path)
    assert lines == [
        "invoices.csv:3: pdf_file: no file 'nowhere.pdf' next to the CSV file",
        "invoices.csv:4: pdf_file: 'fake.pdf' is not a PDF file",
        "invoices.csv:5: pdf_file: give a path relative to the CSV file",
    ]
    assert portal.files.objects == {}
    with portal.uow() as uow:
        assert uow.invoices.by_number("F1") is None


def test_an_invoice_for_an_unknown_contract_or_with_odd_amounts_is_refused(portal):
    lines = rejected(portal, "invoices", INVOICES + "F1;C9;2026-01-01;2026-02-01;1;;\n"
                                                    "F2;C1;2026-01-01;2025-12-01;1;;\n"
                                                    "F3;C1;2026-01-01;2026-02-01;10;10,01;\n"
                                                    "F4;C1;2026-01-01;2026-02-01;10,001;;\n")
    assert lines == [
        "invoices.csv:2: contract_number: unknown contract 'C9' (import contracts first)",
        "invoices.csv:3: due_on: before the issue date",
        "invoices.csv:4: amount_paid: more than the amount (10.00)",
        "invoices.csv:5: amount: amount has more than 2 decimals: '10,001'",
    ]


def test_a_file_of_another_kind_is_refused_by_its_header(portal):
    lines = rejected(portal, "invoices", CONTRACTS)
    assert lines[0].startswith("invoices.csv:1: header: unknown column(s): subscriber_number, service")
    assert lines[1] == "invoices.csv:1: header: missing column(s): invoice_number, issued_on, due_on, amount"


def test_the_account_table_is_untouched_by_imports(memory_portal):
    add_subscriber(memory_portal, "100001", password="une-phrase-solide")
    load(memory_portal, "subscribers", "subscriber_number;name\n100001;Marie D.\n")
    with memory_portal.uow() as uow:
        accounts = list(uow.accounts.rows.values())
    assert len(accounts) == 1 and isinstance(accounts[0], Account)


def test_a_column_left_out_of_the_file_leaves_that_field_as_it_is(portal):
    load(portal, "subscribers", "subscriber_number;name;phone\n100001;Marie Dupont-Durand;04 67 00 00 01\n")
    load(portal, "readings", "contract_number;meter_number;read_on;index;source\nC1;M1;2025-01-01;10;remote\n")
    assert load(portal, "readings", "contract_number;meter_number;read_on;index\nC1;M1;2025-01-01;10\n").unchanged == 1
    with portal.uow() as uow:
        subscriber = uow.subscribers.by_number("100001")
        reading = uow.readings.for_contract(uow.contracts.by_number("C1").id)[0]
    assert str(subscriber.email) == "marie@example.org" and subscriber.phone == "04 67 00 00 01"
    assert reading.source.value == "remote"


def test_an_unnamed_column_is_reported_by_its_position(memory_portal):
    assert rejected(memory_portal, "subscribers", "subscriber_number;name;\n1;A;\n") == [
        "subscribers.csv:1: header: unknown column(s): (no name, column 3) (expected: subscriber_number, name, email, "
        "phone, address, postal_code, city, activation_code)"]


def test_a_code_is_not_re_armed_once_the_subscriber_has_an_account(memory_portal):
    subscriber = add_subscriber(memory_portal, "100001", password="une-phrase-solide")
    text = "subscriber_number;name;email;activation_code\n100001;Marie Dupont;marie@example.org;K7QF-M2XD-9WPR\n"
    assert load(memory_portal, "subscribers", text).unchanged == 1
    with memory_portal.uow() as uow:
        assert uow.subscribers.get(subscriber.id).activation_code_hash is None


def test_a_new_pdf_for_an_invoice_replaces_the_old_one(portal, tmp_path):
    (tmp_path / "a.pdf").write_bytes(PDF)
    (tmp_path / "b.pdf").write_bytes(PDF + b"% corrected\n")
    load(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;1;;a.pdf\n", base_dir=tmp_path)
    (old_key,) = portal.files.objects
    assert load(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;1;;b.pdf\n", base_dir=tmp_path).updated == 1
    with portal.uow() as uow:
        invoice = uow.invoices.by_number("F1")
        documents = uow.documents.for_subscriber(uow.subscribers.by_number("100001").id)
    assert [d.id for d in documents] == [invoice.pdf_document_id]
    assert list(portal.files.objects) == [documents[0].storage_key] != [old_key]


def test_exports_on_the_fakes_match_the_documented_order_and_filter(portal):
    from portail_adapters.exchange_csv import export_csv
    from portail_domain.model.billing import Payment, PaymentStatus
    from portail_domain.model.contracts import MeterReading, ReadingSource, ReadingStatus
    from portail_domain.model.values import MeterIndex

    load(portal, "invoices", INVOICES + "F1;C1;2026-01-01;2026-02-01;30;;\n")
    t1, t2 = datetime(2026, 2, 1, 10, tzinfo=UTC), datetime(2026, 2, 3, 10, tzinfo=UTC)
    with portal.uow() as uow:
        invoice, contract = uow.invoices.by_number("F1"), uow.contracts.by_number("C1")
        for when, op in [(t2, "b"), (t1, "a")]:
            uow.payments.add(Payment(invoice.id, Money(1000), "simulator", "F1", when, operation_id=op,
                                     status=PaymentStatus.PAID, paid_at=when))
        uow.readings.add(MeterReading(contract.id, "M1", date(2026, 2, 2), MeterIndex(12500),
                                      ReadingSource.SUBSCRIBER, ReadingStatus.TO_REVIEW, recorded_at=t2))
        uow.commit()
    out = io.StringIO()
    export_csv(portal, "payments", out)
    assert [line.split(";")[4] for line in out.getvalue().splitlines()[1:]] == ["a", "b"]
    out = io.StringIO()
    export_csv(portal, "readings", out, since=t2)
    assert out.getvalue().splitlines()[1:] == ["C1;M1;2026-02-02;12.5;subscriber;to_review;2026-02-03T10:00:00+00:00"]
    out = io.StringIO()
    assert export_csv(portal, "requests", out) == 0 and out.getvalue() == (
        "reference;subscriber_number;contract_number;category;status;subject;created_at;updated_at;assignee;"
        "closing_reason;move_on;index;new_address;occupant\n")


# --- subscribers: the e-mail on file, a three-way merge --------------------------------------

MARIE = "subscriber_number;name;email\n100001;Marie Dupont;{}\n"
PASSWORD = "une-phrase-de-passe-solide"


def email_on_file(portal, number="100001"):
    with portal.uow() as uow:
        return str(uow.subscribers.by_number(number).email)


def test_an_e_mail_the_subscriber_changed_on_the_portal_survives_the_same_file(memory_portal, caplog):
    load(memory_portal, "subscribers", MARIE.format("marie@example.org"))
    add_account(memory_portal, "100001", PASSWORD)
    change_email_on_portal(memory_portal, "100001", "marie.perso@example.net", PASSWORD)
    assert email_on_file(memory_portal) == "marie.perso@example.net"
    with caplog.at_level(logging.INFO, logger="portail.security"):
        again = load(memory_portal, "subscribers", MARIE.format("marie@example.org"))
    assert str(again) == "0 created, 0 updated, 1 unchanged"
    assert email_on_file(memory_portal) == "marie.perso@example.net"
    assert not [r for r in caplog.records if r.name == "portail.security"]
    # The billing system changes it on purpose: applied (and logged), then kept.
    with caplog.at_level(logging.INFO, logger="portail.security"):
        assert load(memory_portal, "subscribers", MARIE.format("m.dupont@example.com")).updated == 1
    assert email_on_file(memory_portal) == "m.dupont@example.com"
    assert [r.getMessage() for r in caplog.records if r.name == "portail.security"] == [
        "import: e-mail on file of subscriber 100001 changed from m***@example.net to m***@example.com"]
    assert load(memory_portal, "subscribers", MARIE.format("m.dupont@example.com")).unchanged == 1


def test_the_first_import_over_an_existing_subscriber_applies_the_file_then_remembers_it(memory_portal):
    add_subscriber(memory_portal, "100001", email="marie@example.org")  # no import yet: nothing remembered
    assert load(memory_portal, "subscribers", MARIE.format("m.d@example.net")).updated == 1
    assert email_on_file(memory_portal) == "m.d@example.net"
    assert load(memory_portal, "subscribers", MARIE.format("m.d@example.net")).unchanged == 1


def test_an_empty_e_mail_cell_keeps_the_address_the_subscriber_gave_on_the_portal(memory_portal):
    load(memory_portal, "subscribers", MARIE.format(""))
    with memory_portal.uow() as uow:  # the subscriber set an e-mail on the portal (claimed with a code)
        subscriber = uow.subscribers.by_number("100001")
        subscriber.email = EmailAddress.parse("marie@example.org")
        uow.subscribers.update(subscriber)
        uow.commit()
    assert load(memory_portal, "subscribers", MARIE.format("")).unchanged == 1
    assert email_on_file(memory_portal) == "marie@example.org"


emails = st.sampled_from(["", "a@example.org", "A@Example.org", "b@example.org", "c@example.net"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(emails, st.one_of(st.none(), emails)), min_size=1, max_size=6))
def test_the_file_wins_exactly_when_billing_changed_its_e_mail(steps):
    """Each step: the billing file's e-mail, then maybe a change on the portal."""
    portal = make_portal(MemoryDatabase(), FixedClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC)))
    last_sent, expected = None, None
    for sent, portal_change in steps:
        load(portal, "subscribers", MARIE.format(sent))
        if last_sent is None or sent.casefold() != last_sent.casefold():
            expected = sent.casefold() or None
        elif expected is not None and sent and sent.casefold() == expected:
            expected = sent.casefold()
        on_file = email_on_file(portal)
        assert (on_file.casefold() if on_file != "None" else None) == expected
        last_sent = sent
        assert load(portal, "subscribers", MARIE.format(sent)).unchanged == 1  # the same file twice
        if portal_change:
            with portal.uow() as uow:
                subscriber = uow.subscribers.by_number("100001")
                subscriber.email = EmailAddress.parse(portal_change)
                uow.subscribers.update(subscriber)
                uow.commit()
            expected = portal_change.casefold()


# --- readings: over-consumption alerts (loi Warsmann) ----------------------------------------

LEAK = readings_csv("C1", "M1", "2025-01-05", months=14, per_day=150, last_per_day=400)  # the last reading: 2026-03-01


def alert_mails(portal):
    with portal.uow() as uow:
        return [e.mail for e in uow.outbox.pending() if "C1" in e.mail.text]


def test_imported_readings_with_a_leak_queue_one_alert_and_the_same_file_again_none(portal):
    summary = load(portal, "readings", LEAK)
    assert summary.created == 15 and summary.alerts == 1
    assert str(summary) == "15 created, 0 updated, 0 unchanged; 1 over-consumption alert(s) queued"
    [mail] = alert_mails(portal)
    assert mail.to == "marie@example.org"
    again = load(portal, "readings", LEAK)
    assert str(again) == "0 created, 0 updated, 15 unchanged" and len(alert_mails(portal)) == 1


def test_usual_readings_queue_nothing_and_a_rejected_file_queues_nothing(portal):
    assert load(portal, "readings", readings_csv("C1", "M1", "2025-01-05", months=14, per_day=150,
                                                 last_per_day=290)).alerts == 0
    assert alert_mails(portal) == []
    assert rejected(portal, "readings", LEAK + "C1;M1;2026-03-05;1\n")[0].startswith("readings.csv:17: index:")
    assert alert_mails(portal) == []


@pytest.mark.parametrize("chunk", [5, 7, 5000])
def test_a_leak_is_told_once_whether_the_file_spans_chunks_or_comes_in_two_files(portal, chunk):
    limits = ImportLimits(chunk_rows=chunk)
    history, last = LEAK.rstrip("\n").rsplit("\n", 1)
    assert load(portal, "readings", history + "\n", limits=limits).alerts == 0  # usual consumption so far
    assert load(portal, "readings", "contract_number;meter_number;read_on;index\n" + last + "\n",
                limits=limits).alerts == 1
    assert len(alert_mails(portal)) == 1
    assert load(portal, "readings", LEAK, limits=limits).alerts == 0 and len(alert_mails(portal)) == 1


@pytest.mark.parametrize("chunk", [4, 5000])
def test_a_leak_in_a_file_read_in_several_chunks_is_told_once(portal, chunk):
    usual = readings_csv("C1", "M1", "2025-01-05", months=14, per_day=150, last_per_day=150)
    assert load(portal, "readings", usual.replace("C1;M1;2026-03-01;1063,000", "C1;M1;2026-03-01;1090,000"),
                limits=ImportLimits(chunk_rows=chunk)).alerts == 1
    assert len(alert_mails(portal)) == 1
