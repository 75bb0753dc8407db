"""The migrations build the schema the code describes, up and down, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from portail_adapters.sql.database import downgrade, migrate, pending_migrations
from portail_adapters.sql.tables import metadata


def test_migrations_match_the_tables_and_go_down_and_up(engine):
    assert not pending_migrations(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), metadata)
    assert diff == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert {t.name for t in metadata.sorted_tables} <= set(inspect(engine).get_table_names())


def test_every_lookup_column_is_indexed(engine):
    """The pages look rows up by these columns: each must lead an index or a unique constraint."""
    lookups = {
        "subscribers": ["number", "email_normalised"],
        "contracts": ["number", "subscriber_id"],
        "meter_readings": ["contract_id"],
        "invoices": ["number", "contract_id"],
        "payments": ["invoice_id", "gateway", "status"],
        "document_folders": ["subscriber_id"],
        "documents": ["folder_id", "subscriber_id"],
        "requests": ["subscriber_id", "reference"],
        "request_messages": ["request_id"],
        "accounts": ["subscriber_id", "staff_id"],
        "web_sessions": ["token_hash", "account_id"],
    }
    inspector = inspect(engine)
    for table, columns in lookups.items():
        leading = {i["column_names"][0] for i in inspector.get_indexes(table)}
        leading |= {u["column_names"][0] for u in inspector.get_unique_constraints(table)}
        leading |= set(inspector.get_pk_constraint(table)["constrained_columns"][:1])
        for column in columns:
            assert column in leading, f"{table}.{column} is not indexed"
