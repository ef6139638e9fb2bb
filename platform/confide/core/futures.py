"""Resolving futures that callers may have abandoned: the batching writers (chat messages, rate-limit
hits) answer many callers at once, and a cancelled caller's future must not raise InvalidStateError
in the middle of answering the others."""

from __future__ import annotations

import asyncio
from typing import Any


def settle(done: asyncio.Future[Any], *, result: Any = None, exception: BaseException | None = None) -> None:
    """Resolve `done` with `exception` if given, else with `result`, unless its caller has given up on
    it (cancelled) meanwhile."""
    if done.done():
        return
    if exception is not None:
        done.set_exception(exception)
    else:
        done.set_result(result)


async def cancel_and_wait(task: asyncio.Future[Any] | None) -> BaseException | None:
    """Cancel `task` and wait until it has ended. How it ended (the cancellation, or an error it had
    died of) is returned, not raised; a cancellation of the caller itself while it waits is raised.
    (`suppress(CancelledError)` around `await task` cannot tell those two apart, and so swallowed a
    shutdown's cancellation of the waiting task.) A caller cancelled while it waits leaves at once;
    the task, cancelled already, ends on its own."""
    if task is None:
        return None
    task.cancel()
    await asyncio.wait((task,))
    return None if task.cancelled() else task.exception()


async def stop_between_writes(task: asyncio.Future[Any] | None, lock: asyncio.Lock, *, wait: float = 10.0) -> BaseException | None:
    """Stop a periodic writer's task between two of its writes (each made holding `lock`): a write in
    flight is let finish, for up to `wait` seconds, because one cancelled mid-insert loses its batch
    (put back, it could be written twice). Past that, the task is cancelled anyway: shutdown must not
    hang on a database that is away. Returns what cancel_and_wait returns."""
    if task is None:
        return None
    try:
        async with asyncio.timeout(wait):
            await lock.acquire()
    except TimeoutError:
        return await cancel_and_wait(task)
    try:
        return await cancel_and_wait(task)
    finally:
        lock.release()
