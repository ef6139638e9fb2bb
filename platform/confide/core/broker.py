"""Publish/subscribe, rate-limit counters and short-lived keys behind one small interface.

The backend is picked by URL, as in encode/broadcaster: no URL means in-process (one node),
`redis://…` means Redis (several nodes share it). Realtime and rate-limit code is the same on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import logging
import math
import os
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from confide.core.db import batched
from confide.core.futures import cancel_and_wait, settle

log = logging.getLogger("confide.broker")

ORIGIN_MARK = "\x1f"  # frames are JSON and never start with it
MAX_QUEUED_PUBLISHES = 10_000  # while Redis is away; older frames are dropped (they are stored)
# Control channels: node-wide notices that every node subscribes to once, at start (never per connection).
TENANT_CLOSED_CHANNEL = "control:tenant-closed"  # each message is the id of a tenant whose closure was accepted
ACCESS_CHANGED_CHANNEL = "control:access-changed"  # JSON {"user_id", "tenant_id" or null}: re-check that user's operator sockets
AVATAR_ACCESS_CHANGED_CHANNEL = "control:avatar-access-changed"  # an avatar id: its widget key or allowed origins changed
CONVERSATIONS_ERASED_CHANNEL = "control:conversations-erased"  # JSON {"tenant_id", "conversation_ids"}: cut their sockets


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    count: int
    retry_after: int


def retry_after(seconds: float) -> int:
    """The rest of a rate window as whole seconds, rounded up: a client that waits it is never
    refused again by the same window."""
    return max(1, math.ceil(seconds))


class Subscription:
    """A local queue fed by the broker; iterate it for messages on its channel."""

    def __init__(self, channel: str, origin: str, maxsize: int = 1000) -> None:
        self.channel = channel
        self.origin = origin  # pass as `publish(..., origin=)` to keep one's own messages out of this queue
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)

    def deliver(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a stalled consumer must not stall the broker; resume fills gaps
            log.warning("subscription queue full; dropping a frame", extra={"channel_kind": self.channel.split(":", 1)[0]})

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        return await self.queue.get()


class Broker(ABC):
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._subscribing: dict[str, asyncio.Future[bool]] = {}  # channel -> whether its SUBSCRIBE, in flight, worked
        self._subscribed: set[str] = set()  # channels whose SUBSCRIBE worked (until their last subscriber leaves)
        self._node = os.urandom(4).hex()
        self._sub_ids = itertools.count(1)
        self._resubscribed_hooks: list[Callable[[], None]] = []

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    async def ping(self) -> bool: ...

    @abstractmethod
    async def publish(self, channel: str, message: str, origin: str = "") -> None:
        """Send `message` to every subscription of `channel` on every node, except the subscription
        whose `origin` is given (a connection does not need its own frames echoed back)."""

    @abstractmethod
    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Count one event in a fixed window; allowed while the count stays within limit."""

    @abstractmethod
    async def spent(self, key: str) -> tuple[int, int]:
        """What `hit` has counted for `key` in its current window, without counting: (count, whole seconds
        left in the window); (0, 0) when no window is open. For limits that count only failures: check
        first, count once the attempt has failed."""

    @abstractmethod
    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def delete(self, *keys: str) -> int: ...

    @abstractmethod
    async def purge(self, *names: str) -> int:
        """Remove each name wherever it lives (a value, a rate-limit counter, a group): erasure of a subject."""

    @abstractmethod
    async def delete_matching(self, pattern: str) -> int:
        """Remove every value, counter and group whose name matches the glob `pattern`; returns how many.
        It walks the keyspace incrementally (SCAN on Redis), so it suits erasure, not a hot path."""

    @abstractmethod
    async def member_add(self, group: str, member: str, ttl_seconds: float) -> None:
        """Put `member` in `group` until ttl runs out (presence, open connections); re-adding refreshes it."""

    @abstractmethod
    async def member_remove(self, group: str, member: str) -> None: ...

    @abstractmethod
    async def members(self, group: str) -> list[str]:
        """The members of `group` whose time has not run out."""

    async def flush(self) -> None:  # noqa: B027 - only a queuing backend has anything to wait for
        """Wait until everything published so far has left this node."""

    def on_resubscribed(self, hook: Callable[[], None]) -> None:
        """Call `hook` each time this node's subscriptions are back after its broker connection dropped:
        what was published meanwhile never arrived, so the hook catches up from storage (realtime/live.py).
        It must be quick and not block (start a task). The in-process broker never drops, so never calls it."""
        self._resubscribed_hooks.append(hook)

    def _resubscribed(self) -> None:
        for hook in tuple(self._resubscribed_hooks):
            try:
                hook()
            except Exception as exc:  # noqa: BLE001 - one hook's failure must not fail the reconnect
                log.warning("a resubscribe hook failed", extra={"error_type": type(exc).__name__})

    async def _on_first_subscriber(self, channel: str) -> None:  # noqa: B027
        pass

    async def _on_last_unsubscribed(self, channel: str) -> None:  # noqa: B027
        pass

    def _fan_out(self, channel: str, message: str, origin: str = "") -> None:
        for sub in tuple(self._subs.get(channel, ())):
            if sub.origin != origin:
                sub.deliver(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channel, f"{self._node}.{next(self._sub_ids)}")
        self._subs[channel].add(sub)
        try:
            await self._ensure_subscribed(channel)  # a failure (the broker away) takes this subscriber out again
            yield sub
        finally:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[channel]
                    self._subscribed.discard(channel)
                    await self._on_last_unsubscribed(channel)

    async def _ensure_subscribed(self, channel: str) -> None:
        """SUBSCRIBE the channel unless that worked already. A subscriber that comes while another's SUBSCRIBE
        is in flight waits for it; if that one failed or was cancelled, it tries itself, so nobody stays on a
        channel the broker never subscribed, and nobody fails for another's cancellation."""
        while channel not in self._subscribed:
            pending = self._subscribing.get(channel)
            if pending is not None:
                await asyncio.shield(pending)
                continue
            ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._subscribing[channel] = ready
            try:
                await self._on_first_subscriber(channel)
                self._subscribed.add(channel)
            finally:
                ready.set_result(channel in self._subscribed)
                del self._subscribing[channel]


class MemoryBroker(Broker):
    """One process: channels are local sets, counters and keys a dict with expiry times."""

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[str, tuple[str, float]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._groups: dict[str, dict[str, float]] = {}

    async def ping(self) -> bool:
        return True

    async def publish(self, channel: str, message: str, origin: str = "") -> None:
        self._fan_out(channel, message, origin)

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        now = time.monotonic()
        count, expires = self._counters.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window_seconds
            if len(self._counters) > 100_000:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        count += 1
        self._counters[key] = (count, expires)
        # Capped at the window: (now + window) - now can come out a hair above it in floating point, which
        # rounded up said one second more than the window itself.
        return RateDecision(count <= limit, count, retry_after(min(float(window_seconds), expires - now)))

    async def spent(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        count, expires = self._counters.get(key, (0, 0.0))
        return (count, retry_after(expires - now)) if expires > now else (0, 0)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._values[key] = (value, time.monotonic() + ttl_seconds)

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None or item[1] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return item[0]

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            removed += (self._values.pop(key, None) is not None) + (self._counters.pop(key, None) is not None)
            removed += self._groups.pop(key, None) is not None
        return removed

    async def purge(self, *names: str) -> int:
        return await self.delete(*names)

    async def delete_matching(self, pattern: str) -> int:
        names = {n for store in (self._values, self._counters, self._groups) for n in store if fnmatch.fnmatchcase(n, pattern)}
        return await self.delete(*names)

    async def member_add(self, group: str, member: str, ttl_seconds: float) -> None:
        self._groups.setdefault(group, {})[member] = time.monotonic() + ttl_seconds

    async def member_remove(self, group: str, member: str) -> None:
        members = self._groups.get(group)
        if members is not None:
            members.pop(member, None)
            if not members:
                del self._groups[group]

    async def members(self, group: str) -> list[str]:
        now = time.monotonic()
        members = self._groups.get(group, {})
        for member in [m for m, expires in members.items() if expires <= now]:
            del members[member]
        return sorted(members)


# The window's rest in milliseconds: TTL rounds to the nearest second, so "retry after" could be
# up to half a second short of the window's end.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1]) * 1000
end
return {count, ttl}
"""


class RedisBroker(Broker):
    """Redis: one pub/sub connection per node fans out to local subscriptions and resubscribes after a drop."""

    def __init__(self, url: str, prefix: str = "confide:") -> None:
        super().__init__()
        import redis.asyncio as redis  # imported here so the embedded default never needs a Redis client

        # A blocking pool: under a burst (hundreds of handshakes or messages at once) a command waits for
        # a free connection instead of failing with MaxConnectionsError, which crashed the websocket.
        pool = redis.BlockingConnectionPool.from_url(url, decode_responses=True, health_check_interval=10, max_connections=100, timeout=20)
        self._redis = redis.Redis.from_pool(pool)
        self._prefix = prefix
        self._pubsub = None
        self._reader: asyncio.Task[None] | None = None
        self._channels_ready = asyncio.Event()
        self._outgoing: list[tuple[str, str]] = []
        self._publish_wanted = asyncio.Event()
        self._drained = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None
        self._sending = False
        # Hits queue and go as one pipeline of EVALSHA per round trip (`_send_hits`): a chat message
        # costs one hit, and redis-py's per-command path cost more CPU than the rest of the check.
        self._hit_script = self._redis.register_script(_HIT_SCRIPT)
        self._hits: list[tuple[str, int, asyncio.Future[Any]]] = []
        self._hitter: asyncio.Task[None] | None = None

    def key(self, name: str) -> str:
        return self._prefix + name

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read_loop(), name="confide-redis-pubsub")
        self._publisher = asyncio.create_task(self._publish_loop(), name="confide-redis-publish")

    async def close(self) -> None:
        hitter = self._hitter
        if hitter is not None and not hitter.done():
            await asyncio.wait((hitter,), timeout=5)
            await cancel_and_wait(hitter)  # still busy after that: given up (not a newer one a late hit() started)
        if self._publisher:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self.flush()
            await cancel_and_wait(self._publisher)
        if self._reader:
            await cancel_and_wait(self._reader)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def publish(self, channel: str, message: str, origin: str = "") -> None:
        """Queued, not awaited: one task sends whatever has queued up as one pipeline, in order, so a
        chat message waits for no Redis round trip and a burst costs one. A failed batch is logged and
        dropped; everything sequenced is in the database, and clients fill the gap from there."""
        # On the wire: the message, or ORIGIN_MARK origin ORIGIN_MARK message.
        self._outgoing.append((self.key(channel), f"{ORIGIN_MARK}{origin}{ORIGIN_MARK}{message}" if origin else message))
        if len(self._outgoing) > MAX_QUEUED_PUBLISHES:
            del self._outgoing[: len(self._outgoing) - MAX_QUEUED_PUBLISHES]
            log.warning("redis publish queue full; dropped the oldest frames")
        self._publish_wanted.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._publish_wanted.wait()
            self._publish_wanted.clear()
            while self._outgoing:
                batch, self._outgoing = self._outgoing, []
                self._sending = True
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, message in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the broker is away; storage has everything
                    log.warning("redis publish failed; clients will catch up from storage", extra={"error": type(exc).__name__, "frames": len(batch)})
                finally:
                    self._sending = False
            self._drained.set()

    async def flush(self) -> None:
        """Wait until everything published so far has been sent (or failed)."""
        while self._outgoing or self._sending or self._publish_wanted.is_set():
            self._drained.clear()
            await self._drained.wait()

    async def _on_first_subscriber(self, channel: str) -> None:
        assert self._pubsub is not None
        await self._pubsub.subscribe(self.key(channel))
        if self._pubsub.connection is not None:
            # Called on every reconnect (not the first connect), after redis-py's own callback has sent the
            # SUBSCRIBEs again; registering twice is a no-op.
            self._pubsub.connection.register_connect_callback(self._pubsub_reconnected)
        self._channels_ready.set()

    def _pubsub_reconnected(self, connection: object) -> None:
        log.info("redis pub/sub connection back; subscriptions renewed")
        self._resubscribed()

    async def _on_last_unsubscribed(self, channel: str) -> None:
        assert self._pubsub is not None
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(self.key(channel))

    async def _read_loop(self) -> None:
        assert self._pubsub is not None
        strip = len(self._prefix)
        while True:
            if not self._pubsub.subscribed:
                self._channels_ready.clear()
                await self._channels_ready.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("redis pub/sub connection lost; resubscribing")
                await asyncio.sleep(0.5)
                with contextlib.suppress(Exception):
                    channels = [self.key(c) for c in self._subs]
                    if channels:
                        await self._pubsub.subscribe(*channels)
                continue
            if message and message.get("type") == "message":
                data = message["data"]
                if data.startswith(ORIGIN_MARK):
                    _, origin, data = data.split(ORIGIN_MARK, 2)
                    self._fan_out(message["channel"][strip:], data, origin)
                else:
                    self._fan_out(message["channel"][strip:], data)

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._hits.append((self.key("rl:" + key), window_seconds, done))
        if self._hitter is None or self._hitter.done():
            self._hitter = asyncio.create_task(self._send_hits(), name="confide-redis-hits")
        count, ttl_ms = await done
        return RateDecision(count <= limit, count, retry_after(int(ttl_ms) / 1000))

    async def _send_hits(self) -> None:
        """Whatever hits queued while the previous batch was out go together: one pipeline, one round
        trip. The script goes by its hash; hits that found Redis without it (a restart, a SCRIPT
        FLUSH) are sent again, alone, once it is loaded, so none is counted twice."""
        from redis.exceptions import NoScriptError

        batch: list[tuple[str, int, asyncio.Future[Any]]] = []
        try:
            while self._hits:
                batch, self._hits = self._hits, []
                try:
                    results = await self._run_hits(batch)
                    missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
                    if missing:
                        self._hit_script.sha = await self._redis.script_load(_HIT_SCRIPT)
                        for i, result in zip(missing, await self._run_hits([batch[i] for i in missing]), strict=True):
                            results[i] = result
                except Exception as exc:  # noqa: BLE001 - the broker is away: each caller decides (the chat fails open)
                    results = [exc] * len(batch)
                for (_, _, done), result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        settle(done, exception=result)
                    else:
                        settle(done, result=result)
        finally:
            # Cancelled (shutdown): nobody waits for an answer that will not come, in the batch out or queued behind it.
            for _, _, done in (*batch, *self._hits):
                settle(done, exception=ConnectionError("the broker closed"))

    async def _run_hits(self, batch: list[tuple[str, int, asyncio.Future[Any]]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, window_seconds, _ in batch:
                pipe.evalsha(self._hit_script.sha, 1, key, window_seconds)
            return await pipe.execute(raise_on_error=False)

    async def spent(self, key: str) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            name = self.key("rl:" + key)
            count, ttl_ms = await pipe.get(name).pttl(name).execute()
        if count is None or ttl_ms is None or int(ttl_ms) <= 0:
            return 0, 0
        return int(count), retry_after(int(ttl_ms) / 1000)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        await self._redis.set(self.key(key), value, ex=ttl_seconds)

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self.key(key))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        full = [self.key(k) for k in keys] + [self.key("rl:" + k) for k in keys]
        return int(await self._redis.delete(*full))

    # Values live under the prefix, counters under prefix + "rl:", groups under prefix + "grp:".
    _NAMESPACES = ("", "rl:", "grp:")
    UNLINK_BATCH = 3000  # keys per UNLINK

    async def purge(self, *names: str) -> int:
        full = [self.key(ns + n) for n in names for ns in self._NAMESPACES]
        removed = 0
        for batch in batched(full, self.UNLINK_BATCH):
            removed += int(await self._redis.unlink(*batch))
        return removed

    async def delete_matching(self, pattern: str) -> int:
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self._prefix)
        found: set[str] = set()
        for ns in self._NAMESPACES:
            async for key in self._redis.scan_iter(match=escaped + ns + pattern, count=1000):
                found.add(key)
        keys = sorted(found)
        removed = 0
        for batch in batched(keys, self.UNLINK_BATCH):
            removed += int(await self._redis.unlink(*batch))
        return removed

    # Groups are sorted sets scored by expiry time (wall clock, shared by every node).
    async def member_add(self, group: str, member: str, ttl_seconds: float) -> None:
        key = self.key("grp:" + group)
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {member: now + ttl_seconds})
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.expire(key, int(ttl_seconds) + 60)
            await pipe.execute()

    async def member_remove(self, group: str, member: str) -> None:
        await self._redis.zrem(self.key("grp:" + group), member)

    async def members(self, group: str) -> list[str]:
        return sorted(await self._redis.zrangebyscore(self.key("grp:" + group), time.time(), "+inf"))


def create_broker(url: str | None, prefix: str = "confide:") -> Broker:
    if not url or url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, prefix)
    raise ValueError(f"Unsupported broker URL scheme: {url.split(':', 1)[0]}")
