"""A webhook receiver for tests: a real uvicorn server on a loopback port that records every request
and can be told to fail the first N of them, or to hang (answer nothing until the receiver closes)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

from tests.support.server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0
    fail_status: int = 503
    hang: bool = False
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        failing = len(self.requests) < self.fail_first
        async with self._arrived:
            self.requests.append(Received(scope["path"], {k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
            self._arrived.notify_all()
        if self.hang:
            await self._closing.wait()  # the sender times out or gives up long before
        status = self.fail_status if failing else 204
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.requests) >= count), timeout)
        return self.requests

    def of(self, event: str) -> list[Received]:
        return [r for r in self.requests if r.headers.get("confide-event") == event]


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    recorder = Receiver(**options)
    config = uvicorn.Config(recorder.app, host="127.0.0.1", port=free_port(), interface="asgi3", lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # uvicorn exposes no started event to await
    recorder.url = f"http://127.0.0.1:{config.port}/hooks/confide"
    try:
        yield recorder
    finally:
        recorder._closing.set()  # noqa: SLF001 - let hanging requests end, so the server can stop
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
