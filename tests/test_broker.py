"""The broker on both backends: a publisher's own subscription does not get its frames back, every
other one does; rate-limit windows count, expire and say when to retry; after a dropped Redis connection
the subscriptions come back and the broker says so."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from confide.core.broker import create_broker


async def _next(subscription, timeout: float = 2.0) -> str:  # noqa: ANN001
    return await asyncio.wait_for(subscription.__anext__(), timeout)


async def test_publish_skips_only_the_origin_subscription(backend) -> None:  # noqa: ANN001
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    channel = f"conv:test-{uuid.uuid4().hex}"
    try:
        async with broker.subscribe(channel) as mine, broker.subscribe(channel) as other:
            assert mine.origin != other.origin
            await broker.publish(channel, '{"n":1}', mine.origin)
            await broker.publish(channel, '{"n":2}')
            assert await _next(other) == '{"n":1}'
            assert await _next(other) == '{"n":2}'
            assert await _next(mine) == '{"n":2}'  # its own first frame never arrives
            assert mine.queue.empty()
    finally:
        await broker.close()


async def test_origin_is_per_node_and_crosses_nodes(backend) -> None:  # noqa: ANN001
    if backend.redis_url is None:
        pytest.skip("the in-process broker has no other node")
    first, second = create_broker(backend.redis_url, backend.redis_prefix), create_broker(backend.redis_url, backend.redis_prefix)
    await first.start()
    await second.start()
    channel = f"conv:test-{uuid.uuid4().hex}"
    try:
        async with first.subscribe(channel) as here, second.subscribe(channel) as there:
            async with asyncio.timeout(5):  # both SUBSCRIBEs have reached Redis
                while (await first._redis.pubsub_numsub(first.key(channel)))[0][1] < 2:  # noqa: SLF001
                    await asyncio.sleep(0.01)
            await first.publish(channel, '{"from":"here"}', here.origin)
            assert await _next(there) == '{"from":"here"}'
            await second.publish(channel, '{"from":"there"}', there.origin)
            assert await _next(here) == '{"from":"there"}'
            assert here.queue.empty() and there.queue.empty()
            # A burst leaves as pipelined batches, in order, none lost.
            for n in range(500):
                await first.publish(channel, f'{{"n":{n}}}', here.origin)
            await first.flush()
            assert [await _next(there) for _ in range(500)] == [f'{{"n":{n}}}' for n in range(500)]
            assert here.queue.empty()
    finally:
        await first.close()
        await second.close()


async def test_hit_counts_within_the_window_and_says_when_to_retry(backend) -> None:  # noqa: ANN001
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    key = f"test:{uuid.uuid4().hex}"
    try:
        decisions = [await broker.hit(key, 3, 60) for _ in range(5)]
        assert [d.count for d in decisions] == [1, 2, 3, 4, 5]
        assert [d.allowed for d in decisions] == [True, True, True, False, False]
        assert all(1 <= d.retry_after <= 60 for d in decisions)
    finally:
        await broker.close()


async def test_spent_reads_a_window_without_counting(backend) -> None:  # noqa: ANN001
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    key = f"test:{uuid.uuid4().hex}"
    try:
        assert await broker.spent(key) == (0, 0)  # no window open
        await broker.hit(key, 3, 60)
        await broker.hit(key, 3, 60)
        count, left = await broker.spent(key)
        assert count == 2 and 1 <= left <= 60
        assert (await broker.spent(key))[0] == 2  # reading counted nothing
        assert (await broker.hit(key, 3, 60)).count == 3
        await broker.purge(key)  # the test leaves no key behind
    finally:
        await broker.close()


async def test_the_in_process_broker_never_says_retry_after_more_than_the_window(monkeypatch) -> None:
    """At this clock reading (1001.11 + 60) - 1001.11 is 60.000000000000114 in floating point, and the first
    hit of a 60 s window said "retry after 61" (a flaky CI failure, one run in a few hundred)."""
    from types import SimpleNamespace

    from confide.core import broker as broker_module

    monkeypatch.setattr(broker_module, "time", SimpleNamespace(monotonic=lambda: 1001.11))  # the broker's clock only, not the event loop's
    memory = broker_module.MemoryBroker()
    assert (await memory.hit("k", 3, 60)).retry_after == 60


async def test_retry_after_is_never_short_of_the_windows_end(backend) -> None:  # noqa: ANN001
    """1.3 s of a 2 s window left: "retry after 2 s" (Redis's TTL would round that to 1, and a client
    that waited 1 s would be refused again)."""
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    key = f"test:{uuid.uuid4().hex}"
    try:
        first = await broker.hit(key, 10, 2)
        await asyncio.sleep(0.7)  # time passing in the window is the subject here
        later = await broker.hit(key, 10, 2)
        assert (first.retry_after, later.retry_after) == (2, 2)
    finally:
        await broker.delete(key)
        await broker.close()


async def test_concurrent_hits_share_round_trips_and_survive_a_forgotten_script(backend) -> None:  # noqa: ANN001
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    key, other = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    try:
        decisions = await asyncio.gather(*(broker.hit(key if n % 2 else other, 10, 60) for n in range(30)))
        assert sorted(d.count for n, d in enumerate(decisions) if n % 2) == list(range(1, 16))
        assert sorted(d.count for n, d in enumerate(decisions) if not n % 2) == list(range(1, 16))
        assert [d.allowed for d in decisions] == [d.count <= 10 for d in decisions]
        if backend.redis_url is not None:
            broker._hit_script.sha = "0" * 40  # a hash Redis does not know, as after a restart (without flushing the shared Redis)
            again = await asyncio.gather(*(broker.hit(key, 10, 60) for _ in range(3)))
            assert sorted(d.count for d in again) == [16, 17, 18], "each hit counted once"
    finally:
        await broker.delete(key, other)
        await broker.close()


async def test_hits_against_an_unreachable_redis_fail_for_every_caller_and_recover() -> None:
    from tests.support.server import free_port

    broker = create_broker(f"redis://127.0.0.1:{free_port()}/0", "confide-test:")
    try:
        results = await asyncio.gather(*(broker.hit("k", 10, 60) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, Exception) for r in results), results
        again = await asyncio.gather(broker.hit("k", 10, 60), return_exceptions=True)
        assert isinstance(again[0], Exception), "the next hit starts a new batch (and fails the same way, not hangs)"
    finally:
        await broker.close()


async def test_a_batch_that_lost_the_script_half_way_counts_every_hit_once(backend, monkeypatch) -> None:  # noqa: ANN001
    """A SCRIPT FLUSH (or a failover) between the commands of one pipeline: the hits before it were
    counted, those after it found no script. Only those are sent again, once the script is loaded,
    and every caller gets its own count."""
    if backend.redis_url is None:
        pytest.skip("the in-process broker has no scripts")
    from redis.exceptions import NoScriptError

    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    keys = [f"test:{uuid.uuid4().hex}" for _ in range(4)]
    run_hits = broker._run_hits  # noqa: SLF001 - the round trip the fault is injected into
    batches: list[int] = []

    async def flushed_half_way(batch):  # noqa: ANN001, ANN202
        batches.append(len(batch))
        if len(batches) > 1:
            return await run_hits(batch)
        counted = await run_hits(batch[:2])  # these two really are counted in Redis
        return [*counted, *(NoScriptError("NOSCRIPT No matching script.") for _ in batch[2:])]

    monkeypatch.setattr(broker, "_run_hits", flushed_half_way)
    try:
        decisions = await asyncio.gather(*(broker.hit(key, 10, 60) for key in keys))
        assert batches == [4, 2], "one pipeline, then the two that found no script"
        assert [d.count for d in decisions] == [1, 1, 1, 1]
        again = await asyncio.gather(*(broker.hit(key, 10, 60) for key in keys))
        assert [d.count for d in again] == [2, 2, 2, 2], "each hit counted exactly once"
    finally:
        await broker.delete(*keys)
        await broker.close()


async def test_subscriptions_come_back_after_a_dropped_connection_and_the_hook_hears_it(backend) -> None:  # noqa: ANN001
    if backend.redis_url is None:
        pytest.skip("the in-process broker never drops")
    broker = create_broker(backend.redis_url, backend.redis_prefix)
    await broker.start()
    back = asyncio.Event()
    broker.on_resubscribed(back.set)
    channel = f"conv:test-{uuid.uuid4().hex}"
    try:
        async with broker.subscribe(channel) as subscription:
            # Redis drops this node's pub/sub connection, and only it (the shared Redis serves other tests).
            host, port = broker._pubsub.connection._writer.get_extra_info("sockname")[:2]  # noqa: SLF001
            assert await broker._redis.client_kill_filter(_type="pubsub", addr=f"{host}:{port}") == 1  # noqa: SLF001
            await asyncio.wait_for(back.wait(), 10)
            async with asyncio.timeout(5):  # the SUBSCRIBE sent again has reached Redis
                while (await broker._redis.pubsub_numsub(broker.key(channel)))[0][1] < 1:  # noqa: SLF001
                    await asyncio.sleep(0.01)
            await broker.publish(channel, '{"after":"the drop"}')
            assert await _next(subscription) == '{"after":"the drop"}'
    finally:
        await broker.close()


async def test_a_subscriber_joining_a_failing_first_subscribe_fails_too_and_the_next_one_retries():
    """A subscriber that joined while the first subscriber's SUBSCRIBE was in flight went on as if the
    channel were subscribed; when that SUBSCRIBE failed, it (and everyone after it) stayed on a channel the
    broker never subscribed, and never heard a message."""
    from confide.core.broker import MemoryBroker

    class FlakyBroker(MemoryBroker):
        def __init__(self) -> None:
            super().__init__()
            self.release = asyncio.Event()
            self.fail = True
            self.subscribed: list[str] = []

        async def _on_first_subscriber(self, channel: str) -> None:
            await self.release.wait()
            if self.fail:
                raise ConnectionError("broker away")
            self.subscribed.append(channel)

    broker = FlakyBroker()

    async def join() -> None:
        async with broker.subscribe("c"):
            pass

    first = asyncio.create_task(join())
    await asyncio.sleep(0)  # the first subscriber is inside its SUBSCRIBE
    second = asyncio.create_task(join())
    await asyncio.sleep(0)
    broker.release.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert not broker._subs.get("c")  # noqa: SLF001 - nobody is left on the channel
    broker.fail = False
    async with broker.subscribe("c") as sub:  # the broker is back: the next subscriber subscribes afresh
        assert broker.subscribed == ["c"]
        await broker.publish("c", "hello")
        assert await asyncio.wait_for(sub.queue.get(), 5) == "hello"


async def test_a_subscriber_whose_first_subscriber_is_cancelled_subscribes_itself():
    """Sharing the first SUBSCRIBE's outcome made a healthy subscriber fail with ConnectionError when the
    first one was only cancelled (its socket closed mid-SUBSCRIBE); an operator's watch then never got ready."""
    from confide.core.broker import MemoryBroker

    class SlowBroker(MemoryBroker):
        def __init__(self) -> None:
            super().__init__()
            self.entered = asyncio.Event()
            self.release = asyncio.Event()
            self.subscribed = 0

        async def _on_first_subscriber(self, channel: str) -> None:
            self.entered.set()
            await self.release.wait()
            self.subscribed += 1

    broker = SlowBroker()
    joined = asyncio.Event()

    async def first() -> None:
        async with broker.subscribe("c"):
            await asyncio.Event().wait()

    async def second() -> str:
        async with broker.subscribe("c") as sub:
            joined.set()
            await broker.publish("c", "hello")
            return await asyncio.wait_for(sub.queue.get(), 5)

    a = asyncio.create_task(first())
    await broker.entered.wait()
    b = asyncio.create_task(second())
    await asyncio.sleep(0)  # b waits on a's SUBSCRIBE
    a.cancel()
    await asyncio.wait((a,))
    broker.release.set()  # b's own SUBSCRIBE goes through
    assert await asyncio.wait_for(b, 5) == "hello"
    assert broker.subscribed == 1 and joined.is_set()
