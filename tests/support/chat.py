"""Chat test helpers: a real uvicorn server for an app, a websocket client speaking the frame protocol,
and a published avatar made through the public API."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
import websockets
from fastapi import FastAPI

from tests.support.factory import User
from tests.support.server import free_port

ORIGIN = "https://shop.example"


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve an already started app (its lifespan ran) on a loopback port; yields ws://host:port."""
    size = app.state.settings.websocket_max_size  # as `confide serve` sets it
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), lifespan="off", log_config=None, access_log=False, ws_max_size=size)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # uvicorn exposes no started event to await
    try:
        yield f"ws://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class ChatClient:
    """A websocket speaking JSON frames, with a small inbox to wait for a frame of a given type."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as exc:
            raise Closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from exc
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def expect(self, *types: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of one of `types`, skipping typing and delta frames unless asked for."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] in types:
                return frame
            if frame["type"] not in ("typing", "delta", "presence", "queue_update", "rating_request"):
                raise AssertionError(f"expected {types}, got {frame}")

    async def closed(self, timeout: float = 10.0) -> Closed:
        try:
            while True:
                await self.recv(timeout)
        except Closed as closed:
            return closed

    async def say(self, text: str, client_message_id: str) -> dict[str, Any]:
        await self.send({"type": "message", "client_message_id": client_message_id, "text": text})
        return await self.expect("ack")

    async def close(self) -> None:
        await self.ws.close()


@asynccontextmanager
async def connect(url: str, *, origin: str | None = ORIGIN) -> AsyncIterator[ChatClient]:
    async with websockets.connect(url, origin=origin, open_timeout=10, close_timeout=2, max_size=1 << 21) as ws:
        yield ChatClient(ws)


@asynccontextmanager
async def visitor(base: str, widget_key: str, *, origin: str | None = ORIGIN, **hello: Any) -> AsyncIterator[tuple[ChatClient, dict[str, Any]]]:
    """A visitor connection after hello; yields the client and its welcome frame."""
    async with connect(f"{base}/v1/widget/{widget_key}/chat", origin=origin) as client:
        await client.send({"type": "hello", **hello})
        welcome = await client.expect("welcome")
        yield client, welcome


@asynccontextmanager
async def operator(base: str, tenant_id: str, token: str) -> AsyncIterator[tuple[ChatClient, dict[str, Any]]]:
    async with connect(f"{base}/v1/tenants/{tenant_id}/chat/operator", origin=None) as client:
        await client.send({"type": "hello", "token": token})
        welcome = await client.expect("welcome")
        yield client, welcome


DEFAULT_RULES: list[dict[str, Any]] = []


async def published_avatar(
    client: httpx.AsyncClient,
    owner: User,
    tenant_id: str,
    *,
    origins: tuple[str, ...] = (ORIGIN, "http://localhost:8000"),
    spec: dict[str, Any] | None = None,
    engine: str = "builtin",
    entries: tuple[tuple[list[str], str], ...] = ((["What are your opening hours?", "When are you open?"], "We are open Monday to Friday, 9 to 17."),),
) -> dict[str, str]:
    """A guideline set, an avatar with Q&A knowledge, published, with allowed origins: returns ids and the widget key."""
    h = owner.headers
    body = {"name": "House rules", **(spec or {})}
    r = await client.post(f"/v1/tenants/{tenant_id}/guideline-sets", json=body, headers=h)
    assert r.status_code == 201, r.text
    set_id = r.json()["id"]
    r = await client.post(
        f"/v1/tenants/{tenant_id}/avatars",
        json={
            "name": "Mia",
            "persona": {"role_description": "Customer service of Example GmbH", "tone_notes": "friendly"},
            "languages": ["en", "de"],
            "default_language": "en",
            "messages": {
                "en": {"greeting": "Hello, how can I help?", "fallback": "I don't know that yet."},
                "de": {"greeting": "Hallo, wie kann ich helfen?", "fallback": "Das weiß ich noch nicht."},
            },
            "responder": {"engine": engine},
            "guideline_set_id": set_id,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    avatar_id = r.json()["id"]
    for questions, answer in entries:
        r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries", json={"questions": questions, "answer": answer, "language": "en"}, headers=h)
        assert r.status_code == 201, r.text
    r = await client.put(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/widget", json={"allowed_origins": list(origins)}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish", headers=h)
    assert r.status_code in (200, 201), r.text
    r = await client.get(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/widget", headers=h)
    return {"avatar_id": avatar_id, "widget_key": r.json()["key"], "guideline_set_id": set_id}


async def shop_with_avatar(client: httpx.AsyncClient, factory: Any, name: str = "Shop GmbH") -> dict[str, Any]:
    """A tenant with an owner and a published avatar: the owner, the tenant's id and published_avatar's ids."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    avatar = await published_avatar(client, owner, tenant_id)
    return {"owner": owner, "tenant_id": tenant_id, **avatar}


def hold_replies(monkeypatch: Any, app: Any, started: asyncio.Event, go: asyncio.Event) -> None:
    """Every avatar reply streams its first delta, sets `started`, then waits for `go`: a test decides
    when a reply on its way goes on, so the interleaving is the same on every run."""
    rt = app.state.chat
    stream = rt.responders.stream

    def held(request: Any, **kwargs: Any) -> Any:
        reply = stream(request, **kwargs)
        deltas = reply._deltas  # noqa: SLF001 - the reply's own generator, wrapped

        async def gated() -> Any:
            first = True
            async for delta in deltas:
                yield delta
                if first:
                    first = False
                    started.set()
                    await go.wait()

        reply._deltas = gated()  # noqa: SLF001
        return reply

    monkeypatch.setattr(rt.responders, "stream", held)
