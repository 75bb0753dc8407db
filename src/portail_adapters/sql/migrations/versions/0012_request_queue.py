"""The requests queue and leak relief: assignee and closing reason on requests, internal notes,
reply templates, écrêtement decisions, and the indexes the back-office dashboard counts on.

Revision ID: 0012_request_queue
Revises: 0010_schedules_reminders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_request_queue"
down_revision = "0010_schedules_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("closing_reason", sa.String(length=500), nullable=True))
        batch.create_foreign_key(batch.f("fk_requests_assignee_id_staff_users"), "staff_users", ["assignee_id"],
                                 ["id"])
        batch.create_index("ix_requests_assignee_id", ["assignee_id"], unique=False)
        batch.create_index("ix_requests_status_created_at", ["status", "created_at"], unique=False)
        batch.create_index("ix_requests_created_at", ["created_at"], unique=False)
    op.create_index("ix_payments_flag", "payments", ["flag"])
    op.create_index("ix_accounts_created_at", "accounts", ["created_at"])
    op.create_index("ix_outbox_failing", "outbox", ["sent_at", "last_error"])

    op.create_table(
        "request_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("staff_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_request_notes_request_id_requests")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_request_notes_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_notes")),
    )
    op.create_index(op.f("ix_request_notes_request_id"), "request_notes", ["request_id"])

    op.create_table(
        "reply_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_templates")),
    )
    op.create_index(op.f("ix_reply_templates_category"), "reply_templates", ["category"])

    op.create_table(
        "relief_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("usual_litres", sa.BigInteger(), nullable=False),
        sa.Column("billed_litres", sa.BigInteger(), nullable=False),
        sa.Column("capped_litres", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_relief_decisions_request_id_requests")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"],
                                name=op.f("fk_relief_decisions_contract_id_contracts")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_relief_decisions_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relief_decisions")),
        sa.UniqueConstraint("request_id", name=op.f("uq_relief_decisions_request_id")),
    )
    op.create_index(op.f("ix_relief_decisions_decided_at"), "relief_decisions", ["decided_at"])


def downgrade() -> None:
    op.drop_table("relief_decisions")
    op.drop_table("reply_templates")
    op.drop_table("request_notes")
    op.drop_index("ix_outbox_failing", "outbox")
    op.drop_index("ix_accounts_created_at", "accounts")
    op.drop_index("ix_payments_flag", "payments")
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_created_at")
        batch.drop_index("ix_requests_status_created_at")
        batch.drop_index("ix_requests_assignee_id")
        batch.drop_constraint("fk_requests_assignee_id_staff_users", type_="foreignkey")
        batch.drop_column("closing_reason")
        batch.drop_column("assignee_id")
