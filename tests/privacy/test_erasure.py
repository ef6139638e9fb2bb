"""Tenants' erasure requests: tracked, carried out in batches by the worker, reaching every store
(database, broker, mail outbox, search), honouring legal holds, leaving a receipt without content,
remembered by the ledger, and resuming after a crash."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from confide.chats.models import Conversation, Message, RuleHit
from confide.core.broker import RedisBroker
from confide.core.clock import utcnow
from confide.privacy.erasure_models import ErasureLedgerEntry, ErasureRequest, LegalHold
from confide.privacy.erasure_worker import MAX_ATTEMPTS, ErasureWorker
from confide.privacy.gate import Purpose, authorize
from confide.privacy.models import ProcessingLogEntry
from tests.privacy.chat_seed import Shop, conversation, count, make_shop, messages_of, seed_conversation
from tests.realtime.test_access_cut import frames_until_close
from tests.support.erasure import worker_held_off


@pytest.fixture
async def shop(client, factory) -> Shop:
    return await make_shop(client, factory)


def url(shop: Shop, path: str = "") -> str:
    return f"/v1/tenants/{shop.tenant_id}/erasure-requests{path}"


async def erase(client, shop: Shop, body: dict, expect: int = 202) -> dict:
    r = await client.post(url(shop), json=body, headers=shop.owner.headers)
    assert r.status_code == expect, r.text
    return r.json()


async def finished(app, client, shop: Shop, request_id: str, *, sweep: bool = False) -> dict:
    await app.state.erasure_worker.drain(sweep=sweep)
    r = await client.get(url(shop, f"/{request_id}"), headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def log_entries(app, tenant_id: str) -> list[ProcessingLogEntry]:
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(ProcessingLogEntry).where(ProcessingLogEntry.tenant_id == tenant_id).order_by(ProcessingLogEntry.at))).all())


async def test_erasing_one_customer_reaches_every_store_and_leaves_a_receipt(app, client, shop, outbox):
    texts = ("My order 4711 for Erika Mustermann is late", "Sorry to hear that, Erika.", "Please call me back")
    first = await seed_conversation(app, shop, visitor_id="vis_c1", customer_ref="crm-4711", texts=texts, note="She sounded upset", rating=(2, "too slow, Erika"), rule_id="complaint")
    second = await seed_conversation(app, shop, visitor_id="vis_c1", customer_ref="crm-4711", texts=("Anything new?",), close=False)
    other = await seed_conversation(app, shop, visitor_id="vis_other", customer_ref="crm-0815", texts=("Hello from someone else",), rating=(5, "great"))
    async with app.state.sessionmaker() as session:  # what the chat logs for this visitor
        await authorize(session, tenant_id=shop.tenant_id, purpose=Purpose.ANSWER_CHAT, actor=shop.avatar_id, subject_ref="vis_c1")
        await authorize(session, tenant_id=shop.tenant_id, purpose=Purpose.ANSWER_CHAT, actor=shop.avatar_id, subject_ref="vis_other")
    mailer = app.state.services.mailer
    await mailer.send("staff@example.com", "Call back crm-4711", f"Customer crm-4711 asked for a call about {first}.")
    await mailer.send("staff@example.com", "Daily digest", "Nothing about anyone in particular.")
    mails_before = sorted(p.name for p in outbox.folder.glob("*.eml"))

    created = await erase(client, shop, {"scope": "customer", "customer_ref": "crm-4711"})
    assert created["status"] == "pending" and created["scope"] == "customer" and created["subject_ref"].startswith("sub_")
    assert created["requested_by"] == {"kind": "user", "id": shop.owner.id} and created["receipt"] is None
    assert created["progress"] == {"conversations_total": 2, "conversations_done": 0}

    done = await finished(app, client, shop, created["id"])
    assert done["status"] == "done" and done["error"] is None and done["attempts"] == 1
    assert done["progress"] == {"conversations_total": 2, "conversations_done": 2}
    erased_rows = len(texts) + 3  # the first conversation: its messages, the note, the closed event, the rating
    receipt = done["receipt"]
    assert receipt["erased"]["database"] == {"chat_message": erased_rows + 1, "conversation_anonymised": 2}
    assert receipt["erased"]["outbox"] == {"files": 1} and receipt["unlinked"] == {"processing_log": 1}
    assert receipt["held"] == {"conversations": 0, "legal_holds": []} and receipt["requested_by"]["id"] == shop.owner.id
    assert receipt["completed_at"] and "statistics" in receipt["kept"]
    as_text = json.dumps(done)
    for secret in ("crm-4711", "vis_c1", "Erika", "upset", "too slow"):
        assert secret not in as_text, f"the receipt must carry no content or identifier: {secret}"

    # The database: no text left, stubs keep the statistics, the other customer untouched.
    for conversation_id in (first, second):
        assert await messages_of(app, conversation_id) == []
        stub = await conversation(app, conversation_id)
        assert (stub.status, stub.visitor_id, stub.customer_ref) == ("erased", "erased", None)
    stub = await conversation(app, first)
    assert stub.rating == 2 and stub.closed_at is not None and stub.avatar_id == shop.avatar_id
    assert await count(app, RuleHit, RuleHit.conversation_id == first) == 1, "rule hits are statistics without text: kept"
    assert [m.text for m in await messages_of(app, other)][0] == "Hello from someone else"
    assert (await conversation(app, other)).customer_ref == "crm-0815"

    # The outbox: the mail naming the customer is gone, the other stays.
    mails_after = sorted(p.name for p in outbox.folder.glob("*.eml"))
    assert len(mails_before) - len(mails_after) == 1
    assert not any("crm-4711" in p.read_text() for p in outbox.folder.glob("*.eml"))

    # The processing log: the visitor is replaced by the pseudonym; the erasure itself is logged.
    entries = await log_entries(app, shop.tenant_id)
    refs = [e.subject_ref for e in entries if e.purpose == "answer_chat"]
    assert "vis_c1" not in refs and done["subject_ref"] in refs and "vis_other" in refs
    erasures = [e for e in entries if e.purpose == "erase"]
    assert [e.actor for e in erasures] == [shop.owner.id, "erasure-worker"]
    assert erasures[1].counts["chat_message"] == erased_rows + 1 and all(e.subject_ref == done["subject_ref"] for e in erasures)

    # The staff view: the transcript is empty and says the conversation was erased.
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/conversations/{first}/transcript", headers=shop.owner.headers)
    assert r.status_code == 200 and r.json()["messages"] == [] and r.json()["status"] == "erased"

    # Asking again: nothing of this customer is left, and the answer says so.
    r = await client.post(url(shop), json={"scope": "customer", "customer_ref": "crm-4711"}, headers=shop.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.customer_ref" and created["id"] in r.json()["detail"]


async def test_search_finds_nothing_of_erased_messages(app, client, shop):
    kept = await seed_conversation(app, shop, visitor_id="vis_s2", texts=("zanzibar parcel",))
    gone = await seed_conversation(app, shop, visitor_id="vis_s1", texts=("zanzibar delivery for Quirinus",), note="quirinus called twice")
    search = f"/v1/tenants/{shop.tenant_id}/conversations"
    r = await client.get(search, params={"q": "zanzibar"}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    assert {c["id"] for c in r.json()["items"]} == {kept, gone}
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_s1"}))["id"])
    assert done["status"] == "done"
    for q in ("zanzibar", "quirinus", "delivery"):
        r = await client.get(search, params={"q": q}, headers=shop.owner.headers)
        assert gone not in {c["id"] for c in r.json()["items"]}, q
    r = await client.get(search, params={"q": "zanzibar"}, headers=shop.owner.headers)
    assert [c["id"] for c in r.json()["items"]] == [kept]


async def test_tags_go_with_their_erased_conversation(app, client, shop):
    """A tag is free staff text that can name the customer; the anonymous stub keeps nothing written about
    the person, and the tag counts must not count what the inbox no longer lists."""
    kept = await seed_conversation(app, shop, visitor_id="vis_t2", texts=("hello",))
    gone = await seed_conversation(app, shop, visitor_id="vis_t1", texts=("hello",))
    base = f"/v1/tenants/{shop.tenant_id}"
    for conversation_id, tags in ((gone, ["jane-doe-munich", "vip"]), (kept, ["vip"])):
        r = await client.post(f"{base}/conversations/{conversation_id}/tags", json={"tags": tags}, headers=shop.owner.headers)
        assert r.status_code == 200, r.text
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_t1"}))["id"])
    assert done["status"] == "done"
    stub = (await client.get(f"{base}/conversations/{gone}", headers=shop.owner.headers)).json()
    assert stub["status"] == "erased" and stub["tags"] == [], stub
    counts = (await client.get(f"{base}/conversation-tags", headers=shop.owner.headers)).json()["items"]
    assert {c["tag"]: c["conversations"] for c in counts} == {"vip": 1}
    assert (await client.get(f"{base}/conversations/{kept}", headers=shop.owner.headers)).json()["tags"] == ["vip"]


async def test_one_conversation_and_everything_before_a_date(app, client, shop):
    now = utcnow()
    old = await seed_conversation(app, shop, visitor_id="vis_d1", at=now - timedelta(days=40))
    older = await seed_conversation(app, shop, visitor_id="vis_d2", at=now - timedelta(days=400))
    recent = await seed_conversation(app, shop, visitor_id="vis_d1", at=now - timedelta(days=2))
    single = await seed_conversation(app, shop, visitor_id="vis_d3")

    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "conversation", "conversation_id": single}))["id"])
    assert done["subject_ref"] == single and done["receipt"]["erased"]["database"]["conversation_anonymised"] == 1
    assert await messages_of(app, single) == []

    cutoff = (now - timedelta(days=30)).isoformat()
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "before", "before": cutoff}))["id"])
    assert done["status"] == "done" and done["progress"]["conversations_done"] == 2 and done["subject_ref"] is None
    assert await messages_of(app, old) == [] and await messages_of(app, older) == []
    assert len(await messages_of(app, recent)) == 3, "newer conversations, even of the same visitor, stay"

    r = await client.post(url(shop), json={"scope": "before", "before": cutoff}, headers=shop.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.before" and "nothing to erase" in r.json()["detail"]
    r = await client.post(url(shop), json={"scope": "conversation", "conversation_id": single}, headers=shop.owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased"), "as DELETE …/conversations/{id} answers"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"scope": "visitor"}, "body.visitor_id", "Required"),
        ({"scope": "customer", "customer_ref": ""}, "body.customer_ref", ""),
        ({"scope": "visitor", "visitor_id": "vis_nobody"}, "body.visitor_id", "No conversation"),
        ({"scope": "customer", "customer_ref": "crm-nobody"}, "body.customer_ref", "No conversation"),
        ({"scope": "conversation", "conversation_id": "cnv_missing"}, "body.conversation_id", "No conversation"),
        ({"scope": "visitor", "visitor_id": "vis_x", "customer_ref": "crm-1"}, "body.customer_ref", "Not used"),
        ({"scope": "before", "before": "2999-01-01T00:00:00Z"}, "body.before", "future"),
        ({"scope": "tenant"}, "body.confirm_tenant_id", "Required"),
        ({"scope": "tenant", "confirm_tenant_id": "ten_other"}, "body.confirm_tenant_id", "repeat"),
        ({"scope": "everything"}, "body.scope", ""),
        ({"scope": "visitor", "visitor_id": "vis_x", "extra": 1}, "body.extra", ""),
    ],
)
async def test_bad_requests_name_the_field_and_erase_nothing(app, client, shop, body, field, words):
    kept = await seed_conversation(app, shop, visitor_id="vis_x")
    r = await client.post(url(shop), json=body, headers=shop.owner.headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == field and words in problem["detail"]
    assert len(await messages_of(app, kept)) == 3
    r = await client.get(url(shop), headers=shop.owner.headers)
    assert r.json()["items"] == []


async def test_another_tenants_conversation_is_unknown_here(app, client, factory, shop):
    other = await make_shop(client, factory, "Other AG")
    theirs = await seed_conversation(app, other, visitor_id="vis_theirs")
    r = await client.post(url(shop), json={"scope": "conversation", "conversation_id": theirs}, headers=shop.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.conversation_id"
    r = await client.post(url(shop), json={"scope": "visitor", "visitor_id": "vis_theirs"}, headers=shop.owner.headers)
    assert r.status_code == 422
    assert len(await messages_of(app, theirs)) == 3


async def test_the_same_scope_while_queued_returns_the_existing_request(app, client, shop):
    await seed_conversation(app, shop, visitor_id="vis_twice")
    async with worker_held_off(app):  # as if a runner were busy elsewhere: the request stays queued
        first = await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_twice"})
        again = await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_twice"}, expect=200)
        assert again["id"] == first["id"] and again["status"] == "pending"
        r = await client.get(url(shop), params={"status": "pending"}, headers=shop.owner.headers)
        assert [i["id"] for i in r.json()["items"]] == [first["id"]]
    assert (await finished(app, client, shop, first["id"]))["status"] == "done"


async def test_only_admins_erase(app, client, factory, shop):
    await seed_conversation(app, shop, visitor_id="vis_roles")
    for role in ("editor", "analyst", "operator"):
        member = await factory.member(shop.tenant_id, shop.owner, role)
        r = await client.post(url(shop), json={"scope": "visitor", "visitor_id": "vis_roles"}, headers=member.headers)
        assert r.status_code == 403 and r.json()["permission"] == "data:erase", role
        assert (await client.get(url(shop), headers=member.headers)).status_code == 403
    admin = await factory.member(shop.tenant_id, shop.owner, "admin")
    created = await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_roles"})
    r = await client.get(url(shop, f"/{created['id']}"), headers=admin.headers)
    assert r.status_code == 200
    r = await client.get(url(shop, "/era_missing"), headers=admin.headers)
    assert r.status_code == 404 and r.json()["detail"] == "No such erasure request."


async def test_a_legal_hold_keeps_data_until_it_is_released(app, client, shop):
    held = await seed_conversation(app, shop, visitor_id="vis_h", customer_ref="crm-held", texts=("keep this for court",))
    free = await seed_conversation(app, shop, visitor_id="vis_h", customer_ref="crm-held", texts=("this may go",))
    holds = f"/v1/tenants/{shop.tenant_id}/legal-holds"
    r = await client.post(holds, json={"conversation_id": held, "reason": "Litigation 2024-17"}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert hold["active"] and hold["scope"] == "conversation" and hold["conversation_id"] == held and hold["created_by"]["id"] == shop.owner.id

    created = await erase(client, shop, {"scope": "customer", "customer_ref": "crm-held"})
    assert created["progress"]["conversations_total"] == 2
    done = await finished(app, client, shop, created["id"])
    assert done["status"] == "done" and done["held"] == {"conversations": 1, "legal_holds": [hold["id"]]}
    assert done["receipt"]["held"] == {"conversations": 1, "legal_holds": [hold["id"]]}
    assert await messages_of(app, free) == []
    assert (await messages_of(app, held))[0].text == "keep this for court" and (await conversation(app, held)).customer_ref == "crm-held"

    r = await client.delete(f"{holds}/{hold['id']}", headers=shop.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"
    r = await client.request("DELETE", f"{holds}/{hold['id']}", json={"reason": "Case settled"}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    released = r.json()
    assert not released["active"] and released["release_reason"] == "Case settled" and released["requeued_erasure_requests"] == [created["id"]]
    r = await client.request("DELETE", f"{holds}/{hold['id']}", json={"reason": "again"}, headers=shop.owner.headers)
    assert r.status_code == 409

    done = await finished(app, client, shop, created["id"])
    assert done["status"] == "done" and done["held"] == {"conversations": 0, "legal_holds": []}
    assert done["progress"]["conversations_done"] == 2 and done["attempts"] == 2
    assert await messages_of(app, held) == [] and (await conversation(app, held)).status == "erased"
    r = await client.get(holds, params={"active": "false"}, headers=shop.owner.headers)
    assert [h["id"] for h in r.json()["items"]] == [hold["id"]]


async def test_holds_by_customer_and_bad_holds(app, client, factory, shop):
    a = await seed_conversation(app, shop, visitor_id="vis_k1", customer_ref="crm-k")
    b = await seed_conversation(app, shop, visitor_id="vis_k2", customer_ref="crm-k")
    holds = f"/v1/tenants/{shop.tenant_id}/legal-holds"
    for body, field in [
        ({"reason": "because"}, "body"),
        ({"conversation_id": a, "visitor_id": "vis_k1", "reason": "because"}, "body"),
        ({"conversation_id": "cnv_missing", "reason": "because"}, "body.conversation_id"),
        ({"customer_ref": "crm-nobody", "reason": "because"}, "body.customer_ref"),
        ({"customer_ref": "crm-k"}, "body.reason"),
        ({"customer_ref": "crm-k", "reason": "x"}, "body.reason"),
    ]:
        r = await client.post(holds, json=body, headers=shop.owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
    analyst = await factory.member(shop.tenant_id, shop.owner, "analyst")
    r = await client.post(holds, json={"customer_ref": "crm-k", "reason": "audit"}, headers=analyst.headers)
    assert r.status_code == 403
    r = await client.post(holds, json={"customer_ref": "crm-k", "reason": "Tax audit 2025"}, headers=shop.owner.headers)
    assert r.status_code == 201 and r.json()["customer_ref"] == "crm-k"
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_k1"}))["id"])
    assert done["held"]["conversations"] == 1 and done["progress"]["conversations_done"] == 0
    assert len(await messages_of(app, a)) == 3 and len(await messages_of(app, b)) == 3
    assert await count(app, LegalHold, LegalHold.tenant_id == shop.tenant_id) == 1


async def test_once_a_customer_is_erased_released_holds_and_failed_requests_no_longer_name_them(app, client, shop):
    """A privacy review: the released hold kept the customer reference in clear, with reasons naming the person,
    and a request that had failed kept its target, for as long as the tenant exists."""
    await seed_conversation(app, shop, visitor_id="vis_h1", customer_ref="erika@example.com")
    kept = await seed_conversation(app, shop, visitor_id="vis_h2", customer_ref="crm-other")
    holds = f"/v1/tenants/{shop.tenant_id}/legal-holds"
    r = await client.post(holds, json={"customer_ref": "erika@example.com", "reason": "Lawsuit by Erika Mustermann"}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    erika_hold = r.json()["id"]
    r = await client.request("DELETE", f"{holds}/{erika_hold}", json={"reason": "Settled with Erika"}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    r = await client.post(holds, json={"customer_ref": "crm-other", "reason": "Audit of crm-other"}, headers=shop.owner.headers)
    other_hold = r.json()["id"]
    r = await client.request("DELETE", f"{holds}/{other_hold}", json={"reason": "Audit done"}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    async with worker_held_off(app):  # the worker, woken by the request, must not carry it out meanwhile
        failed = await erase(client, shop, {"scope": "customer", "customer_ref": "erika@example.com"})
        async with app.state.sessionmaker() as session, session.begin():  # as after MAX_ATTEMPTS failed batches
            await session.execute(update(ErasureRequest).where(ErasureRequest.id == failed["id"]).values(status="failed", active_key=None, finished_at=utcnow()))

    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "customer", "customer_ref": "erika@example.com"}))["id"])
    assert done["status"] == "done"

    r = await client.get(f"{holds}/{erika_hold}", headers=shop.owner.headers)
    hold = r.json()
    assert hold["customer_ref"] == done["subject_ref"] and hold["customer_ref"].startswith("sub_"), hold
    assert "Erika" not in json.dumps(hold) and hold["reason"] == hold["release_reason"] == "(erased with the subject's data)"
    r = await client.get(f"{holds}/{other_hold}", headers=shop.owner.headers)
    assert r.json()["customer_ref"] == "crm-other" and r.json()["reason"] == "Audit of crm-other"  # another customer's stays
    assert await count(app, ErasureRequest, ErasureRequest.target == "erika@example.com") == 0
    r = await client.get(url(shop, f"/{failed['id']}"), headers=shop.owner.headers)
    assert r.json()["status"] == "failed" and "erika@example.com" not in r.text
    assert len(await messages_of(app, kept)) == 3


async def test_erasing_a_visitor_reaches_the_broker_and_closes_the_open_sockets_at_once(app, client, factory, backend):
    """The erasure's batch commits, and the widget still open on the conversation closes with 4410 without
    writing anything (it used to stay open, showing the erased transcript, until the visitor's next write);
    the operator watching it stops with `left` (reason `erased`) and sees it leave the queue. Another
    visitor's chat of the same tenant stays open."""
    from tests.support.chat import live_server, operator, published_avatar, visitor

    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Live GmbH")
    avatar = await published_avatar(client, owner, tenant_id)
    shop = Shop(owner, tenant_id, avatar["avatar_id"])
    broker = app.state.services.broker
    async with (
        live_server(app) as base,
        visitor(base, avatar["widget_key"]) as (chat, welcome),
        visitor(base, avatar["widget_key"]) as (bystander, _),
        operator(base, tenant_id, owner.token) as (ops, _),
    ):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await bystander.expect("message")
        await chat.say("my name is Quentin, when are you open?", "q1")
        await chat.expect("message")
        await ops.send({"type": "join", "conversation_id": conversation_id})
        await ops.expect("joined")
        async with app.state.sessionmaker() as session:
            visitor_id = (await session.get(Conversation, conversation_id)).visitor_id
        assert await broker.members(f"vconn:{visitor_id}"), "the open connection is in its group"

        done = await finished(app, client, shop, (await erase(client, shop, {"scope": "visitor", "visitor_id": visitor_id}))["id"])
        assert done["status"] == "done" and done["receipt"]["erased"]["broker"]["keys"] >= 2

        frames, closed = await frames_until_close(chat)  # the reply's frames may still be ahead of the cut
        assert closed.code == 4410 and closed.reason == "conversation-erased", closed
        problem = frames[-1]["problem"]
        assert problem["type"].endswith("/conversation-erased") and problem["close_code"] == 4410, frames[-1]
        left = update = None
        while left is None or update is None:  # after the joined transcript and the reply, in either order
            frame = await ops.recv()
            if frame["type"] == "left":
                left = frame
            elif frame["type"] == "queue_update" and frame["conversation"]["status"] == "erased":
                update = frame
        assert left == {"type": "left", "conversation_id": conversation_id, "reason": "erased"}
        assert update["conversation"]["id"] == conversation_id and update["conversation"]["assignee_id"] is None
        await bystander.send({"type": "ping"})  # the tenant's other chat stays open
        await bystander.expect("pong")

        assert await broker.members(f"vconn:{visitor_id}") == []
        assert (await broker.hit(f"ws:msg:{visitor_id}", 100, 60)).count == 1, "the rate-limit counter started again"
        await broker.purge(f"ws:msg:{visitor_id}")
        if backend.name == "postgres":
            import redis.asyncio as redis

            raw = redis.from_url(backend.redis_url)
            try:
                left_keys = [k async for k in raw.scan_iter(match=f"{backend.redis_prefix}*{visitor_id}*")]
            finally:
                await raw.aclose()
            assert left_keys == []
    assert await messages_of(app, conversation_id) == []
    assert (await conversation(app, conversation_id)).status == "erased"


async def shop_whose_erasures_go_unannounced(client, factory, monkeypatch, name: str) -> tuple[Shop, dict]:
    """A tenant with a published avatar, on a node whose erasure notices are lost (not published, or not heard)."""
    from confide.realtime import access
    from tests.support.chat import published_avatar

    async def lost(*args, **kwargs):
        return None

    monkeypatch.setattr(access, "announce_conversations_erased", lost)
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    avatar = await published_avatar(client, owner, tenant_id)
    return Shop(owner, tenant_id, avatar["avatar_id"]), avatar


async def test_a_node_that_missed_the_erasure_notice_cuts_the_socket_once_resubscribed(app, client, factory, monkeypatch):
    """The notice is lost (its node could not publish, or this one was not subscribed): once the node's broker
    subscription is back, it asks the database which of its sockets' conversations were erased, and cuts those."""
    from tests.support.chat import live_server, visitor

    shop, avatar = await shop_whose_erasures_go_unannounced(client, factory, monkeypatch, "Deaf Node GmbH")
    async with live_server(app) as base, visitor(base, avatar["widget_key"]) as (chat, welcome), visitor(base, avatar["widget_key"]) as (kept, _):
        await chat.expect("message")
        await kept.expect("message")
        done = await finished(app, client, shop, (await erase(client, shop, {"scope": "conversation", "conversation_id": welcome["conversation_id"]}))["id"])
        assert done["status"] == "done"
        await chat.send({"type": "ping"})
        await chat.expect("pong")  # nobody told this node
        app.state.chat.live._catch_up()  # what the broker's resubscription hook runs  # noqa: SLF001
        frames, closed = await frames_until_close(chat)
        assert closed.code == 4410 and frames[-1]["problem"]["type"].endswith("/conversation-erased")
        await kept.send({"type": "ping"})
        await kept.expect("pong")


async def test_an_operator_watch_that_missed_the_erasure_notice_ends_once_resubscribed(app, client, factory, monkeypatch):
    """As for visitor sockets: the node asks the database about the conversations its operators watch too, and those
    erased meanwhile end with `left` (reason `erased`); the catch-up used to leave them watching a conversation gone."""
    from tests.support.chat import live_server, operator, visitor

    shop, avatar = await shop_whose_erasures_go_unannounced(client, factory, monkeypatch, "Deaf Desk GmbH")
    owner = shop.owner
    async with live_server(app) as base, operator(base, shop.tenant_id, owner.token) as (ops, _):
        async with visitor(base, avatar["widget_key"]) as (chat, welcome), visitor(base, avatar["widget_key"]) as (kept, kept_welcome):
            await chat.expect("message")
            await kept.expect("message")
        gone, stays = welcome["conversation_id"], kept_welcome["conversation_id"]

        async def next_frame(kind: str) -> dict:
            """Past the transcript a join replays (`message` frames)."""
            while (frame := await ops.expect(kind, "message"))["type"] != kind:
                pass
            return frame

        for conversation_id in (gone, stays):
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await next_frame("joined")
        done = await finished(app, client, shop, (await erase(client, shop, {"scope": "conversation", "conversation_id": gone}))["id"])
        assert done["status"] == "done"
        app.state.chat.live._catch_up()  # what the broker's resubscription hook runs  # noqa: SLF001
        assert await next_frame("left") == {"type": "left", "conversation_id": gone, "reason": "erased"}
        watching = app.state.chat.live._operators[owner.id]  # noqa: SLF001
        assert [c.watched() for c in watching] == [(stays,)], "the other watch goes on"


async def test_releases_of_one_hold_at_the_same_moment_release_it_once(app, client, shop):
    """Three releases at once: one is answered 200 with its reason kept, the others 409 as a repeat is (all three were
    answered 200 and the last reason overwrote the first's, an API review found)."""
    import asyncio

    holds = f"/v1/tenants/{shop.tenant_id}/legal-holds"
    await seed_conversation(app, shop, visitor_id="vis_race")
    for _ in range(3):
        r = await client.post(holds, json={"visitor_id": "vis_race", "reason": "Dispute"}, headers=shop.owner.headers)
        assert r.status_code == 201, r.text
        hold_id = r.json()["id"]
        answers = await asyncio.gather(
            *(client.request("DELETE", f"{holds}/{hold_id}", json={"reason": f"Release {n}"}, headers=shop.owner.headers) for n in range(3))
        )
        assert sorted(r.status_code for r in answers) == [200, 409, 409], [r.text for r in answers]
        (won,) = [r.json() for r in answers if r.status_code == 200]
        for lost in (r for r in answers if r.status_code == 409):
            assert lost.json()["type"].endswith("/conflict") and lost.json()["released_at"], lost.text
        r = await client.get(f"{holds}/{hold_id}", headers=shop.owner.headers)
        assert r.json()["release_reason"] == won["release_reason"] and r.json()["released_at"] == won["released_at"], (r.json(), won)


async def test_the_ledger_erases_restored_data_but_not_a_new_conversation(app, client, shop):
    old = utcnow() - timedelta(days=3)
    await seed_conversation(app, shop, visitor_id="vis_l1", customer_ref="crm-ledger", at=old)
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "customer", "customer_ref": "crm-ledger"}))["id"])
    assert done["status"] == "done"
    async with app.state.sessionmaker() as session:
        entry = await session.scalar(select(ErasureLedgerEntry).where(ErasureLedgerEntry.tenant_id == shop.tenant_id))
    assert entry.kind == "customer" and len(entry.subject_hash) == 64 and "crm" not in entry.subject_hash and entry.request_id == done["id"]

    # A backup is restored: the customer's old conversation is back. And the customer returns and chats anew.
    restored = await seed_conversation(app, shop, visitor_id="vis_l1", customer_ref="crm-ledger", texts=("restored words",), at=old)
    returning = await seed_conversation(app, shop, visitor_id="vis_l9", customer_ref="crm-ledger", texts=("I am back",))
    await app.state.erasure_worker.drain(sweep=True)
    assert await messages_of(app, restored) == [] and (await conversation(app, restored)).customer_ref is None
    assert [m.text for m in await messages_of(app, returning)][0] == "I am back", "new processing after the erasure is kept"
    r = await client.get(url(shop), headers=shop.owner.headers)
    ledger = [i for i in r.json()["items"] if i["origin"] == "ledger"]
    assert len(ledger) == 1 and ledger[0]["progress"]["conversations_done"] == 1 and ledger[0]["receipt"]["erased"]["database"]["chat_message"] == 2
    await app.state.erasure_worker.drain(sweep=True)
    r = await client.get(url(shop), headers=shop.owner.headers)
    assert len([i for i in r.json()["items"] if i["origin"] == "ledger"]) == 1, "nothing more to do: no empty receipts"


async def test_the_whole_tenant_at_the_end_of_its_contract(app, client, shop):
    a = await seed_conversation(app, shop, visitor_id="vis_t1", customer_ref="crm-t", note="vip")
    b = await seed_conversation(app, shop, visitor_id="vis_t2", rating=(4, "fine"))
    await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_t2"})  # a stub exists before the tenant goes
    await app.state.erasure_worker.drain()
    async with app.state.sessionmaker() as session:
        await authorize(session, tenant_id=shop.tenant_id, purpose=Purpose.ANSWER_CHAT, actor=shop.avatar_id, subject_ref="vis_t1")
    broker = app.state.services.broker
    await broker.member_add(f"presence:{shop.tenant_id}", shop.owner.id, 60)  # an operator online
    created = await erase(client, shop, {"scope": "tenant", "confirm_tenant_id": shop.tenant_id})
    done = await finished(app, client, shop, created["id"])
    assert done["status"] == "done" and done["progress"]["conversations_done"] == 2
    assert await broker.members(f"presence:{shop.tenant_id}") == [] and done["receipt"]["erased"]["broker"]["keys"] >= 1
    assert done["receipt"]["erased"]["database"]["conversation"] == 2 and "Nothing" in done["receipt"]["kept"]
    assert await conversation(app, a) is None and await conversation(app, b) is None
    assert await count(app, Message, Message.tenant_id == shop.tenant_id) == 0
    entries = await log_entries(app, shop.tenant_id)
    assert len(entries) >= 5 and all(e.subject_ref is None for e in entries), "the log keeps what was done, not about whom"
    r = await client.get(f"/v1/tenants/{shop.tenant_id}", headers=shop.owner.headers)
    assert r.status_code == 200, "the tenant account itself is ended separately"


async def test_a_store_that_fails_fails_the_request_visibly_and_changes_nothing(app, client, shop):
    kept = await seed_conversation(app, shop, visitor_id="vis_f1")
    unreachable = RedisBroker("redis://127.0.0.1:1/0")
    worker = ErasureWorker(app.state.engine, app.state.sessionmaker, settings=app.state.settings, broker=unreachable)
    try:
        async with worker_held_off(app):  # this test is the runner: only the broken worker works
            created = await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_f1"})
            await worker.process(created["id"])
            r = await client.get(url(shop, f"/{created['id']}"), headers=shop.owner.headers)
            state = r.json()
            assert state["status"] == "pending" and state["attempts"] == 1 and state["error"].startswith("ConnectionError")
            assert "retried" in state["error"] and len(await messages_of(app, kept)) == 3
            for _ in range(MAX_ATTEMPTS - 1):
                await worker.process(created["id"])
        r = await client.get(url(shop, f"/{created['id']}"), headers=shop.owner.headers)
        state = r.json()
        assert state["status"] == "failed" and state["attempts"] == MAX_ATTEMPTS and "given up" in state["error"] and state["receipt"] is None
        assert len(await messages_of(app, kept)) == 3, "the broker step comes first: nothing was half erased"
    finally:
        await unreachable.close()
    retry = await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_f1"})
    assert retry["id"] != created["id"]
    assert (await finished(app, client, shop, retry["id"]))["status"] == "done"


async def _fresh_database(backend, stack, tmp_path) -> str:  # noqa: ANN001
    """A database of this test's own, so no worker of the test session picks its requests up."""
    from confide.migrate import upgrade
    from tests.support.services import postgres_database

    if backend.name == "postgres":
        url = await stack.enter_async_context(postgres_database())
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    await upgrade(url)
    return url


async def test_a_worker_killed_mid_run_resumes_and_leaves_nothing(backend, tmp_path):
    import contextlib

    from confide.chats import service as chats
    from confide.core.auth import Principal
    from confide.core.db import create_engine, create_sessionmaker
    from confide.core.identity import Tenant, User
    from confide.core.tenancy import Role, TenantContext
    from confide.privacy.erasure import request_erasure
    from avatars.models import Avatar
    from confide.settings import Settings

    conversations, per_conversation = 40, 30
    async with contextlib.AsyncExitStack() as stack:
        url = await _fresh_database(backend, stack, tmp_path)
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            session.add(User(id="usr_crash", email="crash@example.com", first_name="A", surname="B", pseudonym="ab", password_hash="x", privacy_policy_version="2024-01"))
            session.add(Tenant(id="ten_crash", name="Crash GmbH"))
            await session.flush()
            session.add(Avatar(id="avt_crash", tenant_id="ten_crash", name="Mia", persona={}, appearance={}, languages=["en"], language_tags=",en,",
                               default_language="en", messages={}, responder={}, widget_key="cfw_crash", allowed_origins=[]))
            await session.flush()
            for i in range(conversations):
                conversation = await chats.create_conversation(
                    session, tenant_id="ten_crash", avatar_id="avt_crash", avatar_version_id=None, visitor_id=f"vis_{i:03}", customer_ref=None, language="en"
                )
                for j in range(per_conversation):
                    await chats.append(session, tenant_id="ten_crash", conversation_id=conversation.id, author="visitor" if j % 2 else "avatar", text=f"message {j}")
            # A minute of quiet since: live conversations count as idle only once their activity time is
            # older than the activity resolution.
            await session.execute(update(Conversation).where(Conversation.tenant_id == "ten_crash").values(updated_at=utcnow() - timedelta(minutes=1)))
            ctx = TenantContext("ten_crash", Role.OWNER, Principal("user", "usr_crash", user_id="usr_crash"))
            settings = Settings(database_url=url, secret_key="crash-test-secret-key-0123456789abcdef")
            request, created = await request_erasure(session, ctx, settings=settings, scope="before", before=utcnow())
            await session.commit()
        assert created
        total = conversations * per_conversation

        env = {
            **os.environ,
            "CONFIDE_DATABASE_URL": url,
            "CONFIDE_SECRET_KEY": "crash-test-secret-key-0123456789abcdef",
            "CONFIDE_DATA_DIR": str(tmp_path),
            "CONFIDE_LOG_LEVEL": "WARNING",
        }
        if backend.redis_url:
            env.update({"CONFIDE_REDIS_URL": backend.redis_url, "CONFIDE_REDIS_PREFIX": backend.redis_prefix + "crash:"})

        async def worker(*args: str) -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "confide.privacy.erasure_worker", "--once", "--verbose", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )

        async def state() -> tuple[ErasureRequest, int]:
            async with sessionmaker() as session:
                row = await session.get(ErasureRequest, request.id)
                left = await session.scalar(select(func.count()).select_from(Message).where(Message.tenant_id == "ten_crash"))
            return row, int(left or 0)

        slow = await worker("--batch-rows", "40", "--batch-conversations", "4", "--pause", "0.05")
        for _ in range(3):  # three batches committed: kill it, as a node dies, mid-run
            line = await asyncio.wait_for(slow.stdout.readline(), 60)
            assert json.loads(line)["event"] == "batch", line
        slow.send_signal(signal.SIGKILL)
        assert await slow.wait() == -signal.SIGKILL

        row, left = await state()
        assert row.status == "running" and row.attempts == 1
        assert 0 < left < total, "killed mid-run: part erased, part left"
        assert row.counts["chat_message"] == total - left, "progress commits with each batch: the counts are exact"

        again = await worker()
        out, err = await asyncio.wait_for(again.communicate(), 120)
        assert again.returncode == 0, err.decode()[-2000:]
        assert json.loads(out.decode().strip().splitlines()[-1]) == {"event": "drained"}

        row, left = await state()
        assert left == 0 and row.status == "done" and row.attempts == 2 and row.error is None
        assert row.counts["chat_message"] == total and row.conversations_done == conversations and row.counts["conversation_anonymised"] == conversations
        assert row.target is None and row.finished_at is not None


async def test_erasure_keeps_the_evaluation_figures(app, client, shop):
    from confide.core import events
    from confide.evaluation.models import ConversationMetrics, ConversationOutcome, DailyAggregate

    rated = await seed_conversation(app, shop, visitor_id="vis_st", texts=("Do you sell zorblax?", "It is on its way.", "thanks"), rating=(3, "so-so"))
    bus = app.state.services.events
    payload = {"tenant_id": shop.tenant_id, "conversation_id": rated, "avatar_id": shop.avatar_id}
    bus.emit(events.CONVERSATION_CLOSED, {**payload, "closed_by": "visitor"})
    bus.emit(events.RATING_RECEIVED, {**payload, "score": 3, "resolved": False, "message_id": None})
    await bus.drain()

    async def figures() -> tuple:
        async with app.state.sessionmaker() as session:
            metrics = await session.scalar(select(ConversationMetrics).where(ConversationMetrics.conversation_id == rated))
            outcome = await session.scalar(select(ConversationOutcome).where(ConversationOutcome.conversation_id == rated))
            daily = (await session.scalars(select(DailyAggregate).where(DailyAggregate.tenant_id == shop.tenant_id))).all()
        assert metrics is not None and outcome is not None and daily
        return (metrics.turns, metrics.avatar_messages, metrics.handed_off), (outcome.score, outcome.resolved), [(d.day, d.conversations, d.turns, d.rated, d.rating_sum) for d in daily]

    before = await figures()
    done = await finished(app, client, shop, (await erase(client, shop, {"scope": "visitor", "visitor_id": "vis_st"}))["id"])
    assert done["status"] == "done" and await messages_of(app, rated) == []
    assert await figures() == before, "purging the text keeps the statistics (rows are anonymised, not deleted)"


async def test_after_a_key_rotation_the_ledger_still_knows_who_was_erased(app, client, shop):
    """The ledger's hashes are keyed with the secret key: with the old key moved to
    previous_secret_keys a rotated node still erases the restored data again; with the old key
    dropped it no longer can (which is why the setting says when a key may go)."""
    from confide.core.auth import Principal
    from confide.core.errors import InvalidInput
    from confide.core.tenancy import Role, TenantContext
    from confide.privacy.erasure import request_erasure
    from confide.settings import Settings

    old = utcnow() - timedelta(days=3)
    await seed_conversation(app, shop, visitor_id="vis_r1", customer_ref="crm-rotated", at=old)
    assert (await finished(app, client, shop, (await erase(client, shop, {"scope": "customer", "customer_ref": "crm-rotated"}))["id"]))["status"] == "done"
    restored = await seed_conversation(app, shop, visitor_id="vis_r1", customer_ref="crm-rotated", texts=("restored words",), at=old)
    settings = app.state.settings

    def keyed(**keys: str) -> Settings:
        return type(settings)(**{**settings.model_dump(), **keys})  # not model_copy: it would keep the cached keys

    def worker(keys: Settings) -> ErasureWorker:
        return ErasureWorker(app.state.engine, app.state.sessionmaker, settings=keys, broker=app.state.services.broker)

    dropped, rotated = keyed(secret_key="rotated-" + "r" * 32), keyed(secret_key="rotated-" + "r" * 32, previous_secret_keys=f"an-older-one,{settings.resolved_secret_key}")
    await worker(dropped).sweep_ledger()
    assert "restored words" in [m.text for m in await messages_of(app, restored)], "the old key dropped: the ledger has forgotten"
    await worker(rotated).sweep_ledger()
    assert await messages_of(app, restored) == []
    # Asked again after the rotation: the ledger, matched under every listed key, says it is done already.
    ctx = TenantContext(shop.tenant_id, Role.OWNER, Principal("user", shop.owner.id, user_id=shop.owner.id))
    async with app.state.sessionmaker() as session:
        with pytest.raises(InvalidInput, match="already erased"):
            await request_erasure(session, ctx, settings=rotated, scope="customer", customer_ref="crm-rotated")


async def test_the_hold_release_body_is_documented_as_required(client):
    """FastAPI takes it as optional (another tenant's hold answers 404 before the body is read); a release without a
    reason is a 422, so the document says the body is required and what it holds."""
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/v1/tenants/{tenant_id}/legal-holds/{hold_id}"]["delete"]["requestBody"]
    assert body["required"] is True and body["content"]["application/json"]["schema"]["$ref"].endswith("/HoldReleaseBody")


async def test_a_request_whose_subject_was_erased_while_it_was_being_queued_is_refused(app, client, shop, monkeypatch):
    """Forced interleaving: a request for a conversation finds no request of that scope queued and counts the
    conversation (still there); then the same request from elsewhere is queued and runs to its end; then the first
    inserts (the other's active key is gone by then). It ran, erased nothing and left an empty receipt; now it answers
    409, as the same request sent afterwards does (found by fuzzing: two, and five, of a burst of twelve on SQLite)."""
    from confide.privacy import erasure

    single = await seed_conversation(app, shop, visitor_id="vis_q1")
    body = {"scope": "conversation", "conversation_id": single}
    real = erasure.count_conversations
    others: list[dict] = []

    async def count_then_let_another_request_finish(session, selection):  # noqa: ANN001, ANN202
        n = await real(session, selection)
        if not others:
            others.append({"counted": n})
            others.append(await erase(client, shop, body))
            await app.state.erasure_worker.drain()
        return n

    monkeypatch.setattr(erasure, "count_conversations", count_then_let_another_request_finish)
    r = await client.post(url(shop), json=body, headers=shop.owner.headers)
    assert others[0] == {"counted": 1}, "the request counted the conversation before the other erased it"
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased"), r.text
    other = others[1]
    done = await finished(app, client, shop, other["id"])
    assert done["status"] == "done" and done["receipt"]["erased"]["database"]["conversation_anonymised"] == 1
    listed = (await client.get(url(shop), headers=shop.owner.headers)).json()["items"]
    assert [q["id"] for q in listed if q["subject_ref"] == single] == [other["id"]], "one request, not two"
