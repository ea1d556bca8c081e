"""Alembic environment: migrations run only on a connection istvhub hands over
(``config.attributes["connection"]``), inside the store's schema lock; there is no ini file."""

from __future__ import annotations

from alembic import context

from istvhub.store import schema

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=schema.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite needs batch mode
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
