"""The operator websocket's faults a probe found (2026-12), a section each; every interleaving is forced with events,
not sleeps."""

from __future__ import annotations

from typing import Any

from tests.support.chat import ChatClient, connect


async def _next_of(chat: ChatClient, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


# ---- E: an invalid hello names its fields ----------------------------------------------------------------------


async def test_an_invalid_operator_hello_names_the_fields_at_fault(base, shop):
    """The same fault in a later frame named its fields in `errors[]`; in the hello it did not (close 4400)."""
    url = f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator"
    cases = [
        ({"type": "hello", "token": 5}, "invalid-frame", "token"),
        ({"type": "hello", "token": "t", "extra": 1}, "invalid-frame", "extra"),
        ({"type": "hello"}, "invalid-frame", "token"),
        ({"type": "helo", "token": "t"}, "unknown-frame-type", "type"),
    ]
    for frame, slug, field in cases:
        async with connect(url, origin=None) as ops:
            await ops.send(frame)
            problem = (await ops.recv())["problem"]
            assert problem["type"].endswith(f"/{slug}") and problem["close_code"] == 4400, (frame, problem)
            assert field in [e["field"] for e in problem["errors"]], (frame, problem)
            assert (await ops.closed()).code == 4400
