"""Alembic environment: always run on a connection handed over by ``svi_acd.db.migrate``."""

from alembic import context

import svi_acd.db.models  # noqa: F401 - registers every table on Base.metadata
from svi_acd.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("utiliser « svi-acd db upgrade » pour migrer la base")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
