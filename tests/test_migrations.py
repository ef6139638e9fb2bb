"""Alembic owns the schema: upgrading an empty database gives exactly the models, and downgrade works."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from confide.chats.search import include_name
from confide.core.db import create_engine
from confide.migrate import downgrade, upgrade
from confide.tables import metadata
from tests.support.services import postgres_database


async def _diff_and_tables(url: str) -> tuple[list, set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn):  # noqa: ANN001, ANN202
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "render_as_batch": True, "include_name": include_name})
                return compare_metadata(context, metadata), set(inspect(sync_conn).get_table_names())

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _roundtrip(url: str) -> None:
    await upgrade(url)
    diff, tables = await _diff_and_tables(url)
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(metadata.tables) <= tables
    await downgrade(url, "base")
    _, tables = await _diff_and_tables(url)
    assert tables <= {"alembic_version"}, f"left behind after downgrade: {tables}"
    await upgrade(url)  # and up again, as an operator rolling forward would
    diff, _ = await _diff_and_tables(url)
    assert diff == []


async def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path):
    await _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


async def test_postgres_upgrade_matches_models_and_downgrades():
    async with postgres_database() as url:
        await _roundtrip(url)
