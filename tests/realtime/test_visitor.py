"""The end-customer websocket against a real uvicorn server: hello, disclosure, persistence before ack,
avatar replies, and every kind of bad input."""

from __future__ import annotations

import json

from sqlalchemy import select

from confide.chats.models import Message
from tests.support.chat import ORIGIN, connect, visitor


async def test_new_conversation_starts_with_the_ai_disclosure(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        assert welcome["conversation_id"].startswith("cnv_") and welcome["visitor_token"]
        assert "AI" in welcome["disclosure"] or "KI" in welcome["disclosure"]
        first = await chat.expect("message")
        assert first["seq"] == 1 and first["author"] == "avatar"
        assert welcome["disclosure"] in first["text"] and "Hello, how can I help?" in first["text"]


async def test_message_is_stored_before_ack_and_answered_from_knowledge(app, base, shop, client):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        ack = await chat.say("When are you open?", "c1")
        assert ack["client_message_id"] == "c1" and ack["seq"] == 2 and ack["duplicate"] is False
        async with app.state.sessionmaker() as session:
            stored = await session.scalar(select(Message).where(Message.id == ack["id"]))
        assert stored is not None and stored.text == "When are you open?" and stored.seq == 2
        deltas = []
        while True:
            frame = await chat.recv()
            if frame["type"] == "delta":
                deltas.append(frame["text"])
            elif frame["type"] == "message":
                break
        assert frame["author"] == "avatar" and frame["seq"] == 3
        assert "Monday to Friday" in frame["text"] and "".join(deltas) == frame["text"]
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations/{welcome['conversation_id']}/transcript", headers=shop["owner"].headers)
    assert r.status_code == 200
    assert [(m["seq"], m["author"]) for m in r.json()["messages"]] == [(1, "avatar"), (2, "visitor"), (3, "avatar")]


async def test_unknown_or_rotated_widget_key_is_refused(base, shop, client):
    async with connect(f"{base}/v1/widget/cfw_nope/chat") as chat:
        closed = await chat.closed()
    assert closed.code == 4404
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/avatars/{shop['avatar_id']}/widget/rotate", headers=shop["owner"].headers)
    assert r.status_code == 200
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        closed = await chat.closed()
    assert closed.code == 4404
    async with visitor(base, r.json()["key"]) as (chat, welcome):
        assert welcome["conversation_id"]


async def test_disallowed_origin_is_refused(base, shop):
    for origin in ("https://evil.example", None):
        async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat", origin=origin) as chat:
            error = await chat.recv()
            closed = await chat.closed()
        assert closed.code == 4403 and error["problem"]["type"].endswith("/origin-not-allowed")


async def test_bad_frames_get_error_frames_and_the_connection_stays(app, base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        bad = [
            ("{not json", "invalid-json"),
            (json.dumps({"type": "shout", "text": "x"}), "unknown-frame-type"),
            (json.dumps({"text": "no type"}), "unknown-frame-type"),
            (json.dumps({"type": "message", "text": "x"}), "invalid-frame"),
            (json.dumps({"type": "message", "client_message_id": "a", "text": "x", "extra": 1}), "invalid-frame"),
            (json.dumps({"type": "message", "client_message_id": "a b", "text": "x"}), "invalid-frame"),
            (json.dumps({"type": "message", "client_message_id": "big", "text": "x" * 20_000}), "frame-too-large"),
            (json.dumps({"type": "message", "client_message_id": "long", "text": "x" * 5_000}), "message-too-long"),
            (json.dumps({"type": "rating", "score": 9}), "invalid-frame"),
            (json.dumps({"type": "hello"}), "unexpected-hello"),
            (b"\x00\x01binary", "unsupported-frame"),
            (json.dumps({"type": "ping"}).encode(), "unsupported-frame"),  # JSON, but in a binary frame
            # The database cannot store NUL: refused as invalid rather than failing the store (it crashed the handler on PostgreSQL)
            (json.dumps({"type": "message", "client_message_id": "nul", "text": "a\u0000b"}), "invalid-frame"),
            (json.dumps({"type": "rating", "score": 5, "comment": "a\u0000b"}), "invalid-frame"),
            # strict types: true is no score, "no" no boolean
            (json.dumps({"type": "rating", "score": True}), "invalid-frame"),
            (json.dumps({"type": "typing", "active": "no"}), "invalid-frame"),
        ]
        for raw, slug in bad:
            await chat.send(raw)
            error = await chat.expect("error")
            assert error["problem"]["type"].endswith("/" + slug), (raw[:40], error)
        ack = await chat.say("still here?", "ok1")
        assert ack["seq"] == 2  # nothing was stored for any bad frame
        await chat.expect("message")
        await chat.send({"type": "ping"})
        assert (await chat.expect("pong"))["type"] == "pong"
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == welcome["conversation_id"], Message.author == "visitor"))).all()
    assert texts == ["still here?"]


async def test_first_frame_must_be_hello(base, shop):
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        await chat.send({"type": "message", "client_message_id": "x", "text": "hi"})
        error = await chat.recv()
        closed = await chat.closed()
    assert closed.code == 4400 and error["problem"]["type"].endswith("/hello-expected")


async def test_an_invalid_hello_names_its_fields_as_any_frame_does(base, shop):
    """protocol.md: `invalid-frame` carries `errors[]`; a hello refused with 4400 dropped them."""
    cases = [
        ({"type": "hello", "resume": {"conversation_id": "cnv_x", "last_seq": -1}}, "resume.last_seq"),
        ({"type": "hello", "visitor_token": 5}, "visitor_token"),
        ({"type": "hello", "colour": "red"}, "colour"),
    ]
    for hello, field in cases:
        async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
            await chat.send(hello)
            error = await chat.recv()
            closed = await chat.closed()
        assert closed.code == 4400 and error["problem"]["type"].endswith("/invalid-frame"), error
        assert field in [e["field"] for e in error["problem"]["errors"]], error


async def test_forged_or_foreign_visitor_token_is_refused(base, shop, client, factory):
    async with visitor(base, shop["widget_key"]) as (_, welcome):
        token = welcome["visitor_token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        await chat.send({"type": "hello", "visitor_token": forged})
        assert (await chat.closed()).code == 4401
    # a token from another tenant's avatar
    other_owner = await factory.user()
    other_tenant = await factory.tenant(other_owner, "Other")
    from tests.support.chat import published_avatar

    other = await published_avatar(client, other_owner, other_tenant)
    async with connect(f"{base}/v1/widget/{other['widget_key']}/chat") as chat:
        await chat.send({"type": "hello", "visitor_token": token})
        assert (await chat.closed()).code == 4401
    # and resuming another visitor's conversation
    async with visitor(base, shop["widget_key"]) as (_, someone_else):
        pass
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        await chat.send({"type": "hello", "visitor_token": token, "resume": {"conversation_id": someone_else["conversation_id"], "last_seq": 0}})
        assert (await chat.closed()).code == 4401


async def test_refused_connections_do_not_use_up_the_visitors_connection_slots(app, base, shop):
    """A connection refused after it was counted among its visitor's open connections (resuming a conversation
    that is not the visitor's) used to stay counted until the count's time ran out (minutes): after as many
    refusals as the visitor may hold connections, the visitor's own chat was refused with 4409."""
    async with visitor(base, shop["widget_key"]) as (_, welcome):
        token = welcome["visitor_token"]
    async with visitor(base, shop["widget_key"]) as (_, someone_else):
        pass
    for _ in range(app.state.settings.chat_max_connections_per_visitor + 1):
        async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
            await chat.send({"type": "hello", "visitor_token": token, "resume": {"conversation_id": someone_else["conversation_id"], "last_seq": 0}})
            assert (await chat.closed()).code == 4401
    async with visitor(base, shop["widget_key"], visitor_token=token) as (_, back):  # not 4409
        assert back["conversation_id"].startswith("cnv_")


async def test_a_fault_of_the_server_ends_a_chat_with_internal_error_and_1011(base, shop, monkeypatch):
    """Not an outage but a bug (here: the widget lookup raising): one error frame and close code 1011 on both
    sockets, rather than a dropped connection with no close frame (1006 at the client)."""
    from confide.realtime import operator as operator_module
    from confide.realtime import visitor as visitor_module

    async def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ValueError("a bug")

    monkeypatch.setattr(visitor_module, "resolve_widget", broken)
    monkeypatch.setattr(operator_module, "principal_from_token", broken)
    for url, hello, origin in (
        (f"{base}/v1/widget/{shop['widget_key']}/chat", {"type": "hello"}, ORIGIN),
        (f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", {"type": "hello", "token": shop["owner"].token}, None),
    ):
        async with connect(url, origin=origin) as chat:
            await chat.send(hello)
            error = await chat.recv()
            assert error["problem"]["type"].endswith("/internal-error") and error["problem"]["close_code"] == 1011
            assert (await chat.closed()).code == 1011


async def test_duplicate_client_message_id_is_stored_once(app, base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        first = await chat.say("When are you open?", "same-id")
        await chat.expect("message")
        again = await chat.say("When are you open?", "same-id")
        assert again["duplicate"] is True and again["id"] == first["id"] and again["seq"] == first["seq"]
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(Message).where(Message.conversation_id == welcome["conversation_id"], Message.client_message_id == "same-id"))).all()
    assert len(rows) == 1


async def test_customer_token_recognises_the_same_person(base, shop, client):
    import time

    import jwt

    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/customer-token-secret", headers=shop["owner"].headers)
    assert r.status_code == 201
    secret = r.json()["secret"]
    token = jwt.encode({"sub": "crm-4711", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
    async with visitor(base, shop["widget_key"], customer_token=token) as (_, first):
        pass
    async with visitor(base, shop["widget_key"], customer_token=token, resume={"conversation_id": first["conversation_id"], "last_seq": 1}) as (_, second):
        assert second["resumed"] is True and second["conversation_id"] == first["conversation_id"]
    bad = jwt.encode({"sub": "crm-4711", "exp": int(time.time()) + 600}, "not-the-secret-but-long-enough-for-hs256-32b", algorithm="HS256")
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        await chat.send({"type": "hello", "customer_token": bad})
        assert (await chat.closed()).code == 4401


async def test_a_visitor_who_rates_again_changes_the_conversations_rating(client, base, shop):
    """Each rating is stored as it came; the latest is the conversation's (protocol.md), in the inbox too."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.send({"type": "end"})
        await chat.expect("closed")
        await chat.expect("rating_request")
        for score in (2, 5):
            await chat.send({"type": "rating", "score": score})
            rated = await chat.expect("rating")
            assert rated["author"] == "visitor" and rated["seq"]
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations/{welcome['conversation_id']}", headers=shop["owner"].headers)
    assert r.status_code == 200 and r.json()["rating"] == 5, r.text


async def test_a_rating_comment_is_redacted_as_a_message_is(app, client, base, shop):
    """Where the guidelines redact personal data, a rating's comment is stored, echoed and shown to staff redacted,
    as a message is (it was kept as typed)."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.send({"type": "rating", "score": 4, "comment": "Mail me at jane.doe@example.com please"})
        live = await chat.expect("rating")
        await chat.send({"type": "end"})
        await chat.expect("closed")
        await chat.send({"type": "rating", "score": 2, "comment": "Or jane.doe@example.com"})
        closed = await chat.expect("rating")
    assert live["text"] == "Mail me at <EMAIL_ADDRESS> please" and closed["text"] == "Or <EMAIL_ADDRESS>"
    async with app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Message).where(Message.conversation_id == welcome["conversation_id"], Message.event == "rating").order_by(Message.seq))).all()
    assert [(m.text, m.redacted) for m in stored] == [("Mail me at <EMAIL_ADDRESS> please", True), ("Or <EMAIL_ADDRESS>", True)]
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations/{welcome['conversation_id']}/transcript", headers=shop["owner"].headers)
    assert "jane.doe" not in r.text
