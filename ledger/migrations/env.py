"""Alembic environment: runs against the connection handed in by ``ledger.storage.migrate``."""

from alembic import context
from sqlmodel import SQLModel

import ledger.posting.tables
import ledger.storage.review_tables
import ledger.storage.tables  # noqa: F401
from ledger.storage.migrate import object_filter

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_object=object_filter(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `yecai db upgrade`")
run_migrations_online()
