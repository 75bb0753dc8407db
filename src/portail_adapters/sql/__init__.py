"""SQL storage: SQLAlchemy Core tables, explicit row <-> entity mapping, Alembic migrations."""

from .database import create_engine_from_url, migrate, refresh_statistics
from .uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory", "create_engine_from_url", "migrate", "refresh_statistics"]
