"""Prélèvement automatique: start a SEPA mandate, sign it with the mailed code, revoke it.

The IBAN never reaches a log line: mandates are logged by RUM and contract only.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date

from ..model import errors
from ..model.accounts import Subscriber
from ..model.billing import DirectDebit, Invoice
from ..model.documents import AddedBy, FolderKind
from ..model.mail import Mail, MailKind
from ..model.mandates import (
    CODE_VALIDITY,
    ContractEnded,
    Mandate,
    MandateDocument,
    MandateRequest,
    MandateStatus,
    MandatesView,
    NoEmailOnFile,
    NoPendingMandate,
    SepaCreditor,
    SigningCodeDead,
    WrongSigningCode,
    direct_debit,
    new_code,
    new_rum,
)
from ..portal import Portal
from ..ports import BankDirectory, UnitOfWork
from .contracts import own_contract
from .documents import default_folder, discard_object, store_document
from .mail import queue_mail

log = logging.getLogger("portail.mandates")


def _creditor(portal: Portal) -> SepaCreditor:
    if portal.config.sepa_creditor is None:
        raise errors.NotConfigured(what="SEPA creditor")
    return portal.config.sepa_creditor


def _banks(portal: Portal) -> BankDirectory:
    if portal.banks is None:
        raise errors.NotConfigured(what="bank directory")
    return portal.banks


# --- the domain query other areas ask ------------------------------------------------------


def contracts_on_direct_debit(uow: UnitOfWork, contract_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of these contracts that have an active mandate (either mode), in one query: their
    invoices are collected by the bank, so nobody is reminded to pay them."""
    return set(uow.mandates.active_for_contracts(contract_ids))


def direct_debits(uow: UnitOfWork, invoices: Sequence[Invoice], today: date) -> dict[uuid.UUID, DirectDebit]:
    """Invoice id -> how a mandate collects it, for those of ``invoices`` that one does (one query)."""
    return debits_by(uow.mandates.for_contracts({i.contract_id for i in invoices}), invoices, today)


def debits_by(read: Iterable[Mandate], invoices: Sequence[Invoice], today: date) -> dict[uuid.UUID, DirectDebit]:
    """``direct_debits`` given the mandates (not pending) of the invoices' contracts, already read."""
    mandates: dict[uuid.UUID, list[Mandate]] = {}
    for mandate in read:
        mandates.setdefault(mandate.contract_id, []).append(mandate)
    found: dict[uuid.UUID, DirectDebit] = {}
    for invoice in invoices:
        debit = direct_debit(invoice, mandates.get(invoice.contract_id, ()), today)
        if debit is not None:
            found[invoice.id] = debit
    return found


# --- the page -------------------------------------------------------------------------------


def mandates_view(portal: Portal, subscriber_id: uuid.UUID) -> MandatesView:
    """The subscriber's mandates, the one waiting for its code (while the code lives), and the
    contracts still supplied (those a new mandate may be for)."""
    now, today = portal.clock.now(), portal.clock.today()
    with portal.uow(read_only=True) as uow:
        subscriber = uow.subscribers.get(subscriber_id)
        contracts = list(uow.contracts.for_subscriber(subscriber_id))
        mandates = tuple(uow.mandates.for_subscriber(subscriber_id))
        extra = {m.contract_id for m in mandates} - {c.id for c in contracts}
        others = [c for c in (uow.contracts.get(i) for i in extra) if c is not None]
    numbers = {c.id: c.number for c in [*contracts, *others]}
    pending = next((m for m in mandates if m.status is MandateStatus.PENDING and m.challenge is not None
                    and m.challenge.alive(now)), None)
    open_contracts = {c.id: c.number for c in contracts if c.is_active(today)}
    email = subscriber.email.address if subscriber and subscriber.email else None
    return MandatesView(mandates, numbers, open_contracts, pending, portal.config.sepa_creditor, email)


# --- start ----------------------------------------------------------------------------------


def start_mandate(portal: Portal, subscriber_id: uuid.UUID, request: MandateRequest) -> Mandate:
    """A pending mandate for one of the subscriber's contracts, and its 6-digit code mailed to the
    e-mail on file (valid ``CODE_VALIDITY``, ``CODE_TRIES`` tries).

    Any mandate the subscriber started earlier and did not sign is dropped (its code dies with it).
    Raises ``NotFound`` (not their contract), ``ContractEnded``, an ``InvalidValue`` of the form
    (mode, holder, IBAN, BIC), ``NoEmailOnFile``; nothing is kept then.
    """
    creditor = _creditor(portal)
    mode, holder = request.checked_mode(), request.checked_holder()
    now = portal.clock.now()
    with portal.uow() as uow:
        contract = own_contract(uow, subscriber_id, request.contract_number.strip())
        if not contract.is_active(portal.clock.today()):
            raise ContractEnded(contract=contract.number)
        account = _banks(portal).account(request.iban, request.bic)
        subscriber = uow.subscribers.get(subscriber_id)
        if subscriber is None or subscriber.email is None:
            raise NoEmailOnFile()
        for earlier in uow.mandates.for_subscriber(subscriber_id):
            if earlier.status is MandateStatus.PENDING:
                uow.mandates.remove(earlier.id)
        code = new_code(portal.secrets.token(16))
        mandate = Mandate.start(rum=new_rum(contract.number, portal.secrets.token(16)), subscriber_id=subscriber_id,
                                contract_id=contract.id, mode=mode, holder=holder, account=account, now=now, code=code,
                                secret_key=portal.config.secret_key)
        uow.mandates.add(mandate)
        queue_mail(uow, portal, Mail(MailKind.MANDATE_CODE, subscriber.email.address, subscriber.language.value, {
            "code": code, "rum": mandate.rum, "contract": contract.number, "creditor": creditor.name,
            "validity_minutes": int(CODE_VALIDITY.total_seconds() // 60),
        }))
        uow.commit()
    log.info("mandate_started rum=%s contract=%s mode=%s", mandate.rum, contract.number, mode.value)
    return mandate


# --- sign -----------------------------------------------------------------------------------


def sign_mandate(portal: Portal, subscriber_id: uuid.UUID, code: str, *, client_address: str,
                 user_agent: str) -> Mandate:
    """Sign the subscriber's pending mandate with the mailed code.

    On success the evidence is stored (time, client address, user agent, the code's digest), any
    other active mandate of the contract is revoked (the new one replaces it: one active mandate per
    contract), the signed mandate is filed as a PDF in the subscriber's Contrats folder and a
    confirmation is mailed; all in one transaction. A wrong code counts a try (saved) and raises
    ``WrongSigningCode``; ``SigningCodeDead`` after the last try or the deadline; ``NoPendingMandate``
    when nothing waits for a code (never started, started again, or already signed: a replay).
    """
    now = portal.clock.now()
    with portal.uow() as uow:
        pending = next((m for m in uow.mandates.for_subscriber(subscriber_id) if m.status is MandateStatus.PENDING),
                       None)
        mandate = uow.mandates.lock(pending.id) if pending is not None else None
        if mandate is None:
            raise NoPendingMandate()
        replaced = uow.mandates.active_for_contracts([mandate.contract_id]).get(mandate.contract_id)
        try:
            mandate.sign(code, secret_key=portal.config.secret_key, now=now, client_address=client_address,
                         user_agent=user_agent)
        except (WrongSigningCode, SigningCodeDead):
            uow.mandates.update(mandate)  # the try counts, whatever happens next
            uow.commit()
            log.warning("mandate_code_refused rum=%s tries_left=%s", mandate.rum,
                        mandate.challenge.tries_left if mandate.challenge else 0)
            raise
        if replaced is not None:
            replaced.revoke(now)
            uow.mandates.update(replaced)
            log.info("mandate_replaced rum=%s by=%s", replaced.rum, mandate.rum)
        key = _file_pdf(portal, uow, mandate)
        try:
            uow.mandates.update(mandate)
            _queue_signed(portal, uow, mandate)
            uow.commit()
        except BaseException:
            if key is not None and portal.files is not None:
                discard_object(portal.files, key)
            raise
    log.info("mandate_signed rum=%s", mandate.rum)
    return mandate


def _subscriber_and_contract(uow: UnitOfWork, mandate: Mandate) -> tuple[Subscriber, str, str]:
    subscriber = uow.subscribers.get(mandate.subscriber_id)
    contract = uow.contracts.get(mandate.contract_id)
    assert subscriber is not None and contract is not None
    return subscriber, contract.number, contract.supply_address


def _file_pdf(portal: Portal, uow: UnitOfWork, mandate: Mandate) -> str | None:
    """Print the signed mandate into the Contrats folder (in ``uow``); the stored object's key."""
    if portal.printer is None or portal.files is None:
        raise errors.NotConfigured(what="printer" if portal.printer is None else "file store")
    subscriber, number, supply_address = _subscriber_and_contract(uow, mandate)
    address = ", ".join(p for p in (subscriber.address, f"{subscriber.postal_code} {subscriber.city}".strip()) if p)
    pdf = portal.printer.mandate(MandateDocument(
        mandate=mandate, creditor=_creditor(portal), creditor_address=portal.config.utility.address,
        contract_number=number, supply_address=supply_address, debtor_address=address,
        email=subscriber.email.address if subscriber.email else "", language=subscriber.language.value,
    ))
    folder = default_folder(uow, subscriber.id, FolderKind.CONTRACTS)
    document = store_document(
        uow, portal.files, portal.clock, subscriber_id=subscriber.id, folder_id=folder.id,
        filename=Mandate.PRINTED.format(rum=mandate.rum), content_type="application/pdf", data=io.BytesIO(pdf),
        size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(), added_by=AddedBy.UTILITY,
    )
    mandate.document_id = document.id
    return document.storage_key


def _queue_signed(portal: Portal, uow: UnitOfWork, mandate: Mandate) -> None:
    subscriber, number, _address = _subscriber_and_contract(uow, mandate)
    if subscriber.email is None:
        return
    queue_mail(uow, portal, Mail(MailKind.MANDATE_SIGNED, subscriber.email.address, subscriber.language.value, {
        "name": subscriber.name, "rum": mandate.rum, "contract": number, "mode": mandate.mode.value,
        "iban": mandate.account.masked, "creditor": _creditor(portal).name,
        "signed_at": mandate.signed_at or portal.clock.now(),
    }))


# --- revoke ---------------------------------------------------------------------------------


def revoke_mandate(portal: Portal, subscriber_id: uuid.UUID, rum: str) -> Mandate:
    """Revoke one of the subscriber's active mandates (exported to the billing system, confirmed by
    e-mail). ``NotFound`` when the RUM is not theirs; ``MandateNotActive`` when already revoked."""
    now = portal.clock.now()
    with portal.uow() as uow:
        mandate = uow.mandates.by_rum(rum) if rum.isprintable() and 0 < len(rum) <= 35 else None
        if mandate is None or mandate.subscriber_id != subscriber_id or mandate.status is MandateStatus.PENDING:
            raise errors.NotFound(what="mandate")
        mandate = uow.mandates.lock(mandate.id)
        assert mandate is not None
        mandate.revoke(now)
        uow.mandates.update(mandate)
        subscriber, number, _address = _subscriber_and_contract(uow, mandate)
        if subscriber.email is not None:
            queue_mail(uow, portal, Mail(MailKind.MANDATE_REVOKED, subscriber.email.address,
                                         subscriber.language.value, {
                                             "name": subscriber.name, "rum": mandate.rum, "contract": number,
                                             "revoked_at": now}))
        uow.commit()
    log.info("mandate_revoked rum=%s", mandate.rum)
    return mandate
