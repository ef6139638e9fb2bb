"""Every `rate-limited` problem says when to come back (protocol.md: "rate-limited (with retry_after)"): the
refusal of one connection too many from an address, and the close after a flood on either socket, came without
it (probe, 2026-12-02), so a client could only guess its back-off."""

from __future__ import annotations

import uuid
from typing import Any

from tests.realtime.test_frame_limits import served
from tests.support.chat import Closed, connect, operator, visitor


async def _problems_until_closed(chat: Any) -> tuple[list[dict[str, Any]], Closed]:
    problems: list[dict[str, Any]] = []
    while True:
        try:
            frame = await chat.recv(timeout=10)
        except Closed as closed:
            return problems, closed
        if frame["type"] == "error":
            problems.append(frame["problem"])


def _waits(problems: list[dict[str, Any]], window: int) -> list[int]:
    limited = [p for p in problems if p["type"].endswith("/rate-limited")]
    assert limited, problems
    for problem in limited:
        assert type(problem.get("retry_after")) is int and 1 <= problem["retry_after"] <= window, problem
    return [p["retry_after"] for p in limited]


async def test_the_flood_close_of_either_socket_says_retry_after(backend):
    async with served(backend, chat_frame_burst=2, chat_frames_per_second=0.01, chat_flood_strikes=2) as (_, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            await chat.expect("message")
            for _ in range(4):
                await chat.send({"type": "ping"})
            problems, closed = await _problems_until_closed(chat)
        assert closed.code == 4429 and problems[-1].get("close_code") == 4429, problems
        assert len(_waits(problems, 100)) == 3  # two strikes, then the close with its own
        async with operator(url, avatar["tenant_id"], avatar["owner_token"]) as (ops, _):
            for _ in range(4):
                await ops.send({"type": "ping"})
            problems, closed = await _problems_until_closed(ops)
        assert closed.code == 4429 and problems[-1].get("close_code") == 4429, problems
        assert len(_waits(problems, 100)) == 3


async def test_one_connection_too_many_from_an_address_is_refused_with_retry_after(backend):
    # Keys of its own on Redis: the suite's other connections from 127.0.0.1 count in the backend's namespace.
    prefix = f"{backend.redis_prefix}address-limit-{uuid.uuid4().hex}:"
    async with served(backend, chat_address_connects_per_window=1, chat_rate_window_seconds=60, redis_prefix=prefix) as (_, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            await chat.expect("message")
        async with connect(f"{url}/v1/widget/{avatar['widget_key']}/chat") as chat:
            problems, closed = await _problems_until_closed(chat)
    assert closed.code == 4429 and problems[-1].get("close_code") == 4429, problems
    assert _waits(problems, 60) == [problems[-1]["retry_after"]]
