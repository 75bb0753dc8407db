"""instalment schedules, sent payment reminders, the reminders opt-out, moving forms' fields

Revision ID: 0010_schedules_reminders
Revises: 0013_work_queues
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_schedules_reminders"
down_revision = "0013_work_queues"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instalments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_instalments_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("contract_id", "due_on", name=op.f("uq_instalments_contract_id_due_on")),
    )
    op.create_table(
        "sent_reminders",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_to", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_sent_reminders_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("invoice_id", "kind", name=op.f("pk_sent_reminders")),
    )
    op.create_table(
        "request_moves",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("move_on", sa.Date(), nullable=False),
        sa.Column("index_litres", sa.BigInteger(), nullable=False),
        sa.Column("new_address", sa.String(length=300), nullable=True),
        sa.Column("occupant", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_request_moves_request_id_requests")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_moves")),
    )
    # Reminders look invoices up by due date, every day.
    op.create_index(op.f("ix_invoices_due_on"), "invoices", ["due_on"])
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("reminders", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("reminders")
    op.drop_index(op.f("ix_invoices_due_on"), table_name="invoices")
    op.drop_table("request_moves")
    op.drop_table("sent_reminders")
    op.drop_table("instalments")
