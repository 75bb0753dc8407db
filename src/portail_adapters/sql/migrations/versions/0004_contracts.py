"""contracts: over-consumption notices (each period told once)

Revision ID: 0004_contracts
Revises: 0003_accounts
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_contracts"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "overconsumption_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("meter_number", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("litres", sa.BigInteger(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_to", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_overconsumption_notices_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overconsumption_notices")),
        sa.UniqueConstraint(
            "contract_id", "meter_number", "period_start", "period_end", name="uq_overconsumption_notices_period"
        ),
    )


def downgrade() -> None:
    op.drop_table("overconsumption_notices")
