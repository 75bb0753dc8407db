"""One repository contract, run against the in-memory fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portail_adapters.memory import MemoryDatabase
from portail_domain.model.accounts import Account, StaffRole, StaffUser, Subscriber, WebSession
from portail_domain.model.billing import Invoice, Payment, PaymentStatus
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, ReadingStatus, Service
from portail_domain.model.documents import AddedBy, Document
from portail_domain.model.requests import Author, Request, RequestCategory, RequestMessage
from portail_domain.model.values import EmailAddress, MeterIndex, Money
from portail_domain.services.documents import ensure_default_folders

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def subscriber(number="100001", email="Marie@Example.org"):
    return Subscriber(number=number, name="Marie Dupont", email=EmailAddress.parse(email) if email else None,
                      phone="0601020304", address="1 rue X", postal_code="34230", city="Paulhan")


def test_unit_of_work_rolls_back_unless_committed(uow_factory):
    with uow_factory() as uow:
        uow.subscribers.add(subscriber())
    with uow_factory() as uow:
        assert uow.subscribers.by_number("100001") is None
        uow.subscribers.add(subscriber())
        uow.commit()
    with uow_factory() as uow:
        assert uow.subscribers.by_number("100001") is not None


def test_subscriber_round_trip_and_lookups(uow_factory):
    s = subscriber()
    with uow_factory() as uow:
        uow.subscribers.add(s)
        uow.subscribers.add(subscriber("100002", email=None))
        uow.commit()
    with uow_factory() as uow:
        back = uow.subscribers.get(s.id)
        assert back is not None and back.number == "100001" and back.email.address == "Marie@Example.org"
        assert back.city == "Paulhan" and back.language == s.language
        assert [x.number for x in uow.subscribers.by_email("marie@example.org")] == ["100001"]
        assert [x.number for x in uow.subscribers.list()] == ["100001", "100002"]
        back.phone = "0700000000"
        uow.subscribers.update(back)
        uow.commit()
    with uow_factory() as uow:
        assert uow.subscribers.by_number("100001").phone == "0700000000"


def test_duplicate_subscriber_number_is_refused(uow_factory):
    with uow_factory() as uow:
        uow.subscribers.add(subscriber())
        uow.commit()
    with pytest.raises(Exception):  # noqa: B017 - the backend's own integrity error
        with uow_factory() as uow:
            uow.subscribers.add(subscriber())
            uow.commit()


def _contract_with_readings(uow):
    s = subscriber()
    uow.subscribers.add(s)
    c = Contract("C1", s.id, Service.BOTH, "1 rue X", "M1", date(2024, 1, 1))
    uow.contracts.add(c)
    readings = [MeterReading(c.id, "M1", date(2024, 1, 1) + timedelta(days=90 * k), MeterIndex(k * 25_500),
                             ReadingSource.AGENT) for k in range(5)]
    uow.readings.add_many(reversed(readings))
    uow.readings.add(MeterReading(c.id, "M1", date(2025, 6, 1), MeterIndex(140_000), ReadingSource.SUBSCRIBER,
                                  ReadingStatus.TO_REVIEW, recorded_at=NOW))
    return s, c


def test_contracts_and_readings_in_order(uow_factory):
    with uow_factory() as uow:
        s, c = _contract_with_readings(uow)
        uow.commit()
    with uow_factory() as uow:
        assert [x.number for x in uow.contracts.for_subscriber(s.id)] == ["C1"]
        assert uow.contracts.by_number("C1").start_on == date(2024, 1, 1)
        readings = uow.readings.for_contract(c.id)
        assert [r.read_on for r in readings] == sorted(r.read_on for r in readings)
        assert readings[0].index == MeterIndex(0) and readings[-1].status == ReadingStatus.TO_REVIEW
        assert readings[-1].recorded_at == NOW


def test_one_reading_per_meter_per_day(uow_factory):
    with uow_factory() as uow:
        _, c = _contract_with_readings(uow)
        uow.commit()
    with pytest.raises(Exception):  # noqa: B017
        with uow_factory() as uow:
            uow.readings.add(MeterReading(c.id, "M1", date(2024, 1, 1), MeterIndex(5), ReadingSource.SUBSCRIBER))
            uow.commit()


def test_invoices_newest_first_and_payments_unique_per_operation(uow_factory):
    with uow_factory() as uow:
        s, c = _contract_with_readings(uow)
        other = subscriber("200000", "other@example.org")
        uow.subscribers.add(other)
        uow.contracts.add(Contract("C2", other.id, Service.WATER, "2 rue Y", "M2", date(2024, 1, 1)))
        for k, day in enumerate([date(2025, 1, 5), date(2025, 7, 5), date(2024, 7, 5)]):
            uow.invoices.add(Invoice(f"F{k}", c.id, day, day + timedelta(days=30), Money(10_050), Money(0)))
        uow.invoices.add(Invoice("FX", uow.contracts.by_number("C2").id, date(2025, 1, 1), date(2025, 2, 1),
                                 Money(1)))
        uow.commit()
    with uow_factory() as uow:
        invoices = uow.invoices.for_subscriber(s.id)
        assert [i.number for i in invoices] == ["F1", "F0", "F2"]
        inv = uow.invoices.lock(invoices[0].id)
        inv.record_payment(Money(10_050))
        uow.invoices.update(inv)
        p = Payment(inv.id, Money(10_050), "payfip", "F1", NOW, operation_id="OP1")
        uow.payments.add(p)
        uow.commit()
    with uow_factory() as uow:
        assert uow.invoices.by_number("F1").amount_paid == Money(10_050)
        found = uow.payments.by_operation("payfip", "OP1")
        assert found.id == p.id and found.created_at == NOW and [x.id for x in uow.payments.pending()] == [p.id]
        found.settle(PaymentStatus.PAID, NOW)
        uow.payments.update(found)
        uow.commit()
    with uow_factory() as uow:
        assert uow.payments.pending() == [] and uow.payments.get(p.id).paid_at == NOW
        for op, minutes in (("OP2", 0), ("OP3", 150)):  # abandoned now, and abandoned 2 h 30 ago
            abandoned = Payment(p.invoice_id, Money(1), "payfip", "F1", NOW - timedelta(minutes=minutes),
                                operation_id=op, status=PaymentStatus.ABANDONED)
            uow.payments.add(abandoned)
        uow.commit()
    with uow_factory() as uow:  # an abandoned operation may still be paid while it lives: asked again
        assert uow.payments.pending() == []
        assert [x.operation_id for x in uow.payments.pending(abandoned_since=NOW - timedelta(hours=2))] == ["OP2"]
    with pytest.raises(Exception):  # noqa: B017
        with uow_factory() as uow:
            uow.payments.add(Payment(p.invoice_id, Money(1), "payfip", "F1", NOW, operation_id="OP1"))
            uow.commit()


def test_folders_documents_requests(uow_factory):
    with uow_factory() as uow:
        s = subscriber()
        uow.subscribers.add(s)
        folders = ensure_default_folders(uow, s.id)
        assert len(ensure_default_folders(uow, s.id)) == 4  # idempotent
        doc = Document(s.id, folders[1].id, "facture.pdf", "application/pdf", 1234, "ab" * 32, "k/1", AddedBy.UTILITY,
                       NOW)
        uow.documents.add(doc)
        req = Request("D-0001", s.id, RequestCategory.LEAK_RELIEF, "Fuite", NOW)
        uow.requests.add(req)
        uow.requests.add_message(RequestMessage(req.id, Author.SUBSCRIBER, "Marie", "Bonjour", NOW))
        uow.requests.add_message(RequestMessage(req.id, Author.STAFF, "Agent", "Réponse", NOW + timedelta(hours=1)))
        uow.commit()
    with uow_factory() as uow:
        assert [f.name for f in uow.folders.for_subscriber(s.id)] == ["Contrats", "Factures", "Courriers", "Mes envois"]
        assert [d.filename for d in uow.documents.in_folder(folders[1].id)] == ["facture.pdf"]
        assert uow.documents.get(doc.id).added_at == NOW
        assert [m.body for m in uow.requests.messages(req.id)] == ["Bonjour", "Réponse"]
        assert uow.requests.for_subscriber(s.id)[0].category == RequestCategory.LEAK_RELIEF
        uow.documents.remove(doc.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.documents.for_subscriber(s.id) == []


def test_accounts_sessions_staff(uow_factory):
    with uow_factory() as uow:
        s = subscriber()
        uow.subscribers.add(s)
        staff = StaffUser(EmailAddress.parse("agent@eau.example"), "Agent", StaffRole.ADMIN)
        uow.staff.add(staff)
        account = Account("hash", NOW, subscriber_id=s.id)
        uow.accounts.add(account)
        uow.sessions.add(WebSession("h" * 64, account.id, NOW, NOW))
        uow.commit()
    with uow_factory() as uow:
        assert uow.accounts.for_subscriber(s.id).id == account.id
        assert uow.staff.by_email("agent@eau.example").role == StaffRole.ADMIN
        uow.sessions.touch("h" * 64, NOW + timedelta(minutes=5))
        uow.commit()
    with uow_factory() as uow:
        assert uow.sessions.get("h" * 64).last_seen_at == NOW + timedelta(minutes=5)
        uow.sessions.remove_for_account(account.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.sessions.get("h" * 64) is None


def test_a_session_comes_with_its_owner_in_one_look_up(uow_factory):
    s, staff = subscriber(), StaffUser(EmailAddress.parse("agent@eau.example"), "Agent", StaffRole.AGENT)
    mine, theirs = Account("hash", NOW, subscriber_id=s.id), Account("hash2", NOW, staff_id=staff.id)
    with uow_factory() as uow:
        uow.subscribers.add(s)
        uow.staff.add(staff)
        uow.accounts.add(mine)
        uow.accounts.add(theirs)
        uow.sessions.add(WebSession("a" * 64, mine.id, NOW, NOW + timedelta(minutes=2), user_agent="Firefox"))
        uow.sessions.add(WebSession("b" * 64, theirs.id, NOW, NOW))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        identity = uow.sessions.identity("a" * 64)
        assert (identity.account.id, identity.subscriber.number, identity.staff) == (mine.id, "100001", None)
        assert identity.subscriber.email.normalised == "marie@example.org"
        assert (identity.session.last_seen_at, identity.session.user_agent) == (NOW + timedelta(minutes=2), "Firefox")
        other = uow.sessions.identity("b" * 64)
        assert (other.subscriber, other.staff.email.address, other.account.id) == (None, "agent@eau.example", theirs.id)
        assert uow.sessions.identity("c" * 64) is None


def test_outbox_keeps_mail_written_in_the_transaction(uow_factory):
    from portail_domain.model.mail import OutgoingMail

    with uow_factory() as uow:
        uow.outbox.add(OutgoingMail("marie@example.org", "Objet", "Texte"), NOW)
    with uow_factory() as uow:
        uow.outbox.add(OutgoingMail("marie@example.org", "Objet 2", "Texte 2", "<p>HTML</p>"), NOW)
        uow.commit()
    if isinstance(uow_factory, MemoryDatabase):
        with uow_factory() as uow:
            assert [e.mail.subject for e in uow.outbox.pending()] == ["Objet 2"]
    else:
        from sqlalchemy import select

        from portail_adapters.sql.tables import outbox

        with uow_factory.engine.connect() as c:
            assert [r.subject for r in c.execute(select(outbox))] == ["Objet 2"]


# --- schedules, reminders, moving (issue 16) --------------------------------------------------


def _contract_with_invoices(uow, s, invoices):
    contract = Contract("C1", s.id, Service.BOTH, "1 rue X", "M1", date(2024, 1, 1))
    uow.subscribers.add(s)
    uow.contracts.add(contract)
    for invoice in invoices:
        invoice.contract_id = contract.id
        uow.invoices.add(invoice)
    return contract


def test_reminder_candidates_sent_and_claimed_once(uow_factory):
    from portail_domain.model.reminders import ReminderKind, SentReminder

    soon = Invoice("F1", None, date(2026, 3, 1), date(2026, 3, 14), Money(100))  # type: ignore[arg-type]
    paid = Invoice("F2", None, date(2026, 3, 1), date(2026, 3, 14), Money(100), Money(100))  # type: ignore[arg-type]
    far = Invoice("F3", None, date(2026, 3, 1), date(2026, 4, 30), Money(100))  # type: ignore[arg-type]
    late = Invoice("F4", None, date(2026, 2, 1), date(2026, 3, 7), Money(100), cancelled=False)  # type: ignore[arg-type]
    with uow_factory() as uow:
        _contract_with_invoices(uow, subscriber(), [soon, paid, far, late])
        uow.commit()
    windows = ((date(2026, 3, 11), date(2026, 3, 15)), (date(2026, 3, 1), date(2026, 3, 7)))
    with uow_factory() as uow:
        found = uow.reminders.candidates(*windows)
        assert [(c.invoice.number, c.contract_number, c.subscriber.number) for c in found] == [
            ("F4", "C1", "100001"), ("F1", "C1", "100001")]
        assert uow.reminders.sent([soon.id, late.id]) == set()
        assert uow.reminders.claim(SentReminder(soon.id, ReminderKind.BEFORE, NOW, "marie@example.org"))
        assert not uow.reminders.claim(SentReminder(soon.id, ReminderKind.BEFORE, NOW, "marie@example.org"))
        assert uow.reminders.claim(SentReminder(soon.id, ReminderKind.AFTER, NOW, "marie@example.org"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.reminders.sent([soon.id, late.id]) == {(soon.id, ReminderKind.BEFORE),
                                                         (soon.id, ReminderKind.AFTER)}
        s = uow.subscribers.by_number("100001")
        s.reminders = False
        uow.subscribers.update(s)
        uow.commit()
    with uow_factory() as uow:
        assert uow.reminders.candidates(*windows) == []  # turned off: nobody to remind


def test_instalments_and_moves_round_trip(uow_factory):
    from portail_domain.model.requests import MoveDetails
    from portail_domain.model.schedules import Instalment, InstalmentStatus

    s = subscriber()
    with uow_factory() as uow:
        contract = _contract_with_invoices(uow, s, [])
        uow.exchange.save_instalments([Instalment(contract.id, date(2026, 2, 10), Money(4250), InstalmentStatus.PAID),
                                       Instalment(contract.id, date(2026, 1, 10), Money(4250))], [])
        request = Request("D-2026-000001", s.id, RequestCategory.MOVE_OUT, "Déménagement", NOW)
        uow.requests.add(request)
        uow.requests.add_move(MoveDetails(request.id, date(2026, 3, 9), MeterIndex(876_500), "4 avenue du Port"))
        uow.commit()
    with uow_factory() as uow:
        found = uow.instalments.for_contracts([contract.id])
        assert [(i.due_on, i.amount.cents, i.status.value) for i in found] == [
            (date(2026, 1, 10), 4250, "planned"), (date(2026, 2, 10), 4250, "paid")]
        assert set(uow.exchange.instalments_of([contract.id])) == {(contract.id, date(2026, 1, 10)),
                                                                  (contract.id, date(2026, 2, 10))}
        move = uow.requests.move_of(request.id)
        assert (move.move_on, move.index.litres, move.new_address, move.occupant) == (
            date(2026, 3, 9), 876_500, "4 avenue du Port", None)
        assert uow.requests.move_of(contract.id) is None
        assert uow.requests.moves_of(s.id) == {request.id: move}
        assert uow.requests.moves_of(subscriber("200002").id) == {}


def test_throttle_counters_lock_hit_and_release(uow_factory):
    now = NOW
    with uow_factory() as uow:
        assert uow.throttles.lock("email:marie@example.org", now) is None
        uow.throttles.hit("email:marie@example.org", now, timedelta(hours=1))
        uow.throttles.hit("email:marie@example.org", now, timedelta(hours=1))
        uow.commit()
    with uow_factory() as uow:
        assert uow.throttles.lock("email:marie@example.org", now).failures == 2
        uow.throttles.release("email:marie@example.org")
        uow.commit()
    with uow_factory() as uow:
        assert uow.throttles.get("email:marie@example.org").failures == 1
        uow.throttles.release("email:marie@example.org")
        uow.throttles.release("email:marie@example.org")  # never below zero
        assert uow.throttles.lock("email:marie@example.org", now) is None  # nothing counted
        assert uow.throttles.lock("client:-", now) is None  # locked but not counted: rolled back
    with uow_factory() as uow:
        assert uow.throttles.get("client:-") is None
