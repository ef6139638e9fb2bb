"""Durable webhook deliveries: the outbox and the worker that sends it.

An event's delivery to an endpoint is written to `webhook_outbox` (with the event's processing-log
entry, in one transaction) before anything is sent, so a restart or a crash loses none. Each node
runs one worker. It claims due deliveries (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: the
same conditional UPDATE, which takes a row only while it is still due), so two workers never send the
same attempt; a claim moves the row's due time to the end of a lease, so the claim holds without a
transaction open while the receiver answers. Each attempt's outcome (status code or error type, never
the response or the payload) goes to the delivery log in the same transaction as the row's new
state: delivered, failed, or due again after the backoff of the webhook_retry_* settings.

Who sends: the node that wrote a delivery (on time, also its retries); any node once its node released
it at shutdown; and any node once it is overdue by TAKEOVER (its node died). Ended rows lose their
body at once and are deleted webhook_delivery_log_days later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import wait_exponential_jitter

from confide.core.clock import as_utc, utcnow
from confide.core.ids import new_id
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.settings import Settings

log = logging.getLogger("confide.evaluation.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
RETRY_STATUSES = frozenset({408, 425, 429})
TAKEOVER = timedelta(seconds=30)  # a live node sends its own deliveries on time; this late, it is gone
POLL_SECONDS = 5.0  # longest idle wait: finds deliveries other nodes released or left behind
BATCH = 20  # deliveries claimed, and sent at once, per pass
SWEEP_SECONDS = 3600.0  # between deletions of ended rows past their retention
RACE_SECONDS = 0.05  # a pass that found due rows but won none (another worker took them) waits this long


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: a status code, or an error type (timeout, connection_error, refused_address)."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        s = self.status_code
        return self.error in ("timeout", "connection_error") or (s is not None and (s >= 500 or s in RETRY_STATUSES))

    def outcome(self, number: int, max_attempts: int) -> str:
        if self.delivered:
            return DELIVERED
        return "retrying" if self.retryable and number < max_attempts else FAILED


Send = Callable[[str, str, str, str, bytes], Awaitable[Attempt]]  # url, secret, event id, event, body


def retry_delay(settings: Settings, attempt: int) -> float:
    """Seconds before the attempt after failed attempt number `attempt`: base, doubling, capped, with jitter."""
    s = settings
    wait = wait_exponential_jitter(multiplier=s.webhook_retry_base_seconds, max=s.webhook_retry_max_seconds, jitter=s.webhook_retry_base_seconds / 2)
    return wait(SimpleNamespace(attempt_number=attempt))  # type: ignore[arg-type]  # tenacity reads only the attempt number


def attempt_limit(settings: Settings) -> float:
    """The longest one attempt may take (connect, send and answer each have the timeout); the lease outlasts it."""
    return 3 * settings.webhook_timeout_seconds


def lease(settings: Settings) -> timedelta:
    return timedelta(seconds=attempt_limit(settings) + 30)


def enqueue(session: AsyncSession, *, tenant_id: str, endpoint_id: str, conversation_id: str | None, event_id: str, event: str, body: bytes,
            node: str | None) -> WebhookOutbox:
    """Add a delivery, due now; the caller commits it with whatever caused it."""
    row = WebhookOutbox(id=new_id("who"), tenant_id=tenant_id, endpoint_id=endpoint_id, conversation_id=conversation_id, event_id=event_id,
                        event=event, body=body.decode(), node=node)
    session.add(row)
    return row


def _due(node: str, now: datetime) -> Any:
    o = WebhookOutbox
    mine_or_free = or_(o.node.is_(None), o.node == node)  # type: ignore[union-attr]
    return and_(o.status == PENDING, or_(and_(o.next_attempt_at <= now, mine_or_free), o.next_attempt_at <= now - TAKEOVER))


@dataclass(frozen=True)
class Claimed:
    id: str
    tenant_id: str
    endpoint_id: str
    event_id: str
    event: str
    body: str | None
    attempt: int
    url: str
    secret: str
    active: bool


async def claim(session: AsyncSession, *, node: str, now: datetime, until: datetime, limit: int = BATCH) -> list[Claimed]:
    """Take up to `limit` due deliveries for `node` until `until`, counting the attempt. The caller commits."""
    return await take(session, await candidates(session, node=node, now=now, limit=limit), node=node, now=now, until=until)


async def candidates(session: AsyncSession, *, node: str, now: datetime, limit: int) -> list[str]:
    """Due deliveries, oldest first. On PostgreSQL they stay locked to this transaction, and rows another
    worker holds are skipped; on SQLite `take` checks again that each is still due."""
    o = WebhookOutbox
    pick = select(o.id).where(_due(node, now)).order_by(o.next_attempt_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return list((await session.scalars(pick)).all())


async def take(session: AsyncSession, ids: list[str], *, node: str, now: datetime, until: datetime) -> list[Claimed]:
    """The conditional UPDATE: only rows still due become this node's, so a worker that read the same
    candidates a moment later wins none of those already taken."""
    if not ids:
        return []
    o, e = WebhookOutbox, WebhookEndpoint
    taken = update(o).where(o.id.in_(ids), _due(node, now)).values(node=node, attempts=o.attempts + 1, next_attempt_at=until).returning(o.id)  # type: ignore[attr-defined]
    won = list((await session.scalars(taken)).all())
    if not won:
        return []
    rows = (
        await session.execute(
            select(o.id, o.tenant_id, o.endpoint_id, o.event_id, o.event, o.body, o.attempts, e.url, e.secret, e.active)
            .join(e, e.id == o.endpoint_id)
            .where(o.id.in_(won))  # type: ignore[attr-defined]
        )
    ).all()
    return [Claimed(r.id, r.tenant_id, r.endpoint_id, r.event_id, r.event, r.body, r.attempts, r.url, r.secret, r.active) for r in rows]


async def record(session: AsyncSession, *, claimed: Claimed, node: str, attempt: Attempt | None, outcome: str, due: datetime | None, now: datetime) -> bool:
    """The row's new state and, for an attempt made, its log entry. False when the claim was lost meanwhile
    (taken over, or the endpoint or tenant is gone): then nothing is written. The caller commits."""
    o = WebhookOutbox
    values: dict[str, Any] = {"next_attempt_at": due} if outcome == "retrying" else {"status": outcome, "body": None, "finished_at": now}
    ours = (o.id == claimed.id, o.node == node, o.attempts == claimed.attempt, o.status == PENDING)
    if int((await session.execute(update(o).where(*ours).values(**values))).rowcount or 0) != 1:
        return False
    if attempt is not None:
        session.add(log_entry(claimed.tenant_id, claimed.endpoint_id, claimed.event_id, claimed.event, claimed.attempt, attempt, outcome))
    return True


def log_entry(tenant_id: str, endpoint_id: str, event_id: str, event: str, number: int, attempt: Attempt, outcome: str) -> WebhookDelivery:
    return WebhookDelivery(id=new_id("whd"), tenant_id=tenant_id, endpoint_id=endpoint_id, event_id=event_id, event=event, attempt=number,
                           status_code=attempt.status_code, outcome=outcome, error=attempt.error, duration_ms=attempt.duration_ms)


async def release(session: AsyncSession, *, node: str) -> int:
    """At shutdown: the node's waiting deliveries become any node's, each when it is due."""
    o = WebhookOutbox
    return int((await session.execute(update(o).where(o.node == node, o.status == PENDING).values(node=None))).rowcount or 0)


async def expire_ended(session: AsyncSession, *, now: datetime, settings: Settings) -> int:
    """Delete delivered and failed rows older than webhook_delivery_log_days (their log lives as long)."""
    o = WebhookOutbox
    cutoff = now - timedelta(days=settings.webhook_delivery_log_days)
    return int((await session.execute(delete(o).where(o.status != PENDING, o.finished_at < cutoff))).rowcount or 0)


class DeliveryWorker:
    """One per node: sends the outbox's due deliveries, woken by new ones, else at the next due time."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, send: Send) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.send = send
        self.node = new_id("node")
        self._wake = asyncio.Event()
        self._passed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._swept_at = float("-inf")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._stopping

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-webhook-deliveries")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Claim nothing more, let the attempts in flight finish and record, then release what still waits."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait((self._task,))
        async with self.sessionmaker() as session:
            await release(session, node=self.node)
            await session.commit()

    async def settled(self, *, tenant_id: str) -> None:
        """Wait until none of the tenant's deliveries is pending (tests; no timer: each pass is awaited)."""
        o = WebhookOutbox
        while True:
            passed = self._passed
            async with self.sessionmaker() as session:
                waiting = await session.scalar(select(func.count()).select_from(o).where(o.tenant_id == tenant_id, o.status == PENDING))
            if not waiting:
                return
            await passed.wait()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a delivery written during it wakes the next one
            try:
                if time.monotonic() - self._swept_at >= SWEEP_SECONDS:
                    await self._sweep()
                claimed = await self.run_once()
                wait = 0.0 if claimed >= BATCH else await self._until_next_due()
                if not claimed:
                    wait = max(wait, RACE_SECONDS)
            except Exception as exc:  # the database away for a moment: try again later, never die
                log.error("webhook delivery pass failed", extra={"error": type(exc).__name__})
                wait = POLL_SECONDS
            self._passed.set()
            self._passed = asyncio.Event()
            if wait > 0 and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """One pass: claim what is due, send it all at once, record each outcome. Returns how many were claimed."""
        now = utcnow()
        async with self.sessionmaker() as session:
            claimed = await claim(session, node=self.node, now=now, until=now + lease(self.settings))
            await session.commit()
        await asyncio.gather(*(self._deliver(c) for c in claimed))
        return len(claimed)

    async def _deliver(self, claimed: Claimed) -> None:
        attempt: Attempt | None = None
        if claimed.body is None or not claimed.active or claimed.attempt > self.settings.webhook_max_attempts:
            outcome = FAILED  # erased meanwhile, the endpoint switched off, or attempts lost to crashes: nothing is sent
        else:
            started = time.monotonic()
            try:
                async with asyncio.timeout(attempt_limit(self.settings)):
                    attempt = await self.send(claimed.url, claimed.secret, claimed.event_id, claimed.event, claimed.body.encode())
            except TimeoutError:
                attempt = Attempt(None, "timeout", int((time.monotonic() - started) * 1000))
            except Exception as exc:  # noqa: BLE001 - whatever broke, the row must not stay claimed
                log.error("webhook attempt failed unexpectedly", extra={"error": type(exc).__name__})
                attempt = Attempt(None, "connection_error", int((time.monotonic() - started) * 1000))
            outcome = attempt.outcome(claimed.attempt, self.settings.webhook_max_attempts)
        now = utcnow()
        due = now + timedelta(seconds=retry_delay(self.settings, claimed.attempt)) if outcome == "retrying" else None
        try:
            async with self.sessionmaker() as session:
                if await record(session, claimed=claimed, node=self.node, attempt=attempt, outcome=outcome, due=due, now=now):
                    await session.commit()
        except IntegrityError:
            pass  # the endpoint was deleted while the attempt ran: its deliveries and log went with it

    async def _until_next_due(self) -> float:
        o = WebhookOutbox
        async with self.sessionmaker() as session:
            mine_or_free = or_(o.node.is_(None), o.node == self.node)  # type: ignore[union-attr]
            due = as_utc(await session.scalar(select(func.min(o.next_attempt_at)).where(o.status == PENDING, mine_or_free)))
        if due is None:
            return POLL_SECONDS
        return min(POLL_SECONDS, max(0.0, (due - utcnow()).total_seconds()))

    async def _sweep(self) -> None:
        async with self.sessionmaker() as session:
            removed = await expire_ended(session, now=utcnow(), settings=self.settings)
            await session.commit()
        self._swept_at = time.monotonic()
        if removed:
            log.info("ended webhook deliveries deleted", extra={"count": removed})
