"""The subscriber's data rights and the retention rules.

- ``export_personal_data``: everything the portal holds about one subscriber (RGPD arts. 15 and 20),
  read in one read-only unit of work with a fixed number of queries, whatever the history's size.
- ``close_account``: the login goes, sessions and links end; the subscriber and their billing data
  stay under the retention rules (they are the utility's records), so activating again later works.
- ``apply_retention``: deletes what is past its period (``Retention``), warns then closes unused
  accounts; idempotent (a second run finds nothing), batched, and a dry run changes nothing.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ..model import errors
from ..model.accounts import Account, Identity, Subscriber
from ..model.billing import Invoice, Payment
from ..model.contracts import Contract, MeterReading, OverconsumptionNotice
from ..model.legal import Retention, years
from ..model.links import Link
from ..model.mail import Mail, MailKind
from ..model.mandates import Mandate
from ..model.privacy import RetentionReport, SecurityEventKind
from ..model.requests import MoveDetails, Request, RequestMessage
from ..model.values import Money
from ..portal import Portal
from ..ports import UnitOfWork
from .accounts import record_event
from .activation import check_current_password
from .documents import orphaned_keys
from .mail import queue_mail

Json = dict[str, Any]


def _value(value: object) -> object:
    """A JSON-ready value: dates and times in ISO 8601, ids as text, amounts in euros as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Money):
        return f"{value.cents / 100:.2f}"
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _record(**fields: object) -> Json:
    return {name: _value(value) for name, value in fields.items()}


def export_personal_data(portal: Portal, subscriber_id: uuid.UUID) -> Json:
    """Every kind of record the portal holds about the subscriber, by section (``EXPORT_SECTIONS``).

    Secrets are left out (password hash, activation code, session tokens): they are not data
    about the person, and a copy of the export must not open the account.
    """
    with portal.uow(read_only=True) as uow:
        subscriber = uow.subscribers.get(subscriber_id)
        if subscriber is None:
            raise errors.NotFound()
        account = uow.accounts.for_subscriber(subscriber_id)
        contracts = uow.contracts.for_subscriber(subscriber_id)
        contract_ids = [c.id for c in contracts]
        numbers = {c.id: c.number for c in contracts}
        readings = uow.readings.for_contracts(contract_ids)
        notices = uow.overconsumption_notices.for_contracts(contract_ids)
        invoices = uow.invoices.for_subscriber(subscriber_id)
        invoice_numbers = {i.id: i.number for i in invoices}
        payments = uow.privacy.payments_of(list(invoice_numbers))
        requests = uow.requests.for_subscriber(subscriber_id)
        messages = uow.privacy.messages_of([r.id for r in requests])
        documents = uow.documents.for_subscriber(subscriber_id)
        folders = {f.id: f.name for f in uow.folders.for_subscriber(subscriber_id)}
        moves = uow.requests.moves_of(subscriber_id)
        mandates = uow.mandates.for_subscriber(subscriber_id)
        sessions = uow.sessions.for_account(account.id) if account is not None else []
        events = uow.privacy.events_for(subscriber_id)
    return {
        "exported_at": _value(portal.clock.now()),
        **_person(subscriber, account),
        **_supply(contracts, readings, notices),
        **_billing(numbers, invoices, payments),
        "requests": _request_threads(numbers, requests, messages, moves),
        "mandates": [_mandate(numbers, m) for m in mandates],  # the RUM names the contract if no longer theirs
        "documents": [_record(id=d.id, folder=folders.get(d.folder_id), filename=d.filename,
                              content_type=d.content_type, size=d.size, sha256=d.sha256, added_by=d.added_by,
                              added_at=d.added_at) for d in documents],
        "sessions": [_record(opened_at=s.created_at, last_seen_at=s.last_seen_at, user_agent=s.user_agent, ip=s.ip)
                     for s in sessions],
        "security_events": [_record(at=e.at, kind=e.kind, ip=e.ip) for e in events],
    }


def _person(subscriber: Subscriber, account: Account | None) -> Json:
    login = subscriber.email.address if subscriber.email else None
    return {
        "personal_data": _record(
            subscriber_number=subscriber.number, name=subscriber.name, email=login, phone=subscriber.phone,
            address=subscriber.address, postal_code=subscriber.postal_code, city=subscriber.city,
            language=subscriber.language, paperless=subscriber.paperless, payment_reminders=subscriber.reminders),
        "account": None if account is None else _record(
            login=login, created_at=account.created_at,
            password_changed_at=account.password_changed_at, last_login_at=account.last_login_at),
    }


def _supply(contracts: Sequence[Contract], readings: Sequence[MeterReading],
            notices: Sequence[OverconsumptionNotice]) -> Json:
    numbers = {c.id: c.number for c in contracts}
    return {
        "contracts": [_record(number=c.number, service=c.service, supply_address=c.supply_address,
                              meter_number=c.meter_number, start_on=c.start_on, end_on=c.end_on) for c in contracts],
        "readings": [_record(contract=numbers.get(r.contract_id), meter_number=r.meter_number, read_on=r.read_on,
                             index_m3=str(r.index.m3), source=r.source, status=r.status, recorded_at=r.recorded_at)
                     for r in readings],
        "overconsumption_notices": [_record(contract=numbers.get(n.contract_id), period_start=n.period_start,
                                            period_end=n.period_end, litres=n.litres, notified_at=n.notified_at,
                                            emailed_to=n.emailed_to) for n in notices],
    }


def _billing(numbers: dict[uuid.UUID, str], invoices: Sequence[Invoice], payments: Sequence[Payment]) -> Json:
    invoice_numbers = {i.id: i.number for i in invoices}
    return {
        "invoices": [_record(number=i.number, contract=numbers.get(i.contract_id), issued_on=i.issued_on,
                             due_on=i.due_on, amount_eur=i.amount, paid_eur=i.amount_paid, status=i.status)
                     for i in invoices],
        "payments": [_record(invoice=invoice_numbers.get(p.invoice_id), amount_eur=p.amount, gateway=p.gateway,
                             operation_id=p.operation_id, status=p.status, started_at=p.created_at,
                             paid_at=p.paid_at) for p in payments],
    }


def _mandate(numbers: dict[uuid.UUID, str], mandate: Mandate) -> Json:
    """A direct-debit mandate, its IBAN masked as on every page (the signed PDF in Mes documents
    has it whole): an export is a file that travels, and the IBAN opens debits."""
    evidence = mandate.evidence
    return _record(rum=mandate.rum, contract=numbers.get(mandate.contract_id), mode=mandate.mode,
                   holder=mandate.holder, iban=mandate.account.masked, bic=mandate.account.bic,
                   status=mandate.status, created_at=mandate.created_at,
                   signed_at=evidence.signed_at if evidence else None,
                   signed_from=evidence.client_address if evidence else None,
                   signed_with=evidence.user_agent if evidence else None, revoked_at=mandate.revoked_at)


def _move(move: MoveDetails | None) -> Json | None:
    if move is None:
        return None
    return _record(move_on=move.move_on, index_m3=str(move.index.m3), new_address=move.new_address,
                   occupant=move.occupant)


def _request_threads(numbers: dict[uuid.UUID, str], requests: Sequence[Request],
                     messages: Sequence[RequestMessage], moves: Mapping[uuid.UUID, MoveDetails]) -> list[Json]:
    by_request: dict[uuid.UUID, list[Json]] = {}
    for message in messages:
        by_request.setdefault(message.request_id, []).append(_record(
            at=message.created_at, author=message.author, author_name=message.author_name, text=message.body,
            attachment_id=message.attachment_id))
    return [{**_record(reference=r.reference, category=r.category, subject=r.subject,
                       contract=numbers.get(r.contract_id) if r.contract_id else None, status=r.status,
                       created_at=r.created_at, updated_at=r.updated_at),
             "moving_form": _move(moves.get(r.id)),
             "messages": by_request.get(r.id, [])} for r in requests]


def activation_link() -> Link:
    """Where a closed account is opened again: "Créer / Renouveler mot de passe"."""
    return Link("password_request")


def _close(uow: UnitOfWork, portal: Portal, account: Account, kind: SecurityEventKind, mail: MailKind) -> None:
    """Remove the login, its sessions and links; tell the subscriber what is kept (in the mail)."""
    uow.privacy.remove_account(account.id)
    uow.tokens.remove_for(subscriber_id=account.subscriber_id)
    record_event(uow, portal, kind, account)
    subscriber = uow.subscribers.get(account.subscriber_id) if account.subscriber_id else None
    if subscriber is not None and subscriber.email is not None:
        queue_mail(uow, portal, Mail(mail, subscriber.email.address, subscriber.language.value, {
            "name": subscriber.name, "number": subscriber.number, "link": activation_link()}))


def close_account(portal: Portal, identity: Identity, password: str) -> None:
    """Close the subscriber's portal account after the password is typed again (``WrongPassword``,
    counted like a login failure, so a stolen session cannot guess it faster than the login form)."""
    if identity.subscriber is None:
        raise errors.NotFound()
    with portal.uow() as uow:
        check_current_password(uow, portal.passwords, portal.clock, identity, password)
        account = uow.accounts.get(identity.account.id)
        if account is None:  # closed meanwhile (another tab)
            return
        _close(uow, portal, account, SecurityEventKind.ACCOUNT_CLOSED, MailKind.ACCOUNT_CLOSED)
        uow.commit()


# --- retention ---------------------------------------------------------------------------------

BATCH = 500
Step = Callable[[UnitOfWork, Portal, Retention, int], tuple[int, list[str]]]


def _invoices(uow: UnitOfWork, portal: Portal, retention: Retention, limit: int) -> tuple[int, list[str]]:
    cutoff = portal.clock.today() - years(retention.invoices_years)
    found = uow.privacy.expired_invoices(cutoff, limit)
    return len(found), orphaned_keys(uow, uow.privacy.remove_invoices([i.id for i in found])) if found else []


def _requests(uow: UnitOfWork, portal: Portal, retention: Retention, limit: int) -> tuple[int, list[str]]:
    found = uow.privacy.expired_requests(portal.clock.now() - years(retention.requests_years), limit)
    return len(found), orphaned_keys(uow, uow.privacy.remove_requests([r.id for r in found])) if found else []


def _events(uow: UnitOfWork, portal: Portal, retention: Retention, limit: int) -> tuple[int, list[str]]:
    return uow.privacy.remove_events(portal.clock.now() - timedelta(days=retention.security_days)), []


def _warn(uow: UnitOfWork, portal: Portal, retention: Retention, limit: int) -> tuple[int, list[str]]:
    now = portal.clock.now()
    closes_on = portal.clock.today() + timedelta(days=retention.warning_days)
    found = uow.privacy.unused_accounts(now - years(retention.unused_account_years), limit)
    subscribers = {a.subscriber_id: uow.subscribers.get(a.subscriber_id) for a in found if a.subscriber_id}
    for account in found:
        account.unused_warned_at = now
        uow.accounts.update(account)
        record_event(uow, portal, SecurityEventKind.UNUSED_WARNING, account)
        subscriber = subscribers.get(account.subscriber_id) if account.subscriber_id else None
        if subscriber is not None and subscriber.email is not None:
            queue_mail(uow, portal, Mail(MailKind.ACCOUNT_UNUSED, subscriber.email.address, subscriber.language.value, {
                "name": subscriber.name, "number": subscriber.number, "closes_on": closes_on,
                "link": Link("login")}))
    return len(found), []


def _close_unused(uow: UnitOfWork, portal: Portal, retention: Retention, limit: int) -> tuple[int, list[str]]:
    found = uow.privacy.warned_accounts(portal.clock.now() - timedelta(days=retention.warning_days), limit)
    for account in found:
        _close(uow, portal, account, SecurityEventKind.ACCOUNT_CLOSED_UNUSED, MailKind.ACCOUNT_CLOSED)
    return len(found), []


# Closing comes before warning: an account warned in this run is not closed in the same run.
STEPS: Sequence[tuple[str, Step]] = (("invoices", _invoices), ("requests", _requests),
                                     ("security_events", _events), ("closed", _close_unused), ("warned", _warn))


def _report(counts: dict[str, int], files: int, *, dry_run: bool = False) -> RetentionReport:
    return RetentionReport(invoices=counts["invoices"], requests=counts["requests"],
                           security_events=counts["security_events"], warned=counts["warned"],
                           closed=counts["closed"], files=files, dry_run=dry_run)


def apply_retention(portal: Portal, *, dry_run: bool = False, batch: int = BATCH) -> RetentionReport:
    """Apply ``portal.config.legal.retention`` now (by ``portal.clock``); returns the counts.

    Each batch is its own transaction, and stored files are deleted once their rows are gone and
    no other row points to them (a publication's rows share one file); a file left by a crash is
    an orphan that ``portail files sweep`` finds. A dry run does the
    same work in one transaction that it rolls back, and deletes no file.
    """
    retention = portal.config.legal.retention
    counts = dict.fromkeys([name for name, _step in STEPS], 0)
    files: list[str] = []
    if dry_run:
        with portal.uow() as uow:
            for name, step in STEPS:
                while True:
                    done, keys = step(uow, portal, retention, batch)
                    counts[name] += done
                    files += keys
                    if done < batch or name == "security_events":
                        break
            uow.rollback()
        return _report(counts, len(files), dry_run=True)
    deleted = 0
    for name, step in STEPS:
        while True:
            with portal.uow() as uow:
                done, keys = step(uow, portal, retention, batch)
                uow.commit()
            counts[name] += done
            deleted += _delete_files(portal, keys)
            if done < batch or name == "security_events":
                break
    return _report(counts, deleted)


def _delete_files(portal: Portal, keys: Sequence[str]) -> int:
    if not keys or portal.files is None:
        return 0
    for key in keys:
        portal.files.delete(key)
    return len(keys)
