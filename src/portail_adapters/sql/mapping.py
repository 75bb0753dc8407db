"""Row <-> entity functions: the only place that knows both the tables and the domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portail_domain.model.accounts import (
    Account,
    AccountToken,
    Language,
    StaffRole,
    StaffUser,
    Subscriber,
    TokenPurpose,
    WebSession,
)
from portail_domain.model.billing import Invoice, Payment, PaymentStatus
from portail_domain.model.contracts import (
    Contract,
    MeterReading,
    OverconsumptionNotice,
    ReadingSource,
    ReadingStatus,
    Service,
)
from portail_domain.model.documents import AddedBy, Document, DocumentFolder, FolderKind
from portail_domain.model.mail import OutboxEntry, OutgoingMail
from portail_domain.model.mandates import (
    BankAccount,
    Mandate,
    MandateMode,
    MandateStatus,
    SignatureEvidence,
    SigningChallenge,
)
from portail_domain.model.requests import Author, MoveDetails, Request, RequestCategory, RequestMessage, RequestStatus
from portail_domain.model.schedules import Instalment, InstalmentStatus
from portail_domain.model.support import SearchKey, contract_keys, subscriber_keys
from portail_domain.model.throttling import LoginAttempts
from portail_domain.model.values import EmailAddress, MeterIndex, Money

# A result's RowMapping (SQLAlchemy keys it by name or by column) or a plain dict by column name.
Row = Mapping[Any, Any]


def subscriber_to_row(s: Subscriber) -> dict[str, Any]:
    return {
        "id": s.id,
        "number": s.number,
        "name": s.name,
        "email": s.email.address if s.email else None,
        "email_normalised": s.email.normalised if s.email else None,
        "phone": s.phone,
        "address": s.address,
        "postal_code": s.postal_code,
        "city": s.city,
        "language": s.language.value,
        "paperless": s.paperless,
        "activation_code_hash": s.activation_code_hash,
        "billing_email": s.billing_email,
        "reminders": s.reminders,
    }


def subscriber_from_row(r: Row) -> Subscriber:
    return Subscriber(
        id=r["id"],
        number=r["number"],
        name=r["name"],
        email=EmailAddress(r["email"], r["email_normalised"]) if r["email"] else None,
        phone=r["phone"],
        address=r["address"],
        postal_code=r["postal_code"],
        city=r["city"],
        language=Language(r["language"]),
        paperless=r["paperless"],
        activation_code_hash=r["activation_code_hash"],
        billing_email=r["billing_email"],
        reminders=r["reminders"],
    )


def staff_to_row(s: StaffUser) -> dict[str, Any]:
    return {"id": s.id, "email": s.email.address, "email_normalised": s.email.normalised, "name": s.name,
            "role": s.role.value, "active": s.active, "totp_secret": s.totp_secret,
            "totp_last_step": s.totp_last_step, "totp_pending_secret": s.totp_pending_secret}


def staff_from_row(r: Row) -> StaffUser:
    return StaffUser(id=r["id"], email=EmailAddress(r["email"], r["email_normalised"]), name=r["name"],
                     role=StaffRole(r["role"]), active=r["active"], totp_secret=r["totp_secret"],
                     totp_last_step=r["totp_last_step"], totp_pending_secret=r["totp_pending_secret"])


def contract_to_row(c: Contract) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "subscriber_id": c.subscriber_id,
        "service": c.service.value,
        "supply_address": c.supply_address,
        "meter_number": c.meter_number,
        "meter_digits": c.meter_digits,
        "start_on": c.start_on,
        "end_on": c.end_on,
    }


def contract_from_row(r: Row) -> Contract:
    return Contract(
        id=r["id"],
        number=r["number"],
        subscriber_id=r["subscriber_id"],
        service=Service(r["service"]),
        supply_address=r["supply_address"],
        meter_number=r["meter_number"],
        meter_digits=r["meter_digits"],
        start_on=r["start_on"],
        end_on=r["end_on"],
    )


def reading_to_row(m: MeterReading) -> dict[str, Any]:
    return {
        "id": m.id,
        "contract_id": m.contract_id,
        "meter_number": m.meter_number,
        "read_on": m.read_on,
        "index_litres": m.index.litres,
        "source": m.source.value,
        "status": m.status.value,
        "recorded_at": m.recorded_at,
        "photo_key": m.photo_key,
        "reviewed_at": m.reviewed_at,
        "review_reason": m.review_reason,
    }


def reading_from_row(r: Row) -> MeterReading:
    return MeterReading(
        id=r["id"],
        contract_id=r["contract_id"],
        meter_number=r["meter_number"],
        read_on=r["read_on"],
        index=MeterIndex(r["index_litres"]),
        source=ReadingSource(r["source"]),
        status=ReadingStatus(r["status"]),
        recorded_at=r["recorded_at"],
        photo_key=r["photo_key"],
        reviewed_at=r["reviewed_at"],
        review_reason=r["review_reason"],
    )


def notice_to_row(n: OverconsumptionNotice) -> dict[str, Any]:
    return {"id": n.id, "contract_id": n.contract_id, "meter_number": n.meter_number,
            "period_start": n.period_start, "period_end": n.period_end, "litres": n.litres,
            "notified_at": n.notified_at, "emailed_to": n.emailed_to}


def notice_from_row(r: Row) -> OverconsumptionNotice:
    return OverconsumptionNotice(id=r["id"], contract_id=r["contract_id"], meter_number=r["meter_number"],
                                 period_start=r["period_start"], period_end=r["period_end"], litres=r["litres"],
                                 notified_at=r["notified_at"], emailed_to=r["emailed_to"])


def invoice_to_row(i: Invoice) -> dict[str, Any]:
    return {
        "id": i.id,
        "number": i.number,
        "contract_id": i.contract_id,
        "issued_on": i.issued_on,
        "due_on": i.due_on,
        "amount_cents": i.amount.cents,
        "amount_paid_cents": i.amount_paid.cents,
        "cancelled": i.cancelled,
        "pdf_document_id": i.pdf_document_id,
        "pdf_file": i.pdf_file,
    }


def invoice_from_row(r: Row) -> Invoice:
    return Invoice(
        id=r["id"],
        number=r["number"],
        contract_id=r["contract_id"],
        issued_on=r["issued_on"],
        due_on=r["due_on"],
        amount=Money(r["amount_cents"]),
        amount_paid=Money(r["amount_paid_cents"]),
        cancelled=r["cancelled"],
        pdf_document_id=r["pdf_document_id"],
        pdf_file=r["pdf_file"],
    )


def payment_to_row(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "invoice_id": p.invoice_id,
        "amount_cents": p.amount.cents,
        "gateway": p.gateway,
        "reference": p.reference,
        "operation_id": p.operation_id,
        "status": p.status.value,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "paid_at": p.paid_at,
        "flag": p.flag,
        "gateway_reference": p.gateway_reference,
        "gateway_answer": p.gateway_answer,
        "resolution": p.resolution,
        "resolved_at": p.resolved_at,
        "resolution_note": p.resolution_note,
    }


def payment_from_row(r: Row) -> Payment:
    return Payment(
        id=r["id"],
        invoice_id=r["invoice_id"],
        amount=Money(r["amount_cents"]),
        gateway=r["gateway"],
        reference=r["reference"],
        operation_id=r["operation_id"],
        status=PaymentStatus(r["status"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        paid_at=r["paid_at"],
        flag=r["flag"],
        gateway_reference=r["gateway_reference"],
        gateway_answer=r["gateway_answer"],
        resolution=r["resolution"],
        resolved_at=r["resolved_at"],
        resolution_note=r["resolution_note"],
    )


def folder_to_row(f: DocumentFolder) -> dict[str, Any]:
    return {"id": f.id, "subscriber_id": f.subscriber_id, "name": f.name, "kind": f.kind.value,
            "parent_id": f.parent_id, "position": f.position}


def folder_from_row(r: Row) -> DocumentFolder:
    return DocumentFolder(id=r["id"], subscriber_id=r["subscriber_id"], name=r["name"], kind=FolderKind(r["kind"]),
                          parent_id=r["parent_id"], position=r["position"])


def document_to_row(d: Document) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscriber_id": d.subscriber_id,
        "folder_id": d.folder_id,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "sha256": d.sha256,
        "storage_key": d.storage_key,
        "added_by": d.added_by.value,
        "added_at": d.added_at,
    }


def document_from_row(r: Row) -> Document:
    return Document(
        id=r["id"],
        subscriber_id=r["subscriber_id"],
        folder_id=r["folder_id"],
        filename=r["filename"],
        content_type=r["content_type"],
        size=r["size"],
        sha256=r["sha256"],
        storage_key=r["storage_key"],
        added_by=AddedBy(r["added_by"]),
        added_at=r["added_at"],
    )


def request_to_row(q: Request) -> dict[str, Any]:
    return {
        "id": q.id,
        "reference": q.reference,
        "subscriber_id": q.subscriber_id,
        "category": q.category.value,
        "subject": q.subject,
        "contract_id": q.contract_id,
        "status": q.status.value,
        "created_at": q.created_at,
        "updated_at": q.updated_at,
        "assignee_id": q.assignee_id,
        "closing_reason": q.closing_reason,
    }


def request_from_row(r: Row) -> Request:
    return Request(
        id=r["id"],
        reference=r["reference"],
        subscriber_id=r["subscriber_id"],
        category=RequestCategory(r["category"]),
        subject=r["subject"],
        contract_id=r["contract_id"],
        status=RequestStatus(r["status"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        assignee_id=r["assignee_id"],
        closing_reason=r["closing_reason"],
    )


def message_to_row(m: RequestMessage) -> dict[str, Any]:
    return {"id": m.id, "request_id": m.request_id, "author": m.author.value, "author_name": m.author_name,
            "body": m.body, "created_at": m.created_at, "attachment_id": m.attachment_id}


def message_from_row(r: Row) -> RequestMessage:
    return RequestMessage(id=r["id"], request_id=r["request_id"], author=Author(r["author"]),
                          author_name=r["author_name"], body=r["body"], created_at=r["created_at"],
                          attachment_id=r["attachment_id"])


def account_to_row(a: Account) -> dict[str, Any]:
    return {"id": a.id, "subscriber_id": a.subscriber_id, "staff_id": a.staff_id, "password_hash": a.password_hash,
            "created_at": a.created_at, "password_changed_at": a.password_changed_at,
            "last_login_at": a.last_login_at, "unused_warned_at": a.unused_warned_at}


def account_from_row(r: Row) -> Account:
    return Account(id=r["id"], subscriber_id=r["subscriber_id"], staff_id=r["staff_id"],
                   password_hash=r["password_hash"], created_at=r["created_at"],
                   password_changed_at=r["password_changed_at"], last_login_at=r["last_login_at"],
                   unused_warned_at=r["unused_warned_at"])


def session_to_row(s: WebSession) -> dict[str, Any]:
    return {"token_hash": s.token_hash, "account_id": s.account_id, "created_at": s.created_at,
            "last_seen_at": s.last_seen_at, "user_agent": s.user_agent, "ip": s.ip,
            "second_factor": s.second_factor}


def session_from_row(r: Row) -> WebSession:
    return WebSession(token_hash=r["token_hash"], account_id=r["account_id"], created_at=r["created_at"],
                      last_seen_at=r["last_seen_at"], user_agent=r["user_agent"], ip=r["ip"],
                      second_factor=r["second_factor"])


def token_to_row(k: AccountToken) -> dict[str, Any]:
    return {"token_hash": k.token_hash, "purpose": k.purpose.value, "subscriber_id": k.subscriber_id,
            "staff_id": k.staff_id, "email": k.email, "created_at": k.created_at, "expires_at": k.expires_at}


def token_from_row(r: Row) -> AccountToken:
    return AccountToken(token_hash=r["token_hash"], purpose=TokenPurpose(r["purpose"]), created_at=r["created_at"],
                        expires_at=r["expires_at"], subscriber_id=r["subscriber_id"], staff_id=r["staff_id"],
                        email=r["email"])


def attempts_from_row(r: Row) -> LoginAttempts:
    return LoginAttempts(key=r["key"], failures=r["failures"], last_failure_at=r["last_failure_at"])


def outbox_from_row(r: Row) -> OutboxEntry:
    return OutboxEntry(
        id=r["id"],
        mail=OutgoingMail(to=r["recipient"], subject=r["subject"], text=r["text_body"], html=r["html_body"]),
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"],
        attempts=r["attempts"],
        sent_at=r["sent_at"],
        last_error=r["last_error"],
        failed_at=r["failed_at"],
        discarded_at=r["discarded_at"],
    )


def search_row(key: SearchKey, subscriber_id: Any, contract_id: Any = None) -> dict[str, Any]:
    return {"key": key.key, "subscriber_id": subscriber_id, "contract_id": contract_id, "kind": key.kind.value,
            "label": key.label[:300]}


def subscriber_search_rows(s: Subscriber) -> list[dict[str, Any]]:
    """The search keys of the subscriber's own fields (``subscriber_search`` rows)."""
    return [search_row(k, s.id) for k in subscriber_keys(s.number, s.name, s.email)]


def contract_search_rows(c: Contract) -> list[dict[str, Any]]:
    """The search keys a contract adds to its subscriber."""
    return [search_row(k, c.subscriber_id, c.id) for k in contract_keys(c.number, c.meter_number)]
def mandate_to_row(m: Mandate) -> dict[str, Any]:
    challenge, evidence = m.challenge, m.evidence
    return {
        "id": m.id, "rum": m.rum, "subscriber_id": m.subscriber_id, "contract_id": m.contract_id,
        "mode": m.mode.value, "holder": m.holder, "iban": m.account.iban, "bic": m.account.bic,
        "status": m.status.value, "created_at": m.created_at,
        "code_hash": evidence.code_hash if evidence else challenge.code_hash if challenge else "",
        "code_expires_at": challenge.expires_at if challenge else None,
        "code_tries_left": challenge.tries_left if challenge else 0,
        "signed_at": evidence.signed_at if evidence else None,
        "client_address": evidence.client_address if evidence else None,
        "user_agent": evidence.user_agent if evidence else None,
        "revoked_at": m.revoked_at, "document_id": m.document_id,
    }


def mandate_from_row(r: Row) -> Mandate:
    challenge = (SigningChallenge(r["code_hash"], r["code_expires_at"], r["code_tries_left"])
                 if r["signed_at"] is None and r["code_expires_at"] is not None else None)
    evidence = (SignatureEvidence(r["signed_at"], r["client_address"] or "", r["user_agent"] or "", r["code_hash"])
                if r["signed_at"] is not None else None)
    return Mandate(
        rum=r["rum"], subscriber_id=r["subscriber_id"], contract_id=r["contract_id"], mode=MandateMode(r["mode"]),
        holder=r["holder"], account=BankAccount(r["iban"], r["bic"]), created_at=r["created_at"],
        status=MandateStatus(r["status"]), challenge=challenge, evidence=evidence, revoked_at=r["revoked_at"],
        document_id=r["document_id"], id=r["id"],
    )


def instalment_to_row(i: Instalment) -> dict[str, Any]:
    return {"id": i.id, "contract_id": i.contract_id, "due_on": i.due_on, "amount_cents": i.amount.cents,
            "status": i.status.value}


def instalment_from_row(r: Row) -> Instalment:
    return Instalment(id=r["id"], contract_id=r["contract_id"], due_on=r["due_on"], amount=Money(r["amount_cents"]),
                      status=InstalmentStatus(r["status"]))


def move_to_row(m: MoveDetails) -> dict[str, Any]:
    return {"request_id": m.request_id, "move_on": m.move_on, "index_litres": m.index.litres,
            "new_address": m.new_address, "occupant": m.occupant}


def move_from_row(r: Row) -> MoveDetails:
    return MoveDetails(request_id=r["request_id"], move_on=r["move_on"], index=MeterIndex(r["index_litres"]),
                       new_address=r["new_address"], occupant=r["occupant"])
