"""The audit log's storage: one contract on memory, SQLite and PostgreSQL; append-only in the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from portail_adapters.exchange_csv import export_csv
from portail_adapters.sql import SqlUnitOfWorkFactory
from portail_domain.model.accounts import StaffUser
from portail_domain.model.audit import AuditAction, AuditEntry, AuditQuery
from portail_domain.model.values import EmailAddress
from portail_domain.services.audit import audit_page, record_audit
from tests.support import add_staff

T0 = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _staff(uow_factory, email: str) -> StaffUser:
    staff = StaffUser(EmailAddress.parse(email), email.split("@")[0])
    with uow_factory() as uow:
        uow.staff.add(staff)
        uow.commit()
    return staff


def _entry(staff: StaffUser, minutes: int, action=AuditAction.SUBSCRIBER_VIEW, number: str | None = "100001",
           **details) -> AuditEntry:
    return AuditEntry(T0 + timedelta(minutes=minutes), staff.id, staff.email.normalised, action, number, **details)


def test_entries_come_back_filtered_newest_first_and_paged(uow_factory):
    paul, anne = _staff(uow_factory, "paul@eau.example"), _staff(uow_factory, "anne@eau.example")
    with uow_factory() as uow:
        for minute in range(5):
            uow.audit.append(_entry(paul, minute, number="100001" if minute % 2 else "100002"))
        uow.audit.append(_entry(anne, 10, AuditAction.STAFF_ROLE, None, target="paul@eau.example",
                                before={"role": "agent"}, after={"role": "admin"}))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        everything = uow.audit.search(AuditQuery(), 100)
        assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
        role = everything[0]
        assert (role.staff_email, role.action, role.subscriber_number, role.target) == \
            ("anne@eau.example", AuditAction.STAFF_ROLE, None, "paul@eau.example")
        assert role.changes() == [("role", "agent", "admin")]
        assert {e.staff_email for e in uow.audit.search(AuditQuery(staff_email="paul@eau.example"), 100)} == \
            {"paul@eau.example"}
        assert [e.at.minute - 30 for e in uow.audit.search(AuditQuery(subscriber_number="100001"), 100)] == [3, 1]
        assert len(uow.audit.search(AuditQuery(since=T0 + timedelta(minutes=3)), 100)) == 3
        page2 = uow.audit.search(AuditQuery(page=2, page_size=2), 2)
        assert [e.at for e in page2] == [e.at for e in everything[2:4]]
        later = [T0 + timedelta(minutes=m) for m in (4, 10)]
        assert [e.at for e in uow.audit.since(T0 + timedelta(minutes=4))] == later


def test_an_entry_written_in_a_transaction_that_rolls_back_is_gone_too(sql_portal):
    staff = add_staff(sql_portal, password="une-phrase-de-passe-solide")
    with sql_portal.uow() as uow:
        record_audit(uow, sql_portal, staff, AuditAction.UNBLOCK_LOGIN, subscriber="100001")
        # no commit: the action failed, its entry goes with it
    assert audit_page(sql_portal, AuditQuery()).entries == []
    with sql_portal.uow() as uow:
        record_audit(uow, sql_portal, staff, AuditAction.UNBLOCK_LOGIN, subscriber="100001", after={"blocked": False})
        uow.commit()
    (entry,) = audit_page(sql_portal, AuditQuery()).entries
    assert entry.after == {"blocked": "False"} and entry.staff_email == "agent@eau-test.example"


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET action = 'staff.role'", "DELETE FROM audit_entries"])
def test_the_database_refuses_to_change_or_delete_an_entry(engine, statement):
    uow_factory = SqlUnitOfWorkFactory(engine)
    staff = _staff(uow_factory, "paul@eau.example")
    with uow_factory() as uow:
        uow.audit.append(_entry(staff, 0))
        uow.commit()
    with pytest.raises(Exception, match="append-only"):  # noqa: B017 - the backend's own error
        with engine.begin() as c:
            c.execute(text(statement))
    with uow_factory(read_only=True) as uow:
        assert [e.action for e in uow.audit.search(AuditQuery(), 10)] == [AuditAction.SUBSCRIBER_VIEW]


def test_export_audit_writes_every_entry_since_a_date_oldest_first(sql_portal, clock):
    staff = add_staff(sql_portal, password="une-phrase-de-passe-solide")
    for action in (AuditAction.SUBSCRIBER_VIEW, AuditAction.END_SESSIONS):
        with sql_portal.uow() as uow:
            record_audit(uow, sql_portal, staff, action, subscriber="100001", before={"sessions": 2},
                         after={"sessions": 0})
            uow.commit()
        clock.advance(days=1)
    out = io.StringIO()
    assert export_csv(sql_portal, "audit", out, since=T0 + timedelta(hours=1)) == 1
    header, row = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert header == ["at", "staff_email", "action", "subscriber_number", "target", "before", "after"]
    assert row == ["2026-03-11T09:30:00+00:00", "agent@eau-test.example", "subscriber.end_sessions", "100001", "",
                   '{"sessions": "2"}', '{"sessions": "0"}']
