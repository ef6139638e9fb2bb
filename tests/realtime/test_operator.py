"""Operators over their own websocket: queue, take-over, messages both ways, private notes, hand-back,
and refusal of everything from another tenant or a role without the permission."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from confide.app import create_app
from confide.realtime import channels
from confide.realtime import operator as operator_module
from tests.conftest import client_for, running
from tests.support.chat import ORIGIN, Closed, connect, live_server, operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.services import stoppable_redis


async def _next_of(chat, kind: str, timeout: float = 10.0) -> dict:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def test_decision_request_hands_off_and_an_operator_takes_over(base, shop):
    owner = shop["owner"]
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("Can you approve my refund for order 123?", "v1")
        handoff = await _next_of(chat, "handoff")
        assert handoff["reason"] == "decision_required" and handoff["author"] == "system"

        async with operator(base, shop["tenant_id"], owner.token) as (ops, hello):
            assert conversation_id in [c["id"] for c in hello["queue"]]
            assert owner.id in hello["online"]
            await ops.send({"type": "take_over", "conversation_id": conversation_id})
            joined = await _next_of(ops, "joined")
            assert joined["conversation"]["id"] == conversation_id
            assert (await _next_of(chat, "operator_joined"))["author"] == "operator"

            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "o1", "text": "Hi, I'm Sam. Let me check your order."})
            from_operator = await _next_of(chat, "message")
            assert from_operator["author"] == "operator" and "Sam" in from_operator["text"]

            await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "customer seems upset"})
            assert (await _next_of(ops, "note"))["text"] == "customer seems upset"

            await chat.say("Thanks, order 123 is the blue one.", "v2")
            seen = await _next_of(ops, "message")
            while seen["author"] != "visitor" or "blue" not in seen["text"]:
                seen = await _next_of(ops, "message")
            # the avatar stays quiet while an operator has the conversation, and notes never reach the visitor
            try:
                extra = await chat.recv(timeout=0.5)
                assert extra["type"] in ("typing",), extra
            except TimeoutError:
                pass
            assert not any("upset" in str(f) for f in chat.frames)

            await ops.send({"type": "hand_back", "conversation_id": conversation_id})
            assert (await _next_of(chat, "operator_left"))["seq"] > from_operator["seq"]
            await chat.say("When are you open?", "v3")
            answer = await _next_of(chat, "message")
            assert answer["author"] == "avatar" and "Monday" in answer["text"]


async def test_other_tenants_operators_are_refused_as_if_nothing_existed(base, shop, client, factory):
    async with visitor(base, shop["widget_key"]) as (_, welcome):
        victim_conversation = welcome["conversation_id"]
    intruder = await factory.user()
    intruder_tenant = await factory.tenant(intruder, "Intruder GmbH")
    async with operator(base, intruder_tenant, intruder.token) as (ops, hello):
        assert victim_conversation not in str(hello)
        for action in ("join", "take_over", "close"):
            await ops.send({"type": action, "conversation_id": victim_conversation})
            error = await _next_of(ops, "error")
            assert error["problem"]["type"].endswith("/not-found")
        await ops.send({"type": "message", "conversation_id": victim_conversation, "client_message_id": "x", "text": "hello?"})
        assert (await _next_of(ops, "error"))["problem"]["type"].endswith("/not-found")
        await ops.send({"type": "join", "conversation_id": "cnv_doesnotexist"})
        assert (await _next_of(ops, "error"))["problem"]["detail"] == "No such conversation."
    # their token on the victim tenant's operator socket
    async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
        await ops.send({"type": "hello", "token": intruder.token})
        assert (await ops.closed()).code == 4401


async def test_roles_without_operate_permission_and_bad_tokens_are_refused(base, shop, factory):
    analyst = await factory.member(shop["tenant_id"], shop["owner"], "analyst")
    for token in (analyst.token, "cfs_forged", ""):
        async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
            await ops.send({"type": "hello", "token": token} if token else {"type": "hello"})
            closed = await ops.closed()
            assert closed.code in (4400, 4401), closed
    operator_member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with operator(base, shop["tenant_id"], operator_member.token) as (_, hello):
        assert operator_member.id in hello["online"]


async def test_an_api_key_is_told_operators_sign_in_as_themselves(base, shop, client):
    """A valid operator-role key is no invalid token: the refusal says what to use instead."""
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/api-keys", json={"name": "ops", "role": "operator"}, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
        await ops.send({"type": "hello", "token": r.json()["key"]})
        closed = await ops.closed()
        assert closed.code == 4401
        [error] = [f for f in ops.frames if f["type"] == "error"]
        assert error["problem"]["type"].endswith("/person-required") and "session token" in error["problem"]["detail"]


async def test_closing_without_stored_transcripts_purges_the_text(app, base, client, factory):
    from sqlalchemy import select

    from confide.chats.models import Message

    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Forgetful GmbH")
    r = await client.post(f"/v1/tenants/{tenant_id}/privacy/instructions", json={"purposes": {"store_transcripts": False}}, headers=owner.headers)
    assert r.status_code in (200, 201), r.text
    app.state.purpose_gate.invalidate(tenant_id)
    avatar = await published_avatar(client, owner, tenant_id)
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("my name is Erika", "p1")
        await chat.expect("message")
        async with operator(base, tenant_id, owner.token) as (ops, _):
            await ops.send({"type": "close", "conversation_id": welcome["conversation_id"]})
            await _next_of(chat, "closed")
    await app.state.services.events.drain()  # the close, the purge and the evaluation have finished
    async with app.state.sessionmaker() as session:
        left = (await session.scalars(select(Message.text).where(Message.conversation_id == welcome["conversation_id"]))).all()
    assert not any("Erika" in t for t in left)
    # Evaluation read the conversation before its text went, so its measures are whole.
    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{welcome['conversation_id']}/metrics", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["transcript_available"] is True and r.json()["turns"] >= 1


async def test_flood_gets_rate_limit_errors_then_a_close(backend, client, factory):
    from confide.app import create_app
    from tests.conftest import client_for, running
    from tests.support.chat import live_server

    app = create_app(backend.settings(chat_visitor_messages_per_window=3, chat_flood_strikes=2, chat_idle_timeout_seconds=30))
    async with running(app), client_for(app) as api, live_server(app) as url:
        from tests.support.factory import Factory
        from tests.support.outbox import Outbox

        f = Factory(api, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
        owner = await f.user()
        tenant_id = await f.tenant(owner)
        avatar = await published_avatar(api, owner, tenant_id)
        async with visitor(url, avatar["widget_key"]) as (chat, _):
            for i in range(6):
                await chat.send({"type": "message", "client_message_id": f"f{i}", "text": "spam"})
            errors = []
            try:
                while True:
                    frame = await chat.recv(timeout=10)
                    if frame["type"] == "error":
                        errors.append(frame["problem"]["type"])
            except Closed as closed:
                assert closed.code == 4429
            assert errors and all(e.endswith("/rate-limited") for e in errors)


async def test_idle_connections_are_closed_and_connections_per_visitor_capped(backend):
    from confide.app import create_app
    from tests.conftest import client_for, running
    from tests.support.chat import live_server
    from tests.support.factory import Factory
    from tests.support.outbox import Outbox

    app = create_app(backend.settings(chat_idle_timeout_seconds=0.5, chat_max_connections_per_visitor=2))
    async with running(app), client_for(app) as api, live_server(app) as url:
        f = Factory(api, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
        owner = await f.user()
        tenant_id = await f.tenant(owner)
        avatar = await published_avatar(api, owner, tenant_id)
        async with visitor(url, avatar["widget_key"]) as (chat, welcome):
            closed = await chat.closed(timeout=5)
            assert closed.code == 4408
        token = welcome["visitor_token"]
        app.state.settings.chat_idle_timeout_seconds = 30
        async with visitor(url, avatar["widget_key"], visitor_token=token), visitor(url, avatar["widget_key"], visitor_token=token):
            async with connect(f"{url}/v1/widget/{avatar['widget_key']}/chat") as third:
                await third.send({"type": "hello", "visitor_token": token})
                assert (await third.closed()).code == 4409


async def _second_token(client, user) -> str:  # noqa: ANN001
    r = await client.post("/v1/auth/login", json={"email": user.email, "password": user.password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


async def test_a_signed_out_operator_is_closed_at_once(base, shop, client):
    """The socket checked the token once, at hello: after a logout (or a password reset signing every
    session out, or a tenant closure ending the membership) it went on working; then it closed only at the
    next action or presence beat. The logout's access notice closes it at once, without a frame from it."""
    owner = shop["owner"]
    token = await _second_token(client, owner)
    async with operator(base, shop["tenant_id"], token) as (ops, _):
        r = await client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
        error = await _next_of(ops, "error")
        assert error["problem"]["type"].endswith("/unauthorized") and error["problem"]["close_code"] == 4401
        assert (await ops.closed()).code == 4401


async def test_a_watching_operator_whose_session_ends_is_closed_without_acting(base, shop, client, monkeypatch):
    """A connection that only watches gets live transcripts: its session is checked on every presence beat too."""
    from confide.realtime import operator as operator_module

    monkeypatch.setattr(operator_module, "PRESENCE_TTL", 0.3)  # a beat every 0.1 s
    token = await _second_token(client, shop["owner"])
    async with operator(base, shop["tenant_id"], token) as (ops, _):
        r = await client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
        assert (await ops.closed(timeout=5)).code == 4401


async def test_while_redis_is_away_a_join_fails_with_an_error_frame_and_new_connections_are_told_to_come_back(backend, tmp_path):
    """Joining subscribes to the conversation's channels: with Redis away that fails. The operator gets an
    error frame and the connection goes on (it used to wait forever for a subscription that never came, and
    every later frame waited behind it); a take-over meanwhile takes effect but cannot join either, and once
    Redis is back, taking it over again joins it. A visitor or operator
    connecting meanwhile gets an error frame and close code 1013, on which the widget reconnects after a
    back-off (it used to be dropped without a close frame)."""
    if backend.name != "postgres":
        pytest.skip("needs a Redis of its own to stop: runs with the postgres backend")
    async with stoppable_redis() as redis_server:
        settings = backend.settings(redis_url=redis_server.url, data_dir=tmp_path)
        async with running(create_app(settings)) as app, live_server(app) as base, client_for(app) as client:
            factory = Factory(client, Outbox(settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
            owner = await factory.user()
            tenant_id = await factory.tenant(owner, "Offline Desk GmbH")
            avatar = await published_avatar(client, owner, tenant_id)
            async with visitor(base, avatar["widget_key"]) as (chat, welcome), operator(base, tenant_id, owner.token) as (ops, _):
                conversation_id = welcome["conversation_id"]
                await chat.expect("message")
                redis_server.stop()
                await ops.send({"type": "join", "conversation_id": conversation_id})
                error = await _next_of(ops, "error")
                assert error["problem"]["type"].endswith("/frame-failed")
                await ops.send({"type": "ping"})
                await _next_of(ops, "pong")  # the connection goes on
                await ops.send({"type": "take_over", "conversation_id": conversation_id})  # takes effect, but cannot join
                assert (await _next_of(ops, "error"))["problem"]["type"].endswith("/frame-failed")
                r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}", headers=owner.headers)
                assert r.json()["status"] == "operator", "the take-over stood"

                for url, hello, origin in (
                    (f"{base}/v1/widget/{avatar['widget_key']}/chat", {"type": "hello"}, ORIGIN),
                    (f"{base}/v1/tenants/{tenant_id}/chat/operator", {"type": "hello", "token": owner.token}, None),
                ):
                    async with connect(url, origin=origin) as late:
                        await late.send(hello)
                        refused = await _next_of(late, "error")
                        assert refused["problem"]["type"].endswith("/service-unavailable") and refused["problem"]["close_code"] == 1013
                        with pytest.raises(Closed) as closed:
                            await late.recv(10)
                        assert closed.value.code == 1013

                await redis_server.start()
                # Taken over already, but not watched: taking it over again joins it (it used to do nothing).
                await ops.send({"type": "take_over", "conversation_id": conversation_id})
                joined = await _next_of(ops, "joined")
                assert joined["conversation"]["status"] == "operator"
                assert joined["conversation"]["id"] == conversation_id
                greeting = await _next_of(ops, "message")  # the catch-up from storage
                assert greeting["author"] == "avatar" and greeting["conversation_id"] == conversation_id
                async with visitor(base, avatar["widget_key"]) as (_, back):
                    assert back["conversation_id"]


async def test_an_operators_id_taken_by_another_message_is_refused_not_acked_as_a_resend(base, shop, factory):
    """Operators of a conversation share one namespace of client ids: another operator's (or another kind's)
    message with the same id used to be acked as this frame's resend, and its text was lost without a word."""
    second = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (anna, _), operator(base, shop["tenant_id"], second.token) as (ben, _):
            await anna.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m1", "text": "Hi, I'm Anna"})
            first = await _next_of(anna, "ack")
            assert first["duplicate"] is False
            await anna.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m1", "text": "Hi, I'm Anna"})
            again = await _next_of(anna, "ack")
            assert again["duplicate"] is True and again["id"] == first["id"], "the same frame sent again is stored once"

            await ben.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m1", "text": "Hi from Ben"})
            error = await _next_of(ben, "error")
            assert error["problem"]["type"].endswith("/client-message-id-taken") and "new id" in error["problem"]["detail"]
            await ben.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m2", "text": "Hi from Ben"})
            assert (await _next_of(ben, "ack"))["duplicate"] is False
            await anna.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "m1", "text": "a note"})
            assert (await _next_of(anna, "error"))["problem"]["type"].endswith("/client-message-id-taken")

            texts = []
            while "Hi from Ben" not in texts:
                texts.append((await _next_of(chat, "message"))["text"])
            assert texts.count("Hi, I'm Anna") == 1


async def test_a_colleague_taking_over_becomes_the_assignee_and_the_first_operator_sees_it(base, shop, factory):
    second = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (anna, _), operator(base, shop["tenant_id"], second.token) as (ben, _):
            await anna.send({"type": "take_over", "conversation_id": conversation_id})
            await _next_of(chat, "operator_joined")
            await ben.send({"type": "take_over", "conversation_id": conversation_id})
            await _next_of(chat, "operator_joined")
            update = await _next_of(anna, "queue_update")
            while update["conversation"]["assignee_id"] != second.id:
                update = await _next_of(anna, "queue_update")
            assert update["conversation"]["status"] == "operator"


async def _owner_entries(broker, tenant_id: str, user_id: str) -> int:  # noqa: ANN001
    return sum(1 for member in await broker.members(channels.presence_group(tenant_id)) if member.split(" ")[0] == user_id)


async def _until_entries(broker, tenant_id: str, user_id: str, count: int) -> None:  # noqa: ANN001
    """The server ends a closed connection on its own time: wait (bounded) for its presence entry to go."""
    for _ in range(500):
        if await _owner_entries(broker, tenant_id, user_id) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{user_id} still has {await _owner_entries(broker, tenant_id, user_id)} presence entries, not {count}")


async def test_presence_counts_connections_so_closing_a_second_tab_keeps_its_user_online(app, base, shop, factory):
    """Presence was kept per user: closing either of one operator's two tabs took the operator offline for everyone
    (review, 2026-12-01) until the other tab's next beat, up to 20 s later."""
    tenant, owner = shop["tenant_id"], shop["owner"]
    colleague = await factory.member(tenant, owner, "operator")
    broker = app.state.chat.broker
    async with operator(base, tenant, colleague.token) as (watcher, _):
        async with operator(base, tenant, owner.token) as (_, first):
            assert owner.id in first["online"]
            async with operator(base, tenant, owner.token) as (_, second):
                assert second["online"].count(owner.id) == 1, "one user, listed once however many tabs"
                assert await _owner_entries(broker, tenant, owner.id) == 2
            await _until_entries(broker, tenant, owner.id, 1)
            await watcher.send({"type": "queue"})
            assert owner.id in (await _next_of(watcher, "queue"))["online"], "the first tab is still open"
            presence = [f["online"] for f in watcher.frames if f["type"] == "presence"]
            since_first_tab = presence[next(i for i, online in enumerate(presence) if owner.id in online) :]
            assert all(owner.id in online for online in since_first_tab), presence
        await _until_entries(broker, tenant, owner.id, 0)
        gone = await _next_of(watcher, "presence")
        while owner.id in gone["online"]:
            gone = await _next_of(watcher, "presence")
        assert colleague.id in gone["online"]


async def test_a_presence_entry_renewed_after_it_ran_out_is_announced(app, base, shop, factory, monkeypatch):
    """An entry that ran out (the broker away past its TTL) comes back at the next beat, and everyone hears it."""
    monkeypatch.setattr(operator_module, "PRESENCE_TTL", 3.0)  # a beat a second
    tenant, owner = shop["tenant_id"], shop["owner"]
    colleague = await factory.member(tenant, owner, "operator")
    broker = app.state.chat.broker
    async with operator(base, tenant, colleague.token) as (watcher, _), operator(base, tenant, owner.token):
        await watcher.send({"type": "queue"})
        assert owner.id in (await _next_of(watcher, "queue"))["online"]  # and the presence frames of the two connects are read
        for member in await broker.members(channels.presence_group(tenant)):
            if member.startswith(owner.id + " "):
                await broker.member_remove(channels.presence_group(tenant), member)  # as a TTL that ran out
        assert await _owner_entries(broker, tenant, owner.id) == 0
        back = await _next_of(watcher, "presence", timeout=10.0)
        while owner.id not in back["online"]:
            back = await _next_of(watcher, "presence", timeout=10.0)
        assert await _owner_entries(broker, tenant, owner.id) == 1


async def test_a_resend_or_a_taken_id_does_not_take_the_conversation_over(app, base, shop):
    """A `message` took the conversation over before its id was checked: a note's id reused, or the same message
    sent again after a hand-back, paused the avatar though nothing was stored (review, 2026-12-01)."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
            await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "VIP customer"})
            assert (await _next_of(ops, "ack"))["duplicate"] is False
            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "n1", "text": "Hello!"})
            assert (await _next_of(ops, "error"))["problem"]["type"].endswith("/client-message-id-taken")
            await ops.send({"type": "queue"})
            live = {c["id"]: c for c in (await _next_of(ops, "queue"))["live"]}
            assert live[conversation_id]["status"] == "avatar", "a refused message takes nothing over"

            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m1", "text": "Sam here."})
            first = await _next_of(ops, "ack")
            await ops.send({"type": "hand_back", "conversation_id": conversation_id})
            await _next_of(chat, "operator_left")
            await ops.send({"type": "message", "conversation_id": conversation_id, "client_message_id": "m1", "text": "Sam here."})
            again = await _next_of(ops, "ack")
            assert again["duplicate"] is True and again["id"] == first["id"]
            await ops.send({"type": "queue"})
            live = {c["id"]: c for c in (await _next_of(ops, "queue"))["live"]}
            assert live[conversation_id]["status"] == "avatar", "a resend after the hand-back takes nothing over again"
        joins = [f["type"] for f in chat.frames].count("operator_joined")
        assert joins == 1, chat.frames


async def test_notes_and_typing_respect_a_closed_or_erased_conversation(app, base, client, factory):
    """A note on a closed conversation outlives it: refused where the tenant keeps no transcripts (the close purged
    the rest, the note stayed), taken where it does. Nothing is added to an erased one, and typing reaches nobody
    once a conversation has ended (review, 2026-12-01)."""
    from sqlalchemy import select

    from confide.chats.models import Message
    from tests.support.chat import shop_with_avatar

    kept = await shop_with_avatar(client, factory, "Keeps GmbH")
    purged = await shop_with_avatar(client, factory, "Forgets GmbH")
    r = await client.post(f"/v1/tenants/{purged['tenant_id']}/privacy/instructions", json={"purposes": {"store_transcripts": False}}, headers=purged["owner"].headers)
    assert r.status_code == 201, r.text
    for shop, note_taken in ((kept, True), (purged, False)):
        async with visitor(base, shop["widget_key"]) as (chat, welcome):
            conversation_id = welcome["conversation_id"]
            async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
                await ops.send({"type": "close", "conversation_id": conversation_id})
                await _next_of(chat, "closed")
                await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "Erika lives at Hauptstr. 5"})
                answer = await ops.recv()
                while answer["type"] not in ("ack", "error"):  # the close joined it: joined, the transcript, closed
                    answer = await ops.recv()
                if note_taken:
                    assert answer["type"] == "ack", answer
                else:
                    assert answer["type"] == "error" and answer["problem"]["type"].endswith("/purpose-not-instructed"), answer
                await ops.send({"type": "typing", "conversation_id": conversation_id, "active": True})
                await ops.send({"type": "ping"})
                await _next_of(ops, "pong")  # the typing frame was handled
                with contextlib.suppress(TimeoutError):
                    while True:
                        assert (await chat.recv(timeout=0.3))["type"] != "typing", chat.frames
        async with app.state.sessionmaker() as session:
            notes = (await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id, Message.kind == "note"))).all()
        assert notes == (["Erika lives at Hauptstr. 5"] if note_taken else []), notes
        if note_taken:
            closed_with_a_note = conversation_id

    conversation_id = closed_with_a_note
    r = await client.delete(f"/v1/tenants/{kept['tenant_id']}/conversations/{conversation_id}", headers=kept["owner"].headers)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    async with operator(base, kept["tenant_id"], kept["owner"].token) as (ops, _):
        await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n2", "text": "too late"})
        error = await _next_of(ops, "error")
        assert error["problem"]["type"].endswith("/invalid-transition") and "erased" in error["problem"]["detail"]


async def test_joining_a_watched_conversation_again_is_answered_without_the_transcript_again(base, shop):
    """A second `join` got no answer at all (review, 2026-12-01): now `joined` again, and nothing replayed."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await _next_of(ops, "joined")
            greeting = await _next_of(ops, "message")
            await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "regular"})
            await _next_of(ops, "ack")
            await ops.send({"type": "join", "conversation_id": conversation_id})
            again = await ops.recv()
            while again["type"] == "note":  # the note's own frame, from the staff channel
                again = await ops.recv()
            assert again["type"] == "joined" and again["conversation"]["id"] == conversation_id, again
            assert [n["text"] for n in again["notes"]] == ["regular"]
            await ops.send({"type": "ping"})
            await _next_of(ops, "pong")
            seqs = [f["seq"] for f in ops.frames if f.get("seq") is not None and f["type"] not in ("ack", "note")]
            assert seqs == [greeting["seq"]], "the transcript came once"
