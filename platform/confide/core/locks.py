"""One runner across all nodes for a background job: a PostgreSQL advisory lock, or on SQLite (one
process by design) an in-process guard. Held for the `async with` block; never waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

_LOCAL_GUARDS: dict[tuple[str, str], asyncio.Lock] = {}


def lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"confide:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def cluster_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True when this caller is the only `name` runner now, False when another one runs."""
    if engine.dialect.name == "postgresql":
        key = lock_key(name)
        async with engine.connect() as conn:
            got = bool(await conn.scalar(select(func.pg_try_advisory_lock(key))))
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    with contextlib.suppress(Exception):  # a dropped connection released it already
                        await conn.execute(select(func.pg_advisory_unlock(key)))
                        await conn.commit()
        return
    guard = _LOCAL_GUARDS.setdefault((str(engine.url), name), asyncio.Lock())
    if guard.locked():
        yield False
        return
    async with guard:
        yield True
