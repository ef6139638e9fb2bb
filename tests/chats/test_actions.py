"""Acting on conversations over REST: tags, assignment, close and reopen (seen live by the visitor and
operators on their websockets), bulk actions, and the transcript staff read."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from confide.chats.models import ConversationTag, Message
from tests.chats.conftest import make_conversation
from tests.support.erasure import worker_held_off
from tests.support.chat import operator, published_avatar, visitor


async def _next_of(chat, kind: str, timeout: float = 10.0) -> dict:  # noqa: ANN001
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def test_tags_are_added_listed_filtered_and_removed(app, client, factory, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    one = await make_conversation(app, t, shop["avatar_id"])
    two = await make_conversation(app, t, shop["avatar_id"])
    url = f"/v1/tenants/{t}/conversations/{one}/tags"
    r = await client.post(url, json={"tags": ["refund", "vip-customer", "refund"]}, headers=h)
    assert r.status_code == 200 and r.json()["tags"] == ["refund", "vip-customer"]
    r = await client.post(url, json={"tags": ["refund", "late"]}, headers=h)  # existing tags stay, once
    assert r.json()["tags"] == ["late", "refund", "vip-customer"]
    await client.post(f"/v1/tenants/{t}/conversations/{two}/tags", json={"tags": ["refund"]}, headers=h)
    r = await client.get(f"/v1/tenants/{t}/conversation-tags", headers=h)
    assert r.json()["items"] == [{"tag": "late", "conversations": 1}, {"tag": "refund", "conversations": 2}, {"tag": "vip-customer", "conversations": 1}]
    assert (await client.get(f"/v1/tenants/{t}/conversations/{one}", headers=h)).json()["tags"] == ["late", "refund", "vip-customer"]

    r = await client.delete(f"{url}/refund", headers=h)
    assert r.status_code == 200 and r.json()["tags"] == ["late", "vip-customer"]
    r = await client.delete(f"{url}/refund", headers=h)  # idempotent
    assert r.status_code == 200 and r.json()["tags"] == ["late", "vip-customer"]
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"tag": "refund"}, headers=h)
    assert [c["id"] for c in r.json()["items"]] == [two]

    for bad, field in (
        ({"tags": ["VIP"]}, "body.tags.0"),
        ({"tags": ["ok", "with space"]}, "body.tags.1"),
        ({"tags": ["-dash"]}, "body.tags.0"),
        ({"tags": ["x" * 33]}, "body.tags.0"),
        ({"tags": []}, "body.tags"),
        ({"tags": ["ok"], "colour": "red"}, "body.colour"),
        ({"tags": [f"t{i}" for i in range(21)]}, "body.tags"),
    ):
        r = await client.post(url, json=bad, headers=h)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (bad, r.text)
    r = await client.post(url, json={"tags": [f"t{i}" for i in range(19)]}, headers=h)  # 2 + 19 > 20
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.tags"
    assert (await client.delete(f"{url}/Not-A-Slug", headers=h)).status_code == 422

    analyst = await factory.member(t, shop["owner"], "analyst")
    r = await client.post(url, json={"tags": ["nope"]}, headers=analyst.headers)
    assert r.status_code == 403 and r.json()["permission"] == "chats:operate"
    assert (await client.get(f"/v1/tenants/{t}/conversation-tags", headers=analyst.headers)).status_code == 200


async def test_assign_to_members_who_may_operate_and_unassign(app, base, client, factory, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    conversation = await make_conversation(app, t, shop["avatar_id"])
    op = await factory.member(t, owner, "operator")
    analyst = await factory.member(t, owner, "analyst")
    stranger = await factory.user()
    await factory.tenant(stranger, "Elsewhere")
    url = f"/v1/tenants/{t}/conversations/{conversation}"
    async with operator(base, t, op.token) as (ops, _):
        r = await client.post(f"{url}/assign", json={"assignee_id": op.id}, headers=owner.headers)
        assert r.status_code == 200 and r.json()["assignee_id"] == op.id
        update = await _next_of(ops, "queue_update")
        assert update["conversation"]["id"] == conversation and update["conversation"]["assignee_id"] == op.id
        r = await client.post(f"{url}/unassign", headers=owner.headers)
        assert r.status_code == 200 and r.json()["assignee_id"] is None
        assert (await _next_of(ops, "queue_update"))["conversation"]["assignee_id"] is None
    r = await client.post(f"{url}/assign", json={"assignee_id": "me"}, headers=op.headers)
    assert r.json()["assignee_id"] == op.id
    for who in (analyst.id, stranger.id, "usr_doesnotexist"):
        r = await client.post(f"{url}/assign", json={"assignee_id": who}, headers=owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.assignee_id", r.text
    assert (await client.get(url, headers=owner.headers)).json()["assignee_id"] == op.id  # unchanged by the refusals
    r = await client.post(f"{url}/assign", json={"assignee_id": op.id}, headers=analyst.headers)
    assert r.status_code == 403


async def test_a_restricted_member_is_assigned_nothing(app, client, factory, shop):
    """Art. 18: a member who restricted their account is kept, not processed, so no conversation is assigned to
    them, alone or in bulk, until they lift the restriction."""
    t, owner = shop["tenant_id"], shop["owner"]
    conversation = await make_conversation(app, t, shop["avatar_id"])
    op = await factory.member(t, owner, "operator")
    members = (await client.get(f"/v1/tenants/{t}/members", headers=owner.headers)).json()["items"]
    member_id = next(m["id"] for m in members if m["user_id"] == op.id)
    r = await client.post("/v1/me/restriction", headers=op.headers)
    assert r.status_code == 200 and r.json()["status"] == "restricted", r.text
    url = f"/v1/tenants/{t}/conversations"
    for who in (op.id, member_id):
        r = await client.post(f"{url}/{conversation}/assign", json={"assignee_id": who}, headers=owner.headers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "body.assignee_id" and "restricted" in r.json()["errors"][0]["message"]
    r = await client.post(f"{url}/bulk", json={"action": "assign", "conversation_ids": [conversation], "assignee_id": op.id}, headers=owner.headers)
    assert r.status_code == 422 and "restricted" in r.text, r.text
    assert (await client.get(f"{url}/{conversation}", headers=owner.headers)).json()["assignee_id"] is None

    assert (await client.delete("/v1/me/restriction", headers=op.headers)).status_code == 200
    r = await client.post(f"{url}/{conversation}/assign", json={"assignee_id": op.id}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["assignee_id"] == op.id


async def test_close_and_reopen_reach_the_visitor_and_operators(app, base, client, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    events: list[dict] = []

    async def on_closed(payload: dict) -> None:
        events.append(payload)

    app.state.services.events.on("conversation.closed", on_closed)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation = welcome["conversation_id"]
        await chat.expect("message")
        async with operator(base, t, owner.token) as (ops, _):
            r = await client.post(f"/v1/tenants/{t}/conversations/{conversation}/close", headers=owner.headers)
            assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_at"]
            closed = await _next_of(chat, "closed")
            assert closed["author"] == "system" and closed["seq"] == 2
            assert (await _next_of(ops, "queue_update"))["conversation"]["status"] == "closed"

            r = await client.post(f"/v1/tenants/{t}/conversations/{conversation}/close", headers=owner.headers)
            assert r.status_code == 409 and r.json()["type"].endswith("/invalid-transition")

            r = await client.post(f"/v1/tenants/{t}/conversations/{conversation}/reopen", headers=owner.headers)
            assert r.status_code == 200 and r.json()["status"] == "avatar" and r.json()["closed_at"] is None
            assert (await _next_of(chat, "reopened"))["seq"] == 3
            assert (await _next_of(ops, "queue_update"))["conversation"]["status"] == "avatar"
            r = await client.post(f"/v1/tenants/{t}/conversations/{conversation}/reopen", headers=owner.headers)
            assert r.status_code == 409
    await app.state.services.events.drain()
    assert [e["conversation_id"] for e in events if e["conversation_id"] == conversation] == [conversation]
    assert events[-1]["closed_by"] == "operator" and events[-1]["tenant_id"] == t
    r = await client.get(f"/v1/tenants/{t}/conversations/{conversation}/transcript", headers=owner.headers)
    assert [(m["seq"], m["event"], m["operator_id"]) for m in r.json()["messages"]][1:] == [(2, "closed", owner.id), (3, "reopened", owner.id)]


async def test_two_closes_at_once_store_one_closed_event(app, client, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    conversation = await make_conversation(app, t, shop["avatar_id"])
    answers = await asyncio.gather(*(client.post(f"/v1/tenants/{t}/conversations/{conversation}/close", headers=h) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
    async with app.state.sessionmaker() as session:
        closed = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conversation, Message.event == "closed"))
    assert closed == 1


async def test_bulk_acts_on_this_tenants_conversations_only(app, client, factory, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    mine = [await make_conversation(app, t, shop["avatar_id"]) for _ in range(3)]
    already_closed = await make_conversation(app, t, shop["avatar_id"], status="closed")
    other_owner = await factory.user()
    other_tenant = await factory.tenant(other_owner, "Victim GmbH")
    theirs = await make_conversation(app, other_tenant, (await published_avatar(client, other_owner, other_tenant))["avatar_id"])
    url = f"/v1/tenants/{t}/conversations/bulk"

    r = await client.post(url, json={"action": "tag", "conversation_ids": [*mine, theirs, "cnv_missing", mine[0]], "tags": ["bulk", "vip"]}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["conversation_id"], x["outcome"]) for x in body["results"]] == [(mine[0], "done"), (mine[1], "done"), (mine[2], "done"), (theirs, "not_found"), ("cnv_missing", "not_found")]
    assert body["done"] == 3 and body["failed"] == 2
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationTag).where(ConversationTag.conversation_id == theirs)) == 0

    r = await client.post(url, json={"action": "untag", "conversation_ids": mine[:2], "tags": ["vip"]}, headers=h)
    assert r.json()["done"] == 2
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"tag": "vip"}, headers=h)
    assert [c["id"] for c in r.json()["items"]] == [mine[2]]

    op = await factory.member(t, shop["owner"], "operator")
    r = await client.post(url, json={"action": "assign", "conversation_ids": [mine[0], theirs], "assignee_id": op.id}, headers=h)
    assert [x["outcome"] for x in r.json()["results"]] == ["done", "not_found"]
    r = await client.post(url, json={"action": "assign", "conversation_ids": [mine[0]], "assignee_id": op.id}, headers=h)
    assert r.json()["results"][0]["outcome"] == "unchanged"
    r = await client.post(url, json={"action": "unassign", "conversation_ids": [mine[0]]}, headers=h)
    assert r.json()["results"][0]["outcome"] == "done"

    r = await client.post(url, json={"action": "close", "conversation_ids": [mine[0], already_closed, theirs]}, headers=h)
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["done", "conflict", "not_found"] and results[1]["detail"] == "The conversation is closed."
    r = await client.get(f"/v1/tenants/{other_tenant}/conversations/{theirs}", headers=other_owner.headers)
    assert r.json()["status"] == "avatar" and r.json()["tags"] == [] and r.json()["assignee_id"] is None
    r = await client.post(url, json={"action": "reopen", "conversation_ids": [mine[0], mine[1]]}, headers=h)
    assert [x["outcome"] for x in r.json()["results"]] == ["done", "conflict"]

    for bad, field in (
        ({"action": "tag", "conversation_ids": mine}, "body.tags"),
        ({"action": "tag", "conversation_ids": mine, "tags": ["Bad Tag"]}, "body.tags.0"),
        ({"action": "close", "conversation_ids": mine, "tags": ["x"]}, "body.tags"),
        ({"action": "assign", "conversation_ids": mine}, "body.assignee_id"),
        ({"action": "assign", "conversation_ids": mine, "assignee_id": other_owner.id}, "body.assignee_id"),
        ({"action": "close", "conversation_ids": mine, "assignee_id": op.id}, "body.assignee_id"),
        ({"action": "explode", "conversation_ids": mine}, "body.action"),
        ({"action": "close", "conversation_ids": []}, "body.conversation_ids"),
        ({"action": "close", "conversation_ids": [f"cnv_{i}" for i in range(201)]}, "body.conversation_ids"),
    ):
        r = await client.post(url, json=bad, headers=h)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (bad, r.text)
    analyst = await factory.member(t, shop["owner"], "analyst")
    assert (await client.post(url, json={"action": "close", "conversation_ids": mine}, headers=analyst.headers)).status_code == 403


async def test_transcript_has_messages_notes_events_and_verdicts_in_order(base, client, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        conversation = welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("Can you approve my refund for order 123?", "v1")
        await _next_of(chat, "handoff")
        async with operator(base, t, owner.token) as (ops, _):
            await ops.send({"type": "take_over", "conversation_id": conversation})
            await _next_of(chat, "operator_joined")
            await ops.send({"type": "note", "conversation_id": conversation, "client_message_id": "n1", "text": "check order 123 first"})
            await _next_of(ops, "note")
            await ops.send({"type": "message", "conversation_id": conversation, "client_message_id": "o1", "text": "I'll look into it."})
            await _next_of(chat, "message")
    r = await client.get(f"/v1/tenants/{t}/conversations/{conversation}/transcript", headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["handed_off"] is True and body["status"] == "operator" and body["assignee_id"] == owner.id and body["visitor_id"]
    steps = [(m["kind"], m["author"], m["event"]) for m in body["messages"]]
    assert steps == [
        ("message", "avatar", None),
        ("message", "visitor", None),
        ("event", "system", "handoff"),
        ("event", "operator", "operator_joined"),
        ("note", "operator", None),
        ("message", "operator", None),
    ]
    asked = body["messages"][1]
    assert asked["verdict"]["action"] == "handoff" and "builtin:decision-guard" in asked["verdict"]["rule_ids"]
    assert {"rule_id": "builtin:decision-guard", "direction": "input"} in asked["rules"]
    assert body["messages"][2]["verdict"]["reason"] == "decision_required"
    note = body["messages"][4]
    assert note["seq"] is None and note["text"] == "check order 123 first" and note["operator_id"] == owner.id
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"rule_id": "builtin:decision-guard"}, headers=owner.headers)
    assert [c["id"] for c in r.json()["items"]] == [conversation]


async def test_delete_queues_an_erasure_request_and_the_stub_leaves_the_inbox(app, client, factory, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    gone = await make_conversation(app, t, shop["avatar_id"], messages=("please forget me, Erika Mustermann",))
    kept = await make_conversation(app, t, shop["avatar_id"], messages=("Erika again",))
    other_owner = await factory.user()
    other_tenant = await factory.tenant(other_owner, "Victim GmbH")
    theirs = await make_conversation(app, other_tenant, (await published_avatar(client, other_owner, other_tenant))["avatar_id"])
    op = await factory.member(t, owner, "operator")

    r = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=op.headers)
    assert r.status_code == 403 and r.json()["permission"] == "data:erase"
    assert (await client.delete(f"/v1/tenants/{t}/conversations/{theirs}", headers=owner.headers)).status_code == 404
    r = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=owner.headers)
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["id"].startswith("era_") and first["scope"] == "conversation" and first["conversation_id"] == gone and first["created"] is True
    assert first["status"] in ("pending", "running", "done")
    r = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=owner.headers)
    if r.status_code != 409:  # still queued or running (not erased yet): the same request
        assert r.status_code == 200 and r.json()["id"] == first["id"] and r.json()["created"] is False, r.text

    await app.state.erasure_worker.drain()
    r = await client.get(f"/v1/tenants/{t}/erasure-requests/{first['id']}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"q": "erika"}, headers=owner.headers)
    assert [c["id"] for c in r.json()["items"]] == [kept]
    assert gone not in [c["id"] for c in (await client.get(f"/v1/tenants/{t}/conversations", headers=owner.headers)).json()["items"]]
    r = await client.post(f"/v1/tenants/{t}/conversations/{gone}/tags", json={"tags": ["late"]}, headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased")
    r = await client.post(f"/v1/tenants/{t}/conversations/{gone}/reopen", headers=owner.headers)
    assert r.status_code == 409
    r = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased")

    url = f"/v1/tenants/{t}/conversations/bulk"
    assert (await client.post(url, json={"action": "delete", "conversation_ids": [kept]}, headers=op.headers)).status_code == 403
    r = await client.post(url, json={"action": "delete", "conversation_ids": [kept, gone, theirs]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["accepted", "conflict", "not_found"]
    assert results[0]["erasure_request_id"].startswith("era_")
    await app.state.erasure_worker.drain()
    r = await client.get(f"/v1/tenants/{other_tenant}/conversations/{theirs}/transcript", headers=other_owner.headers)
    assert r.status_code == 200 and len(r.json()["messages"]) == 1  # the other tenant's conversation is untouched


async def test_deleting_again_while_the_request_is_queued_answers_200_with_it(app, client, shop):
    """As POST …/erasure-requests does: 202 for a new request, 200 with the one already pending, documented so."""
    t, owner = shop["tenant_id"], shop["owner"]
    conversation = await make_conversation(app, t, shop["avatar_id"])
    url = f"/v1/tenants/{t}/conversations/{conversation}"
    async with worker_held_off(app):  # the request stays pending
        first = await client.delete(url, headers=owner.headers)
        assert first.status_code == 202 and first.json()["created"] is True, first.text
        again = await client.delete(url, headers=owner.headers)
        assert again.status_code == 200, again.text
        assert again.json() == {**first.json(), "created": False}
        by_post = await client.post(f"/v1/tenants/{t}/erasure-requests", json={"scope": "conversation", "conversation_id": conversation}, headers=owner.headers)
        assert by_post.status_code == 200 and by_post.json()["id"] == first.json()["id"], by_post.text
    responses = (await client.get("/openapi.json")).json()["paths"]["/v1/tenants/{tenant_id}/conversations/{conversation_id}"]["delete"]["responses"]
    assert {"200", "202", "409"} <= set(responses)
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErasureAcceptedOut")
    await app.state.erasure_worker.drain()
    r = await client.delete(url, headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased"), r.text
