"""Gap-free resume: connections dropped at random points, many times; every message exactly once, in order."""

from __future__ import annotations

import asyncio
import contextlib
import random

from sqlalchemy import select

from confide.chats.models import Message
from confide.realtime import channels
from confide.realtime import operator as operator_module
from confide.realtime.protocol import message_frame
from confide.realtime.visitor import VisitorConnection
from tests.support.chat import Closed, operator, visitor


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


async def _store_and_publish(app, conversation_id: str, tenant_id: str, text: str) -> int:  # noqa: ANN001
    """An operator's message stored and fanned out as another node would: its frame reaches the subscriptions."""
    rt = app.state.chat
    message, _ = await rt.writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="operator", text=text)
    await rt.publish(channels.conversation(conversation_id), message_frame(message, conversation_id=conversation_id))
    return message.seq


async def _window(sent_something) -> None:  # noqa: ANN001
    """Hold the window open: until a forwarder that should not run yet has sent something (the bug), or 0.5 s
    (the absence this test asserts has no event to wait for)."""
    for _ in range(50):
        if sent_something():
            return
        await asyncio.sleep(0.01)


async def test_a_frame_published_while_a_resume_catches_up_repeats_nothing(app, base, shop, monkeypatch):
    """A live frame that reached a resuming connection between its subscribing and its welcome found nothing sent
    yet and replayed the conversation from seq 1, ahead of the welcome (review, 2026-12-01)."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        token, conversation_id = welcome["visitor_token"], welcome["conversation_id"]
        await chat.expect("message")  # the greeting
        await chat.say("When are you open?", "r1")
        last_seq = (await chat.expect("message"))["seq"]  # the reply
    original = VisitorConnection._welcome
    published: list[int] = []

    async def welcome_after_a_live_frame(self, hello):  # noqa: ANN001, ANN202
        published.append(await _store_and_publish(app, conversation_id, shop["tenant_id"], "Hello, Sam here."))
        await _window(lambda: self.delivery.sent_seq > 0)  # a forwarder, if one ran already, sends what it got
        await original(self, hello)

    monkeypatch.setattr(VisitorConnection, "_welcome", welcome_after_a_live_frame)
    async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": last_seq}) as (chat, welcome):
        assert chat.frames[0]["type"] == "welcome", chat.frames
        frame = await chat.expect("message")
        assert frame["seq"] == published[0] == last_seq + 1 and frame["text"] == "Hello, Sam here."
        with contextlib.suppress(TimeoutError):
            while True:
                extra = await chat.recv(timeout=0.3)
                assert extra.get("seq") is None, f"sent again: {extra}"


async def test_a_frame_published_while_an_operator_joins_comes_after_joined_once(app, base, shop, monkeypatch):
    """The same window on the operator's side: a live frame between subscribing and `joined` replayed the transcript
    ahead of `joined`."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")  # the greeting
        await chat.say("When are you open?", "j1")
        last_seq = (await chat.expect("message"))["seq"]
    published: list[int] = []

    async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
        real_join = operator_module.OperatorConnection._join

        async def join_with_a_live_frame(self, cid):  # noqa: ANN001, ANN202
            real_send = self._send

            async def send(frame):  # noqa: ANN001, ANN202
                if frame.get("type") == "joined" and not published:
                    published.append(await _store_and_publish(app, conversation_id, shop["tenant_id"], "Sam here."))
                    await _window(lambda: self.watching[cid][0].sent_seq > 0)
                await real_send(frame)

            self._send = send
            try:
                await real_join(self, cid)
            finally:
                del self._send

        monkeypatch.setattr(operator_module.OperatorConnection, "_join", join_with_a_live_frame)
        await ops.send({"type": "join", "conversation_id": conversation_id})
        joined = await ops.expect("joined")
        assert joined["conversation"]["id"] == conversation_id
        seqs = []
        while len(seqs) < published[0]:
            frame = await ops.recv()
            if frame.get("seq") is not None and frame["type"] != "ack":
                seqs.append(frame["seq"])
        assert seqs == list(range(1, last_seq + 2)), seqs
        assert [f["type"] for f in ops.frames].index("joined") < min(i for i, f in enumerate(ops.frames) if f.get("seq") is not None)
