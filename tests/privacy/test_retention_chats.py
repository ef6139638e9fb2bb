"""The retention of chat data: each tenant's own period, legal holds honoured, statistics kept, and
without stored transcripts an idle conversation loses its text after a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from confide.core.clock import utcnow
from confide.privacy.models import ProcessingLogEntry
from confide.privacy.retention import run_retention
from tests.privacy.chat_seed import conversation, make_shop, messages_of, seed_conversation


async def instruct(client, shop, body: dict) -> None:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/privacy/instructions", json=body, headers=shop.owner.headers)
    assert r.status_code == 201, r.text


async def test_each_tenant_keeps_chats_for_its_own_period(app, client, factory):
    default = await make_shop(client, factory, "Default GmbH")  # 30 days
    short = await make_shop(client, factory, "Short GmbH")
    await instruct(client, short, {"retention_days": 7})
    now = utcnow()
    expired = await seed_conversation(app, default, visitor_id="vis_r1", customer_ref="crm-r1", rating=(5, "lovely"), rule_id="greeting", at=now - timedelta(days=31))
    kept = await seed_conversation(app, default, visitor_id="vis_r2", at=now - timedelta(days=10))
    held = await seed_conversation(app, default, visitor_id="vis_r3", texts=("evidence",), at=now - timedelta(days=90))
    short_expired = await seed_conversation(app, short, visitor_id="vis_r4", at=now - timedelta(days=10))
    short_kept = await seed_conversation(app, short, visitor_id="vis_r5", at=now - timedelta(days=2))
    r = await client.post(f"/v1/tenants/{default.tenant_id}/legal-holds", json={"visitor_id": "vis_r3", "reason": "Dispute with the customer"}, headers=default.owner.headers)
    assert r.status_code == 201, r.text

    run = await run_retention(app.state.engine, app.state.settings, now=now)
    assert run is not None and run.status == "done", run.failed_steps
    assert run.removed["chat_message"] >= 6 and run.removed["conversation_anonymised"] >= 2

    for gone in (expired, short_expired):
        assert await messages_of(app, gone) == []
        stub = await conversation(app, gone)
        assert (stub.status, stub.visitor_id, stub.customer_ref) == ("erased", "erased", None)
    stub = await conversation(app, expired)
    assert stub.rating == 5 and stub.avatar_id == default.avatar_id and stub.created_at < now - timedelta(days=30), "statistics stay"
    for stays in (kept, short_kept):
        assert len(await messages_of(app, stays)) == 3
    assert [m.text for m in await messages_of(app, held)][0] == "evidence", "the legal hold keeps it past its period"

    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        logged = (await session.scalars(select(ProcessingLogEntry).where(ProcessingLogEntry.actor == "retention", ProcessingLogEntry.tenant_id.in_([default.tenant_id, short.tenant_id])))).all()
    assert {e.tenant_id for e in logged} == {default.tenant_id, short.tenant_id} and all(e.purpose == "erase" for e in logged)
    assert {e.tenant_id: e.counts["chat_message"] for e in logged} == {default.tenant_id: 4, short.tenant_id: 3}

    again = await run_retention(app.state.engine, app.state.settings, now=now)
    assert again.status == "done" and len(await messages_of(app, kept)) == 3
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        logged_again = (await session.scalars(select(ProcessingLogEntry).where(ProcessingLogEntry.actor == "retention", ProcessingLogEntry.tenant_id.in_([default.tenant_id, short.tenant_id])))).all()
    assert len(logged_again) == 2, "a second run finds nothing more of these tenants, and logs nothing"


async def test_without_stored_transcripts_an_idle_conversation_loses_its_text_after_a_day(app, client, factory):
    shop = await make_shop(client, factory, "Forgetful GmbH")
    await instruct(client, shop, {"purposes": {"store_transcripts": False}})
    now = utcnow()
    abandoned = await seed_conversation(app, shop, visitor_id="vis_i1", close=False, at=now - timedelta(hours=30))
    live = await seed_conversation(app, shop, visitor_id="vis_i2", close=False, at=now - timedelta(minutes=5))
    run = await run_retention(app.state.engine, app.state.settings, now=now)
    assert run.status == "done"
    assert await messages_of(app, abandoned) == [] and (await conversation(app, abandoned)).status == "erased"
    assert len(await messages_of(app, live)) == 2, "a conversation still going keeps its messages while it lasts"


async def test_a_retention_run_from_the_command_line_closes_the_widgets_open_on_what_it_expired(app, backend, client, factory):
    """`confide retention run` holds no sockets: it tells the chat nodes over Redis what it erased, as a node does,
    so a widget still open on an expired conversation closes with 4410 at once (it stayed open until its next write)."""
    import pytest
    from sqlalchemy import update

    from confide.chats.models import Conversation
    from confide.privacy.cli import _run
    from tests.realtime.test_access_cut import frames_until_close
    from tests.support.chat import live_server, published_avatar, visitor

    if backend.redis_url is None:
        pytest.skip("the command and the node share no broker without Redis (SQLite runs the in-process one)")
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Expiring GmbH")
    avatar = await published_avatar(client, owner, tenant_id)
    async with live_server(app) as base, visitor(base, avatar["widget_key"]) as (chat, welcome), visitor(base, avatar["widget_key"]) as (kept, _):
        await chat.expect("message")
        await kept.expect("message")
        async with app.state.sessionmaker() as session:  # last active 40 days ago: past the default 30
            await session.execute(update(Conversation).where(Conversation.id == welcome["conversation_id"]).values(updated_at=utcnow() - timedelta(days=40)))
            await session.commit()
        result = await _run(app.state.settings)
        assert result["status"] == "done", result
        frames, closed = await frames_until_close(chat)
        assert closed.code == 4410 and frames[-1]["problem"]["type"].endswith("/conversation-erased"), (closed, frames[-1:])
        await kept.send({"type": "ping"})
        await kept.expect("pong")
    assert await messages_of(app, welcome["conversation_id"]) == []


async def test_a_visitor_whose_every_conversation_expired_leaves_the_processing_log(app, client, factory):
    """Retention takes the visitor's id out of the tenant's processing log once none of its conversations is
    left (the id is what the visitor's widget token carries); a visitor with a newer or a held conversation
    keeps its entries linked, and the entries themselves stay as proof."""
    from confide.core.ids import new_id

    shop = await make_shop(client, factory, "Log GmbH")
    other = await make_shop(client, factory, "Other Log GmbH")
    now = utcnow()
    await seed_conversation(app, shop, visitor_id="vis_l1", at=now - timedelta(days=40))
    await seed_conversation(app, shop, visitor_id="vis_l1", at=now - timedelta(days=35))
    await seed_conversation(app, shop, visitor_id="vis_l2", at=now - timedelta(days=40))
    await seed_conversation(app, shop, visitor_id="vis_l2", at=now - timedelta(days=3))
    await seed_conversation(app, shop, visitor_id="vis_l3", at=now - timedelta(days=40))
    await seed_conversation(app, other, visitor_id="vis_l1", at=now - timedelta(days=3))
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/legal-holds", json={"visitor_id": "vis_l3", "reason": "Dispute with the customer"}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    entries = [(tenant, visitor) for tenant in (shop.tenant_id, other.tenant_id) for visitor in ("vis_l1", "vis_l2", "vis_l3")]
    async with app.state.sessionmaker() as session:
        for tenant_id, visitor in entries:
            session.add(ProcessingLogEntry(id=new_id("plg"), tenant_id=tenant_id, at=now - timedelta(days=40), purpose="answer_chat", actor="avatar", subject_ref=visitor, counts={"messages": 1}, instructions_version=1))
        await session.commit()

    run = await run_retention(app.state.engine, app.state.settings, now=now)
    assert run is not None and run.status == "done", run.failed_steps
    async with app.state.sessionmaker() as session:
        logged = (await session.execute(select(ProcessingLogEntry.tenant_id, ProcessingLogEntry.subject_ref).where(ProcessingLogEntry.purpose == "answer_chat", ProcessingLogEntry.tenant_id.in_([shop.tenant_id, other.tenant_id])))).all()
    assert sorted((t == shop.tenant_id, s or "") for t, s in logged) == sorted(
        [(True, ""), (True, "vis_l2"), (True, "vis_l3"), (False, "vis_l1"), (False, "vis_l2"), (False, "vis_l3")]
    ), "only vis_l1 lost every conversation in the shop: its entry stays, unlinked; the other tenant's entries are untouched"
    assert run.removed.get("processing_log_unlinked", 0) >= 1
