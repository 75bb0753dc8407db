"""sepa_mandates: direct-debit mandates signed online, with the evidence of their signature

Revision ID: 0009_mandates
Revises: 0011_data_rights
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mandates"
down_revision = "0011_data_rights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sepa_mandates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rum", sa.String(length=35), nullable=False),
        sa.Column("subscriber_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("holder", sa.String(length=70), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_tries_left", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_sepa_mandates_subscriber_id_subscribers")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_sepa_mandates_contract_id_contracts")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_sepa_mandates_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sepa_mandates")),
        sa.UniqueConstraint("rum", name=op.f("uq_sepa_mandates_rum")),
    )
    op.create_index(op.f("ix_sepa_mandates_subscriber_id"), "sepa_mandates", ["subscriber_id"])
    op.create_index(op.f("ix_sepa_mandates_contract_id"), "sepa_mandates", ["contract_id"])
    op.create_index(op.f("ix_sepa_mandates_signed_at"), "sepa_mandates", ["signed_at"])
    op.create_index(op.f("ix_sepa_mandates_revoked_at"), "sepa_mandates", ["revoked_at"])
    op.create_index("uq_sepa_mandates_active_contract", "sepa_mandates", ["contract_id"], unique=True,
                    sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    op.drop_table("sepa_mandates")
