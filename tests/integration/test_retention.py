"""``apply_retention`` on SQLite and PostgreSQL, by the Clock: a record one day short of its period stays,
one day past goes; unused accounts are warned, then closed; a second run finds nothing; a dry run changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

from portail_domain.model.legal import years
from portail_domain.model.privacy import SecurityEvent, SecurityEventKind
from portail_domain.model.requests import Attachment, RequestStatus
from portail_domain.services.billing import start_payment
from portail_domain.services.privacy import apply_retention
from portail_domain.services.requests import open_request
from tests.support import add_invoice, add_subscriber

PASSWORD = "une-phrase-de-passe-solide"
PDF = b"%PDF-1.7\n" + b"attestation " * 20 + b"\n%%EOF\n"
DAY = timedelta(days=1)


def world(portal):
    """Records each side of every period's edge; returns the ids to look for."""
    now, today = portal.clock.now(), portal.clock.today()
    marie = add_subscriber(portal, "100001", email="marie@example.org", password=PASSWORD)
    cutoff = today - years(10)
    old = add_invoice(portal, marie, "F-OLD", amount=1000, paid=1000, issued=str(cutoff - DAY), due=str(cutoff),
                      contract_number="C1")
    kept = add_invoice(portal, marie, "F-KEPT", amount=1000, paid=1000, issued=str(cutoff + DAY),
                       due=str(cutoff + 2 * DAY), contract_number="C1")
    unpaid = add_invoice(portal, marie, "F-UNPAID", amount=1000, issued=str(cutoff - 400 * DAY),
                         due=str(cutoff - 300 * DAY), contract_number="C1")
    start_payment(portal, marie.id, "F-UNPAID")
    requests = {}
    for name, age, status in (("gone", years(5) + DAY, RequestStatus.CLOSED),
                              ("short", years(5) - DAY, RequestStatus.CLOSED),
                              ("open", years(6), RequestStatus.ANSWERED)):
        filed = open_request(portal, marie.id, category="other", subject=name, message="Bonjour",
                             attachment=Attachment(f"{name}.pdf", io.BytesIO(PDF)))
        with portal.uow() as uow:
            request = uow.requests.get(filed.id)
            request.status, request.updated_at = status, now - age
            uow.requests.update(request)
            uow.commit()
        requests[name] = filed.id
    with portal.uow() as uow:
        uow.privacy.add_event(SecurityEvent(SecurityEventKind.LOGIN, now - 366 * DAY, marie.id))
        uow.privacy.add_event(SecurityEvent(SecurityEventKind.LOGIN, now - 364 * DAY, marie.id))
        uow.commit()
    accounts = {}
    for number, age in (("200001", years(3) + DAY), ("200002", years(3) - DAY), ("200003", years(3) + DAY)):
        subscriber = add_subscriber(portal, number, email=f"{number}@example.org", password=PASSWORD)
        with portal.uow() as uow:
            account = uow.accounts.for_subscriber(subscriber.id)
            account.last_login_at = now - age
            uow.accounts.update(account)
            uow.commit()
        accounts[number] = subscriber.id
    return {"invoices": (old.id, kept.id, unpaid.id), "requests": requests, "accounts": accounts, "marie": marie.id}


def state(portal, ids):
    with portal.uow(read_only=True) as uow:
        return {
            "invoices": {i.number for i in uow.invoices.for_subscriber(ids["marie"])},
            "payments": len(uow.privacy.payments_of(ids["invoices"])),
            "requests": {r.subject for r in uow.requests.for_subscriber(ids["marie"])},
            "documents": sorted(d.filename for d in uow.documents.for_subscriber(ids["marie"])),
            "events": len(uow.privacy.events_for(ids["marie"])),
            "accounts": {n for n, s in ids["accounts"].items() if uow.accounts.for_subscriber(s) is not None},
            "outbox": len(uow.outbox.pending()),
        }


def test_retention_by_the_clock_on_sql(sql_portal, clock):
    portal = sql_portal
    ids = world(portal)
    before = state(portal, ids)
    files_before = len(portal.files.objects)

    dry = apply_retention(portal, dry_run=True)
    assert (dry.invoices, dry.requests, dry.security_events, dry.warned, dry.closed, dry.files) == (1, 1, 1, 2, 0, 1)
    assert dry.dry_run and state(portal, ids) == before and len(portal.files.objects) == files_before

    report = apply_retention(portal)
    assert (report.invoices, report.requests, report.security_events, report.warned, report.closed) == (1, 1, 1, 2, 0)
    after = state(portal, ids)
    assert after["invoices"] == {"F-KEPT", "F-UNPAID"} and after["payments"] == 1
    assert after["requests"] == {"short", "open"} and after["documents"] == ["open.pdf", "short.pdf"]
    assert report.files == 1 and len(portal.files.objects) == files_before - 1
    assert after["events"] == before["events"] - 1
    assert after["accounts"] == {"200001", "200002", "200003"}  # warned, not closed yet
    with portal.uow(read_only=True) as uow:
        warnings = [e.mail for e in uow.outbox.pending() if "sera fermé le" in e.mail.subject]
    assert sorted(m.to for m in warnings) == ["200001@example.org", "200003@example.org"]
    assert "9 avril 2026" in warnings[0].subject  # 30 days after 10 March 2026

    again = apply_retention(portal)
    assert (again.invoices, again.requests, again.security_events, again.warned, again.closed) == (0, 0, 0, 0, 0)

    # 200003 logs in after the warning: kept. One day short of the warning period: nothing closes.
    clock.advance(days=2)
    from portail_domain.services.accounts import log_in

    log_in(portal, "200003@example.org", PASSWORD)
    clock.advance(days=27)
    assert apply_retention(portal).closed == 0
    clock.advance(days=2)
    closing = apply_retention(portal)
    assert closing.closed == 1 and state(portal, ids)["accounts"] == {"200002", "200003"}
    with portal.uow(read_only=True) as uow:
        closed_mail = uow.outbox.pending()[-1].mail
        assert uow.subscribers.get(ids["accounts"]["200001"]) is not None  # the subscriber stays
    assert closed_mail.to == "200001@example.org" and "est fermé" in closed_mail.subject
    assert apply_retention(portal).closed == 0


def test_the_retention_command_prints_counts(tmp_path):
    from tests.integration.test_cli import portail

    assert portail("migrate", cwd=tmp_path).returncode == 0
    dry = portail("retention", "apply", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("retention: would delete 0 invoices (with their payments), 0 closed requests")
    done = portail("retention", "apply", cwd=tmp_path, env={"PORTAIL_RETENTION_SECURITY_DAYS": "10"})
    assert done.returncode == 2 and "PORTAIL_RETENTION_SECURITY_DAYS: '10' is not a whole number of days" in done.stderr
    done = portail("retention", "apply", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("retention: deleted 0 invoices")
