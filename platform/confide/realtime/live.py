"""This node's open chat connections by tenant, so a tenant's closure cuts them on every node.

The closure is announced once on the broker's TENANT_CLOSED_CHANNEL; each node hears it through one
subscription of its own (never one per connection: an idle connection costs a set entry here, nothing
more) and closes that tenant's visitor and operator sockets with 4404. A connection that passed its
checks just before the closure and registers just after the notice is refused at registration: the
node remembers the tenants it heard closed.

A notice can be missed: the node that accepted the closure cuts its own sockets directly
(tenants/closure.py `announce_closed`); a node whose broker subscription comes back after an outage
asks the database, in one query, which of the tenants it holds sockets for were closed meanwhile, and
cuts those; and the erasure pass that finishes the closure (seconds later) announces it once more,
for a node that kept its subscription while the first notice was lost on the way (a failed publish).
Nothing runs per connection, and nothing on a timer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.core.broker import TENANT_CLOSED_CHANNEL, Broker, Subscription
from confide.core.futures import cancel_and_wait
from confide.realtime.protocol import CloseCode
from confide.tenants.closure import closed_among

log = logging.getLogger("confide.realtime.live")

# Closed tenants remembered per node, for the race above (which lasts one database round trip); closures
# are rare, so the oldest are forgotten only after this many more.
REMEMBERED_CLOSURES = 10_000
TENANT_CLOSED_DETAIL = "This tenant was closed; its chats are no longer available."
SUBSCRIBE_RETRY_SECONDS = 0.5  # first wait before subscribing again when the broker was away at start-up
SUBSCRIBE_RETRY_MAX_SECONDS = 15.0


class Cuttable(Protocol):
    async def cut(self, code: CloseCode, slug: str, detail: str) -> None:
        """Send an error frame with `close_code`, close the socket, send nothing after it."""


class LiveConnections:
    def __init__(self, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._broker = broker
        self._sessionmaker = sessionmaker
        self._by_tenant: dict[str, set[Cuttable]] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._listener: asyncio.Task[None] | None = None
        self._cutting: set[asyncio.Task[None]] = set()
        self._stack = contextlib.AsyncExitStack()
        self.listening = asyncio.Event()  # subscribed to the notices (tests wait on it)
        self._hooked = False  # the resubscribe hook, registered once
        self._stopped = False

    async def start(self) -> None:
        """Subscribed before the node serves a connection, so no closure announced from then on is missed.
        With the broker away the node starts all the same (like the rest of it, degraded; /readyz says so)
        and keeps trying in the background; once subscribed, it catches up on what it missed."""
        self._stopped = False
        if not self._hooked:
            self._broker.on_resubscribed(self._catch_up)
            self._hooked = True
        try:
            subscription = await self._subscribe()
        except Exception as exc:  # noqa: BLE001 - a node must start while Redis restarts (a deploy would crash-loop)
            log.warning("subscribing to tenant closures failed; retrying in the background", extra={"error_type": type(exc).__name__})
            self._listener = asyncio.create_task(self._subscribe_later(), name="confide-tenant-closures")
            return
        self.listening.set()
        self._listener = asyncio.create_task(self._listen(subscription), name="confide-tenant-closures")

    async def _subscribe(self) -> Subscription:
        return await self._stack.enter_async_context(self._broker.subscribe(TENANT_CLOSED_CHANNEL))

    async def _subscribe_later(self) -> None:
        delay = SUBSCRIBE_RETRY_SECONDS
        while True:
            await asyncio.sleep(delay)  # a retry timer: there is no event for the broker coming back
            try:
                subscription = await self._subscribe()
            except Exception as exc:  # noqa: BLE001 - still away
                log.warning("subscribing to tenant closures failed", extra={"error_type": type(exc).__name__})
                delay = min(delay * 2, SUBSCRIBE_RETRY_MAX_SECONDS)
                continue
            log.info("subscribed to tenant closures")
            self.listening.set()
            self._catch_up()  # closures accepted while this node was not listening
            await self._listen(subscription)
            return

    async def stop(self) -> None:
        self._stopped = True  # no catch-up or cut starts from now on (the broker outlives this)
        if self._listener is not None:
            await cancel_and_wait(self._listener)
        while self._cutting:  # one started while waiting is waited for too
            await cancel_and_wait(self._cutting.pop())
        await self._stack.aclose()

    def add(self, tenant_id: str, connection: Cuttable) -> bool:
        """Register an open connection; False when its tenant was closed meanwhile (the caller refuses it)."""
        if tenant_id in self._closed:
            return False
        self._by_tenant.setdefault(tenant_id, set()).add(connection)
        return True

    def discard(self, tenant_id: str, connection: Cuttable) -> None:
        """On close, whatever way the connection ended (safe to call twice, or for one never added)."""
        connections = self._by_tenant.get(tenant_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._by_tenant[tenant_id]

    def count(self, tenant_id: str) -> int:
        return len(self._by_tenant.get(tenant_id, ()))

    def tenant_closed(self, tenant_id: str) -> None:
        """Cut every connection of the tenant on this node, and refuse its late ones from now on."""
        self._closed[tenant_id] = None
        self._closed.move_to_end(tenant_id)
        while len(self._closed) > REMEMBERED_CLOSURES:
            self._closed.popitem(last=False)
        connections = self._by_tenant.pop(tenant_id, set())
        if not connections:
            return
        log.info("cutting a closed tenant's connections", extra={"tenant_id": tenant_id, "connections": len(connections)})
        # In a task of its own: a slow client's close never holds up the next notice.
        self._track(asyncio.create_task(self._cut_all(connections), name="confide-tenant-cut"))

    def _track(self, task: asyncio.Task[None]) -> None:
        if self._stopped:  # shutting down: the sockets close with the server anyway
            task.cancel()
            return
        self._cutting.add(task)
        task.add_done_callback(self._cutting.discard)

    def _catch_up(self) -> None:
        """The broker resubscribed after an outage: closure notices sent meanwhile were lost. (Its hook: no I/O here.)"""
        if self._by_tenant:
            self._track(asyncio.create_task(self._cut_missed_closures(), name="confide-tenant-catch-up"))

    async def _cut_missed_closures(self) -> None:
        """One query for every tenant this node holds sockets for; the closed ones are cut as if the notice had come."""
        tenant_ids = tuple(self._by_tenant)
        try:
            async with self._sessionmaker() as session:
                closed = await closed_among(session, tenant_ids)
        except Exception as exc:  # noqa: BLE001 - the database away too: operator sockets still end at their membership check
            log.warning("checking for missed tenant closures failed", extra={"error_type": type(exc).__name__})
            return
        for tenant_id in closed:
            self.tenant_closed(tenant_id)

    async def _cut_all(self, connections: set[Cuttable]) -> None:
        results = await asyncio.gather(*(c.cut(CloseCode.TENANT_CLOSED, "tenant-closed", TENANT_CLOSED_DETAIL) for c in connections), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("cutting a connection failed", extra={"error_type": type(result).__name__})

    async def _listen(self, subscription: Subscription) -> None:
        async for tenant_id in subscription:
            try:
                self.tenant_closed(tenant_id)
            except Exception as exc:  # noqa: BLE001 - one bad notice must not end the node's listening
                log.warning("a tenant-closed notice failed", extra={"error_type": type(exc).__name__})
