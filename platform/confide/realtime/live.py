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
Nothing runs per connection, and nothing on a timer.

The same subscription pattern carries the access notices of realtime/access.py: a user's access changed
(ACCESS_CHANGED_CHANNEL: that user's operator sockets here are re-checked at once, and those that may no
longer operate close with 4401) and an avatar's widget key or origins changed (AVATAR_ACCESS_CHANGED_CHANNEL:
its visitor sockets here that opened on another key close with 4404, those from an origin no longer
allowed with 4403), and conversations an erasure purged (CONVERSATIONS_ERASED_CHANNEL: their visitor sockets
here close with 4410, the operator sockets watching them stop, with `left`). A connection that registers
just after such a notice checks itself once more. A node whose subscription comes back after an outage
re-checks every operator and visitor socket it holds (the visitor ones in one query each, for their widget
and for their conversation), since access notices may have been lost meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Collection
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from avatars.service import WidgetAccess, origin_allowed, widget_access
from confide.chats.models import Conversation
from confide.core.broker import (
    ACCESS_CHANGED_CHANNEL,
    AVATAR_ACCESS_CHANGED_CHANNEL,
    CONVERSATIONS_ERASED_CHANNEL,
    TENANT_CLOSED_CHANNEL,
    Broker,
    Subscription,
)
from confide.core.db import batched
from confide.core.futures import cancel_and_wait
from confide.privacy.holds import ERASED
from confide.realtime import access
from confide.realtime.protocol import ERASED_DETAIL, CloseCode
from confide.tenants.closure import CLOSED_AMONG_BATCH, closed_among

log = logging.getLogger("confide.realtime.live")

# Closed tenants remembered per node, for the race above (which lasts one database round trip); closures
# are rare, so the oldest are forgotten only after this many more.
REMEMBERED_CLOSURES = 10_000
TENANT_CLOSED_DETAIL = "This tenant was closed; its chats are no longer available."
SUBSCRIBE_RETRY_SECONDS = 0.5  # first wait before subscribing again when the broker was away at start-up
SUBSCRIBE_RETRY_MAX_SECONDS = 15.0


UNKNOWN_WIDGET_DETAIL = "This chat is not available: the widget key is unknown, rotated or unpublished."
ORIGIN_NOT_ALLOWED_DETAIL = "This page's origin may not open this chat."
CONTROL_CHANNELS = (TENANT_CLOSED_CHANNEL, ACCESS_CHANGED_CHANNEL, AVATAR_ACCESS_CHANGED_CHANNEL, CONVERSATIONS_ERASED_CHANNEL)
CATCH_UP_CHECKS_AT_ONCE = 8  # operator re-checks after a resubscription: each is a short database read


class Cuttable(Protocol):
    async def cut(self, code: CloseCode, slug: str, detail: str) -> None:
        """Send an error frame with `close_code`, close the socket, send nothing after it."""


class OperatorSocket(Cuttable, Protocol):
    tenant_id: str
    user_id: str

    async def recheck(self) -> None:
        """Check the session, membership and role again now; close with 4401 if they no longer hold."""

    async def forget_erased(self, conversation_ids: set[str]) -> None:
        """Stop watching those of these conversations it watches, each with a `left` frame (reason `erased`)."""

    def watched(self) -> Collection[str]:
        """The conversations it watches (has joined)."""


class VisitorSocket(Cuttable, Protocol):
    tenant_id: str
    avatar_id: str
    widget_key: str  # the key it opened on
    page_origin: str | None  # the Origin header it opened with
    conversation_id: str  # "" until its hello has opened or resumed one


def widget_refusal(current: WidgetAccess | None, socket: VisitorSocket) -> tuple[CloseCode, str, str] | None:
    """Why a visitor socket may no longer stay open (what a new connection like it would get), or None."""
    if current is None or current.widget_key != socket.widget_key:
        return CloseCode.UNKNOWN_WIDGET, "unknown-widget", UNKNOWN_WIDGET_DETAIL
    if not origin_allowed(current.allowed_origins, socket.page_origin):
        return CloseCode.ORIGIN_NOT_ALLOWED, "origin-not-allowed", ORIGIN_NOT_ALLOWED_DETAIL
    return None


class LiveConnections:
    def __init__(self, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._broker = broker
        self._sessionmaker = sessionmaker
        self._by_tenant: dict[str, set[Cuttable]] = {}
        self._operators: dict[str, set[OperatorSocket]] = {}  # by user id
        self._visitors: dict[str, set[VisitorSocket]] = {}  # by avatar id
        self._origins: dict[str, str] = {}  # control channel -> this node's subscription to it (its own notices skip it)
        # Notices heard so far: a connection that checked its access before one and registers after it checks again.
        self.access_notices = 0
        self.avatar_notices = 0
        self.erasure_notices = 0
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
        access.register_node(self._sessionmaker.kw["bind"].sync_engine, self)  # its sessions' commits announce access changes here
        try:
            subscriptions = await self._subscribe()
        except Exception as exc:  # noqa: BLE001 - a node must start while Redis restarts (a deploy would crash-loop)
            log.warning("subscribing to tenant closures failed; retrying in the background", extra={"error_type": type(exc).__name__})
            self._listener = asyncio.create_task(self._subscribe_later(), name="confide-tenant-closures")
            return
        self.listening.set()
        self._listener = asyncio.create_task(self._listen(subscriptions), name="confide-tenant-closures")

    async def _subscribe(self) -> list[Subscription]:
        """Every control channel, or none (a failure part way leaves nothing subscribed to retry over)."""
        async with contextlib.AsyncExitStack() as attempt:
            subscriptions = [await attempt.enter_async_context(self._broker.subscribe(channel)) for channel in CONTROL_CHANNELS]
            self._stack.push_async_callback(attempt.pop_all().aclose)
        self._origins = {s.channel: s.origin for s in subscriptions}
        return subscriptions

    async def _subscribe_later(self) -> None:
        delay = SUBSCRIBE_RETRY_SECONDS
        while True:
            await asyncio.sleep(delay)  # a retry timer: there is no event for the broker coming back
            try:
                subscriptions = await self._subscribe()
            except Exception as exc:  # noqa: BLE001 - still away
                log.warning("subscribing to tenant closures failed", extra={"error_type": type(exc).__name__})
                delay = min(delay * 2, SUBSCRIBE_RETRY_MAX_SECONDS)
                continue
            log.info("subscribed to tenant closures")
            self.listening.set()
            self._catch_up()  # closures and access changes announced while this node was not listening
            await self._listen(subscriptions)
            return

    async def stop(self) -> None:
        self._stopped = True  # no catch-up or cut starts from now on (the broker outlives this)
        access.unregister_node(self._sessionmaker.kw["bind"].sync_engine, self)
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

    def add_operator(self, connection: OperatorSocket) -> None:
        """Also by its user, for access notices (after `add`)."""
        self._operators.setdefault(connection.user_id, set()).add(connection)

    def add_visitor(self, connection: VisitorSocket) -> None:
        """Also by its avatar, for avatar access notices (after `add`)."""
        self._visitors.setdefault(connection.avatar_id, set()).add(connection)

    def discard(self, tenant_id: str, connection: Cuttable) -> None:
        """On close, whatever way the connection ended (safe to call twice, or for one never added)."""
        _remove(self._by_tenant, tenant_id, connection)
        _remove(self._operators, getattr(connection, "user_id", ""), connection)
        _remove(self._visitors, getattr(connection, "avatar_id", ""), connection)

    async def visitor_refusal(self, connection: VisitorSocket) -> tuple[CloseCode, str, str] | None:
        """One visitor socket checked against its avatar's key and origins now (a notice came while it opened)."""
        async with self._sessionmaker() as session:
            found = await widget_access(session, (connection.avatar_id,))
        return widget_refusal(found.get(connection.avatar_id), connection)

    # ---- access notices (realtime/access.py) ----------------------------------------------------

    def announce_access_changed(self, *, user_id: str, tenant_id: str | None) -> None:
        """After the commit of an access change on this node: re-check here at once (so it works with the
        broker away), and tell the other nodes (this node's own subscription skips it)."""
        self.access_changed(user_id, tenant_id)
        self._publish(ACCESS_CHANGED_CHANNEL, access.access_message(user_id=user_id, tenant_id=tenant_id))

    def announce_avatar_access_changed(self, avatar_id: str) -> None:
        self.avatar_access_changed(avatar_id)
        self._publish(AVATAR_ACCESS_CHANGED_CHANNEL, avatar_id)

    def announce_conversations_erased(self, tenant_id: str, conversation_ids: list[str], queue_updates: list[dict[str, Any]]) -> None:
        """After an erasure's batch committed on this node (realtime/access.py): cut here at once, tell the
        other nodes, and send the tenant's operators (on every node) the queue updates."""
        self.conversations_erased(tenant_id, conversation_ids)
        for channel, message in access.erased_notices(tenant_id, conversation_ids, queue_updates):
            self._publish(channel, message)

    def _publish(self, channel: str, message: str) -> None:
        async def publish() -> None:
            try:
                await self._broker.publish(channel, message, self._origins.get(channel, ""))
            except Exception as exc:  # noqa: BLE001 - best effort: a node that missed it catches up when it resubscribes
                log.warning("announcing an access change failed", extra={"error_type": type(exc).__name__, "channel_kind": channel.split(":", 1)[0]})

        self._track(asyncio.create_task(publish(), name="confide-access-announce"))

    def access_changed(self, user_id: str, tenant_id: str | None) -> None:
        """Re-check the user's operator sockets on this node (in `tenant_id`, or in every tenant when None)."""
        self.access_notices += 1
        for connection in tuple(self._operators.get(user_id, ())):
            if tenant_id is None or connection.tenant_id == tenant_id:
                self._track(asyncio.create_task(self._recheck(connection), name="confide-access-recheck"))

    def avatar_access_changed(self, avatar_id: str) -> None:
        """Close the avatar's visitor sockets on this node whose key or origin is no longer allowed."""
        self.avatar_notices += 1
        if avatar_id in self._visitors:
            self._track(asyncio.create_task(self._recheck_avatars((avatar_id,)), name="confide-avatar-recheck"))

    def conversations_erased(self, tenant_id: str, conversation_ids: list[str]) -> None:
        """The tenant's sockets on this node that rest on these conversations: visitors' closed with 4410,
        operators' watching stopped."""
        self.erasure_notices += 1
        erased = set(conversation_ids)
        connections = tuple(self._by_tenant.get(tenant_id, ()))
        visitors = [c for c in connections if getattr(c, "conversation_id", "") in erased]
        operators = [c for c in connections if hasattr(c, "forget_erased")]
        if visitors or operators:
            self._track(asyncio.create_task(self._erased(visitors, operators, erased), name="confide-erasure-cut"))

    async def _erased(self, visitors: list[Cuttable], operators: list[Any], erased: set[str]) -> None:
        if visitors:
            log.info("cutting visitor connections of erased conversations", extra={"connections": len(visitors)})
        results = await asyncio.gather(
            *(c.cut(CloseCode.CONVERSATION_ERASED, "conversation-erased", ERASED_DETAIL) for c in visitors),
            *(c.forget_erased(erased) for c in operators),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                log.warning("cutting a connection failed", extra={"error_type": type(result).__name__})

    async def _recheck(self, connection: OperatorSocket, limit: asyncio.Semaphore | None = None) -> None:
        try:
            if limit is None:
                await connection.recheck()
            else:
                async with limit:
                    await connection.recheck()
        except Exception as exc:  # noqa: BLE001 - the database away: its periodic re-check tries again
            log.warning("re-checking an operator connection failed", extra={"error_type": type(exc).__name__})

    async def _recheck_all_operators(self) -> None:
        limit = asyncio.Semaphore(CATCH_UP_CHECKS_AT_ONCE)
        connections = [c for group in self._operators.values() for c in group]
        await asyncio.gather(*(self._recheck(c, limit) for c in connections))

    async def _recheck_avatars(self, avatar_ids: tuple[str, ...]) -> None:
        """One query for the avatars' keys and origins; the visitor sockets they no longer allow are cut."""
        try:
            async with self._sessionmaker() as session:
                current = await widget_access(session, avatar_ids)
        except Exception as exc:  # noqa: BLE001 - the database away: the sockets stay until the next notice or catch-up
            log.warning("re-checking visitor connections failed", extra={"error_type": type(exc).__name__})
            return
        cuts = []
        for avatar_id in avatar_ids:
            for connection in tuple(self._visitors.get(avatar_id, ())):
                if connection.tenant_id in self._closed:
                    continue  # cut as `tenant-closed` (tenant_closed), not as an unknown widget
                refusal = widget_refusal(current.get(avatar_id), connection)
                if refusal is not None:
                    cuts.append(connection.cut(*refusal))
        if cuts:
            log.info("cutting visitor connections no longer allowed", extra={"connections": len(cuts)})
        for result in await asyncio.gather(*cuts, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("cutting a connection failed", extra={"error_type": type(result).__name__})

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
        """The broker resubscribed after an outage: closure and access notices sent meanwhile were lost. (Its
        hook: no I/O here.)"""
        if self._by_tenant:
            self._track(asyncio.create_task(self._catch_up_visitors(), name="confide-tenant-catch-up"))
        if self._operators:
            self._track(asyncio.create_task(self._recheck_all_operators(), name="confide-access-catch-up"))

    async def _catch_up_visitors(self) -> None:
        """Closures first: a closed tenant's sockets are told `tenant-closed`, not that their widget (being
        deleted with the tenant) is unknown."""
        await self._cut_missed_closures()
        if self._visitors:
            await self._recheck_avatars(tuple(self._visitors))
        await self._cut_missed_erasures()

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

    async def _cut_missed_erasures(self) -> None:
        """One query for the conversations of this node's visitor sockets and of its operators' watches: visitors
        on those erased meanwhile are cut, operators stop watching them (`left`, reason `erased`). The queue
        updates the notice carried are not sent again: an operator's queue shows them until it is read anew."""
        by_conversation: dict[str, list[VisitorSocket]] = {}
        for group in self._visitors.values():
            for connection in group:
                if connection.conversation_id:
                    by_conversation.setdefault(connection.conversation_id, []).append(connection)
        watchers = [(c, tuple(c.watched())) for group in self._operators.values() for c in group]
        watched = {cid for _, cids in watchers for cid in cids}
        if not by_conversation and not watched:
            return
        try:
            async with self._sessionmaker() as session:
                gone = set(await erased_among(session, list(by_conversation.keys() | watched)))
        except Exception as exc:  # noqa: BLE001 - the database away: each socket is refused at its next write
            log.warning("checking for missed erasures failed", extra={"error_type": type(exc).__name__})
            return
        cuts = [c.cut(CloseCode.CONVERSATION_ERASED, "conversation-erased", ERASED_DETAIL) for cid in gone & by_conversation.keys() for c in by_conversation[cid]]
        cuts += [c.forget_erased(gone) for c, cids in watchers if gone.intersection(cids)]
        for result in await asyncio.gather(*cuts, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("cutting a connection failed", extra={"error_type": type(result).__name__})

    async def _cut_all(self, connections: set[Cuttable]) -> None:
        results = await asyncio.gather(*(c.cut(CloseCode.TENANT_CLOSED, "tenant-closed", TENANT_CLOSED_DETAIL) for c in connections), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("cutting a connection failed", extra={"error_type": type(result).__name__})

    async def _listen(self, subscriptions: list[Subscription]) -> None:
        await asyncio.gather(*(self._listen_to(s) for s in subscriptions))

    async def _listen_to(self, subscription: Subscription) -> None:
        async for message in subscription:
            try:
                if subscription.channel == TENANT_CLOSED_CHANNEL:
                    self.tenant_closed(message)
                elif subscription.channel == ACCESS_CHANGED_CHANNEL:
                    user_id, tenant_id = access.parse_access_message(message)
                    self.access_changed(user_id, tenant_id)
                elif subscription.channel == CONVERSATIONS_ERASED_CHANNEL:
                    self.conversations_erased(*access.parse_erased_message(message))
                else:
                    self.avatar_access_changed(message)
            except Exception as exc:  # noqa: BLE001 - one bad notice must not end the node's listening
                log.warning("a control notice failed", extra={"error_type": type(exc).__name__, "channel_kind": subscription.channel})


async def erased_among(session: AsyncSession, conversation_ids: list[str]) -> list[str]:
    """Those of these conversations that were erased (their stub left), in queries of at most CLOSED_AMONG_BATCH
    ids. A row not found is not counted: a new conversation is named before it is committed, and a tenant's
    deleted rows go with its closure (cut as `tenant-closed`)."""
    c = Conversation
    erased: set[str] = set()
    for batch in batched(conversation_ids, CLOSED_AMONG_BATCH):
        erased.update((await session.scalars(select(c.id).where(c.id.in_(batch), c.status == ERASED))).all())  # type: ignore[attr-defined]
    return [cid for cid in conversation_ids if cid in erased]


def _remove(index: dict[str, set[Any]], key: str, connection: object) -> None:
    connections = index.get(key)
    if connections is not None:
        connections.discard(connection)
        if not connections:
            del index[key]
