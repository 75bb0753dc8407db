"""subscriber_search: support's search keys (filled from the existing subscribers and contracts)

Revision ID: 0007_subscriber_search
Revises: 0009_mandates
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_subscriber_search"
down_revision = "0009_mandates"
branch_labels = None
depends_on = None

# Code point order on PostgreSQL too (SQLite compares bytes already): prefix ranges stay exact
# and served by the index, whatever the database's default collation.
KEY = sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "subscriber_search",
        sa.Column("key", KEY, nullable=False),
        sa.Column("subscriber_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_subscriber_search_subscriber_id_subscribers")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"],
                                name=op.f("fk_subscriber_search_contract_id_contracts")),
    )
    op.create_index("ix_subscriber_search_key", "subscriber_search", ["key", "subscriber_id"])
    op.create_index(op.f("ix_subscriber_search_subscriber_id"), "subscriber_search", ["subscriber_id"])
    op.create_index(op.f("ix_subscriber_search_contract_id"), "subscriber_search", ["contract_id"])
    # The keys are derived data: written with today's folding rules from what is already stored.
    from portail_adapters.sql.search import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("subscriber_search")
