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
