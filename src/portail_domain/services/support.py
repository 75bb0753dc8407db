"""Subscriber support (back office, ``/agent/abonnes``): search, the subscriber card, and the
three things support does to an account: a new activation code (and its letter), lifting the
login throttle, ending the subscriber's sessions.

Staff never see nor set a subscriber's password: the card shows the account's state, and a
subscriber who lost access gets a new activation code by post and sets the password themselves.
"""

from __future__ import annotations

from ..model import errors
from ..model.accounts import StaffUser, Subscriber, hash_activation_code
from ..model.audit import AuditAction
from ..model.support import (
    SEARCH_LIMIT,
    AccountState,
    ActivationLetter,
    ContractView,
    InvoiceView,
    SearchResult,
    SubscriberCard,
    query_prefixes,
    recent_readings,
)
from ..model.throttling import PER_EMAIL, email_key, link_key
from ..portal import Portal
from ..ports import UnitOfWork
from .activation import new_activation_code
from .audit import record_audit


def search_subscribers(portal: Portal, query: str) -> SearchResult:
    """Subscribers whose number, name (any word of it), e-mail, contract or meter number starts
    with ``query``, ignoring case and accents; at most ``SEARCH_LIMIT``, ``more`` when others match."""
    prefixes = query_prefixes(query)
    if not prefixes:
        return SearchResult(query, [], more=False)
    with portal.uow(read_only=True) as uow:
        hits = list(uow.subscribers.search(prefixes, SEARCH_LIMIT + 1))
    return SearchResult(query, hits[:SEARCH_LIMIT], more=len(hits) > SEARCH_LIMIT)


def _subscriber(uow: UnitOfWork, number: str) -> Subscriber:
    # never a number on file when empty or unprintable (and PostgreSQL refuses a NUL in a query)
    subscriber = uow.subscribers.by_number(number[:32]) if number and number.isprintable() else None
    if subscriber is None:
        raise errors.NotFound()
    return subscriber


def _code_state(subscriber: Subscriber) -> str:
    """What the audit log says of the activation code (never the code, nor its hash)."""
    return "pending" if subscriber.activation_code_hash is not None else "none"


def subscriber_card(portal: Portal, staff: StaffUser, number: str) -> SubscriberCard:
    """The subscriber's card: what they see on the portal and their account's state, read in one
    read-only unit of work with a fixed number of queries (``NotFound`` for an unknown number).
    The view is written to the audit log (in a short transaction of its own, after the reading)."""
    now = portal.clock.now()
    limits = portal.config.limits
    with portal.uow(read_only=True) as uow:
        subscriber = _subscriber(uow, number)
        account = uow.accounts.for_subscriber(subscriber.id)
        sessions = [s for s in uow.sessions.for_account(account.id) if s.alive(now, limits)] if account else []
        attempts = uow.throttles.get(email_key(subscriber.email.normalised)) if subscriber.email else None
        contracts = list(uow.contracts.for_subscriber(subscriber.id))
        readings = uow.readings.for_contracts([c.id for c in contracts]) if contracts else []
        invoices = list(uow.invoices.for_subscriber(subscriber.id))
        payments = uow.payments.for_invoices([i.id for i in invoices]) if invoices else []
        documents = list(uow.documents.for_subscriber(subscriber.id))
        requests = list(uow.requests.for_subscriber(subscriber.id))
    with portal.uow() as uow:
        record_audit(uow, portal, staff, AuditAction.SUBSCRIBER_VIEW, subscriber=subscriber)
        uow.commit()
    wait = PER_EMAIL.wait(attempts, now)
    state = AccountState.of(account, sessions, attempts, now + wait if wait else None,
                            has_code=subscriber.activation_code_hash is not None)
    return SubscriberCard(
        subscriber=subscriber,
        account=state,
        contracts=[ContractView(c, recent_readings(readings, c.id)) for c in contracts],
        invoices=[InvoiceView(i, [p for p in payments if p.invoice_id == i.id]) for i in invoices],
        documents=documents,
        requests=requests,
    )


def issue_activation_code(portal: Portal, staff: StaffUser, number: str) -> ActivationLetter:
    """A new random activation code for the subscriber (the former one stops working). Only its
    hash is stored: the returned letter is the one place the code exists in clear."""
    with portal.uow() as uow:
        subscriber = _subscriber(uow, number)
        code = new_activation_code(portal.secrets)
        before = _code_state(subscriber)
        subscriber.activation_code_hash = hash_activation_code(code)
        uow.subscribers.update(subscriber)
        record_audit(uow, portal, staff, AuditAction.ACTIVATION_CODE, subscriber=subscriber,
                     before={"activation_code": before}, after={"activation_code": "new"})
        uow.commit()
    return ActivationLetter(subscriber, code)


def unblock_login(portal: Portal, staff: StaffUser, number: str) -> int:
    """Lift what can keep the subscriber out: the failed logins counted on their e-mail, and the
    set-password links they asked for this hour. Returns the login failures forgotten."""
    with portal.uow() as uow:
        subscriber = _subscriber(uow, number)
        counters = {"login_failures": email_key(subscriber.email.normalised) if subscriber.email else None,
                    "link_requests": link_key(subscriber.id)}
        before: dict[str, int] = {}
        for name, key in counters.items():
            found = uow.throttles.get(key) if key else None
            before[name] = found.failures if found else 0
            if key:
                uow.throttles.clear(key)
        # The per-address link counters too (``link_key(subscriber, client)``), whatever the address.
        uow.throttles.clear_prefix(link_key(subscriber.id) + ":")
        record_audit(uow, portal, staff, AuditAction.UNBLOCK_LOGIN, subscriber=subscriber, before=before,
                     after=dict.fromkeys(before, 0))
        uow.commit()
    return before["login_failures"]


def end_subscriber_sessions(portal: Portal, staff: StaffUser, number: str) -> int:
    """Log the subscriber out everywhere; returns how many sessions ended."""
    with portal.uow() as uow:
        subscriber = _subscriber(uow, number)
        account = uow.accounts.for_subscriber(subscriber.id)
        ended = len(uow.sessions.for_account(account.id)) if account is not None else 0
        if account is not None:
            uow.sessions.remove_for_account(account.id)
        record_audit(uow, portal, staff, AuditAction.END_SESSIONS, subscriber=subscriber,
                     before={"sessions": ended}, after={"sessions": 0})
        uow.commit()
    return ended
