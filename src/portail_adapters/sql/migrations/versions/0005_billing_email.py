"""subscribers.billing_email: the e-mail the billing system sent last (three-way merge on import)

Revision ID: 0005_billing_email
Revises: 0004_contracts
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_billing_email"
down_revision = "0004_contracts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("billing_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("billing_email")
