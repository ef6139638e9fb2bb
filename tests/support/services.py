"""Reaching the real PostgreSQL and Redis for tests: skip with the reason, or fail under CONFIDE_REQUIRE_SERVICES=1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any
from contextlib import asynccontextmanager

import asyncpg
import pytest
import redis.asyncio as redis

from tests.support.server import free_port

POSTGRES_ADMIN_DSN = os.environ.get("CONFIDE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CONFIDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("CONFIDE_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (CONFIDE_REQUIRE_SERVICES=1, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def asyncpg_dsn(name: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database, dropped afterwards; yields its SQLAlchemy asyncpg URL."""
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_DSN}: {type(exc).__name__}")
    name = "confide_test_" + secrets.token_hex(6)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgresql+asyncpg://" + asyncpg_dsn(name).split("://", 1)[1]
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def redis_namespace() -> AsyncIterator[tuple[str, str]]:
    """A unique key prefix on the real Redis; every key under it is removed afterwards."""
    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as exc:
        await client.aclose()
        unavailable(f"Redis unreachable at {REDIS_URL}: {type(exc).__name__}")
    prefix = f"confide-test-{secrets.token_hex(6)}:"
    try:
        yield REDIS_URL, prefix
    finally:
        async for key in client.scan_iter(match=prefix + "*", count=1000):
            await client.delete(key)
        await client.aclose()


class StoppableRedis:
    """A Redis of our own on a free port, stopped and started again by the test (so a closure, a join,
    anything can happen while it is away) without disturbing anything else. Like test_multinode.py's private_redis, which only
    restarts."""

    def __init__(self, binary: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._proc = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.from_url(self.url)
        try:
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)  # polling a starting process: there is no event to await
            raise TimeoutError("private redis did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)


@asynccontextmanager
async def stoppable_redis() -> AsyncIterator[StoppableRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed; the test needs a Redis of its own to stop")
    server = StoppableRedis(binary)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


async def until_a_statement_waits_for_a_lock(app: Any, statement: str) -> None:
    """PostgreSQL: until a connection of the app's database running a statement that contains `statement`
    waits for a lock (a request queued behind a test's transaction, say). Another connection's state
    sends no event, so this polls."""
    from sqlalchemy import text

    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE :pattern")
    while True:
        async with app.state.sessionmaker() as session:
            if await session.scalar(query, {"pattern": f"%{statement}%"}):
                return
        await asyncio.sleep(0.01)
