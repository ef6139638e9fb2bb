"""Holding the session's erasure worker off, so a test takes the steps itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from confide.privacy.erasure_worker import erasure_lock


@asynccontextmanager
async def worker_held_off(app: Any) -> AsyncIterator[None]:
    """The erasure runner's lock held by the test, so the session's worker (woken by a request or a closure)
    keeps out of the steps the test takes itself. Waits while a pass of the worker is under way: it holds the
    lock meanwhile (taking it once, and failing when busy, made tests flaky)."""
    while True:
        async with erasure_lock(app.state.engine) as alone:
            if alone:
                yield
                return
        await asyncio.sleep(0.05)  # another runner's pass: no event tells when it ends
