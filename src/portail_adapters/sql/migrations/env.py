"""Alembic environment, run programmatically (no alembic.ini): the engine comes in
``config.attributes['engine']``."""

from __future__ import annotations

from alembic import context

from portail_adapters.sql.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:  # on the raw connection: a PRAGMA inside a transaction does nothing
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
