import uuid
from datetime import date

import pytest

from portail_domain.model import errors
from portail_domain.model.contracts import Contract, MeterReading, ReadingSource, Service
from portail_domain.model.values import MeterIndex

TODAY = date(2026, 3, 10)
contract = Contract("C1", uuid.uuid4(), Service.BOTH, "1 rue X", "M1", date(2024, 1, 1), meter_digits=5)
history = [MeterReading(contract.id, "M1", date(2025, 1, 1), MeterIndex(100_000), ReadingSource.AGENT),
           MeterReading(contract.id, "M1", date(2025, 7, 1), MeterIndex(160_000), ReadingSource.AGENT)]


def check(meter="M1", read_on=date(2026, 1, 1), litres=200_000):
    contract.check_reading(meter_number=meter, read_on=read_on, index=MeterIndex(litres), history=history,
                           today=TODAY)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"meter": "M2"}, errors.WrongMeter),
        ({"read_on": date(2026, 3, 11)}, errors.ReadingInFuture),
        ({"read_on": date(2023, 12, 31)}, errors.ReadingBeforeContract),
        ({"read_on": date(2025, 7, 1)}, errors.ReadingDuplicateDay),
        ({"read_on": date(2025, 6, 30)}, errors.ReadingBeforeLast),
        ({"litres": 159_999}, errors.IndexGoesDown),
        ({"litres": 100_000_000}, errors.IndexTooLarge),  # 100 000 m³ on a 5-digit meter
    ],
)
def test_a_bad_reading_is_refused_with_its_reason(kwargs, error):
    with pytest.raises(error):
        check(**kwargs)


def test_a_good_reading_passes_and_is_plausible():
    check()
    assert contract.plausible(read_on=date(2026, 1, 1), index=MeterIndex(200_000), history=history)


def test_the_same_index_is_allowed_the_next_day():
    check(read_on=date(2025, 7, 2), litres=160_000)


def test_a_huge_jump_is_implausible():
    # Usual: 60 m³ over 181 days (~331 L/day); 60 m³ in 10 days is far above.
    assert not contract.plausible(read_on=date(2025, 7, 11), index=MeterIndex(220_000), history=history)
