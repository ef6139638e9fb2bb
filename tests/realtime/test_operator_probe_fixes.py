"""The operator websocket's faults a probe found (2026-12), a section each; every interleaving is forced with events,
not sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from confide.realtime import channels
from confide.realtime.delivery import SeqDelivery
from confide.realtime.operator import OperatorConnection
from tests.support.chat import ChatClient, connect, operator, visitor


async def _next_of(chat: ChatClient, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


# ---- A: operator review turned off while watching -------------------------------------------------------------


async def _frames_until(chat: ChatClient, kind: str, timeout: float = 10.0) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every frame before the next one of `kind`, and that one."""
    before: list[dict[str, Any]] = []
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return before, frame
        before.append(frame)


def _hold_the_welcome(monkeypatch: Any) -> tuple[asyncio.Event, asyncio.Event]:
    """The first operator connection's welcome waits, its queue about to be read (subscribed already), until the
    test sets `go`; `reading` says it got there."""
    reading, go = asyncio.Event(), asyncio.Event()
    snapshot = OperatorConnection._queue_snapshot

    async def held(self: OperatorConnection) -> dict[str, Any]:
        if not reading.is_set():
            reading.set()
            await go.wait()
        return await snapshot(self)

    monkeypatch.setattr(OperatorConnection, "_queue_snapshot", held)
    return reading, go


def _when_ended(monkeypatch: Any) -> asyncio.Event:
    """Set once an operator connection has ended, however it ended (its `run` has returned or raised)."""
    ended = asyncio.Event()
    run = OperatorConnection.run

    async def noted_run(self: OperatorConnection, tenant_id: str) -> None:
        try:
            await run(self, tenant_id)
        finally:
            ended.set()

    monkeypatch.setattr(OperatorConnection, "run", noted_run)
    return ended


async def _review(client: Any, owner: Any, tenant_id: str, allowed: bool) -> None:
    r = await client.post(f"/v1/tenants/{tenant_id}/privacy/instructions", json={"purposes": {"operator_review": allowed}}, headers=owner.headers)
    assert r.status_code == 201, r.text


async def test_a_watched_conversation_is_no_longer_forwarded_once_operator_review_is_turned_off(base, shop, client):
    """`join` was refused and the queue emptied, but a conversation already watched went on streaming the visitor's
    messages, the avatar's replies and typing. Now its next frame is kept back and the watching ends with `left`."""
    owner, tenant_id = shop["owner"], shop["tenant_id"]
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")  # the greeting
        async with operator(base, tenant_id, owner.token) as (ops, _):
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await ops.expect("joined")
            assert (await _next_of(ops, "message"))["author"] == "avatar"  # the transcript: the greeting

            await _review(client, owner, tenant_id, False)
            await chat.send({"type": "typing", "active": True})
            await chat.say("my private question after review was switched off", "m1")
            await _next_of(chat, "message")  # the avatar's answer: stored and published as well

            left = await ops.recv()
            while left["type"] == "presence":  # its own, at most
                left = await ops.recv()
            assert left == {"type": "left", "conversation_id": conversation_id, "reason": "purpose-not-instructed"}, "forwarded after review was off"
            await ops.send({"type": "queue"})
            before, queue = await _frames_until(ops, "queue")
            assert [f for f in before if f["type"] != "presence"] == [] and queue["queue"] == [] and queue["live"] == []
            await ops.send({"type": "join", "conversation_id": conversation_id})
            before, error = await _frames_until(ops, "error")
            assert [f for f in before if f["type"] != "presence"] == [] and error["problem"]["type"].endswith("/purpose-not-instructed")
            assert not any("private question" in str(f) for f in ops.frames)

            # Review on again: a join watches it again, with the transcript of what was said meanwhile.
            await _review(client, owner, tenant_id, True)
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await ops.expect("joined")
            texts = [(await _next_of(ops, "message"))["text"] for _ in range(3)]
            assert texts[1] == "my private question after review was switched off", texts
            await chat.send({"type": "typing", "active": False})
            assert (await _next_of(ops, "typing"))["active"] is False  # live again


# ---- B: a note written while an operator joins ------------------------------------------------------------------


async def _notes_until(chat: ChatClient, note_id: str) -> list[str]:
    """The ids of the notes `chat` gets live up to and including `note_id`."""
    seen: list[str] = []
    while note_id not in seen:
        seen.append((await _next_of(chat, "note"))["id"])
    return seen


@contextlib.asynccontextmanager
async def _anna_and_ben_watching(base: str, shop: dict[str, Any], factory: Any) -> Any:
    """A visitor's conversation that operator Ben has joined, and operator Anna (the owner) connected, not joined:
    (conversation id, Anna's client, Ben's client)."""
    owner, tenant_id = shop["owner"], shop["tenant_id"]
    colleague = await factory.member(tenant_id, owner, "operator")
    async with visitor(base, shop["widget_key"]) as (_, welcome), operator(base, tenant_id, owner.token) as (anna, _), operator(base, tenant_id, colleague.token) as (ben, _):
        await ben.send({"type": "join", "conversation_id": welcome["conversation_id"]})
        await ben.expect("joined")
        yield welcome["conversation_id"], anna, ben


async def test_a_note_written_while_an_operator_subscribes_reaches_them(app, base, shop, factory, monkeypatch):
    """The join read the notes, then subscribed to the staff channel: a colleague's note stored and published in
    between was in neither `joined` nor the live frames (notes have no seq, so no gap fill finds it)."""
    rt = app.state.chat
    async with _anna_and_ben_watching(base, shop, factory) as (conversation_id, anna, ben):

        staff = channels.conversation_staff(conversation_id)
        subscribe = rt.broker.subscribe
        subscribing, go = asyncio.Event(), asyncio.Event()

        def held(channel: str) -> Any:
            if channel != staff or subscribing.is_set():
                return subscribe(channel)

            @contextlib.asynccontextmanager
            async def later() -> Any:
                subscribing.set()
                await go.wait()
                async with subscribe(channel) as subscription:
                    yield subscription

            return later()

        monkeypatch.setattr(rt.broker, "subscribe", held)
        await anna.send({"type": "join", "conversation_id": conversation_id})
        await subscribing.wait()  # Anna's join is about to subscribe to the staff channel
        await ben.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "written while Anna joins"})
        first = (await _next_of(ben, "ack"))["id"]
        await _next_of(ben, "note")  # published (Ben watches it): before Anna subscribed
        go.set()

        joined = await _next_of(anna, "joined")
        await ben.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n2", "text": "after Anna joined"})
        second = (await _next_of(ben, "ack"))["id"]
        live = await _notes_until(anna, second)
        assert [n["id"] for n in joined["notes"]] + live == [first, second], "the note written while Anna joined was missed"


async def test_a_note_stored_before_the_join_read_and_published_after_it_comes_once(app, base, shop, factory, monkeypatch):
    """Read once subscribed, a note stored before the read but published after the subscribing is both in `joined`
    and live: sent once."""
    rt = app.state.chat
    async with _anna_and_ben_watching(base, shop, factory) as (conversation_id, anna, ben):

        staff = channels.conversation_staff(conversation_id)
        publish = rt.publish
        publishing, go = asyncio.Event(), asyncio.Event()

        async def held(channel: str, frame: dict[str, Any], origin: str = "") -> None:
            if channel == staff and frame.get("type") == "note" and not publishing.is_set():
                publishing.set()
                await go.wait()
            await publish(channel, frame, origin)

        monkeypatch.setattr(rt, "publish", held)
        await ben.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "published late"})
        first = (await _next_of(ben, "ack"))["id"]  # stored
        await publishing.wait()

        await anna.send({"type": "join", "conversation_id": conversation_id})
        joined = await _next_of(anna, "joined")  # subscribed, then read: the note is listed
        assert [n["id"] for n in joined["notes"]] == [first]
        go.set()  # and now its publication arrives

        await ben.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n2", "text": "after Anna joined"})
        second = (await _next_of(ben, "ack"))["id"]
        assert await _notes_until(anna, second) == [second], "the note listed in `joined` came live again"


# ---- C: a client that went away -------------------------------------------------------------------------------


async def test_an_operator_client_that_went_away_is_not_a_server_fault(app, base, shop, monkeypatch, caplog):
    """A send to a socket the client had closed raised: the first (a watched conversation's frame, from its own
    task) ended that task, the next (the answer to a frame in hand) raised again, and the connection was logged at
    ERROR as "operator connection failed" and answered with internal-error (1011). Now, as for visitors, a socket
    closed under the server just ends the connection."""
    caplog.set_level(logging.WARNING, logger="confide.realtime.operator")
    answering, go, attempted = asyncio.Event(), asyncio.Event(), asyncio.Event()
    hold = False

    snapshot = OperatorConnection._queue_snapshot

    async def held_snapshot(self: OperatorConnection) -> dict[str, Any]:
        if hold:
            answering.set()
            await go.wait()
        return await snapshot(self)

    send_unsequenced = SeqDelivery.send_unsequenced

    async def noted(self: SeqDelivery, frame: dict[str, Any]) -> None:
        try:
            await send_unsequenced(self, frame)
        finally:
            if frame.get("type") == "typing":
                attempted.set()

    monkeypatch.setattr(OperatorConnection, "_queue_snapshot", held_snapshot)
    monkeypatch.setattr(SeqDelivery, "send_unsequenced", noted)
    ended = _when_ended(monkeypatch)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await ops.expect("joined")
            hold = True
            await ops.send({"type": "queue"})
            await answering.wait()  # the server is answering it
            await ops.close()  # and the client goes away meanwhile (its close handshake done)
        await chat.send({"type": "typing", "active": True})
        await attempted.wait()  # the watched conversation's frame hit the closed socket first
        go.set()  # then the answer to `queue`
        await ended.wait()
    faults = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "confide.realtime.operator"]
    assert faults == [], faults


async def test_an_operator_client_that_closes_while_connecting_is_not_a_server_fault(app, base, shop, monkeypatch, caplog):
    """The probe's case: a tab closed while its connection was being opened. A queue_update forwarded to the closed
    socket ended the forwarding task; the welcome then raised, and was logged at ERROR."""
    caplog.set_level(logging.WARNING, logger="confide.realtime.operator")
    rt = app.state.chat
    reading, go = _hold_the_welcome(monkeypatch)
    ended = _when_ended(monkeypatch)
    async with rt.broker.subscribe(channels.operators(shop["tenant_id"])) as tenant_frames:
        async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
            await ops.send({"type": "hello", "token": shop["owner"].token})
            await reading.wait()  # subscribed, the welcome being put together
            await ops.close()
        async with visitor(base, shop["widget_key"]) as (_, welcome):  # a queue_update while the welcome is not out yet
            while True:
                frame = orjson.loads(await asyncio.wait_for(anext(tenant_frames), 10))
                if frame["type"] == "queue_update" and frame["conversation"]["id"] == welcome["conversation_id"]:
                    break  # the connection's subscription has it too (one fan-out)
            go.set()
            await ended.wait()
    faults = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "confide.realtime.operator"]
    assert faults == [], faults


# ---- D: welcome first --------------------------------------------------------------------------------------------


async def test_welcome_is_the_first_frame_and_a_queue_update_made_meanwhile_follows_it(app, base, shop, monkeypatch):
    """The queue forwarding started before the welcome was sent, so the connection's own `presence` (or a
    `queue_update`) came first. The subscription still comes before the welcome's reads: nothing is lost."""
    reading, go = _hold_the_welcome(monkeypatch)
    async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
        await ops.send({"type": "hello", "token": shop["owner"].token})
        await reading.wait()  # subscribed, its presence published, the welcome being put together
        async with visitor(base, shop["widget_key"]) as (_, welcome):  # a new conversation: a queue_update
            go.set()
            first = await ops.recv()
            assert first["type"] == "welcome", first
            update = await _next_of(ops, "queue_update")
            assert update["conversation"]["id"] == welcome["conversation_id"]
            assert [f["type"] for f in ops.frames[: ops.frames.index(update)]].count("welcome") == 1


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
