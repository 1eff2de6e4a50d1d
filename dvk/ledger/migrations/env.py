"""Alembic environment: always run on the connection dvk hands over (batch mode for SQLite)."""

from alembic import context

from dvk.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
