"""Run alembic migrations programmatically; the scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncConnection

from confide.core.db import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def run_alembic(url: str, action: str, revision: str) -> None:
    """upgrade or downgrade to `revision` on one connection of our own engine (works inside a running loop)."""
    ensure_sqlite_folder(url)
    engine = create_engine(url)
    config = alembic_config(url)

    def run(connection: object) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "heads") -> None:
    await run_alembic(url, "upgrade", revision)


async def downgrade(url: str, revision: str = "base") -> None:
    await run_alembic(url, "downgrade", revision)


async def current_connection_revision(conn: AsyncConnection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(sync_conn: object) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()  # type: ignore[arg-type]

    return await conn.run_sync(read)
