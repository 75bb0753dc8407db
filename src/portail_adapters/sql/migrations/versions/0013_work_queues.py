"""Back-office work queues: readings staff review, payments staff resolve, failed mail, shared documents

Revision ID: 0013_work_queues
Revises: 0007_subscriber_search
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_work_queues"
down_revision = "0007_subscriber_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meter_readings") as batch:
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_reason", sa.String(length=500), nullable=True))
    op.create_index(op.f("ix_meter_readings_status"), "meter_readings", ["status"])
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("gateway_answer", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolution_note", sa.String(length=500), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("discarded_at")
        batch.drop_column("failed_at")
    with op.batch_alter_table("payments") as batch:
        for column in ("resolution_note", "resolved_at", "resolution", "gateway_answer"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_meter_readings_status"), table_name="meter_readings")
    with op.batch_alter_table("meter_readings") as batch:
        batch.drop_column("review_reason")
        batch.drop_column("reviewed_at")
