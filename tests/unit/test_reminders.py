"""Payment reminders (relances) on fakes: when each goes out, once, and to whom."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail_domain.model.reminders import ReminderKind, ReminderPolicy
from portail_domain.services.reminders import send_reminders
from tests.support import add_invoice, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
TODAY = date(2026, 3, 10)  # the conftest clock's day


# --- the policy ------------------------------------------------------------------------------

@given(st.integers(min_value=-60, max_value=60), st.integers(min_value=1, max_value=30),
       st.integers(min_value=1, max_value=60))
def test_a_reminder_is_due_only_in_its_window_and_the_windows_hold_exactly_those_days(offset, before, after):
    policy = ReminderPolicy(days_before=before, days_after=after)
    due_on = TODAY + timedelta(days=offset)
    kind = policy.kind_due(due_on, TODAY)
    if 0 < offset <= before:
        assert kind is ReminderKind.BEFORE
    elif after <= -offset < after + 7:
        assert kind is ReminderKind.AFTER
    else:
        assert kind is None
    first_before, last_before, first_after, last_after = policy.due_window(TODAY)
    in_window = first_before <= due_on <= last_before or first_after <= due_on <= last_after
    assert in_window == (kind is not None)


# --- sending ----------------------------------------------------------------------------------

def reminders(portal):
    with portal.uow() as uow:
        return sorted((e.mail.to, e.mail.subject) for e in uow.outbox.pending())


@pytest.fixture
def marie(memory_portal):
    return add_subscriber(memory_portal, "100001", email="marie@example.org")


def test_one_reminder_before_and_one_after_each_once(memory_portal, clock, marie):
    add_invoice(memory_portal, marie, "F-SOON", due="2026-03-14")  # in 4 days
    add_invoice(memory_portal, marie, "F-LATE", due="2026-03-07")  # 3 days ago
    add_invoice(memory_portal, marie, "F-LATER", due="2026-03-20")  # not yet
    add_invoice(memory_portal, marie, "F-PAID", due="2026-03-14", paid=12345)
    add_invoice(memory_portal, marie, "F-GONE", due="2026-03-14", cancelled=True)
    first = send_reminders(memory_portal)
    assert first.sent == 2
    assert reminders(memory_portal) == [
        ("marie@example.org", "Rappel : votre facture F-SOON arrive à échéance le 14/03/2026"),
        ("marie@example.org", "Relance : votre facture F-LATE n'est pas réglée"),
    ]
    assert send_reminders(memory_portal).sent == 0  # a second run the same day
    clock.advance(days=1)
    assert send_reminders(memory_portal).sent == 0  # still in the windows, already sent
    clock.advance(days=6)  # 2026-03-17: F-SOON is 3 days late, F-LATER 3 days ahead
    assert send_reminders(memory_portal).sent == 2
    subjects = [subject for _, subject in reminders(memory_portal)]
    assert "Relance : votre facture F-SOON n'est pas réglée" in subjects
    assert "Rappel : votre facture F-LATER arrive à échéance le 20/03/2026" in subjects
    assert len(subjects) == 4


def test_the_reminder_says_what_is_left_to_pay_and_links_to_the_invoice(memory_portal, marie):
    add_invoice(memory_portal, marie, "F1", amount=10000, paid=2500, due="2026-03-12")
    send_reminders(memory_portal)
    with memory_portal.uow() as uow:
        [entry] = uow.outbox.pending()
    assert "il reste 75,00\u00a0€ à régler" in entry.mail.text
    assert "http://127.0.0.1:8000/factures/F1" in entry.mail.text


def test_nobody_without_an_e_mail_and_nobody_who_turned_reminders_off(memory_portal):
    nobody = add_subscriber(memory_portal, "100002", email=None, name="Sans Courriel")
    quiet = add_subscriber(memory_portal, "100003", email="quiet@example.org", name="Pas de rappel")
    with memory_portal.uow() as uow:
        found = uow.subscribers.get(quiet.id)
        found.reminders = False
        uow.subscribers.update(found)
        uow.commit()
    add_invoice(memory_portal, nobody, "F2", due="2026-03-12")
    add_invoice(memory_portal, quiet, "F3", due="2026-03-12")
    assert send_reminders(memory_portal).sent == 0 and reminders(memory_portal) == []


def test_an_old_debt_gets_no_reminder_and_the_settings_move_the_windows(memory_portal, marie):
    add_invoice(memory_portal, marie, "F-OLD", due="2025-12-01")
    add_invoice(memory_portal, marie, "F-8", due="2026-03-18")
    assert send_reminders(memory_portal).sent == 0
    assert send_reminders(memory_portal, ReminderPolicy(days_before=8, days_after=3)).sent == 1


def test_the_opt_out_is_a_checkbox_in_mes_donnees_personnelles(memory_portal, web, marie):
    from tests.support import add_account

    add_account(memory_portal, "100001", PASSWORD)
    web.login("marie@example.org", PASSWORD)
    assert 'name="reminders" value="1" checked' in web.get("/donnees-personnelles").text
    fields = {"phone": "", "address": "", "postal_code": "", "city": "", "language": "fr"}
    assert web.submit("/donnees-personnelles", data=fields).status_code == 303  # box unticked
    with memory_portal.uow() as uow:
        assert uow.subscribers.get(marie.id).reminders is False
    assert 'name="reminders" value="1">' in web.get("/donnees-personnelles").text
    add_invoice(memory_portal, marie, "F1", due="2026-03-12")
    assert send_reminders(memory_portal).sent == 0
    assert web.submit("/donnees-personnelles", data={**fields, "reminders": "1"}).status_code == 303
    assert send_reminders(memory_portal).sent == 1


def test_the_web_process_queues_the_reminders_once_a_day(memory_portal, clock, marie):
    from portail_web.mail_relay import relay_forever

    add_invoice(memory_portal, marie, "F1", due="2026-03-12")

    async def run_a_few_rounds() -> None:
        relay = asyncio.create_task(relay_forever(memory_portal, every=0.01))
        await asyncio.sleep(0.2)
        relay.cancel()

    import threading

    thread = threading.Thread(target=asyncio.run, args=(run_a_few_rounds(),))  # a loop of its own
    thread.start()
    thread.join(10)
    sent = memory_portal.mailer.sent
    assert [m.subject for m in sent] == ["Rappel : votre facture F1 arrive à échéance le 12/03/2026"]


def test_no_reminder_for_an_invoice_collected_by_direct_debit(memory_portal, marie):
    from tests.support import sign_mandate_for

    add_invoice(memory_portal, marie, "F-BEFORE", issued="2026-02-01", due="2026-03-12")  # on contract C100001
    sign_mandate_for(memory_portal, marie, "C100001")  # signed today, 2026-03-10
    add_invoice(memory_portal, marie, "F-DEBITED", issued="2026-03-10", due="2026-03-14")
    with memory_portal.uow() as uow:
        before = {e.mail.subject for e in uow.outbox.pending()}
    summary = send_reminders(memory_portal)
    assert (summary.sent, summary.skipped) == (1, 1)
    with memory_portal.uow() as uow:
        [new] = [e.mail.subject for e in uow.outbox.pending() if e.mail.subject not in before]
    # The invoice issued before the mandate is still the subscriber's to pay; the other, the bank's.
    assert new == "Rappel : votre facture F-BEFORE arrive à échéance le 12/03/2026"
