"""Gap-free resume: connections dropped at random points, many times; every message exactly once, in order."""

from __future__ import annotations

import random

from sqlalchemy import select

from confide.chats.models import Message
from tests.support.chat import Closed, visitor


async def test_random_drops_lose_nothing_and_duplicate_nothing(app, base, shop):
    rng = random.Random(20261129)
    seen: dict[int, dict] = {}
    token = None
    conversation_id = None
    last_seq = 0
    sent = 0
    total = 30
    rounds = 0
    while sent < total:
        rounds += 1
        hello = {"visitor_token": token} if token else {}
        if conversation_id:
            hello["resume"] = {"conversation_id": conversation_id, "last_seq": last_seq}
        async with visitor(base, shop["widget_key"], **hello) as (chat, welcome):
            token = token or welcome["visitor_token"]
            assert conversation_id in (None, welcome["conversation_id"])
            conversation_id = welcome["conversation_id"]
            drop_after = rng.randint(1, 6)  # frames to read before dropping
            unacked = None
            try:
                reads = 0
                while reads < drop_after:
                    if unacked is None and sent >= total:
                        break
                    if unacked is None:
                        unacked = f"m{sent}"
                        await chat.send({"type": "message", "client_message_id": unacked, "text": f"question {sent}: when are you open?"})
                    try:
                        frame = await chat.recv(timeout=10)
                    except TimeoutError:
                        raise AssertionError(f"stalled: unacked={unacked} sent={sent} last_seq={last_seq} frames={chat.frames[-6:]}")
                    reads += 1
                    if frame["type"] == "ack":
                        assert frame["client_message_id"] == unacked
                        unacked = None
                        sent += 1
                        if frame["duplicate"]:
                            continue
                    if frame.get("seq") is not None and frame["type"] != "ack":
                        assert frame["seq"] == last_seq + 1, f"gap or disorder: got {frame['seq']} after {last_seq}"
                        assert frame["seq"] not in seen, "duplicate frame"
                        seen[frame["seq"]] = frame
                        last_seq = frame["seq"]
                    elif frame["type"] == "ack" and frame["seq"] > last_seq:
                        # our own message: acked, counts as seen at its seq
                        assert frame["seq"] == last_seq + 1
                        seen[frame["seq"]] = frame
                        last_seq = frame["seq"]
            except Closed:
                pass
        # Dropped without a goodbye. An unacknowledged message is sent again next round with the same id.
    assert rounds > 3
    # drain: one last connection collects whatever is left
    async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": last_seq}) as (chat, _):
        try:
            while True:
                frame = await chat.recv(timeout=1.5)
                if frame.get("seq") is not None:
                    assert frame["seq"] == last_seq + 1 and frame["seq"] not in seen
                    seen[frame["seq"]] = frame
                    last_seq = frame["seq"]
        except TimeoutError:
            pass
    async with app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))).all()
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1)), "sequence numbers have a gap"
    assert sorted(seen) == [m.seq for m in stored], "the client missed or repeated something"
    visitor_ids = [m.client_message_id for m in stored if m.author == "visitor"]
    assert len(visitor_ids) == len(set(visitor_ids)) == total, "each message stored exactly once"
