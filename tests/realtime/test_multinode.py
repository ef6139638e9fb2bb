"""Several API nodes: two `confide serve` processes on PostgreSQL and Redis. The visitor talks to one,
the operator to the other, and messages cross both ways in order. Then Redis restarts: the nodes
resubscribe, nothing stored is lost, and a client that missed frames meanwhile gets them."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as redis

from tests.support.chat import operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import cluster_env, free_port, two_nodes
from tests.support.services import unavailable


@asynccontextmanager
async def private_redis() -> AsyncIterator[tuple[str, callable]]:
    """A Redis of our own on a free port, so the test can restart it without disturbing anything else."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed; the multi-node test needs its own Redis to restart")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    state = {"proc": subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)}
    url = f"redis://127.0.0.1:{port}/0"

    async def wait_ready() -> None:
        client = redis.from_url(url)
        try:
            for _ in range(200):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
            raise TimeoutError("private redis did not start")
        finally:
            await client.aclose()

    async def restart() -> None:
        state["proc"].terminate()
        state["proc"].wait(10)
        state["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_ready()

    await wait_ready()
    try:
        yield url, restart
    finally:
        state["proc"].terminate()
        state["proc"].wait(10)


async def _next_of(chat, kind: str, timeout: float = 15.0) -> dict:  # noqa: ANN001
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def test_two_nodes_share_a_conversation_and_survive_a_redis_restart(backend, tmp_path):
    if backend.name != "postgres":
        pytest.skip("runs once, with the postgres backend")
    async with private_redis() as (redis_url, restart_redis):
        env = cluster_env(backend.database_url, redis_url)
        async with two_nodes(env, tmp_path) as (node_a, node_b):
            async with httpx.AsyncClient(base_url=node_a) as api:
                factory = Factory(api, Outbox(tmp_path / "a" / "outbox"))
                owner = await factory.user()
                tenant_id = await factory.tenant(owner, "Cluster GmbH")
                avatar = await published_avatar(api, owner, tenant_id)
            ws_a, ws_b = node_a.replace("http", "ws"), node_b.replace("http", "ws")

            async with visitor(ws_a, avatar["widget_key"]) as (chat, welcome), operator(ws_b, tenant_id, owner.token) as (ops, _):
                conversation_id = welcome["conversation_id"]
                await chat.expect("message")
                await chat.say("Can you approve my refund?", "v1")
                await _next_of(chat, "handoff")
                update = await _next_of(ops, "queue_update")  # node A's handoff reached node B over Redis
                while update["conversation"]["id"] != conversation_id or update["conversation"]["status"] != "waiting":
                    update = await _next_of(ops, "queue_update")

                await ops.send({"type": "take_over", "conversation_id": conversation_id})
                await _next_of(chat, "operator_joined")
                for i in range(5):
                    await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": f"o{i}", "text": f"operator line {i}"})
                got = [await _next_of(chat, "message") for _ in range(5)]
                assert [m["text"] for m in got] == [f"operator line {i}" for i in range(5)]
                assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
                for i in range(3):
                    await chat.say(f"visitor line {i}", f"v-line-{i}")
                seen = []
                while len(seen) < 3:
                    frame = await _next_of(ops, "message")
                    if frame["author"] == "visitor" and frame["text"].startswith("visitor line"):
                        seen.append(frame["text"])
                assert seen == [f"visitor line {i}" for i in range(3)]

                # Redis goes away and comes back; a message is written on node B meanwhile.
                await restart_redis()
                await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "during", "text": "written around the restart"})
                await _next_of(ops, "ack")
                # After resubscribing, node A delivers the next live frame and fills any gap from the database.
                last = None
                for attempt in range(40):
                    await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": f"after{attempt}", "text": f"after restart {attempt}"})
                    try:
                        last = await _next_of(chat, "message", timeout=0.5)
                        break
                    except TimeoutError:
                        continue
                assert last is not None, "node A never resubscribed after the Redis restart"
                texts = [f["text"] for f in chat.frames if f.get("type") == "message"]
                assert "written around the restart" in texts
                last_seq = max(f["seq"] for f in chat.frames if f.get("seq") is not None and f["type"] != "ack")

            # The visitor comes back on node B and misses nothing.
            async with visitor(ws_b, avatar["widget_key"], visitor_token=welcome["visitor_token"], resume={"conversation_id": conversation_id, "last_seq": 1}) as (again, _):
                replayed = []
                with contextlib.suppress(TimeoutError):
                    while True:
                        frame = await again.recv(timeout=1.0)
                        if frame.get("seq") is not None:
                            replayed.append(frame["seq"])
                assert replayed == list(range(2, max(replayed) + 1)) and max(replayed) >= last_seq
