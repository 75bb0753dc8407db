"""Shared documents: a publication stores its file once and every subscriber's row points to it, so
documents.storage_key is no longer unique (a plain index serves "does another row point to this
key?"); subscribers.postal_code is indexed for publications by postal code.

Going down fails while two rows share a key (the unique constraint cannot come back over them).

Revision ID: 0014_shared_documents
Revises: 0012_request_queue
"""

from __future__ import annotations

from alembic import op

revision = "0014_shared_documents"
down_revision = "0012_request_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint("uq_documents_storage_key", type_="unique")
        batch.create_index("ix_documents_storage_key", ["storage_key"], unique=False)
    op.create_index("ix_subscribers_postal_code", "subscribers", ["postal_code"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_postal_code", table_name="subscribers")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_storage_key")
        batch.create_unique_constraint("uq_documents_storage_key", ["storage_key"])
