"""Alembic environment of the moderation service. Migrations run on a connection handed in
by shared.database.migrate (the PostgreSQL search_path already names this service's schema)."""

from alembic import context

from services.moderation.models import SQLModel

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `hubben migrate`")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    user_module_prefix="shared.database.",
)
with context.begin_transaction():
    context.run_migrations()
