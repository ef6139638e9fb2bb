"""Access logs as privacy policy section V promises: IP address and time (to the minute, with method,
route template and status), in a table of their own, linked to no user, kept at most seven days.

Entries are buffered and written in batches, so a request costs no extra query."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confide.core.classification import Category, Holder, classify
from confide.core.clock import utcnow
from confide.core.db import UTCDateTime
from confide.core.futures import stop_between_writes
from confide.core.http import route_template
from confide.core.ids import new_id

log = logging.getLogger("confide.access")


class AccessLog(SQLModel, table=True):
    __tablename__ = "access_log"

    id: str = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    ip: str | None = Field(default=None, max_length=45)
    method: str = Field(max_length=10)
    route: str = Field(max_length=200)
    status: int


classify(
    AccessLog,
    holder=Holder.CONTROLLER,
    purpose="Delivering the platform and keeping it secure (policy V)",
    legal_basis="Art. 6(1)(f) GDPR",
    retention="Seven days, then deleted",
    retention_days=7,
    data_subjects="every visitor of the platform",
    personal={"ip": Category.NETWORK, "at": Category.ACTIVITY},
    not_personal=("method", "route"),
)


class AccessLogWriter:
    """Collects entries in memory and flushes them in one INSERT, every interval and on shutdown."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval
        self._buffer: list[dict[str, object]] = []
        self._lock = asyncio.Lock()  # one write at a time; stop() waits for it (stop_between_writes)
        self._task: asyncio.Task[None] | None = None

    def record(self, ip: str | None, method: str, route: str, status: int) -> None:
        # To the minute: a time to the microsecond lined an entry up with the one row an action wrote elsewhere (an
        # account's registered_at, a session's created_at), linking the log to the account after all.
        at = utcnow().replace(second=0, microsecond=0)
        self._buffer.append({"id": new_id("acc"), "at": at, "ip": ip, "method": method, "route": route[:200], "status": status})
        if len(self._buffer) > 50_000:  # the database is away; keep memory bounded
            del self._buffer[:10_000]

    async def flush(self) -> int:
        async with self._lock:
            if not self._buffer:
                return 0
            batch, self._buffer = self._buffer, []
            try:
                async with self._sessionmaker() as session:
                    await session.execute(insert(AccessLog), batch)
                    await session.commit()
            except Exception as exc:
                log.warning("access log flush failed: %s", type(exc).__name__)
                self._buffer[:0] = batch
                return 0
            return len(batch)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-access-log")

    async def stop(self) -> None:
        error = await stop_between_writes(self._task, self._lock)
        if error is not None:
            log.warning("access log writer had failed", extra={"error_type": type(error).__name__})
        self._task = None
        await self.flush()


class AccessLogMiddleware:
    """Pure ASGI, so it adds no per-request task or body copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        status = 500 if scope["type"] == "http" else 101

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            # A websocket's status is 101 whatever it sends, so its frames skip the wrapper (the chat's hot path).
            await self.app(scope, receive, send_wrapper if scope["type"] == "http" else send)
        finally:
            writer: AccessLogWriter | None = getattr(scope["app"].state, "access_log", None) if "app" in scope else None
            if writer is not None:
                client = scope.get("client")
                writer.record(client[0] if client else None, scope.get("method", "WS"), route_template(scope), status)
