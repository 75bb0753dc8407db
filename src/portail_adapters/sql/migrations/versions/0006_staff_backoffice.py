"""Back office: staff second factor (TOTP secret, last step, recovery codes), staff sessions past the
second factor, and the append-only audit log.

Revision ID: 0006_staff_backoffice
Revises: 0005_billing_email

The audit log is append-only in the database too: a trigger refuses UPDATE and DELETE on
``audit_entries`` (and TRUNCATE on PostgreSQL). Revoking the privileges instead would not hold,
because the portal's own role runs the migrations and so owns the table (an owner may grant
itself back what was revoked); a deployment that runs migrations as a separate owner role can
also grant the portal's role only SELECT and INSERT on it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_staff_backoffice"
down_revision = "0005_billing_email"
branch_labels = None
depends_on = None

_REFUSED = "audit_entries is append-only"


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("second_factor", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_staff_recovery_codes_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    with op.batch_alter_table("staff_recovery_codes") as batch:
        batch.create_index(batch.f("ix_staff_recovery_codes_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("staff_email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subscriber_number", sa.String(length=32), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_audit_entries_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries") as batch:
        batch.create_index(batch.f("ix_audit_entries_at"), ["at"], unique=False)
        batch.create_index("ix_audit_entries_staff_email_at", ["staff_email", "at"], unique=False)
        batch.create_index("ix_audit_entries_subscriber_number_at", ["subscriber_number", "at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{_REFUSED}'; END $$""")
        op.execute("""CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
                      FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()""")
        op.execute("""CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries
                           BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_index("ix_audit_entries_subscriber_number_at")
        batch.drop_index("ix_audit_entries_staff_email_at")
        batch.drop_index(batch.f("ix_audit_entries_at"))
    op.drop_table("audit_entries")  # drops its SQLite triggers with it
    with op.batch_alter_table("staff_recovery_codes") as batch:
        batch.drop_index(batch.f("ix_staff_recovery_codes_staff_id"))
    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("second_factor")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_pending_secret")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
