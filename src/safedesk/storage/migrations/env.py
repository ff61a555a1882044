"""Alembic environment: runs on the connection SafeDesk passes in (see storage.db.migrate)."""

from alembic import context

from safedesk.storage import (
    staff_models,  # noqa: F401  (staff tables join Base.metadata)
    verification_models,  # noqa: F401  (its tables join Base.metadata)
)
from safedesk.storage.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` CLI use: take the URL from alembic.ini / -x url=...
    from sqlalchemy import create_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    connection = create_engine(url).connect()

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
