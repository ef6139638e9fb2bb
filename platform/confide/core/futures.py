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
    shutdown's cancellation of the waiting task.)"""
    if task is None:
        return None
    task.cancel()
    await asyncio.wait((task,))
    return None if task.cancelled() else task.exception()
