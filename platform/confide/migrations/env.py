"""Alembic environment: runs on the connection confide.migrate hands over (SQLite or PostgreSQL)."""

from alembic import context

from confide.chats.search import include_name
from confide.tables import metadata

config = context.config


def run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_name=include_name,  # full-text search objects that are not models (migration c0002)
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `confide migrate` (it provides the connection).")
run(connection)
