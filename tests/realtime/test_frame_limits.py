"""What the audit of the widget socket's bad paths found: frames of any kind are rate-limited (on the
operators' socket too), a resume past the end and a message after the end are handled, operator and
visitor ids cannot collide, and a long-lived connection keeps its place under the per-visitor cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from confide.chats.models import Message
from tests.support.chat import Closed, connect, operator, published_avatar, visitor


@asynccontextmanager
async def served(backend: Any, **settings: Any) -> AsyncIterator[tuple[Any, str, dict[str, Any]]]:
    """An app of its own (its own limits) on a loopback port, with a published avatar: (app, url, avatar),
    the avatar's dict naming its tenant and its owner's token too."""
    from confide.app import create_app
    from tests.conftest import client_for, running
    from tests.support.chat import live_server
    from tests.support.factory import Factory
    from tests.support.outbox import Outbox

    app = create_app(backend.settings(**settings))
    async with running(app), client_for(app) as api, live_server(app) as url:
        f = Factory(api, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
        owner = await f.user()
        tenant_id = await f.tenant(owner)
        yield app, url, {**(await published_avatar(api, owner, tenant_id)), "tenant_id": tenant_id, "owner_token": owner.token}


async def _until_closed(chat: Any) -> tuple[list[str], Closed]:
    seen: list[str] = []
    while True:
        try:
            frame = await chat.recv(timeout=10)
        except Closed as closed:
            return seen, closed
        seen.append(frame["problem"]["type"].rsplit("/", 1)[1] if frame["type"] == "error" else frame["type"])


async def test_frames_of_any_kind_are_rate_limited_then_the_connection_closes(backend):
    """Typing, ping and invalid frames were never rate-limited: 300 of each were answered (and typing
    went out to the operators through the broker) without an error or a close."""
    async with served(backend, chat_frame_burst=3, chat_frames_per_second=0.001, chat_flood_strikes=2) as (_, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            await chat.expect("message")
            for frame in ({"type": "ping"}, "{not json", {"type": "typing", "active": True}, {"type": "ping"}, {"type": "ping"}):
                await chat.send(frame)
            seen, closed = await _until_closed(chat)
    assert seen[:3] == ["pong", "invalid-json", "rate-limited"] and closed.code == 4429
    assert seen.count("rate-limited") == 3 and "pong" not in seen[1:]  # two strikes (the typing frame, a ping), then the close with its own


async def test_an_operators_frames_are_rate_limited_then_the_connection_closes(backend):
    """Operator connections had no frame budget: a flood of pings, typing or invalid frames was answered
    frame by frame, each but ping also costing a database round trip (the re-authorisation)."""
    async with served(backend, chat_frame_burst=3, chat_frames_per_second=0.001, chat_flood_strikes=2) as (_, url, avatar):
        async with operator(url, avatar["tenant_id"], avatar["owner_token"]) as (ops, _):
            for frame in ({"type": "ping"}, "{not json", {"type": "queue"}, {"type": "ping"}, {"type": "ping"}):
                await ops.send(frame)
            seen, closed = await _until_closed(ops)
    seen = [kind for kind in seen if kind not in ("presence", "queue_update")]
    assert seen[:4] == ["pong", "invalid-json", "queue", "rate-limited"] and closed.code == 4429
    assert seen.count("rate-limited") == 3 and "pong" not in seen[1:]  # two strikes (two pings), then the close with its own


async def test_a_resume_past_the_end_counts_as_the_end(base, shop):
    """last_seq 50 in a conversation at seq 3 hid every later frame: the next message was stored, but
    its ack and its reply never came."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        token = welcome["visitor_token"]
    resume = {"conversation_id": welcome["conversation_id"], "last_seq": 50}
    async with visitor(base, shop["widget_key"], visitor_token=token, resume=resume) as (chat, again):
        assert again["resumed"] is True
        ack = await chat.say("When are you open?", "past-1")
        assert ack["seq"] == 2
        reply = await chat.expect("message")
        assert reply["author"] == "avatar" and reply["seq"] == 3
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:  # beyond a 32-bit seq: not a valid hello
        await chat.send({"type": "hello", "visitor_token": token, "resume": {"conversation_id": welcome["conversation_id"], "last_seq": 2**40}})
        assert (await chat.closed()).code == 4400


async def test_a_message_after_the_end_is_refused_and_not_stored(app, base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.send({"type": "end"})
        await chat.expect("closed")
        await chat.send({"type": "message", "client_message_id": "late", "text": "my name is Erika Mustermann"})
        error = await chat.expect("error")
        assert error["problem"]["type"].endswith("/conversation-closed")
        await chat.send({"type": "rating", "score": 4})  # what the end asks for still works
        assert (await chat.expect("rating"))["type"] == "rating"
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == welcome["conversation_id"]))).all()
    assert not any("Erika" in (t or "") for t in texts)


async def test_a_visitor_cannot_take_an_operators_message_id(app, base, shop):
    """Operator ids were stored as "op:" + id, which a visitor's id may spell too: a visitor's "op:o1"
    turned the operator's "o1" into a duplicate, never stored or delivered."""
    owner = shop["owner"]
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        assert (await chat.say("Can you approve my refund for order 123?", "op:o1"))["duplicate"] is False
        async with operator(base, shop["tenant_id"], owner.token) as (ops, _):
            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "o1", "text": "Hi, Sam here"})
            while (ack := await ops.recv())["type"] != "ack":
                pass
            assert ack["duplicate"] is False and ack["client_message_id"] == "o1"
            long_id = "x" * 62  # stored with its prefix, 61 is the most that fits
            await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": long_id, "text": "a note"})
            while (error := await ops.recv())["type"] != "error":
                pass
            assert error["problem"]["type"].endswith("/invalid-frame")
            await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": long_id[:61], "text": "a note"})
            while (ack := await ops.recv())["type"] != "ack":
                pass
            assert ack["duplicate"] is False
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id, Message.author == "operator"))).all()
    assert "Hi, Sam here" in texts and "a note" in texts


async def test_a_long_lived_connection_keeps_its_place_under_the_cap(backend, monkeypatch):
    """The connection's membership in its visitor's group expired after the idle timeout plus a margin
    although the connection stayed open: then one more connection was let in each time."""
    from confide.realtime import visitor as visitor_module

    monkeypatch.setattr(visitor_module, "MEMBERSHIP_MARGIN_SECONDS", 0.3)
    monkeypatch.setattr(visitor_module, "MEMBERSHIP_RENEWAL_SECONDS", 0.1)
    async with served(backend, chat_idle_timeout_seconds=0.4, chat_max_connections_per_visitor=1) as (_, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, welcome):
            await chat.expect("message")
            for _ in range(8):  # 1.6 s of pings, twice the membership's life (0.7 s) without renewal
                await chat.send({"type": "ping"})
                await chat.expect("pong")
                await asyncio.sleep(0.2)  # time must pass here: the membership's expiry is what is tested
            async with connect(f"{url}/v1/widget/{avatar['widget_key']}/chat") as second:
                await second.send({"type": "hello", "visitor_token": welcome["visitor_token"]})
                assert (await second.closed()).code == 4409


async def test_a_broker_failing_at_the_renewal_costs_no_frame(backend, monkeypatch):
    """The renewal ran before the frame's own handling: a broker error there turned a message into a
    frame-failed error, unstored. Like the rate check, it fails open now."""
    from confide.realtime import visitor as visitor_module

    monkeypatch.setattr(visitor_module, "MEMBERSHIP_RENEWAL_SECONDS", 0.0)
    async with served(backend) as (app, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            await chat.expect("message")

            async def broker_away(*_args: Any, **_kwargs: Any) -> None:
                raise ConnectionError("the broker is away")

            monkeypatch.setattr(app.state.chat.broker, "member_add", broker_away)
            ack = await chat.say("When are you open?", "renew-1")
            assert ack["type"] == "ack" and ack["duplicate"] is False


async def _flood_then_slow_down(chat: Any) -> list[str]:
    """Twice: a wait for the allowance to refill (0.2 s a frame at 5 frames/s; time passing is the event
    here), then a burst of two pings, the second over the allowance; last, one more ping after a wait."""
    seen: list[str] = []

    async def next_kind() -> str:
        while True:
            frame = await chat.recv(timeout=10)
            if frame["type"] in ("presence", "queue_update", "queue"):
                continue
            return frame["problem"]["type"].rsplit("/", 1)[1] if frame["type"] == "error" else frame["type"]

    for _ in range(2):
        await asyncio.sleep(0.25)
        await chat.send({"type": "ping"})
        await chat.send({"type": "ping"})
        seen += [await next_kind(), await next_kind()]
    await asyncio.sleep(0.25)
    await chat.send({"type": "ping"})
    seen.append(await next_kind())
    return seen


async def test_a_client_that_slows_down_is_forgiven_its_strikes(backend):
    """Strikes were never forgiven: a visitor or operator socket open all day was closed (4429) after its
    fifth rate-limited frame, however far apart they were and however well it waited retry_after."""
    expected = ["pong", "rate-limited", "pong", "rate-limited", "pong"]
    async with served(backend, chat_frame_burst=1, chat_frames_per_second=5, chat_flood_strikes=2) as (_, url, avatar):
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            await chat.expect("message")
            assert await _flood_then_slow_down(chat) == expected
        async with operator(url, avatar["tenant_id"], avatar["owner_token"]) as (ops, _):
            assert await _flood_then_slow_down(ops) == expected
