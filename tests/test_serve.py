"""`confide serve` is one code path: embedded defaults (SQLite, in-process broker), or PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
import websockets

from tests.support.chat import published_avatar, visitor
from tests.support.factory import Factory, registration
from tests.support.outbox import Outbox
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
    env = {"CONFIDE_DATABASE_URL": backend.database_url, "CONFIDE_REDIS_URL": backend.redis_url, "CONFIDE_REDIS_PREFIX": backend.redis_prefix + "serve:"}  # its own rate-limit counters: the suite registers and signs in from 127.0.0.1 too
    async with confide_serve(env, tmp_path) as base:
        await _exercise(base)


def _log_text(data_dir: Path) -> str:
    return "".join(log.read_text() for log in data_dir.glob("serve-*.log"))


def _log_lines(data_dir: Path) -> list[dict]:
    return [json.loads(line) for line in _log_text(data_dir).splitlines() if line.strip()]


def _client_addresses(data_dir: Path, server_port: str) -> list[str]:
    """Every 127.0.0.1:port in the log (any field) but the server's own."""
    return [port for port in re.findall(r"127\.0\.0\.1:(\d+)", _log_text(data_dir)) if port != server_port]


async def _chat_and_be_refused(base: str, data_dir: Path) -> None:
    """A visitor chats with a builtin avatar; another connects to a path that does not exist."""
    async with httpx.AsyncClient(base_url=base) as api:
        factory = Factory(api, Outbox(data_dir / "outbox"))
        owner = await factory.user()
        tenant_id = await factory.tenant(owner, "Logs GmbH")
        avatar = await published_avatar(api, owner, tenant_id)
    ws = base.replace("http", "ws")
    async with visitor(ws, avatar["widget_key"]) as (chat, _):
        await chat.expect("message")  # the greeting
        await chat.say("When are you open?", "c1")
        assert (await chat.expect("message"))["author"] == "avatar"
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{ws}/v1/widget/{avatar['widget_key']}/no-such-path"):
            pass


async def test_serve_logs_no_client_address_and_no_line_per_connection(tmp_path):
    # At the default level (INFO), uvicorn would log each websocket handshake with the client's
    # address and port, and the websockets library each connection opened and closed.
    async with confide_serve({"CONFIDE_DATABASE_URL": "", "CONFIDE_REDIS_URL": ""}, tmp_path) as base:
        await _chat_and_be_refused(base, tmp_path)
    lines = _log_lines(tmp_path)
    assert any(line["message"] == "Application startup complete." for line in lines)  # the server's own lines stay
    assert not [line for line in lines if "WebSocket" in line["message"] or line["message"].startswith("connection ")]
    assert _client_addresses(tmp_path, base.rsplit(":", 1)[1]) == []


async def test_every_worker_logs_json_at_the_configured_level(backend, tmp_path):
    if backend.name != "postgres":
        pytest.skip("runs once, with the postgres backend")
    # A key space of its own: the suite's in-process logins count against 127.0.0.1 in the shared one.
    env = {"CONFIDE_DATABASE_URL": backend.database_url, "CONFIDE_REDIS_URL": backend.redis_url, "CONFIDE_REDIS_PREFIX": backend.redis_prefix + "workers:"}

    def started() -> set[str]:
        return {line["message"] for line in _log_lines(tmp_path) if line["message"].startswith("Started server process")}

    async with confide_serve(env, tmp_path, args=("--workers", "2")) as base:
        await _chat_and_be_refused(base, tmp_path)
        for _ in range(200):  # /readyz may have been answered by the first worker alone; a log file gives no event to await
            if len(started()) == 2:
                break
            await asyncio.sleep(0.05)
    # uvicorn starts workers without the parent's logging: each sets it up again, so each says so in JSON
    assert len(started()) == 2  # and every line parsed as JSON
    assert not [line for line in _log_lines(tmp_path) if "WebSocket" in line["message"]]
    assert _client_addresses(tmp_path, base.rsplit(":", 1)[1]) == []
