"""The delivery worker recording an attempt and a change or removal of the endpoint lock the same two rows:
the endpoint and the delivery's outbox row. The PATCH (and the DELETE) lock the endpoint first (FOR UPDATE; a
key update since the revision goes up with the URL) and then the endpoint's waiting deliveries, the attempt in
flight among them (still pending until its outcome is recorded). The worker locked the outbox row first (the
update of its state) and then, for the foreign key of the delivery-log entry written with it, key-share-locked
the endpoint. Caught between the two, each waited for the other, and PostgreSQL failed one after
deadlock_timeout: the PATCH answered 500 (or the attempt went unrecorded), whatever it changed (the FOR UPDATE
it reads the endpoint with already conflicts with the key-share lock; 7b81701's key update is not needed), and so
did the DELETE. Now the worker key-share-locks the endpoint before it touches the row: the same order as the
PATCH, so one simply waits for the other."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import select

from confide.evaluation import webhook_deliveries
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.evaluation.webhook_deliveries import FAILED
from tests.evaluation.helpers import settled
from tests.evaluation.receiver import receiver
from tests.support.services import until_a_statement_waits_for_a_lock

CLOSED, HANDOFF = "conversation.closed", "conversation.handoff_requested"


async def _endpoint(client: Any, shop: dict[str, Any], url: str) -> str:
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/webhooks", json={"name": "CRM", "url": url, "events": [CLOSED, HANDOFF]}, headers=shop["owner"].headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _attempt_recorded_while(app: Any, monkeypatch: Any, endpoint_id: str, change: Any) -> tuple[Any, list[Any]]:
    """The worker's recording of its first attempt to the endpoint runs the real `record` (its row locks taken,
    the log entry not yet written); then `change` starts, and the recording commits once the change waits for a
    lock (or has ended). Returns the change's response and the recordings' results."""
    real_record = webhook_deliveries.record
    started: asyncio.Task[Any] | None = None
    results: list[Any] = []

    async def record_then_the_change(session: Any, **kwargs: Any) -> bool:
        nonlocal started
        ours = await real_record(session, **kwargs)
        if started is None and kwargs["claimed"].endpoint_id == endpoint_id:
            started = asyncio.create_task(change())
            blocked = asyncio.create_task(until_a_statement_waits_for_a_lock(app, "webhook_"))
            await asyncio.wait({started, blocked}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            blocked.cancel()
            results.append(ours)
        return ours  # the caller commits: the log entry's insert

    monkeypatch.setattr(webhook_deliveries, "record", record_then_the_change)
    app.state.webhooks.worker.wake()
    async with asyncio.timeout(30):
        while started is None:
            await asyncio.sleep(0.01)  # the worker's attempt is under way on its own task
        response = await started
    monkeypatch.undo()
    return response, results


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"url": "new"}, "endpoint_changed"),  # a key update too: the revision goes up (7b81701)
        ({"events": [HANDOFF]}, "endpoint_changed"),  # no key update: the lock the PATCH reads the endpoint with is enough
        ({"active": False}, "endpoint_deactivated"),
    ],
    ids=["url", "events", "deactivated"],
)
async def test_a_change_while_an_attempt_is_recorded_does_not_deadlock(app, backend, client, shop, monkeypatch, caplog, change, error):
    """The attempt's outcome (a 503: due again) is recorded, then the change gives the delivery up; nothing reaches the new URL."""
    if backend.name != "postgres":
        pytest.skip("row locks: PostgreSQL")
    tenant_id = shop["tenant_id"]
    caplog.set_level(logging.WARNING, logger="confide.evaluation.webhooks")
    async with receiver(fail_first=1) as old, receiver() as new:
        endpoint_id = await _endpoint(client, shop, old.url)
        await app.state.webhooks.on_event(CLOSED, {"tenant_id": tenant_id, "conversation_id": None, "avatar_id": None, "closed_by": "visitor"})

        body = {key: new.url if value == "new" else value for key, value in change.items()}

        def patch() -> Any:
            return client.patch(f"/v1/tenants/{tenant_id}/webhooks/{endpoint_id}", json=body, headers=shop["owner"].headers)

        r, recorded = await _attempt_recorded_while(app, monkeypatch, endpoint_id, patch)
        await settled(app, tenant_id)
        assert r.status_code == 200, r.text
        assert recorded == [True]
        assert new.requests == [], "built for the old URL: never sent to the new one"
        assert old.requests, "the attempt the worker recorded went to the old URL"

    assert not [rec for rec in caplog.records if "failed to record" in rec.getMessage()], "the attempt's outcome was recorded"
    async with app.state.sessionmaker() as session:
        [row] = (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all()
        log = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.attempt))).all()
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
    assert (row.status, row.body) == (FAILED, None), "waiting for its retry when the endpoint changed: given up"
    assert endpoint.url == body.get("url", old.url)
    assert (log[0].attempt, log[0].outcome, log[0].status_code) == (1, "retrying", 503), "the attempt in flight is in the delivery log"
    assert (log[-1].outcome, log[-1].error) == ("failed", error)


async def test_removing_the_endpoint_while_an_attempt_is_recorded_does_not_deadlock(app, backend, client, shop, monkeypatch, caplog):
    """The DELETE locks the endpoint and then deletes its deliveries (ON DELETE CASCADE), the one in flight among them."""
    if backend.name != "postgres":
        pytest.skip("row locks: PostgreSQL")
    tenant_id = shop["tenant_id"]
    caplog.set_level(logging.WARNING, logger="confide.evaluation.webhooks")
    async with receiver(fail_first=1) as old:
        endpoint_id = await _endpoint(client, shop, old.url)
        await app.state.webhooks.on_event(CLOSED, {"tenant_id": tenant_id, "conversation_id": None, "avatar_id": None, "closed_by": "visitor"})

        def delete() -> Any:
            return client.delete(f"/v1/tenants/{tenant_id}/webhooks/{endpoint_id}", headers=shop["owner"].headers)

        r, recorded = await _attempt_recorded_while(app, monkeypatch, endpoint_id, delete)
        await settled(app, tenant_id)
        assert r.status_code == 204, r.text
        assert recorded == [True]

    assert not [rec for rec in caplog.records if "failed to record" in rec.getMessage()]
    async with app.state.sessionmaker() as session:
        assert await session.get(WebhookEndpoint, endpoint_id) is None
        assert (await session.scalars(select(WebhookOutbox).where(WebhookOutbox.endpoint_id == endpoint_id))).all() == []
