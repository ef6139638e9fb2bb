"""A delivery built from an endpoint as it was before a change of its URL (or include_text) is never stored as
waiting, on either backend. On PostgreSQL the event's read key-share-locks the endpoint and the PATCH waits,
then gives the delivery up. On SQLite reads take no lock: the event read the endpoint, the PATCH changed the
URL and dropped what was waiting, and then the event stored its delivery, which went to the new URL. Now the
change raises the endpoint's revision and the outbox's foreign key to (endpoint, revision) refuses the late
delivery; the dispatcher gives it up (logged `endpoint_changed`) and stores the event's other deliveries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from confide.core.ids import new_id
from confide.evaluation import webhooks
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.evaluation.webhook_deliveries import FAILED, enqueue
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

        monkeypatch.setattr(webhooks, "endpoints_for", endpoints_then_the_patch)
        await app.state.webhooks.on_event(CLOSED, {"tenant_id": tenant_id, "conversation_id": None, "avatar_id": None, "closed_by": "visitor"})
        monkeypatch.undo()
        assert patch is not None
        await asyncio.wait_for(patch, 30)
        await other.wait_for(1)
        await settled(app, tenant_id)

        assert new.requests == [], "built from the endpoint before its URL changed: never sent to the new URL"
        assert old.requests == []
        assert [r.headers["confide-event"] for r in other.requests] == [CLOSED], "the unchanged endpoint gets the event once"

    async with app.state.sessionmaker() as session:
        [row] = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()
        [entry] = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))).all()
        assert (row.status, row.body) == (FAILED, None)
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
        assert (await session.get(WebhookOutbox, earlier.id)).endpoint_revision == before + 2, "carried along (ON UPDATE CASCADE)"
        delivery(session, before + 1)
        with pytest.raises(IntegrityError):
            await session.commit()
    async with app.state.sessionmaker() as session:
        delivery(session, before + 2)
        await session.commit()
