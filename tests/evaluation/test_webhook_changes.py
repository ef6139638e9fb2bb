"""A waiting delivery's body was built for the endpoint and the instructions as they were: when the tenant
changes the endpoint's URL, include_text or events, deactivates it, or stops storing transcripts, the
waiting deliveries it affects are given up unsent, their body emptied and the reason logged."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from confide.core.clock import utcnow
from confide.core.ids import new_id
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.evaluation.webhook_deliveries import ENDPOINT_CHANGED, FAILED, PENDING, drop_waiting, enqueue
from confide.evaluation.webhooks import endpoints_for, envelope, same_url
from confide.settings import Settings
from tests.evaluation.helpers import set_instructions, settled
from tests.evaluation.receiver import receiver
from tests.support.services import until_a_statement_waits_for_a_lock

CLOSED, HANDOFF = "conversation.closed", "conversation.handoff_requested"


async def _endpoint(client: Any, shop: dict[str, Any], url: str, **fields: Any) -> str:
    body = {"name": "CRM", "url": url, "events": [CLOSED, HANDOFF], **fields}
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks", json=body, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _waiting(app: Any, shop: dict[str, Any], endpoint_id: str, event: str, *, text: bool = False, node: str = "node_elsewhere") -> str:
    """A delivery waiting for its retry an hour from now (another node's: nobody sends it meanwhile)."""
    async with app.state.sessionmaker() as session:
        event_id = new_id("evt")
        data = {"text_included": text, **({"transcript": [{"text": "My number is +49 170 1234567"}]} if text else {})}
        row = enqueue(session, tenant_id=shop["tenant_id"], endpoint_id=endpoint_id, conversation_id=None, event_id=event_id, event=event,
                      body=envelope(event_id, event, shop["tenant_id"], data), node=node)
        row.attempts, row.next_attempt_at = 1, utcnow() + timedelta(hours=1)
        await session.commit()
        return row.id


async def _rows(app: Any, endpoint_id: str) -> dict[str, WebhookOutbox]:
    async with app.state.sessionmaker() as session:
        return {r.event: r for r in (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()}


async def _change(client: Any, shop: dict[str, Any], endpoint_id: str, **fields: Any) -> None:
    r = await client.patch(f"/v1/tenants/{shop['tenant_id']}/webhooks/{endpoint_id}", json=fields, headers=shop["owner"].headers)
    assert r.status_code == 200, r.text


async def _log(client: Any, shop: dict[str, Any], endpoint_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/webhooks/{endpoint_id}/deliveries", headers=shop["owner"].headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _dropped(row: WebhookOutbox) -> bool:
    return row.status == FAILED and row.body is None and row.finished_at is not None


async def test_a_new_url_drops_the_deliveries_waiting_for_the_old_one(app, client, shop):
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/old")
    other_id = await _endpoint(client, shop, "http://127.0.0.1:9/other")
    await _waiting(app, shop, endpoint_id, CLOSED)
    await _waiting(app, shop, other_id, CLOSED)

    await _change(client, shop, endpoint_id, name="CRM (renamed)", url="http://127.0.0.1:9/old")  # same URL: nothing changes
    assert (await _rows(app, endpoint_id))[CLOSED].status == PENDING

    await _change(client, shop, endpoint_id, url="http://127.0.0.1:9/new")
    assert _dropped((await _rows(app, endpoint_id))[CLOSED]), "never sent to the new URL"
    assert (await _rows(app, other_id))[CLOSED].status == PENDING, "another endpoint's delivery waits on"
    [entry] = await _log(client, shop, endpoint_id)
    assert (entry["event"], entry["attempt"], entry["outcome"], entry["error"], entry["status_code"]) == (CLOSED, 2, "failed", "endpoint_changed", None)
    assert await _log(client, shop, other_id) == []


async def test_turning_include_text_off_drops_the_deliveries_built_with_text(app, client, shop):
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/crm", include_text=True)
    await _waiting(app, shop, endpoint_id, CLOSED, text=True)

    await _change(client, shop, endpoint_id, include_text=False)
    row = (await _rows(app, endpoint_id))[CLOSED]
    assert _dropped(row), "the transcript is gone from the outbox, not sent on a retry"
    [entry] = await _log(client, shop, endpoint_id)
    assert (entry["outcome"], entry["error"]) == ("failed", "endpoint_changed")


async def test_removing_an_event_drops_its_waiting_deliveries_and_deactivating_drops_all(app, client, shop):
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/crm")
    await _waiting(app, shop, endpoint_id, CLOSED)
    await _waiting(app, shop, endpoint_id, HANDOFF)

    await _change(client, shop, endpoint_id, events=[HANDOFF])
    rows = await _rows(app, endpoint_id)
    assert _dropped(rows[CLOSED]) and rows[HANDOFF].status == PENDING, "only the removed event's delivery is dropped"

    await _change(client, shop, endpoint_id, active=False)
    assert _dropped((await _rows(app, endpoint_id))[HANDOFF])
    assert sorted((e["event"], e["error"]) for e in await _log(client, shop, endpoint_id)) == [(CLOSED, "endpoint_changed"), (HANDOFF, "endpoint_deactivated")]


async def test_text_is_not_sent_on_a_retry_once_transcripts_are_no_longer_stored(app, client, shop):
    async with receiver() as got:
        endpoint_id = await _endpoint(client, shop, got.url, include_text=True)
        with_text = await _waiting(app, shop, endpoint_id, CLOSED, text=True)
        without_text = await _waiting(app, shop, endpoint_id, HANDOFF)
        await set_instructions(client, app, shop["owner"], shop["tenant_id"], store_transcripts=False)
        async with app.state.sessionmaker() as session:  # both due now and free: the worker takes them
            await session.execute(update(WebhookOutbox).where(WebhookOutbox.id.in_([with_text, without_text])).values(next_attempt_at=utcnow(), node=None))
            await session.commit()
        app.state.webhooks.worker.wake()
        await settled(app, shop["tenant_id"])
        rows = await _rows(app, endpoint_id)

    assert [r.headers["confide-event"] for r in got.requests] == [HANDOFF], "the delivery without text still goes out"
    assert _dropped(rows[CLOSED]) and rows[HANDOFF].status == "delivered"
    async with app.state.sessionmaker() as session:
        log = {d.event: d for d in (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))).all()}
    assert (log[CLOSED].outcome, log[CLOSED].error, log[CLOSED].status_code) == ("failed", "instructions_changed", None)


async def test_a_delivery_stored_while_the_endpoint_changed_is_checked_against_it_when_sent(app, client, shop):
    """An event that read the endpoint before a PATCH committed, and stored its delivery after the PATCH had
    dropped the waiting ones, escaped the drop: it went out with text the endpoint no longer asks for, or for
    an event it no longer subscribes to. (The PATCH is stood in for by a direct update: no drop runs.)"""
    async with receiver() as got:
        endpoint_id = await _endpoint(client, shop, got.url, include_text=True)
        with_text = await _waiting(app, shop, endpoint_id, CLOSED, text=True)
        unsubscribed = await _waiting(app, shop, endpoint_id, HANDOFF)
        async with app.state.sessionmaker() as session:
            await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(include_text=False, events=[CLOSED]))
            await session.execute(update(WebhookOutbox).where(WebhookOutbox.id.in_([with_text, unsubscribed])).values(next_attempt_at=utcnow(), node=None))
            await session.commit()
        app.state.webhooks.worker.wake()
        await settled(app, shop["tenant_id"])
        rows = await _rows(app, endpoint_id)

    assert got.requests == [], "neither went out"
    assert _dropped(rows[CLOSED]) and _dropped(rows[HANDOFF])
    async with app.state.sessionmaker() as session:
        log = {d.event: d for d in (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))).all()}
    assert {event: (d.outcome, d.error) for event, d in log.items()} == {CLOSED: ("failed", "endpoint_changed"), HANDOFF: ("failed", "endpoint_changed")}


def _stored_delivery(session: Any, shop: dict[str, Any], endpoint_id: str) -> None:
    """What WebhookDispatcher.on_event stores after reading the endpoints: a delivery, for its retry an hour on."""
    event_id = new_id("evt")
    row = enqueue(session, tenant_id=shop["tenant_id"], endpoint_id=endpoint_id, conversation_id=None, event_id=event_id, event=CLOSED,
                  body=envelope(event_id, CLOSED, shop["tenant_id"], {"text_included": False}), node="node_elsewhere")
    row.attempts, row.next_attempt_at = 1, utcnow() + timedelta(hours=1)


async def test_a_delivery_being_stored_while_the_url_changes_is_given_up_not_sent_to_the_new_url(app, backend, client, shop):
    """An event read the endpoint, then a PATCH changed its URL and dropped the waiting deliveries, then the
    event stored its delivery: it escaped the drop and went to the new URL (another recipient, perhaps) with a
    body built for the old one. Now the event's read locks the endpoint until its delivery is stored, and the
    PATCH, which locks it first, waits for that and then gives the delivery up."""
    if backend.name != "postgres":
        pytest.skip("row locks: PostgreSQL")
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/old")
    async with app.state.sessionmaker() as session:
        [endpoint] = await endpoints_for(session, tenant_id=shop["tenant_id"], event=CLOSED)  # as WebhookDispatcher.on_event reads it
        patch = asyncio.create_task(_change(client, shop, endpoint_id, url="http://127.0.0.1:9/new"))
        blocked = asyncio.create_task(until_a_statement_waits_for_a_lock(app, "webhook_endpoint"))
        await asyncio.wait({patch, blocked}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        blocked.cancel()
        _stored_delivery(session, shop, endpoint.id)
        await session.commit()
    await patch
    assert _dropped((await _rows(app, endpoint_id))[CLOSED]), "built for the old URL: never sent to the new one"
    [entry] = await _log(client, shop, endpoint_id)
    assert (entry["outcome"], entry["error"]) == ("failed", "endpoint_changed")


async def test_a_delivery_being_stored_does_not_deadlock_the_tenants_closure(app, backend, client, shop):
    """The event holds its lock on the endpoint while it stores the delivery, whose foreign key share-locks the
    tenant row; the closure locks the tenant row and then switches the endpoints off. With a FOR SHARE lock on
    the endpoint the two waited for each other, and PostgreSQL failed one of them: the closure's DELETE
    answered 500, or the event was lost. A FOR KEY SHARE lock does not hold up the closure's update."""
    if backend.name != "postgres":
        pytest.skip("row locks: PostgreSQL")
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/crm")
    tenant_id, headers = shop["tenant_id"], shop["owner"].headers
    async with app.state.sessionmaker() as session:
        [endpoint] = await endpoints_for(session, tenant_id=tenant_id, event=CLOSED)
        closing = asyncio.create_task(client.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=headers))
        blocked = asyncio.create_task(until_a_statement_waits_for_a_lock(app, "webhook_endpoint"))
        await asyncio.wait({closing, blocked}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        blocked.cancel()
        _stored_delivery(session, shop, endpoint.id)
        await session.commit()
    r = await closing
    assert r.status_code == 202, r.text
    async with app.state.sessionmaker() as session:
        [row] = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()
        assert not (await session.get(WebhookEndpoint, endpoint_id)).active, "switched off by the closure: the delivery is never sent"
    await app.state.erasure_worker.drain()  # the closure finishes (and takes the delivery with the tenant)


async def test_changing_an_endpoint_with_waiting_deliveries_does_not_deadlock_the_tenants_closure(app, backend, client, shop):
    """The PATCH locks the endpoint, then writes the log entries of the deliveries it gives up, whose foreign
    key names the tenant; the closure locks the tenant row, then switches the endpoints off. With the tenant row
    locked FOR UPDATE the two waited for each other and PostgreSQL failed one (a 500). FOR NO KEY UPDATE still
    keeps holds and closures apart, but lets the log entries in."""
    if backend.name != "postgres":
        pytest.skip("row locks: PostgreSQL")
    endpoint_id = await _endpoint(client, shop, "http://127.0.0.1:9/crm")
    await _waiting(app, shop, endpoint_id, CLOSED)
    tenant_id, headers = shop["tenant_id"], shop["owner"].headers
    async with app.state.sessionmaker() as session:  # the PATCH, step by step
        await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).with_for_update())
        closing = asyncio.create_task(client.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=headers))
        blocked = asyncio.create_task(until_a_statement_waits_for_a_lock(app, "webhook_endpoint"))
        await asyncio.wait({closing, blocked}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        blocked.cancel()
        assert await drop_waiting(session, tenant_id=tenant_id, endpoint_id=endpoint_id, reason=ENDPOINT_CHANGED, now=utcnow()) == 1
        await session.commit()
    r = await closing
    assert r.status_code == 202, r.text
    assert _dropped((await _rows(app, endpoint_id))[CLOSED])
    await app.state.erasure_worker.drain()


async def test_the_stored_url_written_another_way_is_no_change(app, client, shop):
    """URLs saved before check_url returned the canonical form were stored as typed. Sending the same URL again,
    written either way, compares canonical: nothing is given up and the revision stays. A stored URL that no
    longer passes the checks (a port no longer allowed) counts as changed."""
    endpoint_id = await _endpoint(client, shop, "https://example.com/h")

    async def stored(url: str | None = None) -> WebhookEndpoint:
        async with app.state.sessionmaker() as session:
            if url is not None:  # as an older version saved it, unchecked
                await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(url=url))
                await session.commit()
            return await session.get(WebhookEndpoint, endpoint_id)

    revision = (await stored("https://Example.com:443/h")).revision
    await _waiting(app, shop, endpoint_id, CLOSED)
    for same in ("https://Example.com:443/h", "https://EXAMPLE.com/h", "https://example.com:443/h"):
        await _change(client, shop, endpoint_id, url=same)
        assert (await _rows(app, endpoint_id))[CLOSED].status == PENDING, same
        endpoint = await stored()
        assert (endpoint.revision, endpoint.url) == (revision, "https://example.com/h"), same  # saved canonical from now on
    assert await _log(client, shop, endpoint_id) == []

    await stored("https://example.com:8443/h")  # port 8443 is not allowed (any more)
    await _change(client, shop, endpoint_id, url="https://example.com/h")
    assert _dropped((await _rows(app, endpoint_id))[CLOSED]), "a stored URL that fails the checks: changed"
    assert (await stored()).revision == revision + 1
    [entry] = await _log(client, shop, endpoint_id)
    assert entry["error"] == ENDPOINT_CHANGED


def test_same_url_compares_canonical_forms():
    settings = Settings()
    assert same_url("https://Example.COM:443/h", "https://example.com/h", settings)
    assert not same_url("https://example.com/h2", "https://example.com/h", settings)
    assert not same_url("https://example.com:8443/h", "https://example.com/h", settings)  # fails the checks now
    assert not same_url("https://exa mple.com/h", "https://example.com/h", settings)  # not even a URL check_url takes
