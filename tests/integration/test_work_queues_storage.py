"""The back office's work queues in storage, on the fakes, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portail_domain.model.accounts import Subscriber
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, ReadingStatus, Service
from portail_domain.model.review import ReadingReview
from portail_domain.model.values import MeterIndex
from portail_domain.services.exchange import export_lines

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _contract(uow) -> Contract:
    subscriber = Subscriber(number="100001", name="Marie Dupont")
    uow.subscribers.add(subscriber)
    contract = Contract("C1", subscriber.id, Service.WATER, "x", "M1", date(2024, 1, 1))
    uow.contracts.add(contract)
    return contract


def test_readings_to_review_oldest_first_and_a_decision_is_taken_once(uow_factory):
    with uow_factory() as uow:
        contract = _contract(uow)
        readings = [MeterReading(contract.id, "M1", date(2025, 1, day), MeterIndex(day * 1000),
                                 ReadingSource.SUBSCRIBER, status=status, recorded_at=NOW - timedelta(days=10 - day))
                    for day, status in ((1, ReadingStatus.VALIDATED), (2, ReadingStatus.TO_REVIEW),
                                        (3, ReadingStatus.TO_REVIEW), (4, ReadingStatus.REJECTED))]
        uow.readings.add_many(readings)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert [r.read_on.day for r in uow.readings.to_review(10)] == [2, 3]
        assert [r.read_on.day for r in uow.readings.to_review(1)] == [2]
    rejected = ReadingReview(ReadingStatus.REJECTED, NOW, "Photo floue")
    with uow_factory() as uow:
        assert uow.readings.review(readings[1].id, rejected) is True
        assert uow.readings.review(readings[1].id, ReadingReview(ReadingStatus.VALIDATED, NOW)) is False
        assert uow.readings.review(readings[0].id, rejected) is False  # not to review: unchanged
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.readings.get(readings[1].id)
        assert (stored.status, stored.reviewed_at, stored.review_reason) == (ReadingStatus.REJECTED, NOW,
                                                                              "Photo floue")
        assert uow.readings.get(readings[0].id).status == ReadingStatus.VALIDATED
        # The export since yesterday: only the reading decided on since, with its new status.
        lines = list(export_lines(uow, "readings", NOW - timedelta(hours=1)))
        assert [(x.read_on.day, x.status) for x in lines] == [(2, ReadingStatus.REJECTED)]


def test_payments_to_check_are_flagged_or_long_pending_and_not_resolved(uow_factory):
    from portail_domain.model.billing import Invoice, Payment, PaymentStatus
    from portail_domain.model.values import Money

    with uow_factory() as uow:
        contract = _contract(uow)
        invoice = Invoice("F1", contract.id, date(2026, 1, 1), date(2026, 2, 1), Money(1000))
        uow.invoices.add(invoice)

        def payment(op: str, minutes: int, **kw: object) -> Payment:
            p = Payment(invoice.id, Money(1000), "fake", "F1", NOW - timedelta(minutes=minutes), op, **kw)
            uow.payments.add(p)
            return p

        payment("recent", 10)
        late = payment("late", 90)
        flagged = payment("flagged", 5, status=PaymentStatus.PAID, flag="amount differs")
        payment("resolved", 300, flag="paid twice", resolution="refunded", resolved_at=NOW)
        payment("done", 300, status=PaymentStatus.PAID)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        found = uow.payments.to_check(NOW - timedelta(hours=1), 10)
        assert [p.operation_id for p in found] == ["late", "flagged"]
        assert [p.id for p in uow.payments.to_check(NOW - timedelta(hours=1), 1)] == [late.id]
        assert uow.payments.get(flagged.id).flag == "amount differs"


def test_outbox_entries_that_failed_or_were_discarded_are_not_claimed_until_retried(uow_factory):
    from portail_domain.model.mail import OutboxStatus, OutgoingMail

    with uow_factory() as uow:
        for k in range(3):
            uow.outbox.add(OutgoingMail(f"m{k}@example.org", f"S{k}", "t"), NOW + timedelta(seconds=k))
        uow.commit()
    with uow_factory() as uow:
        failed, discarded, waiting = sorted(uow.outbox.pending(), key=lambda e: e.mail.subject)
        uow.outbox.give_up(failed.id, NOW, "550 no such user")
        assert uow.outbox.discard(discarded.id, NOW) is True
        assert uow.outbox.discard(discarded.id, NOW) is False
        uow.commit()
    with uow_factory() as uow:
        assert [e.mail.subject for e in uow.outbox.claim(NOW + timedelta(hours=1), NOW, 10)] == ["S2"]
        uow.commit()
    with uow_factory() as uow:
        assert [e.status for e in uow.outbox.unsent(10)] == [OutboxStatus.PENDING, OutboxStatus.DISCARDED,
                                                             OutboxStatus.FAILED]
        assert uow.outbox.get(failed.id).last_error == "550 no such user"
        assert uow.outbox.retry(failed.id, NOW) is True
        uow.outbox.mark_sent(waiting.id, NOW)
        assert uow.outbox.retry(waiting.id, NOW) is False  # sent: nothing to retry
        uow.commit()
    with uow_factory() as uow:
        claimed = uow.outbox.claim(NOW + timedelta(hours=2), NOW + timedelta(hours=3), 10)
        assert [(e.mail.subject, e.attempts) for e in claimed] == [("S0", 1)]
