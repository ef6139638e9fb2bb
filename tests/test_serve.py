"""`confide serve` is one code path: embedded defaults (SQLite, in-process broker), or PostgreSQL and Redis."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factory import registration
from tests.support.server import confide_serve


async def _exercise(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/readyz")
        assert r.json()["checks"] == {"database": True, "broker": True}
        assert (await client.get("/docs")).status_code == 200
        spec = (await client.get("/openapi.json")).json()
        untagged = [f"{m} {p}" for p, ops in spec["paths"].items() for m, op in ops.items() if not op.get("tags") or not (op.get("summary") or op.get("description"))]
        assert not untagged, f"every route is tagged and described: {untagged}"
        assert (await client.post("/v1/accounts", json=registration())).status_code == 202


async def test_serve_on_embedded_defaults(tmp_path):
    # No database or broker settings at all: a SQLite file appears in the data directory.
    async with confide_serve({"CONFIDE_DATABASE_URL": "", "CONFIDE_REDIS_URL": ""}, tmp_path) as base:
        await _exercise(base)
    assert (tmp_path / "confide.db").exists() and (tmp_path / "outbox").is_dir()


async def test_serve_on_postgres_and_redis(backend, tmp_path):
    if backend.name != "postgres":
        pytest.skip("runs once, with the postgres backend")
    env = {"CONFIDE_DATABASE_URL": backend.database_url, "CONFIDE_REDIS_URL": backend.redis_url, "CONFIDE_REDIS_PREFIX": backend.redis_prefix}
    async with confide_serve(env, tmp_path) as base:
        await _exercise(base)
