"""Alembic environment: always run with a connection handed over by ``Database.migrate``."""

from alembic import context

from nfvo.inventory.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through Database.migrate
    raise RuntimeError("run migrations through nfvo.inventory.db.Database.migrate()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
