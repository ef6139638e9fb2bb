"""The tenants' processing log: a buffered writer (one INSERT per batch, like the access log) and the
tenant's filtered read."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.core.futures import stop_between_writes
from confide.core.identity import Tenant
from confide.core.tenancy import TenantContext, tenant_select
from confide.privacy.models import ProcessingLogEntry

log = logging.getLogger("confide.privacy.processing_log")


class ProcessingLogWriter:
    """Collects entries in memory and writes them in one INSERT every interval, on demand and on shutdown."""

    MAX_BUFFER = 100_000

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval
        self._buffer: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def record(self, entry: dict[str, Any]) -> None:
        self._buffer.append(entry)
        if len(self._buffer) > self.MAX_BUFFER:  # the database is away; keep memory bounded
            dropped = len(self._buffer) - self.MAX_BUFFER
            del self._buffer[:dropped]
            log.error("processing log buffer full; dropped entries", extra={"dropped": dropped})

    @property
    def pending(self) -> int:
        return len(self._buffer)

    async def flush(self) -> int:
        async with self._lock:
            if not self._buffer:
                return 0
            batch, self._buffer = self._buffer, []
            try:
                return await self._write(batch)
            except Exception as exc:
                log.warning("processing log flush failed: %s", type(exc).__name__)
                self._buffer[:0] = batch
                return 0

    async def _write(self, batch: list[dict[str, Any]]) -> int:
        async with self._sessionmaker() as session:
            try:
                await session.execute(insert(ProcessingLogEntry), batch)
                await session.commit()
                return len(batch)
            except IntegrityError:
                await session.rollback()
            # A tenant was deleted meanwhile (its log goes with it): keep the entries of the others.
            tenant_ids = {e["tenant_id"] for e in batch}
            alive = set((await session.scalars(select(Tenant.id).where(Tenant.id.in_(tenant_ids)))).all())  # type: ignore[attr-defined]
            kept = [e for e in batch if e["tenant_id"] in alive]
            if kept:
                await session.execute(insert(ProcessingLogEntry), kept)
                await session.commit()
            return len(kept)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-processing-log")

    async def stop(self) -> None:
        error = await stop_between_writes(self._task, self._lock)
        if error is not None:
            log.warning("processing log writer had failed", extra={"error_type": type(error).__name__})
        self._task = None
        await self.flush()


def log_query(
    ctx: TenantContext,
    *,
    purpose: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_ref: str | None = None,
) -> Any:
    stmt = tenant_select(ctx, ProcessingLogEntry)
    if purpose is not None:
        stmt = stmt.where(ProcessingLogEntry.purpose == purpose)
    if since is not None:
        stmt = stmt.where(ProcessingLogEntry.at >= since)
    if until is not None:
        stmt = stmt.where(ProcessingLogEntry.at < until)
    if subject_ref is not None:
        stmt = stmt.where(ProcessingLogEntry.subject_ref == subject_ref)
    return stmt
