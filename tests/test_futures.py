"""cancel_and_wait: stopping a background task returns how it ended, and never swallows a
cancellation of the caller itself (a shutdown must be able to stop whoever is stopping a task)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from confide.core.futures import cancel_and_wait, stop_between_writes


async def test_a_task_that_ends_by_its_cancellation_gives_none() -> None:
    task = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    assert await cancel_and_wait(task) is None
    assert task.cancelled()
    assert await cancel_and_wait(None) is None


async def test_the_error_a_task_died_of_is_returned_and_read(caplog: pytest.LogCaptureFixture) -> None:
    async def fail() -> None:
        raise LookupError("boom")

    task = asyncio.create_task(fail())
    await asyncio.sleep(0)
    assert task.done()
    error = await cancel_and_wait(task)
    assert isinstance(error, LookupError)
    del task, error
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert "never retrieved" not in caplog.text


async def test_an_error_raised_while_cancelling_is_returned() -> None:
    async def fail_on_cancel() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    task = asyncio.create_task(fail_on_cancel())
    await asyncio.sleep(0)
    assert isinstance(await cancel_and_wait(task), RuntimeError)


async def test_the_callers_own_cancellation_is_raised() -> None:
    """The stopped task takes its time to end; meanwhile the task stopping it is cancelled itself.
    `with suppress(CancelledError): await task` returned normally here, and the cancelled caller
    carried on as if nothing had happened."""
    release = asyncio.Event()
    went_on = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()
            raise

    worker = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)

    async def stopper() -> None:
        await cancel_and_wait(worker)
        went_on.set()

    stopping = asyncio.create_task(stopper())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not stopping.done()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not went_on.is_set()
    release.set()
    assert await cancel_and_wait(worker) is None


async def test_stop_between_writes_waits_for_the_write_then_gives_up_after_its_limit() -> None:
    lock = asyncio.Lock()
    writes: list[str] = []

    async def writer(write_takes: asyncio.Event) -> None:
        while True:
            async with lock:
                await write_takes.wait()
                writes.append("written")
            await asyncio.sleep(3600)

    finish = asyncio.Event()
    task = asyncio.create_task(writer(finish))
    await asyncio.sleep(0)
    assert lock.locked()  # a write in flight
    stopping = asyncio.create_task(stop_between_writes(task, lock, wait=5))
    await asyncio.sleep(0)
    assert not stopping.done()
    finish.set()
    assert await stopping is None
    assert writes == ["written"] and task.cancelled() and not lock.locked()

    stuck = asyncio.create_task(writer(asyncio.Event()))  # a write that never finishes (the database is away)
    await asyncio.sleep(0)
    assert await stop_between_writes(stuck, lock, wait=0.01) is None
    assert stuck.cancelled() and not lock.locked()
    assert await stop_between_writes(None, lock) is None
