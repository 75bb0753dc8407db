"""The schema as SQLAlchemy Core tables. Alembic migrations own the real schema; these
describe it for queries (tests check that the two agree)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
    true,
)

from .types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("email_normalised", String(254), index=True),
    Column("phone", String(40), nullable=False, default=""),
    Column("address", String(300), nullable=False, default=""),
    Column("postal_code", String(10), nullable=False, default="", index=True),  # publications by postal code
    Column("city", String(100), nullable=False, default=""),
    Column("language", String(2), nullable=False, default="fr"),
    Column("paperless", Boolean, nullable=False, default=False),
    Column("activation_code_hash", String(200), index=True),
    Column("billing_email", String(254)),  # the e-mail the billing system sent last ("" for none)
    Column("reminders", Boolean, nullable=False, default=True, server_default=true()),  # payment reminders wanted
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("email_normalised", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("totp_secret", String(64)),  # base32, None until enrolled
    Column("totp_last_step", BigInteger),  # the last TOTP time step accepted (a code is used once)
    Column("totp_pending_secret", String(64)),  # shown at enrolment until a code confirms it
)

# Ten single-use codes per member, for the day the phone is lost; stored hashed.
staff_recovery_codes = Table(
    "staff_recovery_codes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UTCDateTime),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), unique=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime),
    Column("last_login_at", UTCDateTime),
    Column("unused_warned_at", UTCDateTime),
    Index("ix_accounts_created_at", "created_at"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("user_agent", String(200), nullable=False, default=""),
    Column("ip", String(45), nullable=False, default=""),
    Column("second_factor", Boolean, nullable=False, default=False),  # a staff session past its TOTP step
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("service", String(12), nullable=False),
    Column("supply_address", String(300), nullable=False),
    Column("meter_number", String(32), nullable=False),
    Column("meter_digits", Integer, nullable=False, default=5),
    Column("start_on", Date, nullable=False),
    Column("end_on", Date),
)

meter_readings = Table(
    "meter_readings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False),
    Column("meter_number", String(32), nullable=False),
    Column("read_on", Date, nullable=False),
    Column("index_litres", BigInteger, nullable=False),
    Column("source", String(12), nullable=False),
    Column("status", String(12), nullable=False),
    Column("recorded_at", UTCDateTime),
    Column("photo_key", String(200)),
    Column("reviewed_at", UTCDateTime),  # staff accepted or rejected it (the export picks it up again)
    Column("review_reason", String(500)),
    UniqueConstraint("contract_id", "meter_number", "read_on"),
    Index("ix_meter_readings_recorded_at", "recorded_at"),
    Index("ix_meter_readings_status", "status"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False, index=True),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("amount_paid_cents", BigInteger, nullable=False, default=0),
    Column("cancelled", Boolean, nullable=False, default=False),
    Column("pdf_document_id", Uuid),
    Column("pdf_file", String(500)),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("invoice_id", Uuid, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("operation_id", String(64)),
    Column("status", String(12), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("paid_at", UTCDateTime, index=True),
    Column("flag", String(200)),
    Column("gateway_reference", String(64)),
    Column("gateway_answer", String(300)),  # the gateway's last answer as staff saw it
    Column("resolution", String(12)),  # refunded / settled / cancelled, by staff
    Column("resolved_at", UTCDateTime),
    Column("resolution_note", String(500)),
    UniqueConstraint("gateway", "operation_id"),
    Index("ix_payments_flag", "flag"),
)

document_folders = Table(
    "document_folders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("parent_id", Uuid, ForeignKey("document_folders.id")),
    Column("position", Integer, nullable=False, default=0),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("folder_id", Uuid, ForeignKey("document_folders.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    # Not unique: a publication's rows share its one stored object (see migration 0014).
    Column("storage_key", String(200), nullable=False, index=True),
    Column("added_by", String(12), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reference", String(32), nullable=False, unique=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("category", String(20), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("contract_id", Uuid, ForeignKey("contracts.id")),
    Column("status", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, index=True),
    Column("assignee_id", Uuid, ForeignKey("staff_users.id")),
    Column("closing_reason", String(500)),
    Index("ix_requests_assignee_id", "assignee_id"),
    Index("ix_requests_status_created_at", "status", "created_at"),
    Index("ix_requests_created_at", "created_at"),
)

request_messages = Table(
    "request_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("request_id", Uuid, ForeignKey("requests.id"), nullable=False, index=True),
    Column("author", String(12), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attachment_id", Uuid, ForeignKey("documents.id")),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", String(500)),
    Column("failed_at", UTCDateTime),  # the relay gave up (attempts used up, or refused for good)
    Column("discarded_at", UTCDateTime),  # staff dropped it
    Index("ix_outbox_due", "sent_at", "next_attempt_at"),
    Index("ix_outbox_failing", "sent_at", "last_error"),
)

# The embedded payment simulator's own record of the operations it plays (PORTAIL_PAYMENT=simulator):
# kept in the database so that any worker can answer "what happened to this operation?".
payment_simulator_operations = Table(
    "payment_simulator_operations",
    metadata,
    Column("operation_id", String(64), primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("email", String(254), nullable=False),
    Column("return_url", String(500), nullable=False),
    Column("notify_url", String(500), nullable=False),
    Column("status", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
)


# --- accounts (issue Accounts): e-mailed link tokens and login throttling ---------------

account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(12), nullable=False),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), index=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), index=True),
    Column("email", String(254)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False, index=True),
)


# One row per over-consumption period the subscriber was told about (loi Warsmann): told once.
overconsumption_notices = Table(
    "overconsumption_notices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False),
    Column("meter_number", String(32), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("litres", BigInteger, nullable=False),
    Column("notified_at", UTCDateTime, nullable=False),
    Column("emailed_to", String(254)),
    UniqueConstraint("contract_id", "meter_number", "period_start", "period_end",
                     name="uq_overconsumption_notices_period"),
)


# The audit log: append-only (triggers refuse UPDATE and DELETE, see migration 0006).
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), nullable=False),
    Column("staff_email", String(254), nullable=False),  # normalised, as it was
    Column("action", String(40), nullable=False),
    Column("subscriber_number", String(32)),
    Column("target", String(200), nullable=False, default=""),
    Column("before", Text, nullable=False, default=""),  # JSON object of short strings, "" for none
    Column("after", Text, nullable=False, default=""),
    Index("ix_audit_entries_staff_email_at", "staff_email", "at"),
    Index("ix_audit_entries_subscriber_number_at", "subscriber_number", "at"),
)


# The subscriber's security log (logins, failures, password changes, closing): exported with their data,
# deleted after Retention.security_days.
security_events = Table(
    "security_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), index=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), index=True),
    Column("ip", String(45), nullable=False, default=""),
)


# SEPA direct-debit mandates (prélèvement): the evidence of the signature stays on the row.
sepa_mandates = Table(
    "sepa_mandates",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("rum", String(35), nullable=False, unique=True),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False, index=True),
    Column("mode", String(10), nullable=False),
    Column("holder", String(70), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("code_hash", String(64), nullable=False),  # the pending code's digest, then the signing code's (evidence)
    Column("code_expires_at", UTCDateTime),
    Column("code_tries_left", Integer, nullable=False, default=0),
    Column("signed_at", UTCDateTime, index=True),
    Column("client_address", String(45)),
    Column("user_agent", String(200)),
    Column("revoked_at", UTCDateTime, index=True),
    Column("document_id", Uuid, ForeignKey("documents.id")),
    # One active mandate per contract, whatever the workers do at the same moment.
    Index("uq_sepa_mandates_active_contract", "contract_id", unique=True,
          sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
)


# Support's search (model/support.py): one row per folded key of a subscriber's number, name and
# e-mail (contract_id NULL) and of their contracts' numbers and meters (contract_id set), written
# with the subscriber or contract. Compared in code point order on both databases (C collation on
# PostgreSQL), so a prefix is an index range: key >= prefix AND key < prefix_end(prefix).
SEARCH_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")

subscriber_search = Table(
    "subscriber_search",
    metadata,
    Column("key", SEARCH_KEY, nullable=False),
    Column("subscriber_id", Uuid, ForeignKey("subscribers.id"), nullable=False, index=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), index=True),
    Column("kind", String(10), nullable=False),
    Column("label", String(300), nullable=False),
    Index("ix_subscriber_search_key", "key", "subscriber_id"),
)


# --- schedules, reminders, moving (issue 16) --------------------------------------------------

# Instalment schedules (échéanciers) from the billing system: one row per contract and due date.
instalments = Table(
    "instalments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    UniqueConstraint("contract_id", "due_on"),
)

# One row per payment reminder sent: the primary key makes each (invoice, kind) go out once.
sent_reminders = Table(
    "sent_reminders",
    metadata,
    Column("invoice_id", Uuid, ForeignKey("invoices.id"), primary_key=True),
    Column("kind", String(12), primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("emailed_to", String(254), nullable=False),
)

# The fields of a moving-out / moving-in form, beside its request.
request_moves = Table(
    "request_moves",
    metadata,
    Column("request_id", Uuid, ForeignKey("requests.id"), primary_key=True),
    Column("move_on", Date, nullable=False),
    Column("index_litres", BigInteger, nullable=False),
    Column("new_address", String(300)),
    Column("occupant", String(200)),
)


# The requests desk (back office): internal notes (staff only), reply templates, écrêtement decisions.
request_notes = Table(
    "request_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("request_id", Uuid, ForeignKey("requests.id"), nullable=False, index=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), nullable=False),
    Column("staff_name", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

reply_templates = Table(
    "reply_templates",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("category", String(20), nullable=False, index=True),
    Column("title", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

relief_decisions = Table(
    "relief_decisions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("request_id", Uuid, ForeignKey("requests.id"), nullable=False, unique=True),
    Column("contract_id", Uuid, ForeignKey("contracts.id"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("usual_litres", BigInteger, nullable=False),
    Column("billed_litres", BigInteger, nullable=False),
    Column("capped_litres", BigInteger, nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False, index=True),
    Column("staff_id", Uuid, ForeignKey("staff_users.id"), nullable=False),
)
