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
