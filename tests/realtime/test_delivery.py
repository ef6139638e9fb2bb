"""SeqDelivery.send_beside: frames sent from a task of their own, with nothing delivered before or
between them (an avatar's last text goes out while its message is stored; a frame from the broker
must not overtake it, nor a gap fill replay the message ahead of its own text)."""

from __future__ import annotations

import asyncio
from typing import Any

from confide.realtime.delivery import SeqDelivery


def delivery(sent: list[dict[str, Any]]) -> SeqDelivery:
    async def send(frame: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # a socket write may yield: another frame could slip in here
        sent.append(frame)

    d = SeqDelivery(send, None, "cnv_x", tag_conversation=False)  # type: ignore[arg-type]  # no gap: never reads storage
    d.sent_seq = 1
    return d


async def test_a_frame_delivered_meanwhile_waits_for_the_frames_sent_beside() -> None:
    sent: list[dict[str, Any]] = []
    d = delivery(sent)

    beside = await d.send_beside([{"type": "delta", "index": 0}, {"type": "delta", "index": 1}])
    other = asyncio.create_task(d.deliver({"type": "message", "seq": 2}))
    await asyncio.gather(beside, other)

    assert sent == [{"type": "delta", "index": 0}, {"type": "delta", "index": 1}, {"type": "message", "seq": 2}]
    assert not d.lock.locked()


async def test_the_lock_is_released_when_the_frames_are_cancelled_before_they_went() -> None:
    sent: list[dict[str, Any]] = []
    d = delivery(sent)

    beside = await d.send_beside([{"type": "delta", "index": 0}])
    beside.cancel()
    await asyncio.gather(beside, return_exceptions=True)
    await asyncio.wait_for(d.deliver({"type": "message", "seq": 2}), 1)

    assert sent == [{"type": "message", "seq": 2}] and not d.lock.locked()
