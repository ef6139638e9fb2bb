"""Domain events inside one node: the chat emits what happened (a conversation started, was handed
off, closed, rated); evaluation and webhooks subscribe. Handlers run as background tasks, so the chat
never waits for them; `drain()` awaits them (shutdown, tests)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("confide.events")

Handler = Callable[[dict[str, Any]], Awaitable[None]]

CONVERSATION_STARTED = "conversation.started"
HANDOFF_REQUESTED = "conversation.handoff_requested"
CONVERSATION_CLOSED = "conversation.closed"
RATING_RECEIVED = "conversation.rating_received"
# Awaited, not fired: a closed conversation's text is about to be purged (transcripts not stored);
# subscribers read it now or never. `closed` follows with transcript_purged=True.
TRANSCRIPT_PURGING = "conversation.transcript_purging"


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def on(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def emit(self, name: str, payload: dict[str, Any]) -> None:
        for handler in self._handlers.get(name, ()):
            task = asyncio.create_task(self._run(name, handler, payload), name=f"confide-event-{name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def emit_and_wait(self, name: str, payload: dict[str, Any]) -> None:
        """Run the handlers now and wait for them (for events whose subscribers must finish first)."""
        await asyncio.gather(*(self._run(name, handler, payload) for handler in self._handlers.get(name, ())))

    async def _run(self, name: str, handler: Handler, payload: dict[str, Any]) -> None:
        try:
            await handler(payload)
        except Exception as exc:  # a failing subscriber must not disturb the chat or other subscribers
            log.error("event handler failed", extra={"event": name, "handler": getattr(handler, "__qualname__", "?"), "error": type(exc).__name__})

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
