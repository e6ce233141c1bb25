"""Alembic environment: online only, on the connection modelmon's ``upgrade()`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from modelmon.store._schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run modelmon's migrations through modelmon.store.open_store(...).migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode lets future migrations do that portably.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
