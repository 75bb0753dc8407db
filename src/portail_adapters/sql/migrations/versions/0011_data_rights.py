"""Data rights and retention: accounts' last login and unused-account warning, the security log

Revision ID: 0011_data_rights
Revises: 0006_staff_backoffice
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_data_rights"
down_revision = "0006_staff_backoffice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unused_warned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "security_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subscriber_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_security_events_subscriber_id_subscribers")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_security_events_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index(op.f("ix_security_events_at"), "security_events", ["at"])
    op.create_index(op.f("ix_security_events_subscriber_id"), "security_events", ["subscriber_id"])
    op.create_index(op.f("ix_security_events_staff_id"), "security_events", ["staff_id"])


def downgrade() -> None:
    op.drop_table("security_events")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("unused_warned_at")
        batch.drop_column("last_login_at")
