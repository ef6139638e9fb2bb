"""A delivery built from an endpoint as it was before a change of its URL (or include_text) is never stored as
waiting, on either backend. On PostgreSQL the event's read key-share-locks the endpoint and the PATCH waits,
then gives the delivery up. On SQLite reads take no lock: the event read the endpoint, the PATCH changed the
URL and dropped what was waiting, and then the event stored its delivery, which went to the new URL. Now the
change raises the endpoint's revision and the outbox's foreign key to (endpoint, revision) refuses the late
delivery; the dispatcher gives it up (logged `endpoint_changed`) and stores the event's other deliveries."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from confide.core.clock import utcnow
from confide.core.ids import new_id
from confide.evaluation import webhooks
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.evaluation.webhook_deliveries import DELIVERED, FAILED, PENDING, enqueue
from confide.evaluation.webhooks import envelope
from tests.evaluation.helpers import settled
from tests.evaluation.receiver import receiver
from tests.support.services import until_a_statement_waits_for_a_lock

CLOSED = "conversation.closed"


async def _endpoint(client: Any, shop: dict[str, Any], url: str, **fields: Any) -> str:
    body = {"name": "CRM", "url": url, "events": [CLOSED], **fields}
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks", json=body, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _change(client: Any, shop: dict[str, Any], endpoint_id: str, **fields: Any) -> None:
    r = await client.patch(f"/v1/tenants/{shop['tenant_id']}/webhooks/{endpoint_id}", json=fields, headers=shop["owner"].headers)
    assert r.status_code == 200, r.text


async def test_an_event_that_read_the_endpoint_before_its_url_changed_never_reaches_the_new_url(app, backend, client, shop, monkeypatch):
    tenant_id = shop["tenant_id"]
    async with receiver() as old, receiver() as new, receiver() as other:
        endpoint_id = await _endpoint(client, shop, old.url)
        other_id = await _endpoint(client, shop, other.url)
        patch: asyncio.Task[None] | None = None
        read_endpoints = webhooks.endpoints_for

        async def endpoints_then_the_patch(session: Any, **kwargs: Any) -> list[WebhookEndpoint]:
            """The dispatcher's read of the endpoints; then, before it stores anything, the PATCH of the URL."""
            nonlocal patch
            found = await read_endpoints(session, **kwargs)
            if patch is None:
                patch = asyncio.create_task(_change(client, shop, endpoint_id, url=new.url))
                blocked = asyncio.create_task(until_a_statement_waits_for_a_lock(app, "webhook_endpoint")) if backend.name == "postgres" else None
                await asyncio.wait({patch, *([blocked] if blocked else [])}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
                if blocked is not None:
                    blocked.cancel()
            return found

        # The worker claims nothing until the PATCH has committed. On PostgreSQL the event's commit releases the PATCH
        # and wakes the worker at once: a worker that wins that race sends the delivery to the old URL it was built
        # for (allowed: it never reaches the new one), and this test is about the PATCH giving it up.
        worker = app.state.webhooks.worker
        run_once = worker.run_once

        async def held_until_the_patch() -> int:
            return await run_once() if patch is not None and patch.done() else 0

        monkeypatch.setattr(webhooks, "endpoints_for", endpoints_then_the_patch)
        monkeypatch.setattr(worker, "run_once", held_until_the_patch)
        await app.state.webhooks.on_event(CLOSED, {"tenant_id": tenant_id, "conversation_id": None, "avatar_id": None, "closed_by": "visitor"})
        assert patch is not None
        await asyncio.wait_for(patch, 30)
        monkeypatch.undo()
        worker.wake()
        await other.wait_for(1)
        await settled(app, tenant_id)

        assert new.requests == [], "built from the endpoint before its URL changed: never sent to the new URL"
        assert old.requests == []
        assert [r.headers["confide-event"] for r in other.requests] == [CLOSED], "the unchanged endpoint gets the event once"

    async with app.state.sessionmaker() as session:
        [row] = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()
        [entry] = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))).all()
        assert (row.status, row.body, row.endpoint_revision) == (FAILED, None, None), "ended: no revision for a change to carry along"
        assert (entry.event, entry.outcome, entry.error, entry.status_code) == (CLOSED, "failed", "endpoint_changed", None)
        [kept] = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == other_id))).all()
        assert kept.status == "delivered"


async def test_the_database_refuses_a_delivery_built_from_an_older_revision(app, client, shop):
    """What the dispatcher relies on, on both backends: the URL's change raises the revision, the outbox rows go
    with it, and a row naming the revision before the change is refused. A rename changes nothing a body was built for."""
    tenant_id = shop["tenant_id"]
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/old")

    async def revision() -> int:
        async with app.state.sessionmaker() as session:
            return (await session.get(WebhookEndpoint, endpoint_id)).revision

    def delivery(session: Any, built_from: int) -> WebhookOutbox:
        event_id = new_id("evt")
        row = enqueue(session, tenant_id=tenant_id, endpoint_id=endpoint_id, conversation_id=None, event_id=event_id, event=CLOSED,
                      body=envelope(event_id, CLOSED, tenant_id, {"text_included": False}), node="node_elsewhere")
        row.endpoint_revision = built_from
        return row

    before = await revision()
    async with app.state.sessionmaker() as session:
        earlier = delivery(session, before)
        await session.commit()
    await _change(client, shop, endpoint_id, name="CRM (renamed)")
    assert await revision() == before
    await _change(client, shop, endpoint_id, url="http://127.0.0.1:9/new")
    assert await revision() == before + 1
    await _change(client, shop, endpoint_id, include_text=True)
    assert await revision() == before + 2
    async with app.state.sessionmaker() as session:
        given_up = await session.get(WebhookOutbox, earlier.id)
        assert (given_up.status, given_up.endpoint_revision) == (FAILED, None), "given up by the URL's change, and ended: tied to no revision"
        delivery(session, before + 1)
        with pytest.raises(IntegrityError):
            await session.commit()
    async with app.state.sessionmaker() as session:
        delivery(session, before + 2)
        await session.commit()


async def test_a_change_of_the_url_rewrites_only_the_deliveries_still_waiting(app, backend, client, shop):
    """A row that ended (delivered, or given up by a change) drops its revision: the foreign key and its ON UPDATE
    CASCADE concern waiting rows only (and a change of the URL or include_text gives those up first), so the change
    does not rewrite the rows kept 30 days for the log (on PostgreSQL it would also wait for the row locks of
    claims). Deleting the endpoint still takes them along."""
    tenant_id = shop["tenant_id"]
    handoff = "conversation.handoff_requested"
    async with receiver() as got:
        endpoint_id = await _endpoint(client, shop, got.url, events=[CLOSED, handoff])
        await app.state.webhooks.on_event(CLOSED, {"tenant_id": tenant_id, "conversation_id": None, "avatar_id": None, "closed_by": "visitor"})
        await got.wait_for(1)
        await settled(app, tenant_id)

    async def row(event: str, **fields: Any) -> WebhookOutbox:
        """A delivery built from the endpoint as it is now, waiting for its retry an hour from now (another node's)."""
        async with app.state.sessionmaker() as session:
            revision = (await session.get(WebhookEndpoint, endpoint_id)).revision
            event_id = new_id("evt")
            waiting = enqueue(session, tenant_id=tenant_id, endpoint_id=endpoint_id, conversation_id=None, event_id=event_id, event=event,
                              body=envelope(event_id, event, tenant_id, {"text_included": False}), node="node_elsewhere")
            waiting.endpoint_revision, waiting.attempts, waiting.next_attempt_at = revision, 1, utcnow() + timedelta(hours=1)
            await session.commit()
            return waiting

    await row(handoff)
    await _change(client, shop, endpoint_id, events=[CLOSED])  # gives the handoff's delivery up
    waiting = await row(CLOSED)

    async def rows() -> dict[str, tuple[Any, ...]]:
        """Each row's fields, and on PostgreSQL the transaction that last wrote it (xmin): an UPDATE changes it."""
        version = text("SELECT xmin::text FROM webhook_outbox WHERE id = :id") if backend.name == "postgres" else None
        async with app.state.sessionmaker() as session:
            found = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()
            return {
                r.id: (r.event, r.status, r.body, r.endpoint_revision, r.attempts, r.finished_at, r.next_attempt_at,
                       await session.scalar(version, {"id": r.id}) if version is not None else None)
                for r in found
            }

    before = await rows()
    ended = {i: r for i, r in before.items() if i != waiting.id}
    assert sorted((r[0], r[1], r[3]) for r in ended.values()) == [(CLOSED, DELIVERED, None), (handoff, FAILED, None)], before
    assert before[waiting.id][1:4:2] == (PENDING, waiting.endpoint_revision)

    await _change(client, shop, endpoint_id, url="http://127.0.0.1:9/new")
    after = await rows()
    assert {i: after[i] for i in ended} == ended, "ended rows: not rewritten by the change (on PostgreSQL: not even updated in place)"
    assert after[waiting.id][1:4:2] == (FAILED, None), "the waiting one is given up, and ends tied to no revision"
    if backend.name == "postgres":
        assert after[waiting.id][7] != before[waiting.id][7]  # xmin does show an update
    async with app.state.sessionmaker() as session:
        assert (await session.get(WebhookEndpoint, endpoint_id)).revision == waiting.endpoint_revision + 1

    assert (await client.delete(f"/v1/tenants/{tenant_id}/webhooks/{endpoint_id}", headers=shop["owner"].headers)).status_code == 204
    assert await rows() == {}, "deleting the endpoint still takes the ended rows along (endpoint_id's foreign key)"
