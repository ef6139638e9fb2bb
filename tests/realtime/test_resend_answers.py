"""A visitor message sent again (a drop before its ack, the same frame from another tab) is stored once and
answered once: a resend while the first reply is still on its way gets its ack and no second reply; a resend
of a message whose reply never came (the node answering it went down) is answered, by one resend only.
(Probe of 2026-12-02: a resend on a second socket while the first socket's turn ran stored two replies.)
Each test holds the avatar's reply with events, so the interleaving is the same on every run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from confide.chats import service as chats
from confide.chats.models import Message
from confide.realtime import replies, transitions
from confide.realtime import visitor as visitor_module
from tests.support.chat import hold_replies, visitor

QUESTION = "When are you open?"


async def _next_of(chat: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


class Turns:
    """Every avatar turn's reply streams its first delta, then waits for `go`; counts the turns that ran."""

    def __init__(self, monkeypatch: Any, app: Any) -> None:
        self.started, self.go, self.idle = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.begun = self.running = 0
        hold_replies(monkeypatch, app, self.started, self.go)
        answer = replies.AvatarTurn.answer
        turns = self

        async def counted(self: Any, *args: Any, **kwargs: Any) -> None:
            turns.begun += 1
            turns.running += 1
            turns.idle.clear()
            try:
                await answer(self, *args, **kwargs)
            finally:
                turns.running -= 1
                if not turns.running:
                    turns.idle.set()

        monkeypatch.setattr(replies.AvatarTurn, "answer", counted)

    async def finish(self) -> None:
        self.go.set()
        if self.running:
            await asyncio.wait_for(self.idle.wait(), 10)


async def _avatar_replies_after(app: Any, conversation_id: str, client_message_id: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))).all()
    seq = next(m.seq for m in rows if m.client_message_id == client_message_id)
    return [m.text for m in rows if m.seq > seq and m.author == "avatar"]


async def _quiet(chat: Any) -> None:
    """Everything this connection's frames started has ended (frames are handled one at a time)."""
    await chat.send({"type": "ping"})
    await _next_of(chat, "pong")


async def test_a_resend_while_the_first_reply_is_on_its_way_gets_no_second_reply(app, base, shop, monkeypatch):
    turns = Turns(monkeypatch, app)
    frame = {"type": "message", "client_message_id": "drop1", "text": QUESTION}
    async with visitor(base, shop["widget_key"]) as (first, welcome):
        conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
        await first.expect("message")  # the greeting, seq 1
        async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 1}) as (second, _):
            await first.send(frame)
            await asyncio.wait_for(turns.started.wait(), 10)  # stored; its reply is on its way
            await first.close()  # dropped before reading the ack
            await second.send(frame)  # the widget sends it again on its other connection
            ack = await _next_of(second, "ack")
            assert ack["duplicate"] is True and ack["client_message_id"] == "drop1", ack
            await turns.finish()
            reply = await _next_of(second, "message")  # the first connection's reply, relayed
            assert reply["author"] == "avatar" and reply["seq"] == ack["seq"] + 1, reply
            await _quiet(second)
    assert turns.begun == 1, turns.begun
    assert len(await _avatar_replies_after(app, conversation_id, "drop1")) == 1
    async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 0}) as (again, _):
        await _quiet(again)
    assert [f["author"] for f in again.frames if f["type"] == "message"] == ["avatar", "visitor", "avatar"], again.frames


async def test_a_message_whose_reply_never_came_is_answered_by_one_resend_once_its_turn_has_expired(app, base, shop, monkeypatch):
    """The node that stored it went down before replying: nothing else would ever answer it."""
    async with visitor(base, shop["widget_key"]) as (first, welcome):
        conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
        await first.expect("message")
        # Stored by a node that died before its avatar turn stored anything.
        await app.state.chat.writer.append(
            tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text=QUESTION, client_message_id="lost1", when=chats.LIVE_STATUSES
        )
        frame = {"type": "message", "client_message_id": "lost1", "text": QUESTION}
        turns = Turns(monkeypatch, app)
        # Within the time its turn may take, a resend is left to it.
        await first.send(frame)
        assert (await _next_of(first, "ack"))["duplicate"] is True
        await _quiet(first)
        assert turns.begun == 0 and await _avatar_replies_after(app, conversation_id, "lost1") == []
        # Later, one resend answers it; another one meanwhile (a second tab) does not.
        now = visitor_module.utcnow
        monkeypatch.setattr(visitor_module, "utcnow", lambda: now() + timedelta(seconds=visitor_module.answer_claim_seconds(app.state.chat) + 1))
        async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 2}) as (second, _):
            await first.send(frame)
            assert (await _next_of(first, "ack"))["duplicate"] is True
            await asyncio.wait_for(turns.started.wait(), 10)
            await second.send(frame)
            assert (await _next_of(second, "ack"))["duplicate"] is True
            await turns.finish()
            reply = await _next_of(second, "message")
            assert reply["author"] == "avatar" and reply["text"] == "We are open Monday to Friday, 9 to 17.", reply
            await _quiet(second)
            await _quiet(first)
    assert turns.begun == 1, turns.begun
    assert len(await _avatar_replies_after(app, conversation_id, "lost1")) == 1


async def test_a_resend_with_other_text_is_refused_as_taken_and_a_redacted_message_sent_again_is_a_duplicate(app, base, shop):
    """As on the operator socket: an id already taken by other text is refused, never acked as that text's."""
    sent = "Please write to erika.mustermann@example.com: when are you open?"
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        ack = await chat.say(sent, "r1")
        assert ack["duplicate"] is False
        await _next_of(chat, "message")  # the avatar's reply
        async with app.state.sessionmaker() as session:
            stored = await chats.find_by_client_id(session, conversation_id=conversation_id, client_message_id="r1")
        assert stored is not None and "erika" not in stored.text and stored.text != sent, stored.text  # stored redacted
        again = await chat.say(sent, "r1")  # the same frame sent again: its redacted text is the stored one
        assert again["duplicate"] is True and again["seq"] == ack["seq"], again
        await chat.send({"type": "message", "client_message_id": "r1", "text": "And do you ship to Austria?"})
        error = await _next_of(chat, "error")
        assert error["problem"]["type"].endswith("/client-message-id-taken"), error
        assert "not stored" in error["problem"]["detail"] and "close_code" not in error["problem"], error
        await _quiet(chat)  # the connection stays
        assert not [f for f in chat.frames if f["type"] == "ack" and f["seq"] != ack["seq"]], chat.frames
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id))).all()
    assert not [t for t in texts if "Austria" in t], texts


async def test_a_resend_after_the_end_of_a_message_stored_before_it_is_acked_not_refused_as_not_stored(app, base, shop, monkeypatch):
    """`conversation-closed` says the message was not stored; for a resend of one stored before the end that was
    untrue (probe, 2026-12-02). Whether the connection knew of the end already or the store found it."""
    rt = app.state.chat
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        ack = await chat.say(QUESTION, "e1")
        await _next_of(chat, "message")
        # Closed by staff while the resend was on its way: the store finds it closed.
        append, closing = rt.writer.append, [True]

        async def closed_first(**kwargs: Any) -> Any:
            if kwargs.get("client_message_id") == "e1" and closing:
                closing.clear()
                await transitions.apply(rt, tenant_id=shop["tenant_id"], conversation_id=conversation_id, action="close", operator_id=shop["owner"].id)
            return await append(**kwargs)

        monkeypatch.setattr(rt.writer, "append", closed_first)
        await chat.send({"type": "message", "client_message_id": "e1", "text": QUESTION})
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:  # the ack, and the `closed` relayed from the close (in either order)
            frame = await chat.recv()
            assert frame["type"] != "error", frame
            if frame["type"] in ("ack", "closed"):
                seen[frame["type"]] = frame
        assert seen["ack"]["duplicate"] is True and seen["ack"]["seq"] == ack["seq"], seen
        assert not closing
        # Known to be closed on this connection.
        again = await chat.say(QUESTION, "e1")
        assert again["duplicate"] is True and again["seq"] == ack["seq"], again
        for frame in ({"client_message_id": "e2", "text": "One more thing"}, {"client_message_id": "e1", "text": "One more thing"}):
            await chat.send({"type": "message", **frame})
            error = await _next_of(chat, "error")
            assert error["problem"]["type"].endswith("/conversation-closed"), error
        await _quiet(chat)
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id))).all()
    assert not [t for t in texts if "One more" in t], texts


class Clock:
    """Stands in for the wait of a resend's check (`visitor._sleep_until`): each check says when it is due and
    waits for `go`, so a test decides when the time is up; counts the checks that were cancelled meanwhile."""

    def __init__(self, monkeypatch: Any) -> None:
        self.due: list[Any] = []
        self.waiting, self.go = asyncio.Event(), asyncio.Event()
        self.cancelled = 0
        # raising=False: on a server without these checks the patch does nothing, and the test fails on what it asserts
        monkeypatch.setattr(visitor_module, "_sleep_until", self.sleep_until, raising=False)

    async def sleep_until(self, when: Any) -> None:
        self.due.append(when)
        self.waiting.set()
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def _avatar_message(chat: Any) -> dict[str, Any]:
    """The next avatar message (the visitor's own message, never acked on this connection, may come first: a gap filled)."""
    while True:
        frame = await _next_of(chat, "message")
        if frame["author"] == "avatar":
            return frame


async def _store_unanswered(app: Any, shop: dict[str, Any], conversation_id: str, client_message_id: str) -> Any:
    """A visitor message stored by a connection (a node) that went away before its ack and its avatar turn."""
    message, _ = await app.state.chat.writer.append(
        tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text=QUESTION, client_message_id=client_message_id, when=chats.LIVE_STATUSES
    )
    return message


async def test_a_message_stored_by_a_store_that_then_failed_is_answered_at_the_resend_on_that_connection(app, base, shop, monkeypatch):
    """The store committed and then raised (the database connection dropped after the COMMIT): the visitor got
    `frame-failed` ("not stored: send it again") and no turn ran. The widget's resend, seconds later, is acked as
    a duplicate and drops the message from its outbox: it must be answered then, or never (review, 2026-12-02)."""
    rt = app.state.chat
    append, once = rt.writer.append, [True]

    async def committed_then_lost(**kwargs: Any) -> Any:
        result = await append(**kwargs)
        if kwargs.get("client_message_id") == "x1" and once:
            once.clear()
            raise ConnectionError("connection lost after the commit")
        return result

    monkeypatch.setattr(rt.writer, "append", committed_then_lost)
    clock = Clock(monkeypatch)
    frame = {"type": "message", "client_message_id": "x1", "text": QUESTION}
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
        await chat.expect("message")
        await chat.send(frame)
        error = await _next_of(chat, "error")
        assert error["problem"]["type"].endswith("/frame-failed"), error
        assert await _avatar_replies_after(app, conversation_id, "x1") == []  # stored, though the ack never came
        async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 1}) as (other, _):
            await chat.send(frame)  # the widget sends it again
            ack = await _next_of(chat, "ack")
            assert ack["duplicate"] is True, ack
            reply = await _avatar_message(chat)  # at once, not after the turn's time is up
            assert reply["author"] == "avatar" and reply["seq"] == ack["seq"] + 1 and reply.get("reply_to") == "x1", reply
            await _quiet(chat)
            # The same frame on another tab meanwhile: answered already, so acked only, and no check of it waits.
            await other.send(frame)
            assert (await _next_of(other, "ack"))["duplicate"] is True
            await _quiet(other)
            await chat.send(frame)  # and once more on the first: its failed store was answered once
            assert (await _next_of(chat, "ack"))["duplicate"] is True
            await _quiet(chat)
    assert clock.due == [], clock.due
    assert len(await _avatar_replies_after(app, conversation_id, "x1")) == 1


async def test_a_resend_inside_the_turns_time_is_answered_when_that_time_is_up_if_no_reply_came(app, base, shop, monkeypatch):
    """The node that stored the message died before its ack and its turn; the widget's resend came on another
    connection within seconds, got its ack (`duplicate`) and is never sent again. The resend's connection looks
    again when the dead turn's time is up and answers it then; two connections that both wait answer it once;
    one check per message and connection; a connection that closes first stops its check."""
    clock = Clock(monkeypatch)
    frame = {"type": "message", "client_message_id": "lost2", "text": QUESTION}
    async with visitor(base, shop["widget_key"]) as (first, welcome):
        conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
        await first.expect("message")
        stored = await _store_unanswered(app, shop, conversation_id, "lost2")
        resume = {"conversation_id": conversation_id, "last_seq": 2}
        async with visitor(base, shop["widget_key"], visitor_token=token, resume=resume) as (second, _):
            async with visitor(base, shop["widget_key"], visitor_token=token, resume=resume) as (third, _):
                for chat in (first, first, second, third):  # sent twice on the first: still one check there
                    await chat.send(frame)
                    assert (await _next_of(chat, "ack"))["duplicate"] is True
                    await _quiet(chat)
                assert len(clock.due) == 3, clock.due
                window = visitor_module.answer_claim_seconds(app.state.chat)
                assert {d.replace(tzinfo=None) for d in clock.due} == {stored.created_at.replace(tzinfo=None) + timedelta(seconds=window)}, clock.due
                assert await _avatar_replies_after(app, conversation_id, "lost2") == []  # nothing answered within the time
            await asyncio.sleep(0)
            for _ in range(100):  # the third connection's end (its check cancelled) is the server's to finish
                if clock.cancelled:
                    break
                await asyncio.sleep(0.01)
            assert clock.cancelled == 1, clock.cancelled
            turns = Turns(monkeypatch, app)
            turns.go.set()
            clock.go.set()  # the time is up
            await asyncio.wait_for(turns.started.wait(), 10)
            reply = await _avatar_message(second)
            assert reply["author"] == "avatar" and reply["text"] == "We are open Monday to Friday, 9 to 17.", reply
            relayed = await _avatar_message(first)
            assert relayed["seq"] == reply["seq"], (relayed, reply)
            await turns.finish()
            await _quiet(first)
            await _quiet(second)
    assert turns.begun == 1, turns.begun
    assert len(await _avatar_replies_after(app, conversation_id, "lost2")) == 1


async def test_a_resends_check_answers_nothing_when_the_first_turns_reply_came(app, base, shop, monkeypatch):
    """The usual case: the storing connection's turn was only slow. Its reply came before the time was up, so
    the check that the resend left behind answers nothing."""
    turns = Turns(monkeypatch, app)
    clock = Clock(monkeypatch)
    frame = {"type": "message", "client_message_id": "slow1", "text": QUESTION}
    async with visitor(base, shop["widget_key"]) as (first, welcome):
        conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
        await first.expect("message")
        async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 1}) as (second, _):
            await first.send(frame)
            await asyncio.wait_for(turns.started.wait(), 10)
            await second.send(frame)
            assert (await _next_of(second, "ack"))["duplicate"] is True
            await asyncio.wait_for(clock.waiting.wait(), 10)
            await turns.finish()
            await _next_of(second, "message")  # the first connection's reply, relayed
            clock.go.set()
            await _quiet(second)
            await _quiet(first)
            await asyncio.sleep(0.05)  # the check's read (it found the reply)
    assert turns.begun == 1, turns.begun
    assert len(await _avatar_replies_after(app, conversation_id, "slow1")) == 1


async def test_the_turns_time_follows_the_configured_llm_time_limit(app, base, shop, monkeypatch):
    """The time a storing connection's turn has is the configured whole-reply limit of the LLM and a margin, not
    the library's default (60 s): with a 5 s limit, a resend 36 s after the store is answered."""
    from avatars.responders.openai_responder import OpenAIConfig

    rt = app.state.chat
    monkeypatch.setattr(rt.responders, "default_openai", OpenAIConfig(base_url="http://llm.invalid/v1", api_key="unused", total_timeout=5.0))
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await _store_unanswered(app, shop, conversation_id, "lost3")
        now = visitor_module.utcnow
        monkeypatch.setattr(visitor_module, "utcnow", lambda: now() + timedelta(seconds=36))
        await chat.send({"type": "message", "client_message_id": "lost3", "text": QUESTION})
        assert (await _next_of(chat, "ack"))["duplicate"] is True
        reply = await _avatar_message(chat)
        assert reply["author"] == "avatar" and reply.get("reply_to") == "lost3", reply
        await _quiet(chat)
    assert len(await _avatar_replies_after(app, conversation_id, "lost3")) == 1


async def test_messages_to_an_ended_conversation_are_rate_checked_before_they_are_looked_up(app, base, shop, monkeypatch):
    """Each `message` on an ended conversation is looked for among the stored ones (a resend is acked): a read and
    a guideline check. The per-visitor message limit applies before, as for any message, so a flood of them
    costs the server no read past it."""
    rt = app.state.chat
    monkeypatch.setattr(rt.settings, "chat_visitor_messages_per_window", 2)
    monkeypatch.setattr(rt.settings, "chat_flood_strikes", 100)
    monkeypatch.setattr(rt.settings, "chat_rate_window_seconds", 600)
    lookups = [0]
    find = chats.find_by_client_id

    async def counted(*args: Any, **kwargs: Any) -> Any:
        lookups[0] += 1
        return await find(*args, **kwargs)

    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        await chat.send({"type": "end"})
        await _next_of(chat, "closed")
        monkeypatch.setattr(chats, "find_by_client_id", counted)
        kinds = []
        for i in range(5):
            await chat.send({"type": "message", "client_message_id": f"c{i}", "text": QUESTION})
            kinds.append((await _next_of(chat, "error"))["problem"]["type"].rsplit("/", 1)[-1])
        await _quiet(chat)
    assert kinds == ["conversation-closed"] * 2 + ["rate-limited"] * 3, kinds
    assert lookups[0] == 2, lookups
