"""Durable webhook deliveries: the outbox and the worker that sends it.

An event's delivery to an endpoint is written to `webhook_outbox` (with the event's processing-log
entry, in one transaction) before anything is sent, so a restart or a crash loses none. Each node
runs one worker. It claims due deliveries (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: the
same conditional UPDATE, which takes a row only while it is still due), so two workers never send the
same attempt; a claim moves the row's due time to the end of a lease, so the claim holds without a
transaction open while the receiver answers. Each attempt's outcome (status code or error type, never
the response or the payload) goes to the delivery log in the same transaction as the row's new
state: delivered, failed, or due again after the backoff of the webhook_retry_* settings. A row that
ends loses its body and its endpoint revision (see `ended`).

Each claimed delivery is sent in a task of its own, at most SLOTS at a time per node, PER_ENDPOINT to one
endpoint and PER_TENANT for one tenant (however many endpoints it has), and the worker claims only as many
as it has free slots: one tenant's hanging receivers hold at most PER_TENANT slots until their attempts
time out, while everyone else's deliveries go out at once.

Who sends: the node that wrote a delivery (on time, also its retries); any node once its node released
it at shutdown; and any node once it is overdue by TAKEOVER (its node died). A node that stops gives
its attempts in flight STOP_GRACE_SECONDS, then cuts them and hands them to any node at once. Ended
rows lose their body at once and are deleted webhook_delivery_log_days later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import wait_exponential_jitter

from confide.core.clock import as_utc, utcnow
from confide.core.futures import cancel_and_wait
from confide.core.ids import new_id
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.privacy.gate import gate_for
from confide.privacy.instructions import current_instructions
from confide.settings import Settings

log = logging.getLogger("confide.evaluation.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
RETRY_STATUSES = frozenset({408, 425, 429})
TAKEOVER = timedelta(seconds=30)  # a live node sends its own deliveries on time; this late, it is gone
POLL_SECONDS = 5.0  # longest idle wait: finds deliveries other nodes released or left behind
SLOTS = 20  # attempts in flight per node, each in its own task
PER_ENDPOINT = 4  # of those, at most this many to one endpoint, so a hanging receiver cannot take every slot
PER_TENANT = 8  # and at most this many for one tenant, so many endpoints of one tenant cannot take them all either
STOP_GRACE_SECONDS = 3.0  # at shutdown, attempts in flight get this long to finish; then they are cut and handed on
SWEEP_SECONDS = 3600.0  # between deletions of ended rows past their retention
RACE_SECONDS = 0.05  # first wait after a pass that found due rows but won none; doubles, up to POLL_SECONDS, while that lasts
ENDPOINT_CHANGED, ENDPOINT_DEACTIVATED, INSTRUCTIONS_CHANGED = "endpoint_changed", "endpoint_deactivated", "instructions_changed"


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


def ended(now: datetime) -> dict[str, Any]:
    """What every row that ends (delivered, failed, given up) is set to besides its status: no body, the time, and
    no endpoint revision. The revision's foreign key (ON UPDATE CASCADE) is for deliveries still to be sent; an
    ended row kept for the log (webhook_delivery_log_days) is then not rewritten by each change of the endpoint's
    URL or include_text, nor does that change wait for the row locks of claims. Deleting the endpoint still takes
    it along (webhook_outbox.endpoint_id's own foreign key)."""
    return {"body": None, "finished_at": now, "endpoint_revision": None}


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
    include_text: bool = False  # the endpoint as it is now: a body built before a change may no longer fit it
    events: tuple[str, ...] = ()


async def claim(session: AsyncSession, *, node: str, now: datetime, until: datetime, limit: int = SLOTS, in_flight: Mapping[str, int] | None = None,
                per_endpoint: int | None = None, tenants_in_flight: Mapping[str, int] | None = None, per_tenant: int | None = None) -> list[Claimed]:
    """Take up to `limit` due deliveries for `node` until `until`, counting the attempt. The caller commits."""
    picked = await candidates(session, node=node, now=now, limit=limit, in_flight=in_flight, per_endpoint=per_endpoint,
                              tenants_in_flight=tenants_in_flight, per_tenant=per_tenant)
    return await take(session, picked, node=node, now=now, until=until)


async def candidates(session: AsyncSession, *, node: str, now: datetime, limit: int, in_flight: Mapping[str, int] | None = None,
                     per_endpoint: int | None = None, tenants_in_flight: Mapping[str, int] | None = None, per_tenant: int | None = None) -> list[str]:
    """Due deliveries, oldest first. On PostgreSQL they stay locked to this transaction, and rows another
    worker holds are skipped; on SQLite `take` checks again that each is still due. With `per_endpoint`,
    no endpoint gets more than that many attempts in flight, counting those in `in_flight` (by endpoint);
    with `per_tenant` likewise no tenant, counting those in `tenants_in_flight` (by tenant)."""
    o = WebhookOutbox
    counts = Counter(in_flight or {})
    tenants = Counter(tenants_in_flight or {})
    pick = select(o.id, o.endpoint_id, o.tenant_id).where(_due(node, now)).order_by(o.next_attempt_at).limit(limit)
    if per_endpoint is not None:
        full = [endpoint for endpoint, n in counts.items() if n >= per_endpoint]
        if full:
            pick = pick.where(o.endpoint_id.not_in(full))  # type: ignore[attr-defined]
    if per_tenant is not None:
        busy = [tenant for tenant, n in tenants.items() if n >= per_tenant]
        if busy:
            pick = pick.where(o.tenant_id.not_in(busy))  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    picked = []
    for row in (await session.execute(pick)).all():
        if (per_endpoint is None or counts[row.endpoint_id] < per_endpoint) and (per_tenant is None or tenants[row.tenant_id] < per_tenant):
            picked.append(row.id)
            counts[row.endpoint_id] += 1
            tenants[row.tenant_id] += 1
    return picked


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
            select(o.id, o.tenant_id, o.endpoint_id, o.event_id, o.event, o.body, o.attempts, e.url, e.secret, e.active, e.include_text, e.events)
            .join(e, e.id == o.endpoint_id)
            .where(o.id.in_(won))  # type: ignore[attr-defined]
        )
    ).all()
    return [
        Claimed(r.id, r.tenant_id, r.endpoint_id, r.event_id, r.event, r.body, r.attempts, r.url, r.secret, r.active, r.include_text, tuple(r.events or ()))
        for r in rows
    ]


async def record(session: AsyncSession, *, claimed: Claimed, node: str, attempt: Attempt | None, outcome: str, due: datetime | None, now: datetime) -> bool:
    """The row's new state and, for an attempt made, its log entry. False when the claim was lost meanwhile
    (taken over, given up by a change of the endpoint, or the endpoint or tenant is gone): then nothing is
    written. The caller commits.

    PostgreSQL: the endpoint is key-share-locked before the row is touched, the order a PATCH or DELETE of the
    endpoint takes them in (the endpoint FOR UPDATE, then its deliveries, this one among them while its attempt
    is in flight). Locking the row first, the log entry's foreign key then waited for the endpoint while the
    PATCH waited for the row, and PostgreSQL failed one of them (a 500, or an attempt left unrecorded)."""
    o, e = WebhookOutbox, WebhookEndpoint
    if session.get_bind().dialect.name == "postgresql":
        endpoint = select(e.id).where(e.id == claimed.endpoint_id).with_for_update(read=True, key_share=True)
        if await session.scalar(endpoint) is None:
            return False  # deleted: its deliveries went with it
    values: dict[str, Any] = {"next_attempt_at": due} if outcome == "retrying" else {"status": outcome, **ended(now)}
    ours = (o.id == claimed.id, o.node == node, o.attempts == claimed.attempt, o.status == PENDING)
    if int((await session.execute(update(o).where(*ours).values(**values))).rowcount or 0) != 1:
        return False
    if attempt is not None:
        session.add(log_entry(claimed.tenant_id, claimed.endpoint_id, claimed.event_id, claimed.event, claimed.attempt, attempt, outcome))
    return True


def log_entry(tenant_id: str, endpoint_id: str, event_id: str, event: str, number: int, attempt: Attempt, outcome: str) -> WebhookDelivery:
    return WebhookDelivery(id=new_id("whd"), tenant_id=tenant_id, endpoint_id=endpoint_id, event_id=event_id, event=event, attempt=number,
                           status_code=attempt.status_code, outcome=outcome, error=attempt.error, duration_ms=attempt.duration_ms)


def drop_entry(tenant_id: str, endpoint_id: str, event_id: str, event: str, number: int, reason: str) -> WebhookDelivery:
    """The log entry of a delivery given up unsent: `number` is the attempt it would have been, `reason` the error."""
    return WebhookDelivery(id=new_id("whd"), tenant_id=tenant_id, endpoint_id=endpoint_id, event_id=event_id, event=event, attempt=number,
                           status_code=None, outcome=FAILED, error=reason, duration_ms=None)


async def drop_waiting(session: AsyncSession, *, tenant_id: str, endpoint_id: str, reason: str, now: datetime,
                       events: Collection[str] | None = None) -> int:
    """Give up the endpoint's deliveries still waiting (only those of `events`, when given): failed, body
    emptied, each logged with `reason`, so a retry never sends a body built for what the endpoint was.
    An attempt already under way finishes, but its outcome is no longer recorded; one being recorded holds
    its lock on the endpoint (`record`), so the caller, which locked the endpoint first, comes after it.
    The caller commits."""
    o = WebhookOutbox
    if events is not None and not events:
        return 0
    stmt = update(o).where(o.tenant_id == tenant_id, o.endpoint_id == endpoint_id, o.status == PENDING)
    if events is not None:
        stmt = stmt.where(o.event.in_(list(events)))  # type: ignore[attr-defined]
    dropped = (await session.execute(stmt.values(status=FAILED, **ended(now)).returning(o.event_id, o.event, o.attempts))).all()
    for row in dropped:
        session.add(drop_entry(tenant_id, endpoint_id, row.event_id, row.event, row.attempts + 1, reason))
    return len(dropped)


async def release(session: AsyncSession, *, node: str, now: datetime | None = None, cut: Collection[Claimed] = ()) -> int:
    """At shutdown: the node's waiting deliveries become any node's, each when it is due. Attempts `cut`
    short are due at once and not counted (their outcome is unknown; the receiver may get the event twice)."""
    o = WebhookOutbox
    for claimed in cut:
        still_ours = (o.id == claimed.id, o.node == node, o.attempts == claimed.attempt, o.status == PENDING)
        await session.execute(update(o).where(*still_ours).values(attempts=o.attempts - 1, next_attempt_at=now or utcnow()))
    return int((await session.execute(update(o).where(o.node == node, o.status == PENDING).values(node=None))).rowcount or 0)


def carries_text(body: str) -> bool:
    try:
        return orjson.loads(body).get("data", {}).get("text_included") is True
    except (orjson.JSONDecodeError, AttributeError):
        return False


async def expire_ended(session: AsyncSession, *, now: datetime, settings: Settings) -> int:
    """Delete delivered and failed rows older than webhook_delivery_log_days (their log lives as long)."""
    o = WebhookOutbox
    cutoff = now - timedelta(days=settings.webhook_delivery_log_days)
    return int((await session.execute(delete(o).where(o.status != PENDING, o.finished_at < cutoff))).rowcount or 0)


class DeliveryWorker:
    """One per node: sends the outbox's due deliveries, each in its own task under SLOTS, PER_ENDPOINT and PER_TENANT;
    woken by new deliveries and finished attempts, else at the next due time."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, send: Send) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.send = send
        self.node = new_id("node")
        self.passes = 0  # claim passes made (tests count them)
        self._wake = asyncio.Event()
        self._passed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._swept_at = float("-inf")
        self._flying: dict[str, tuple[Claimed, asyncio.Task[None]]] = {}  # by outbox id: claimed and not yet recorded
        self._sending: set[str] = set()  # of those, the ones whose POST is under way
        self._race_wait = RACE_SECONDS

    @property
    def running(self) -> bool:
        return self._task is not None and not self._stopping

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-webhook-deliveries")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Claim nothing more, give the attempts in flight `grace` seconds to finish and record, cut the rest
        (handed to any node at once), then release what still waits. Bounded: a hanging receiver cannot hold it."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:  # a pass stuck on an unreachable database must not hold the shutdown either
            _, stuck = await asyncio.wait((self._task,), timeout=grace)
            if stuck:
                await cancel_and_wait(self._task)
        cut: list[Claimed] = []
        tasks = [task for _, task in self._flying.values()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            cut = [self._flying[i][0] for i in self._sending if i in self._flying]  # read before cancelling: these recorded nothing
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
            if cut:
                log.warning("webhook attempts cut short at shutdown; another node sends them again", extra={"count": len(cut)})
        try:
            async with asyncio.timeout(grace), self.sessionmaker() as session:
                await release(session, node=self.node, now=utcnow(), cut=cut)
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - the database away: shutting down must not fail for it
            log.warning("releasing webhook deliveries at shutdown failed; other nodes take them over once overdue", extra={"error_type": type(exc).__name__})

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

    async def passed(self) -> None:
        """Wait for the end of the next claim pass (tests)."""
        await self._passed.wait()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a delivery written or an attempt ended during it wakes the next one
            try:
                if time.monotonic() - self._swept_at >= SWEEP_SECONDS:
                    await self._sweep()
                claimed = await self.run_once()
                wait = 0.0 if claimed else await self._idle_wait()
            except Exception as exc:  # the database away for a moment: try again later, never die
                log.error("webhook delivery pass failed", extra={"error": type(exc).__name__})
                wait = POLL_SECONDS
            self.passes += 1
            self._passed.set()
            self._passed = asyncio.Event()
            if wait > 0 and not self._stopping:
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """One pass: claim as many due deliveries as there are free slots (PER_ENDPOINT at most in flight to
        one endpoint, PER_TENANT for one tenant) and start sending each in its own task. Returns how many were
        claimed, at once."""
        free = SLOTS - len(self._flying)
        if free <= 0:
            return 0
        now = utcnow()
        async with self.sessionmaker() as session:
            claimed = await claim(
                session, node=self.node, now=now, until=now + lease(self.settings), limit=free, in_flight=self._in_flight(), per_endpoint=PER_ENDPOINT,
                tenants_in_flight=self._tenants_in_flight(), per_tenant=PER_TENANT,
            )
            await session.commit()
        for c in claimed:
            self._flying[c.id] = (c, asyncio.create_task(self._deliver(c), name=f"confide-webhook-{c.id}"))
        if claimed:
            self._race_wait = RACE_SECONDS
        return len(claimed)

    def _in_flight(self) -> Counter[str]:
        """Attempts in flight by endpoint."""
        return Counter(c.endpoint_id for c, _ in self._flying.values())

    def _tenants_in_flight(self) -> Counter[str]:
        """Attempts in flight by tenant."""
        return Counter(c.tenant_id for c, _ in self._flying.values())

    async def _idle_wait(self) -> float:
        """After a pass that claimed nothing: with every slot busy, until an attempt ends (it wakes the loop);
        else until the next due delivery. When some are due yet none was won (another transaction holds
        them), a wait that doubles with each such pass, so a held lock is not polled every RACE_SECONDS."""
        if len(self._flying) >= SLOTS:
            return POLL_SECONDS
        wait = await self._until_next_due()
        if wait > 0:
            self._race_wait = RACE_SECONDS
            return wait
        wait, self._race_wait = self._race_wait, min(self._race_wait * 2, POLL_SECONDS)
        return wait

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            await self._attempt_and_record(claimed)
        except Exception as exc:  # the database away while recording: the row is due again when its lease ends
            log.warning("webhook delivery failed to record", extra={"error_type": type(exc).__name__})
        finally:
            entry = self._flying.get(claimed.id)
            if entry is not None and entry[1] is asyncio.current_task():  # not a later claim of the same row (its lease ran out)
                del self._flying[claimed.id]
            self._wake.set()  # a slot is free

    async def _attempt_and_record(self, claimed: Claimed) -> None:
        attempt: Attempt | None = None
        with_text = claimed.body is not None and carries_text(claimed.body)
        if claimed.body is None or not claimed.active or claimed.attempt > self.settings.webhook_max_attempts:
            outcome = FAILED  # erased meanwhile, the endpoint switched off, or attempts lost to crashes: nothing is sent
        elif claimed.event not in claimed.events or (with_text and not claimed.include_text):
            # The endpoint changed after the body was built and the change's drop missed it (the event was
            # being stored while the change committed): it no longer asks for this event, or for text.
            outcome = FAILED
            attempt = Attempt(None, ENDPOINT_CHANGED, 0)
        elif with_text and not await self._stores_transcripts(claimed.tenant_id):
            outcome = FAILED  # the tenant stopped storing transcripts since the body was built: its text is not sent
            attempt = Attempt(None, INSTRUCTIONS_CHANGED, 0)
        else:
            started = time.monotonic()
            self._sending.add(claimed.id)
            try:
                async with asyncio.timeout(attempt_limit(self.settings)):
                    attempt = await self.send(claimed.url, claimed.secret, claimed.event_id, claimed.event, claimed.body.encode())
            except TimeoutError:
                attempt = Attempt(None, "timeout", int((time.monotonic() - started) * 1000))
            except Exception as exc:  # noqa: BLE001 - whatever broke, the row must not stay claimed
                log.error("webhook attempt failed unexpectedly", extra={"error": type(exc).__name__})
                attempt = Attempt(None, "connection_error", int((time.monotonic() - started) * 1000))
            self._sending.discard(claimed.id)  # not in a finally: an attempt cancelled at shutdown stays listed as cut
            outcome = attempt.outcome(claimed.attempt, self.settings.webhook_max_attempts)
        now = utcnow()
        due = now + timedelta(seconds=retry_delay(self.settings, claimed.attempt)) if outcome == "retrying" else None
        try:
            async with self.sessionmaker() as session:
                if await record(session, claimed=claimed, node=self.node, attempt=attempt, outcome=outcome, due=due, now=now):
                    await session.commit()
        except IntegrityError:
            pass  # the endpoint was deleted while the attempt ran: its deliveries and log went with it

    async def _stores_transcripts(self, tenant_id: str) -> bool:
        """The tenant's instructions now, read afresh (not the gate's per-node cache): a body with text waits
        for its retry in the database, and may only leave while transcripts are still stored."""
        async with self.sessionmaker() as session:
            instructions = await current_instructions(session, tenant_id=tenant_id, register=gate_for(session).register)
        return instructions.store_transcripts

    async def _until_next_due(self) -> float:
        o = WebhookOutbox
        full = [endpoint for endpoint, n in self._in_flight().items() if n >= PER_ENDPOINT]
        busy = [tenant for tenant, n in self._tenants_in_flight().items() if n >= PER_TENANT]
        async with self.sessionmaker() as session:
            mine_or_free = or_(o.node.is_(None), o.node == self.node)  # type: ignore[union-attr]
            query = select(func.min(o.next_attempt_at)).where(o.status == PENDING, mine_or_free)
            if full:  # their due rows wait for a free slot of their endpoint, which wakes the loop
                query = query.where(o.endpoint_id.not_in(full))  # type: ignore[attr-defined]
            if busy:  # and of their tenant
                query = query.where(o.tenant_id.not_in(busy))  # type: ignore[attr-defined]
            due = as_utc(await session.scalar(query))
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
