"""Each purpose of a tenant's processing instructions, end to end over the real websockets: refused when
off, done when on. answer_chats, store_transcripts, external_llm (with PII redaction before anything
leaves), operator_review and evaluate."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from confide.app import create_app
from confide.chats.models import Conversation, Message
from tests.conftest import client_for, running
from tests.support.chat import connect, live_server, operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox

PII_OFF = {"pii": {"redact": False}}  # the guideline set stores what the visitor wrote, so the instruction alone decides
ADDRESS = "erika.mustermann@example.com"


async def instruct(client, owner, tenant_id: str, body: dict) -> None:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{tenant_id}/privacy/instructions", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text


async def next_of(chat, kind: str) -> dict:  # noqa: ANN001
    while True:
        frame = await chat.recv()
        if frame["type"] == kind:
            return frame


async def texts_of(app, conversation_id: str) -> list[str]:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id))).all())


@pytest.fixture(scope="module")
async def base(app) -> AsyncIterator[str]:  # noqa: ANN001
    """This package's own app (tests/privacy/conftest.py) served on a loopback port; the suite-wide
    `base` serves the suite-wide app."""
    async with live_server(app) as url:
        yield url


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Purpose GmbH")
    return owner, tenant_id, await published_avatar(client, owner, tenant_id)


# ---- answer_chats -----------------------------------------------------------------------------


async def test_answer_chats_off_refuses_new_chats_and_hands_live_ones_to_a_human(app, base, client, shop):
    owner, tenant_id, avatar = shop
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await instruct(client, owner, tenant_id, {"purposes": {"answer_chats": False}})
        await chat.say("When are you open?", "a1")
        handoff = await next_of(chat, "handoff")
        assert handoff["reason"] == "policy_restriction" and handoff["author"] == "system"
    assert not any(t and "Monday to Friday" in t for t in await texts_of(app, welcome["conversation_id"])), "the avatar did not answer"

    async with connect(f"{base}/v1/widget/{avatar['widget_key']}/chat") as chat:
        await chat.send({"type": "hello"})
        error = await chat.recv()
        closed = await chat.closed()
    assert closed.code == 4503 and error["problem"]["type"].endswith("/purpose-not-instructed")

    await instruct(client, owner, tenant_id, {"purposes": {"answer_chats": True}})
    async with visitor(base, avatar["widget_key"]) as (chat, _):
        await chat.expect("message")
        await chat.say("When are you open?", "a2")
        assert "Monday to Friday" in (await next_of(chat, "message"))["text"]


# ---- store_transcripts ------------------------------------------------------------------------


@pytest.mark.parametrize("ended_by", ["visitor", "operator"])
async def test_without_stored_transcripts_messages_last_only_as_long_as_the_conversation(app, base, client, shop, ended_by):
    owner, tenant_id, avatar = shop
    await instruct(client, owner, tenant_id, {"purposes": {"store_transcripts": False}})
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("I am Erika, when are you open?", "s1")
        await next_of(chat, "message")
        during = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/transcript", headers=owner.headers)
        assert any("Erika" in m["text"] for m in during.json()["messages"]), "while the conversation lasts, the transcript is there"
        if ended_by == "visitor":
            await chat.send({"type": "end"})
            await next_of(chat, "closed")
        else:
            async with operator(base, tenant_id, owner.token) as (ops, _):
                await ops.send({"type": "close", "conversation_id": conversation_id})
                await next_of(chat, "closed")
    assert await texts_of(app, conversation_id) == []
    after = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/transcript", headers=owner.headers)
    assert after.status_code == 200 and after.json()["messages"] == [] and after.json()["status"] == "closed"
    assert await stored_transcript_entries(app, client, owner, tenant_id) == [], "nothing kept, so nothing logged as kept"


async def stored_transcript_entries(app, client, owner, tenant_id: str) -> list[dict]:  # noqa: ANN001
    await app.state.purpose_gate.flush()
    r = await client.get(f"/v1/tenants/{tenant_id}/privacy/processing-log", params={"purpose": "store_transcript"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_with_stored_transcripts_an_ended_conversation_keeps_its_messages(app, base, client, shop):
    """Keeping the messages past the conversation is a purpose of its own: it passes the gate and is logged."""
    owner, tenant_id, avatar = shop
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("When are you open?", "k1")
        await next_of(chat, "message")
        await chat.send({"type": "end"})
        await next_of(chat, "closed")
    assert "When are you open?" in await texts_of(app, welcome["conversation_id"])
    [entry] = await stored_transcript_entries(app, client, owner, tenant_id)
    async with app.state.sessionmaker() as session:
        visitor_id = (await session.get(Conversation, welcome["conversation_id"])).visitor_id
    assert entry["actor"] == "conversation-close" and entry["subject_ref"] == visitor_id, entry


# ---- external_llm -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def llm_app(backend, fake_llm_server) -> AsyncIterator:  # noqa: ANN001
    """An app whose OPENAI_BASE_URL is the local fake LLM, so the register lists it as sub-processor `llm`."""
    app = create_app(backend.settings(openai_base_url=fake_llm_server.base_url, openai_api_key="sk-test"))
    async with running(app):
        yield app


@pytest.fixture
async def llm_shop(llm_app, fake_llm):  # noqa: ANN001, ANN201
    async with client_for(llm_app) as api, live_server(llm_app) as url:
        factory = Factory(api, Outbox(llm_app.state.settings.resolved_outbox_dir), settle=llm_app.state.detached_mails.drain)
        owner = await factory.user()
        tenant_id = await factory.tenant(owner, "LLM GmbH")
        avatar = await published_avatar(api, owner, tenant_id, engine="openai", spec=PII_OFF)
        yield api, url, owner, tenant_id, avatar


async def ask(url: str, avatar: dict, text: str) -> tuple[dict, str]:
    """The avatar's answer to one visitor message, and the conversation's id."""
    async with visitor(url, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say(text, "x1")
        return await next_of(chat, "message"), welcome["conversation_id"]


@pytest.mark.parametrize("authorised", [False, True], ids=["provider-not-authorised", "provider-authorised"])
async def test_external_llm_off_sends_nothing_out_and_the_builtin_responder_answers(llm_shop, fake_llm, authorised):
    api, url, owner, tenant_id, avatar = llm_shop
    if authorised:
        await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": False}})
    reply, _ = await ask(url, avatar, "When are you open?")
    assert "Monday to Friday" in reply["text"]
    assert fake_llm.requests == [], "not one request reached the LLM provider"


async def test_external_llm_cannot_be_on_without_its_provider_authorised(llm_shop, fake_llm):
    api, _, owner, tenant_id, _ = llm_shop
    r = await api.post(f"/v1/tenants/{tenant_id}/privacy/instructions", json={"purposes": {"external_llm": True}}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.purposes.external_llm"


@pytest.mark.parametrize("redact", [True, False], ids=["redacted", "not-redacted"])
async def test_external_llm_on_sends_the_conversation_redacted_as_instructed(llm_app, llm_shop, fake_llm, redact):
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(
        api, owner, tenant_id,
        {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}, "redact_pii_before_llm": redact},
    )
    fake_llm.script("We open at nine.")
    reply, conversation_id = await ask(url, avatar, f"Please mail the opening hours to {ADDRESS}")
    assert reply["text"] == "We open at nine."
    requests = fake_llm.chat_requests
    assert len(requests) == 1
    sent = requests[0].body  # exactly what left for the provider
    body = str(sent["messages"])
    if redact:
        assert "<EMAIL_ADDRESS>" in body and ADDRESS not in body
    else:
        assert ADDRESS in body and "<EMAIL_ADDRESS>" not in body
    assert any(ADDRESS in t for t in await texts_of(llm_app, conversation_id)), "the stored transcript has it: redaction happened on the way out"


async def test_the_llm_gets_the_conversation_so_far_in_order_redacted_across_a_resume(llm_shop, fake_llm):
    """The history window: earlier turns in order, the new message once (last), PII redacted in every
    turn; after a reconnect the window is read back from storage and goes on."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}, "redact_pii_before_llm": True})
    fake_llm.script("We open at nine.")

    def turns(request) -> list[tuple[str, str]]:  # noqa: ANN001
        return [(m["role"], m["content"]) for m in request.body["messages"] if m["role"] != "system"]

    async with visitor(url, avatar["widget_key"]) as (chat, welcome):
        greeting = (await chat.expect("message"))["text"]
        await chat.say(f"My address is {ADDRESS}", "h1")
        await next_of(chat, "message")
        await chat.say("And on Sunday?", "h2")
        last = await next_of(chat, "message")
    first, second = fake_llm.chat_requests
    assert turns(first) == [("assistant", greeting), ("user", "My address is <EMAIL_ADDRESS>")]
    assert turns(second) == [
        ("assistant", greeting), ("user", "My address is <EMAIL_ADDRESS>"), ("assistant", "We open at nine."), ("user", "And on Sunday?"),
    ]  # fmt: skip

    resume = {"conversation_id": welcome["conversation_id"], "last_seq": last["seq"]}
    async with visitor(url, avatar["widget_key"], visitor_token=welcome["visitor_token"], resume=resume) as (chat, _):
        await chat.say("Thanks, bye", "h3")
        await next_of(chat, "message")
    third = fake_llm.chat_requests[2]
    assert turns(third) == [*turns(second), ("assistant", "We open at nine."), ("user", "Thanks, bye")]
    assert ADDRESS not in str(third.body)


async def test_the_ack_comes_before_the_first_delta_however_fast_the_llm(llm_shop, fake_llm):
    """The LLM's turn starts while the visitor's message is being stored; nothing of the reply shows
    before the ack, and the reply follows the message in seq order."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script("We open at nine. Come by any time!", first_token_delay=0)
    async with visitor(url, avatar["widget_key"]) as (chat, _):
        await chat.expect("message")
        for i in range(5):
            start = len(chat.frames)
            await chat.send({"type": "message", "client_message_id": f"f{i}", "text": "When are you open?"})
            reply = await next_of(chat, "message")
            frames = chat.frames[start:]
            assert [f["type"] for f in frames][0] == "ack" and frames[1]["type"] == "delta", frames
            assert (reply["author"], reply["text"], reply["reply_to"]) == ("avatar", "We open at nine. Come by any time!", f"f{i}")
            assert reply["seq"] == frames[0]["seq"] + 1
    assert len(fake_llm.chat_requests) == 5


@pytest.mark.parametrize("finish_delay", [0.0, 0.05], ids=["finish-with-the-last-text", "finish-in-a-read-of-its-own"])
async def test_an_llm_reply_streams_in_order_then_comes_its_stored_message(llm_app, llm_shop, fake_llm, finish_delay):
    """Whether the last text comes with the finish reason (the reply is stored while it goes out) or
    the finish reason comes later: deltas in index order, then the message, stored by then."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script("We open at nine. Come by any time!", token_delay=0.01, finish_delay=finish_delay)
    async with visitor(url, avatar["widget_key"]) as (chat, _):
        await chat.expect("message")
        start = len(chat.frames)
        ack = await chat.say("When are you open?", "o1")
        reply = await next_of(chat, "message")
        async with llm_app.state.sessionmaker() as session:
            stored = await session.scalar(select(Message).where(Message.id == reply["id"]))
        frames = chat.frames[start:]
    deltas = [f for f in frames if f["type"] == "delta"]
    assert [f["type"] for f in frames] == ["ack", *["delta"] * len(deltas), "message"], frames
    assert [f["index"] for f in deltas] == list(range(len(deltas))) and len(deltas) > 1
    assert "".join(f["text"] for f in deltas) == reply["text"] == "We open at nine. Come by any time!"
    assert reply["seq"] == ack["seq"] + 1 and stored is not None and (stored.seq, stored.text) == (reply["seq"], reply["text"])


async def test_a_decision_in_the_llms_last_words_is_neither_shown_nor_stored_as_the_avatars(llm_app, llm_shop, fake_llm):
    """The whole reply in one read, ending in a decision: the guard's final verdict hands off before
    anything is stored, so nothing of the decision is shown or kept."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script("Thanks for asking. We grant you a refund.")
    async with visitor(url, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        start = len(chat.frames)
        await chat.say("When are you open?", "d1")
        handoff = await next_of(chat, "handoff")
        frames = chat.frames[start:]
    assert handoff["reason"] == "decision_required" and len(fake_llm.chat_requests) == 1
    assert "grant" not in json.dumps(frames)
    async with llm_app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Message).where(Message.conversation_id == welcome["conversation_id"]).order_by(Message.seq))).all()
    assert [m.event for m in stored if m.author == "system"] == ["handoff"]
    assert not [m for m in stored if "grant" in m.text]


async def test_a_rate_limited_message_shows_nothing_of_the_llm_turn_begun_beside_its_rate_check(llm_app, llm_shop, fake_llm, monkeypatch):
    """The LLM's turn starts while the message is rate-checked; a refused message gets its error and
    nothing else (no ack, no delta, no reply, nothing stored), and once refused the connection starts
    no more LLM calls for messages it may refuse again, until that rate window has ended."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script("We open at nine.", first_token_delay=0)
    from confide.realtime.replies import AvatarTurn

    begun: list[str] = []
    begin = AvatarTurn.begin

    def counted(turn: AvatarTurn, **kwargs: object) -> None:
        begun.append(str(kwargs["reply_to"]))
        begin(turn, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AvatarTurn, "begin", counted)  # the real turn, counted
    settings = llm_app.state.settings
    saved = settings.chat_visitor_messages_per_window, settings.chat_flood_strikes, settings.chat_rate_window_seconds
    settings.chat_visitor_messages_per_window, settings.chat_flood_strikes, settings.chat_rate_window_seconds = 2, 10, 2
    try:
        async with visitor(url, avatar["widget_key"]) as (chat, welcome):
            await chat.expect("message")
            for i in range(2):
                await chat.say("When are you open?", f"ok{i}")
                assert (await next_of(chat, "message"))["text"] == "We open at nine."
            start = len(chat.frames)
            for i in range(3):
                await chat.send({"type": "message", "client_message_id": f"no{i}", "text": "When are you open?"})
                refused = await chat.recv()
                assert refused["problem"]["type"].endswith("/rate-limited")
            await chat.send({"type": "ping"})
            await next_of(chat, "pong")
            assert [f["type"] for f in chat.frames[start:]] == ["error", "error", "error", "pong"]
            assert begun == ["ok0", "ok1", "no0"], "after its first refusal the connection begins no more LLM turns"
            # Once the window has ended (retry_after, rounded up), the next message begins its LLM
            # turn beside the rate check again.
            await asyncio.sleep(refused["problem"]["retry_after"] + 0.1)
            await chat.say("When are you open?", "ok2")
            assert (await next_of(chat, "message"))["text"] == "We open at nine."
    finally:
        settings.chat_visitor_messages_per_window, settings.chat_flood_strikes, settings.chat_rate_window_seconds = saved
    stored = await texts_of(llm_app, welcome["conversation_id"])
    assert stored[1:] == ["When are you open?", "We open at nine."] * 3, "the greeting, then the three allowed turns"
    assert begun == ["ok0", "ok1", "no0", "ok2"], "a new window: speculation again"
    assert len(fake_llm.chat_requests) <= 4, "at most the first refused message's call went out (and was cancelled)"


async def test_while_an_operator_has_the_conversation_no_visitor_message_reaches_the_llm(llm_shop, fake_llm):
    """The visitor's connection learns of the takeover from its frame, so it does not start the
    avatar's turn (and send the message to the LLM) only to learn at the store that it must not."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script("We open at nine.")
    async with visitor(url, avatar["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        async with operator(url, tenant_id, owner.token) as (ops, _):
            await ops.send({"type": "take_over", "conversation_id": conversation_id})
            await next_of(chat, "operator_joined")
            for i in range(3):
                await chat.say(f"Only for a person, part {i}", f"p{i}")
                while (seen := await next_of(ops, "message"))["author"] != "visitor":
                    pass
                assert seen["text"] == f"Only for a person, part {i}"
            assert fake_llm.chat_requests == [], "nothing was sent to the LLM while the operator had the conversation"
            await ops.send({"type": "hand_back", "conversation_id": conversation_id})
            await next_of(chat, "operator_left")
        await chat.say("When are you open?", "a1")
        reply = await next_of(chat, "message")
    assert (reply["author"], reply["text"]) == ("avatar", "We open at nine.")
    assert len(fake_llm.chat_requests) == 1


# ---- operator_review --------------------------------------------------------------------------


async def test_operator_review_off_keeps_operators_out(app, base, client, shop):
    owner, tenant_id, avatar = shop
    await instruct(client, owner, tenant_id, {"purposes": {"operator_review": False}})
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("private words", "o1")
        await next_of(chat, "message")
        async with operator(base, tenant_id, owner.token) as (ops, ops_welcome):
            assert ops_welcome["queue"] == [] and ops_welcome["live"] == [], "listing the conversations is operator review"
            await ops.send({"type": "join", "conversation_id": conversation_id})
            error = await next_of(ops, "error")
            assert error["problem"]["type"].endswith("/purpose-not-instructed")
            await ops.send({"type": "ping"})
            await next_of(ops, "pong")
            assert not any(f["type"] in ("joined", "message") for f in ops.frames), "no transcript reached the operator"
            assert "private words" not in str(ops.frames)
            for frame in ({"type": "take_over", "conversation_id": conversation_id},
                          {"type": "message", "conversation_id": conversation_id, "client_message_id": "x1", "text": "hello"}):
                await ops.send(frame)
                assert (await next_of(ops, "error"))["problem"]["type"].endswith("/purpose-not-instructed")
            await ops.send({"type": "queue"})
            asked = await next_of(ops, "queue")
            assert asked["queue"] == [] and asked["live"] == []
            # A new conversation's queue_update is not shown either; once review is allowed again the next one is
            # (the broker keeps their order, so the hidden one would have come first).
            async with visitor(base, avatar["widget_key"]) as (_, hidden):
                pass
            await instruct(client, owner, tenant_id, {"purposes": {"operator_review": True}})
            async with visitor(base, avatar["widget_key"]) as (_, shown):
                pass
            update = await next_of(ops, "queue_update")
            assert update["conversation"]["id"] == shown["conversation_id"] != hidden["conversation_id"], update
        # Nothing changed: the avatar still has the conversation and still answers.
        await chat.say("When are you open?", "o2")
        assert (await next_of(chat, "message"))["author"] == "avatar"

    await instruct(client, owner, tenant_id, {"purposes": {"operator_review": True}})
    async with operator(base, tenant_id, owner.token) as (ops, _):
        await ops.send({"type": "join", "conversation_id": conversation_id})
        joined = await next_of(ops, "joined")
        assert joined["conversation"]["id"] == conversation_id


# ---- evaluate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("evaluate", [False, True], ids=["off", "on"])
async def test_evaluation_runs_only_when_instructed(app, base, client, shop, evaluate):
    from confide.evaluation.models import ConversationMetrics

    owner, tenant_id, avatar = shop
    await instruct(client, owner, tenant_id, {"purposes": {"evaluate": evaluate}})
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("When are you open?", "e1")
        await next_of(chat, "message")
        await chat.send({"type": "end"})
        await next_of(chat, "rating_request")  # sent after the closed event was emitted
    await app.state.services.events.drain()
    async with app.state.sessionmaker() as session:
        metrics = await session.scalar(select(ConversationMetrics).where(ConversationMetrics.conversation_id == welcome["conversation_id"]))
    assert (metrics is not None) is evaluate
    if evaluate:
        assert metrics.turns == 1
    r = await client.get(f"/v1/tenants/{tenant_id}/privacy/processing-log", params={"purpose": "evaluate"}, headers=owner.headers)
    assert (len(r.json()["items"]) > 0) is evaluate


async def test_a_take_over_stops_an_llm_reply_still_waiting_for_its_first_token(llm_app, llm_shop, fake_llm):
    """The LLM hangs; an operator takes over. The reply on its way is abandoned at once (its request closed), so the
    visitor's next message is acked and reaches the operator now, not after the LLM's time limit (60 s: the probe
    saw the visitor's frames wait about 19 s behind a stuck turn)."""
    api, url, owner, tenant_id, avatar = llm_shop
    await instruct(api, owner, tenant_id, {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}})
    fake_llm.script(hang=True)
    async with visitor(url, avatar["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("When are you open?", "h1")
        await fake_llm.wait_for_requests(1)
        async with operator(url, tenant_id, owner.token) as (ops, _):
            await ops.send({"type": "take_over", "conversation_id": conversation_id})
            await next_of(chat, "operator_joined")
            await chat.send({"type": "message", "client_message_id": "h2", "text": "Hello? Anyone there?"})
            ack = await asyncio.wait_for(next_of(chat, "ack"), 5)
            assert ack["client_message_id"] == "h2"
            seen = await asyncio.wait_for(next_of(ops, "message"), 5)
            while seen.get("client_message_id") != "h2":
                seen = await asyncio.wait_for(next_of(ops, "message"), 5)
    async with llm_app.state.sessionmaker() as session:
        authors = (await session.scalars(select(Message.author).where(Message.conversation_id == conversation_id, Message.kind == "message").order_by(Message.seq))).all()
    assert authors == ["avatar", "visitor", "visitor"], "the greeting and both messages: no reply of the abandoned turn"
