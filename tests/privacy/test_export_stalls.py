"""Security review F1: an export download that stalls (or crawls) must not hold a database connection, or
a snapshot, without bound. A real uvicorn server on a loopback port; raw sockets request an export and
never read it. Other requests keep working; exports over the node's cap answer 503 `service-unavailable`, over
the tenant's 429 `rate-limited`, both with Retry-After; a stalled or overlong export is ended (without its manifest) and gives its connection back."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from confide.app import create_app
from confide.chats.models import Message
from confide.core.ids import new_id
from confide.privacy.models import ProcessingLogEntry
from tests.conftest import running
from tests.privacy.chat_seed import Shop, make_shop, seed_conversation
from tests.support.chat import live_server

BIG_TEXT = "x" * 2_000
BIG_MESSAGES = 6_000  # ~13 MB of export in several partitions: far more than the socket buffers between a server and a client that does not read


async def big_shop(app: Any, client: httpx.AsyncClient, factory: Any, name: str) -> Shop:
    """A tenant whose export is ~10 MB, so a client that does not read stalls it half-way."""
    shop = await make_shop(client, factory, name)
    conversation_id = await seed_conversation(app, shop, visitor_id="vis_big", texts=("first",))
    rows = [
        {"id": new_id("msg"), "tenant_id": shop.tenant_id, "conversation_id": conversation_id, "seq": 100 + i, "kind": "message",
         "author": "visitor", "text": BIG_TEXT, "redacted": False}
        for i in range(BIG_MESSAGES)
    ]
    async with app.state.sessionmaker() as session:
        await session.execute(insert(Message), rows)
        await session.commit()
    return shop


@asynccontextmanager
async def server(backend: Any, **limits: Any) -> AsyncIterator[tuple[Any, str]]:
    """A node of its own with these export limits, on the suite's database and broker, served by uvicorn."""
    app = create_app(backend.settings(**limits))
    async with running(app), live_server(app) as ws_url:
        yield app, ws_url.replace("ws://", "http://")


class StalledDownload:
    """A raw socket that asks for an export, reads the status line and headers (and whatever came with them),
    and then reads nothing more."""

    def __init__(self, base: str, path: str, token_headers: dict[str, str]) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        auth = "".join(f"{k}: {v}\r\n" for k, v in token_headers.items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
        self.head = b""

    async def status(self) -> int:
        """Read until the headers are in; the rest stays unread."""
        self.sock.setblocking(False)
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" not in self.head:
            chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1024), 20)
            assert chunk, self.head
            self.head += chunk
        return int(self.head.split(b" ", 2)[1])

    async def rest(self, timeout: float = 30) -> bytes:
        """Read everything until the server closes the connection."""
        loop = asyncio.get_running_loop()
        body = self.head
        deadline = time.monotonic() + timeout
        while True:
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1 << 16), max(0.1, deadline - time.monotonic()))
            except (ConnectionResetError, TimeoutError):
                return body
            if not chunk:
                return body
            body += chunk

    def close(self) -> None:
        self.sock.close()


def export_path(shop: Shop, what: str = "conversations") -> str:
    return f"/v1/tenants/{shop.tenant_id}/exports/{what}"


async def test_stalled_exports_leave_the_pool_to_everyone_else(app, backend, client, factory):
    """38 sockets that never read an export (more than the pool holds: 15 on SQLite, 30 on PostgreSQL, and
    each export takes one) used to time every other request out. Now a tenant streams at most 2 at once
    and a node 3; the others are refused at once, and the rest of the API answers as usual."""
    a = await big_shop(app, client, factory, "Stall A")
    b = await big_shop(app, client, factory, "Stall B")
    c = await make_shop(client, factory, "Small C")
    async with server(backend, export_concurrency_per_node=3, export_concurrency_per_tenant=2, export_stall_seconds=120) as (node, base):
        stalled: list[StalledDownload] = []

        async def stall(shop: Shop) -> int:
            """One after the other: which claims win is then certain (at once, the earliest win; see ExportSlots.claim)."""
            stalled.append(StalledDownload(base, export_path(shop), shop.owner.headers))
            return await stalled[-1].status()

        try:
            codes = [await stall(a) for _ in range(35)]
            more_codes = [await stall(b) for _ in range(3)]
            more = stalled[-3:]
            async with httpx.AsyncClient(base_url=base, timeout=20) as http:
                # Everything else answers, many requests at once, each needing a database connection.
                answers = await asyncio.gather(
                    *[http.get("/readyz") for _ in range(10)],
                    *[http.get("/v1/me", headers=c.owner.headers) for _ in range(20)],
                    *[http.get(f"/v1/tenants/{c.tenant_id}/avatars", headers=c.owner.headers) for _ in range(10)],
                )
                assert {r.status_code for r in answers} == {200}, [r.status_code for r in answers if r.status_code != 200]
                assert codes.count(200) == 2 and codes.count(429) == 33, codes
                refused = next(s for s in stalled if s.head.startswith(b"HTTP/1.1 429"))
                body = await refused.rest(5)
                assert b"retry-after: " in body.lower()
                problem = json.loads(body.split(b"\r\n\r\n", 1)[1])
                assert problem["type"].endswith("/rate-limited") and problem["retry_after"] >= 1 and "2 exports" in problem["detail"], problem
                assert more_codes == [200, 503, 503], "the node streams 3 at most, whichever tenants"
                problem = json.loads((await more[1].rest(5)).split(b"\r\n\r\n", 1)[1])
                assert problem["type"].endswith("/service-unavailable") and "This server" in problem["detail"] and "tenant" not in problem["detail"]
                r = await http.get(export_path(c), headers=c.owner.headers)
                assert r.status_code == 503 and r.headers["retry-after"].isdigit() and r.headers["content-type"] == "application/problem+json"
                r = await http.get(export_path(c, "manifest"), headers=c.owner.headers)
                assert r.status_code == 503, "the manifest reads as much as an export: the same cap"
                assert node.state.engine.pool.checkedout() <= 3
        finally:
            for s in stalled:
                s.close()
        # Closed sockets give their slots back: a tenant exports again.
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            for _ in range(100):
                r = await http.get(export_path(c), headers=c.owner.headers)
                if r.status_code == 200:
                    break
                await asyncio.sleep(0.1)  # the server notices the closed sockets at its next write
            assert r.status_code == 200 and json.loads(r.content.splitlines()[-1])["type"] == "manifest"
        for _ in range(100):
            if node.state.engine.pool.checkedout() == 0:
                break
            await asyncio.sleep(0.1)
        assert node.state.engine.pool.checkedout() == 0, "every export gave its database connection back"
        # Each export that ran is in the processing log; a refused one read nothing and is not.
        await node.state.purpose_gate.flush()
        async with node.state.sessionmaker() as session:
            logged = await session.scalar(
                select(func.count()).select_from(ProcessingLogEntry).where(ProcessingLogEntry.tenant_id == a.tenant_id, ProcessingLogEntry.purpose == "export")
            )
        assert logged == 2


async def test_a_stalled_or_overlong_export_is_ended_and_gives_its_connection_back(app, backend, client, factory):
    a = await big_shop(app, client, factory, "Stall D")
    limits = {"export_concurrency_per_node": 1, "export_concurrency_per_tenant": 1, "export_stall_seconds": 1.0}
    async with server(backend, **limits) as (node, base):
        stalled = StalledDownload(base, export_path(a), a.owner.headers)
        try:
            assert await stalled.status() == 200
            async with httpx.AsyncClient(base_url=base, timeout=20) as http:
                assert (await http.get(export_path(a), headers=a.owner.headers)).status_code == 503
            # A second after the client last took data the export ends and gives its database connection back, while
            # the client still reads nothing (reading first raced the stall: a client that reads is no longer stalled,
            # and the whole export then crawled through its 4 KiB window). Then the connection is closed, the body has
            # no manifest.
            started = time.monotonic()
            while node.state.engine.pool.checkedout() and time.monotonic() - started < 15:
                await asyncio.sleep(0.1)  # the session closes as the response unwinds
            assert node.state.engine.pool.checkedout() == 0, "the export gave its database connection back"
            assert time.monotonic() - started < 15
            reading = time.monotonic()
            body = await stalled.rest(15)
            assert time.monotonic() - reading < 14, "the server closed the connection (rest reads until it does)"
            lines = body.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n").split(b"\n")
            assert b'"type":"manifest"' not in lines[-1]
        finally:
            stalled.close()
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            r = await http.get(export_path(a), headers=a.owner.headers)
            assert r.status_code == 200 and json.loads(r.content.splitlines()[-1])["type"] == "manifest", "a client that reads gets it all"

    # A client that keeps reading, slowly, is ended at export_max_seconds: no snapshot is held without bound.
    async with server(backend, **{**limits, "export_stall_seconds": 60}, export_max_seconds=1.0) as (node, base):
        async with httpx.AsyncClient(base_url=base, timeout=60) as http, http.stream("GET", export_path(a), headers=a.owner.headers) as r:
            assert r.status_code == 200
            got = bytearray()

            async def read_slowly() -> None:
                try:
                    async for chunk in r.aiter_raw(65_536):
                        got.extend(chunk)
                        await asyncio.sleep(0.02)
                except httpx.RemoteProtocolError:
                    pass  # the server closed the connection before the end of the body

            reader = asyncio.create_task(read_slowly())
            started = time.monotonic()
            while node.state.engine.pool.checkedout() and time.monotonic() - started < 15:
                await asyncio.sleep(0.1)  # the export ends at its deadline, whatever the client does
            released = time.monotonic() - started
            assert node.state.engine.pool.checkedout() == 0 and released < 5, released
            assert not reader.done(), "the connection went back while the client was still reading"
            await asyncio.wait_for(reader, 60)
            assert b'"type":"manifest"' not in got and len(got) < BIG_MESSAGES * len(BIG_TEXT)


async def test_the_tenant_cap_holds_across_nodes(app, backend, client, factory):
    """Two nodes on one Redis: a tenant's exports count on every node (the broker's groups). SQLite is one
    process by design, with an in-process broker: there it is the node's own count."""
    if backend.redis_url is None:
        pytest.skip("one node on SQLite: the in-process broker is not shared")
    a = await big_shop(app, client, factory, "Two nodes")
    limits = {"export_concurrency_per_node": 5, "export_concurrency_per_tenant": 1, "export_stall_seconds": 120}
    async with server(backend, **limits) as (_, first), server(backend, **limits) as (_, second):
        stalled = StalledDownload(first, export_path(a), a.owner.headers)
        try:
            assert await stalled.status() == 200
            async with httpx.AsyncClient(base_url=second, timeout=20) as http:
                r = await http.get(export_path(a), headers=a.owner.headers)
                assert r.status_code == 429 and "1 export at once" in r.json()["detail"] and r.headers["retry-after"].isdigit(), r.text
        finally:
            stalled.close()
        async with httpx.AsyncClient(base_url=second, timeout=30) as http:
            for _ in range(100):
                r = await http.get(export_path(a, "manifest"), headers=a.owner.headers)
                if r.status_code == 200:
                    break
                await asyncio.sleep(0.1)  # the first node notices the closed socket and withdraws its claim
            assert r.status_code == 200, r.text
