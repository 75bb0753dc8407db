"""The Mes contrats storage additions on the fakes, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_adapters.sql.repositories import SqlReadings
from portail_domain.model import errors
from portail_domain.model.accounts import Subscriber
from portail_domain.model.contracts import Contract, MeterReading, OverconsumptionNotice, ReadingSource, Service
from portail_domain.model.values import MeterIndex

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def contracts(uow, n):
    subscriber = Subscriber(number="100001", name="Marie Dupont")
    uow.subscribers.add(subscriber)
    found = []
    for k in range(n):
        contract = Contract(f"C{k}", subscriber.id, Service.WATER, "x", "M1", date(2024, 1, 1))
        uow.contracts.add(contract)
        found.append(contract)
    return found


def test_readings_of_many_contracts_in_one_call(uow_factory):
    with uow_factory() as uow:
        c = contracts(uow, 3)
        uow.readings.add_many([
            MeterReading(c[0].id, "M1", date(2025, 2, 1), MeterIndex(2), ReadingSource.AGENT),
            MeterReading(c[1].id, "M1", date(2025, 1, 1), MeterIndex(1), ReadingSource.AGENT),
            MeterReading(c[2].id, "M1", date(2025, 3, 1), MeterIndex(3), ReadingSource.AGENT),
        ])
        uow.commit()
    with uow_factory() as uow:
        found = uow.readings.for_contracts([c[0].id, c[1].id])
        assert [r.index.litres for r in found] == [1, 2]  # oldest first, the third contract left out
        assert uow.readings.for_contracts([]) == []


def test_in_lists_are_cut_in_chunks(sqlite_engine):
    with SqlUnitOfWorkFactory(sqlite_engine)() as uow:
        c = contracts(uow, 5)
        uow.readings.add_many([MeterReading(x.id, "M1", date(2025, 1, 1), MeterIndex(1), ReadingSource.AGENT)
                               for x in c])
        assert len(SqlReadings._all_in(uow.readings, "contract_id", [x.id for x in c], chunk=2)) == 5


def test_a_notice_round_trips_and_is_unique_per_period(uow_factory):
    with uow_factory() as uow:
        (contract,) = contracts(uow, 1)
        notice = OverconsumptionNotice(contract.id, "M1", date(2025, 10, 1), date(2026, 1, 1), 91_000, NOW,
                                       emailed_to="marie@example.org")
        assert uow.overconsumption_notices.claim(notice) is True
        uow.commit()
    with uow_factory() as uow:
        (back,) = uow.overconsumption_notices.for_contracts([contract.id])
        assert back.key == notice.key and back.litres == 91_000 and back.notified_at == NOW
        assert back.emailed_to == "marie@example.org"
    with uow_factory() as uow:
        again = OverconsumptionNotice(contract.id, "M1", date(2025, 10, 1), date(2026, 1, 1), 1, NOW)
        assert uow.overconsumption_notices.claim(again) is False  # one notice per period, no error
        uow.commit()
    with uow_factory() as uow:
        assert [n.litres for n in uow.overconsumption_notices.for_contracts([contract.id])] == [91_000]


def test_two_transactions_telling_the_same_period_record_it_once(engine):
    """The second waits for the first, then records nothing (no integrity error, so no 500)."""
    from portail_adapters.sql import SqlUnitOfWorkFactory
    from tests.support import run_while_held

    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        (contract,) = contracts(uow, 1)
        uow.commit()

    def notice():
        return OverconsumptionNotice(contract.id, "M1", date(2025, 10, 1), date(2026, 1, 1), 91_000, NOW)

    def claim(hold=None):
        with factory() as uow:
            claimed = uow.overconsumption_notices.claim(notice())
            if hold is not None:
                hold()
            uow.commit()
            return claimed

    assert run_while_held(claim, claim) == (True, False)
    with factory() as uow:
        assert len(uow.overconsumption_notices.for_contracts([contract.id])) == 1


def test_a_concurrent_reading_on_the_same_day_is_refused_by_its_rule(uow_factory):
    """Two submissions racing past the checks: the unique constraint answers with the domain's rule."""
    factory = uow_factory
    with factory() as uow:
        (contract,) = contracts(uow, 1)
        uow.readings.add(MeterReading(contract.id, "M1", date(2025, 1, 1), MeterIndex(1), ReadingSource.AGENT))
        uow.commit()
    with pytest.raises(errors.ReadingDuplicateDay):
        with factory() as uow:
            uow.readings.add(MeterReading(contract.id, "M1", date(2025, 1, 1), MeterIndex(2),
                                          ReadingSource.SUBSCRIBER))
    with factory() as uow:
        assert [r.index.litres for r in uow.readings.for_contract(contract.id)] == [1]
