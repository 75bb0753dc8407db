"""What the invoice pages and the home page count: total due, next due date, order, ownership."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portail_adapters.memory import FixedClock, MemoryDatabase
from portail_domain.services.billing import invoice_overview
from tests.support import add_invoice, add_subscriber, make_portal

invoices = st.lists(
    st.tuples(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=100),
              st.booleans(), st.integers(min_value=0, max_value=700)),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoices)
def test_total_due_next_due_date_and_order(specs):
    portal = make_portal(MemoryDatabase(), FixedClock(datetime(2025, 6, 1, 9, tzinfo=UTC)))
    marie = add_subscriber(portal)
    paul = add_subscriber(portal, "100002", email="paul@example.org")
    add_invoice(portal, paul, "PAUL-1", amount=999)  # never counted for Marie
    for n, (amount, percent_paid, cancelled, age) in enumerate(specs):
        issued = date(2026, 1, 1) - timedelta(days=age)
        add_invoice(portal, marie, f"F{n:03d}", amount=amount, paid=amount * percent_paid // 100, cancelled=cancelled,
                    issued=issued.isoformat(), due=(issued + timedelta(days=30)).isoformat(),
                    contract_number=f"C{n % 2}")
    today = date(2025, 6, 1)
    everything = invoice_overview(portal, marie.id)
    unpaid = invoice_overview(portal, marie.id, unpaid_only=True)
    all_invoices = [line.invoice for line in everything.lines]
    assert sorted(i.number for i in all_invoices) == [f"F{n:03d}" for n in range(len(specs))]
    assert [i.issued_on for i in all_invoices] == sorted((i.issued_on for i in all_invoices), reverse=True)
    due = [i for i in all_invoices if not i.cancelled and i.amount_paid < i.amount]
    assert {line.invoice.number for line in unpaid.lines} == {i.number for i in due}
    owed = sum(i.amount.cents - i.amount_paid.cents for i in due)
    assert everything.total_due.cents == unpaid.total_due.cents == owed
    assert everything.next_due_on == (min(i.due_on for i in due) if due else None)
    assert everything.overdue == bool(due and min(i.due_on for i in due) < today)
    assert {line.contract_number for line in everything.lines} <= {"C0", "C1"}
