"""The conversation's status decides, where each write is stored: an avatar reply or handoff that was on its way
when an operator took over or closed, a visitor's `end` racing a staff close, the close's transcript purge racing a
reopen (review, 2026-12-01: each of these once stored over the newer status). Each test holds one side at a chosen
point with events, so the interleaving is the same on every run."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from confide.chats.models import Conversation, Message
from confide.core import events
from confide.privacy.gate import Purpose, PurposeNotInstructed
from confide.realtime import replies, transitions
from confide.realtime import visitor as visitor_module
from tests.conftest import client_for
from tests.support.chat import hold_replies, operator, visitor


async def _next_of(chat: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def _stored(app: Any, conversation_id: str) -> tuple[Conversation, list[tuple[int | None, str, str | None, str]]]:
    async with app.state.sessionmaker() as session:
        conversation = await session.get(Conversation, conversation_id)
        rows = (await session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))).all()
    return conversation, [(m.seq, m.author, m.event, m.text) for m in rows]


async def _forgetful_shop(app: Any, client: Any, factory: Any, name: str) -> dict[str, Any]:
    from tests.support.chat import shop_with_avatar

    shop = await shop_with_avatar(client, factory, name)
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/privacy/instructions", json={"purposes": {"store_transcripts": False}}, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    app.state.purpose_gate.invalidate(shop["tenant_id"])
    return shop


def _when_done(monkeypatch: Any, name: str) -> asyncio.Event:
    """An event set each time AvatarTurn.`name` has ended, however it ended."""
    done = asyncio.Event()
    method = getattr(replies.AvatarTurn, name)

    async def signalled(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        finally:
            done.set()

    monkeypatch.setattr(replies.AvatarTurn, name, signalled)
    return done


def _hold_the_reply(monkeypatch: Any, app: Any) -> tuple[asyncio.Event, asyncio.Event, asyncio.Event]:
    """The next reply streams its first delta, then waits for `go`; `done` is set once its turn has ended."""
    started, go = asyncio.Event(), asyncio.Event()
    hold_replies(monkeypatch, app, started, go)
    return started, go, _when_done(monkeypatch, "answer")


async def test_a_reply_on_its_way_when_an_operator_takes_over_is_not_stored_nor_shown(app, base, shop, monkeypatch):
    started, go, done = _hold_the_reply(monkeypatch, app)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.send({"type": "message", "client_message_id": "v1", "text": "When are you open?"})
        await asyncio.wait_for(started.wait(), 10)
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
            await ops.send({"type": "take_over", "conversation_id": conversation_id})
            await _next_of(chat, "operator_joined")
            go.set()
            await asyncio.wait_for(done.wait(), 10)
            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "o1", "text": "Sam here."})
            assert (await _next_of(chat, "message"))["author"] == "operator", chat.frames
    conversation, rows = await _stored(app, conversation_id)
    assert conversation.status == "operator" and [r[1] for r in rows if r[0] > 2] == ["operator", "operator"], rows  # joined, Sam
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "seq without gaps"


async def test_a_reply_on_its_way_at_a_close_is_not_stored_and_the_purge_leaves_nothing(app, base, client, factory, monkeypatch):
    shop = await _forgetful_shop(app, client, factory, "Forgets GmbH")
    owner, tenant_id = shop["owner"], shop["tenant_id"]
    started, go, done = _hold_the_reply(monkeypatch, app)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.send({"type": "message", "client_message_id": "v1", "text": "I am Erika; when are you open?"})
        await asyncio.wait_for(started.wait(), 10)
        r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/close", headers=owner.headers)
        assert r.status_code == 200, r.text
        await _next_of(chat, "closed")
        go.set()
        await asyncio.wait_for(done.wait(), 10)
    await app.state.services.events.drain()
    conversation, rows = await _stored(app, conversation_id)
    assert conversation.status == "closed" and rows == [], rows
    assert not [f for f in chat.frames if f["type"] == "message" and f["author"] == "avatar" and f.get("reply_to") == "v1"]


def _hold_the_answer(monkeypatch: Any, app: Any) -> tuple[asyncio.Event, asyncio.Event, asyncio.Event]:
    """The next avatar turn stops at its purpose check until `go`, then finds answering not instructed: a handoff.
    `done` is set once the handoff has tried to store itself."""
    rt = app.state.chat
    entered, go = asyncio.Event(), asyncio.Event()
    authorize = rt.gate.authorize_chat

    async def held(sessionmaker: Any, *, purpose: Purpose, **kwargs: Any) -> Any:
        if purpose == Purpose.ANSWER_CHAT and not go.is_set():
            entered.set()
            await go.wait()
            refused = PurposeNotInstructed.__new__(PurposeNotInstructed)
            Exception.__init__(refused, "held by the test")
            raise refused
        return await authorize(sessionmaker, purpose=purpose, **kwargs)

    monkeypatch.setattr(rt.gate, "authorize_chat", held)
    return entered, go, _when_done(monkeypatch, "hand_off")


async def test_a_handoff_on_its_way_does_not_undo_a_take_over_or_a_close(app, base, shop, monkeypatch):
    rt = app.state.chat
    for action, status in (("take_over", "operator"), ("close", "closed")):
        entered, go, done = _hold_the_answer(monkeypatch, app)
        async with visitor(base, shop["widget_key"]) as (chat, welcome):
            conversation_id = welcome["conversation_id"]
            await chat.expect("message")
            await chat.send({"type": "message", "client_message_id": "v1", "text": "When are you open?"})
            await asyncio.wait_for(entered.wait(), 10)
            await transitions.apply(rt, tenant_id=shop["tenant_id"], conversation_id=conversation_id, action=action, operator_id=shop["owner"].id)
            go.set()
            await asyncio.wait_for(done.wait(), 10)
        conversation, rows = await _stored(app, conversation_id)
        assert conversation.status == status, (action, conversation.status, rows)
        assert "handoff" not in [r[2] for r in rows], rows
        assert (conversation.assignee_id == shop["owner"].id) == (action == "take_over") and (conversation.closed_at is not None) == (action == "close")


async def test_a_visitors_end_racing_a_staff_close_closes_once(app, base, client, shop, monkeypatch):
    rt = app.state.chat
    closed: list[dict[str, Any]] = []
    emit = rt.emit

    def counting(name: str, conversation: Any, **payload: Any) -> None:
        if name == events.CONVERSATION_CLOSED:
            closed.append(payload)
        emit(name, conversation, **payload)

    monkeypatch.setattr(rt, "emit", counting)
    entered, go = asyncio.Event(), asyncio.Event()
    append = visitor_module.chats.append

    async def held(session: Any, **kwargs: Any) -> Any:
        if kwargs.get("event") == "closed" and kwargs.get("author") == "visitor" and not go.is_set():
            entered.set()
            await go.wait()
        return await append(session, **kwargs)

    monkeypatch.setattr(visitor_module.chats, "append", held)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.send({"type": "end"})
        await asyncio.wait_for(entered.wait(), 10)
        r = await client.post(f"/v1/tenants/{shop['tenant_id']}/conversations/{conversation_id}/close", headers=shop["owner"].headers)
        assert r.status_code == 200, r.text
        go.set()
        await _next_of(chat, "closed")
        await chat.send({"type": "ping"})
        await _next_of(chat, "pong")  # the end was handled
    conversation, rows = await _stored(app, conversation_id)
    assert conversation.status == "closed" and [r[2] for r in rows].count("closed") == 1, rows
    assert [c["closed_by"] for c in closed] == ["operator"], closed


async def test_a_reopen_while_the_close_purges_keeps_the_conversation_whole(app, base, client, factory, monkeypatch):
    shop = await _forgetful_shop(app, client, factory, "Forgets Too GmbH")
    owner, tenant_id = shop["owner"], shop["tenant_id"]
    rt = app.state.chat
    entered, go = asyncio.Event(), asyncio.Event()
    emit_and_wait = rt.events.emit_and_wait

    async def held(name: str, payload: dict[str, Any]) -> None:
        if name == events.TRANSCRIPT_PURGING and not go.is_set():
            entered.set()
            await go.wait()
        await emit_and_wait(name, payload)

    monkeypatch.setattr(rt.events, "emit_and_wait", held)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        closing = asyncio.create_task(client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/close", headers=owner.headers))
        await asyncio.wait_for(entered.wait(), 10)
        async with client_for(app) as other:
            r = await other.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/reopen", headers=owner.headers)
        assert r.status_code == 200 and r.json()["status"] == "avatar", r.text
        go.set()
        assert (await closing).status_code == 200
    conversation, rows = await _stored(app, conversation_id)
    assert conversation.status == "avatar" and [r[2] for r in rows] == [None, "closed", "reopened"], rows
    assert "AI" in rows[0][3], "the greeting with the AI disclosure is kept"


async def test_the_store_refuses_a_reply_the_connection_did_not_see_overtaken(app, base, shop, monkeypatch):
    """The status as stored decides, even before this connection hears of the change (another node's take-over
    whose frame is still on its way): the reply is not stored and gets no final frame."""
    from sqlalchemy import update

    started, go, done = _hold_the_reply(monkeypatch, app)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.send({"type": "message", "client_message_id": "v1", "text": "When are you open?"})
        await asyncio.wait_for(started.wait(), 10)
        async with app.state.sessionmaker() as session:  # taken over elsewhere; nothing published to this node
            await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(status="operator"))
            await session.commit()
        go.set()
        await asyncio.wait_for(done.wait(), 10)
        await chat.send({"type": "ping"})
        await _next_of(chat, "pong")
    conversation, rows = await _stored(app, conversation_id)
    assert conversation.status == "operator" and [r[1] for r in rows] == ["avatar", "visitor"], rows  # the greeting, the question
    assert not [f for f in chat.frames if f["type"] == "message" and f.get("reply_to") == "v1"], chat.frames


async def test_a_note_or_a_rating_comment_racing_a_close_does_not_outlive_its_purge(app, base, client, factory, monkeypatch):
    """Where transcripts are not kept, a note or a rating's comment checked as for a live conversation, then stored
    after a close that committed meanwhile (and had purged the rest), outlived the conversation (review, 2026-12-01)."""
    from confide.realtime import operator as operator_module

    shop = await _forgetful_shop(app, client, factory, "Forgets Notes GmbH")
    rt = app.state.chat
    review = operator_module.OperatorConnection._authorize_review
    closed_once: list[str] = []

    async def closing_after_review(self: Any, conversation: Any) -> None:
        await review(self, conversation)
        if not closed_once:  # a colleague closes it right now, from the inbox or another node
            closed_once.append(conversation.id)
            await transitions.apply(rt, tenant_id=shop["tenant_id"], conversation_id=conversation.id, action="close", operator_id=None)

    monkeypatch.setattr(operator_module.OperatorConnection, "_authorize_review", closing_after_review)
    async with visitor(base, shop["widget_key"]) as (_, welcome):
        noted = welcome["conversation_id"]
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
            await ops.send({"type": "note", "conversation_id": noted, "client_message_id": "n1", "text": "Erika lives at Hauptstr. 5"})
            answer = await ops.recv()
            while answer["type"] not in ("ack", "error"):
                answer = await ops.recv()
            assert answer["type"] == "error" and answer["problem"]["type"].endswith("/purpose-not-instructed"), answer
    monkeypatch.setattr(operator_module.OperatorConnection, "_authorize_review", review)

    append = visitor_module.chats.append
    rated_once: list[str] = []

    async def closing_before_the_rating(session: Any, **kwargs: Any) -> Any:
        if kwargs.get("event") == "rating" and not rated_once:
            rated_once.append(kwargs["conversation_id"])
            await transitions.apply(rt, tenant_id=kwargs["tenant_id"], conversation_id=kwargs["conversation_id"], action="close", operator_id=None)
        return await append(session, **kwargs)

    monkeypatch.setattr(visitor_module.chats, "append", closing_before_the_rating)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        rated = welcome["conversation_id"]
        await chat.send({"type": "rating", "score": 2, "comment": "call me at 0171 1234567"})
        got = await chat.recv()
        while got["type"] not in ("rating", "error"):
            got = await chat.recv()
        assert got["type"] == "rating" and got["text"] == "", got
    await app.state.services.events.drain()
    for conversation_id in (noted, rated):
        conversation, rows = await _stored(app, conversation_id)
        assert conversation.status == "closed" and not [r for r in rows if r[3]], rows
    async with app.state.sessionmaker() as session:
        notes = (await session.scalars(select(Message.text).where(Message.conversation_id == noted, Message.kind == "note"))).all()
    assert notes == []


async def test_a_message_stored_just_before_a_frame_from_elsewhere_still_gets_its_ack(app, base, shop, monkeypatch):
    """Forced order: the visitor's message is stored (seq N), then an operator's message (N+1, written on another
    node) reaches the connection before the message's ack. The gap fill sent N as a plain `message` and the ack N
    was then dropped as already seen: a stored message without its ack (found by a websocket probe, on SQLite).
    Now the fill sends the ack in its place, so the client gets its ack, then N+1, each seq once."""
    from confide.chats import service as chats
    from confide.realtime import delivery as delivery_module
    from confide.realtime.protocol import message_frame

    deliveries: list[Any] = []
    init = delivery_module.SeqDelivery.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        deliveries.append(self)

    monkeypatch.setattr(delivery_module.SeqDelivery, "__init__", recording)
    writer = app.state.chat.writer
    append = writer.append
    cut_in: list[int] = []

    async def an_operator_writes_meanwhile(**kwargs: Any) -> Any:
        stored = await append(**kwargs)
        if kwargs.get("author") == "visitor" and not cut_in:
            async with app.state.sessionmaker() as session:
                reply, _ = await chats.append(session, tenant_id=kwargs["tenant_id"], conversation_id=kwargs["conversation_id"], author="operator", text="Anna here.")
                await session.commit()
            cut_in.append(reply.seq)
            [delivery] = [d for d in deliveries if d.conversation_id == kwargs["conversation_id"]]
            await delivery.deliver(message_frame(reply))  # as the broker's forwarder delivers another node's write
        return stored

    monkeypatch.setattr(writer, "append", an_operator_writes_meanwhile)
    async with visitor(base, shop["widget_key"]) as (chat, _):
        greeting = await chat.expect("message")
        await chat.send({"type": "message", "client_message_id": "c-raced", "text": "Hello?"})
        ack = await chat.expect("ack")
        assert (ack["client_message_id"], ack["seq"], ack["duplicate"]) == ("c-raced", greeting["seq"] + 1, False)
        operator_message = await chat.expect("message")
        assert (operator_message["author"], operator_message["seq"]) == ("operator", greeting["seq"] + 2) and cut_in == [operator_message["seq"]]
        seqs = [f["seq"] for f in chat.frames if "seq" in f]
        assert seqs == sorted(set(seqs)), f"each seq once, in order: {seqs}"


async def test_the_socket_is_read_while_a_reply_is_on_its_way(app, base, shop, monkeypatch):
    """A frame sent while the avatar's reply streams (typing, say) waited for the whole reply, and uvicorn stopped
    reading the socket meanwhile: no websocket ping was answered, so a long reply ended in uvicorn's keepalive
    closing the chat with 1011 (found by a websocket probe: 40 s into a 46 s reply). Now the socket is read on: the
    client's ping is answered while the reply is held, and the frame is handled once the reply is done."""
    started, go = asyncio.Event(), asyncio.Event()
    hold_replies(monkeypatch, app, started, go)
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        await chat.send({"type": "message", "client_message_id": "v-long", "text": "When are you open?"})
        await chat.expect("ack")
        await asyncio.wait_for(started.wait(), 10)
        await chat.send({"type": "typing", "active": True})
        await chat.send({"type": "ping"})
        for _ in range(2):  # the first may reach uvicorn with the frames before it; the second comes after them
            pong = await chat.ws.ping()
            await asyncio.wait_for(pong, 5)  # answered with the reply still held
        go.set()
        reply = await chat.expect("message")
        assert reply["author"] == "avatar" and "Monday to Friday" in reply["text"]
        assert (await chat.expect("pong"))["type"] == "pong", "the frames sent meanwhile are handled after the reply, in order"
