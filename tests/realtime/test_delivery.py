"""SeqDelivery.send_beside: frames sent from a task of their own, with nothing delivered before or
between them (an avatar's last text goes out while its message is stored; a frame from the broker
must not overtake it, nor a gap fill replay the message ahead of its own text)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from confide.realtime.delivery import SeqDelivery
from confide.realtime.replies import AvatarTurn


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
    assert d.lock.locked(), "taken before send_beside returns, not when its task first runs"
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


# ---- the avatar's turn: a store that fails or is cancelled while its last text goes out -----------


class FailingWriter:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.started = asyncio.Event()

    async def append(self, **_: Any) -> Any:
        self.started.set()
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()  # a store that never returns (until cancelled)


def turn_with(writer: FailingWriter, d: SeqDelivery) -> AvatarTurn:
    runtime = SimpleNamespace(writer=writer)
    return AvatarTurn(runtime, None, SimpleNamespace(tenant_id="ten_x", id="cnv_x", status="avatar"), "en", d)  # type: ignore[arg-type]


LAST = [{"type": "delta", "reply_to": "c1", "index": 0, "text": "We open at nine."}]


async def test_a_failed_store_still_shows_the_last_text_and_frees_delivery() -> None:
    sent: list[dict[str, Any]] = []
    d = delivery(sent)

    with pytest.raises(RuntimeError, match="database away"):
        await turn_with(FailingWriter(RuntimeError("database away")), d)._say("We open at nine.", rule_ids=[], reply_to="c1", deltas=LAST)

    assert sent == LAST and not d.lock.locked()


async def test_a_cancelled_turn_stops_its_last_text_and_frees_delivery() -> None:
    sent: list[dict[str, Any]] = []
    gate = asyncio.Event()

    async def slow_send(frame: dict[str, Any]) -> None:
        await gate.wait()  # a socket that does not take the frame yet
        sent.append(frame)

    d = SeqDelivery(slow_send, None, "cnv_x", tag_conversation=False)  # type: ignore[arg-type]
    writer = FailingWriter()
    saying = asyncio.create_task(turn_with(writer, d)._say("We open at nine.", rule_ids=[], reply_to="c1", deltas=LAST))
    await writer.started.wait()
    saying.cancel()
    await asyncio.gather(saying, return_exceptions=True)
    gate.set()
    await asyncio.sleep(0)

    assert saying.cancelled() and sent == [] and not d.lock.locked()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "confide-send-beside" and not t.done()]


def speculative_turn(work: Any) -> AvatarTurn:
    turn = turn_with(FailingWriter(), delivery([]))
    turn._task = asyncio.create_task(work())
    return turn


async def test_dropping_a_turn_that_failed_reads_its_error(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("alice@example.com")

    turn = speculative_turn(fails)
    await asyncio.wait([turn._task])  # type: ignore[list-item]

    await turn.drop()

    (record,) = [r for r in caplog.records if r.name == "confide.realtime.replies"]
    assert record.getMessage() == "a dropped avatar turn had failed" and record.error_type == "ValueError"  # type: ignore[attr-defined]


async def test_a_caller_cancelled_while_dropping_a_turn_stays_cancelled() -> None:
    stopping = asyncio.Event()

    async def shields_its_end() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await stopping.wait()  # a turn that takes a while to close its LLM stream

    turn = speculative_turn(shields_its_end)
    await asyncio.sleep(0)
    dropping = asyncio.create_task(turn.drop())
    await asyncio.sleep(0)
    dropping.cancel()  # the connection's own task is cancelled meanwhile (shutdown)
    stopping.set()
    await asyncio.gather(dropping, return_exceptions=True)

    assert dropping.cancelled()
