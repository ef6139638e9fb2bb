"""The delivery worker under a slow receiver: one tenant's hanging endpoint does not hold up another
tenant's delivery, shutting down does not wait for it, and a due delivery another transaction has
locked is polled less and less often. Each runs on a database of its own (see test_webhook_outbox)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from confide.core.clock import as_utc, utcnow
from confide.core.db import create_engine, create_sessionmaker
from confide.core.ids import new_id
from confide.evaluation.models import WebhookDelivery
from confide.evaluation.webhook_deliveries import PENDING, PER_ENDPOINT, STOP_GRACE_SECONDS, attempt_limit, enqueue
from confide.evaluation.webhooks import WebhookDispatcher, envelope
from tests.conftest import backend_context
from tests.evaluation.receiver import receiver
from tests.evaluation.test_webhook_outbox import LOOPBACK, _outbox, _shop_with_endpoint, node

EVENT = "conversation.closed"


async def _waiting(sessionmaker: Any, shop: dict[str, Any], *, count: int, node: str | None) -> list[str]:
    """`count` deliveries for the shop's endpoint, due now; returns their event ids."""
    event_ids = [new_id("evt") for _ in range(count)]
    async with sessionmaker() as session:
        for event_id in event_ids:
            enqueue(session, tenant_id=shop["tenant_id"], endpoint_id=shop["endpoint"]["id"], conversation_id=None, event_id=event_id, event=EVENT,
                    body=envelope(event_id, EVENT, shop["tenant_id"], {"text_included": False}), node=node)
        await session.commit()
    return event_ids


async def _log(app_or_sessionmaker: FastAPI | Any, endpoint_id: str) -> list[WebhookDelivery]:
    sessionmaker = app_or_sessionmaker.state.sessionmaker if isinstance(app_or_sessionmaker, FastAPI) else app_or_sessionmaker
    async with sessionmaker() as session:
        return list((await session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))).all())


async def test_a_hanging_endpoint_does_not_hold_up_another_tenants_delivery(backend, tmp_path: Path):
    """The reviewer's case: 20 deliveries to an endpoint that never answers, then one for another tenant,
    with a 1 s timeout (3 s per attempt). The other tenant's goes out while the hanging ones still wait."""
    async with backend_context(backend.name, tmp_path) as fresh, receiver(hang=True) as hanging, receiver() as got:
        async with node(fresh, webhook_timeout_seconds=1) as app:
            slow = await _shop_with_endpoint(app, hanging.url)
            other = await _shop_with_endpoint(app, got.url)
            worker = app.state.webhooks.worker
            await _waiting(app.state.sessionmaker, slow, count=20, node=worker.node)
            worker.wake()
            await hanging.wait_for(1)
            [event_id] = await _waiting(app.state.sessionmaker, other, count=1, node=worker.node)
            worker.wake()
            await got.wait_for(1, timeout=10)
            slow_log = await _log(app, slow["endpoint"]["id"])
            hanging_so_far = len(hanging.requests)

    assert got.requests[0].headers["confide-event-id"] == event_id
    assert slow_log == [], "the other tenant's delivery arrived before any hanging attempt timed out"
    assert hanging_so_far == PER_ENDPOINT, "one endpoint holds at most PER_ENDPOINT attempts in flight"


async def test_stopping_does_not_wait_for_a_hanging_attempt_and_hands_it_on(backend, tmp_path: Path):
    async with backend_context(backend.name, tmp_path) as fresh, receiver(hang=True) as hanging:
        async with node(fresh) as setup:
            shop = await _shop_with_endpoint(setup, hanging.url)
        settings = fresh.settings(**{**LOOPBACK, "webhook_timeout_seconds": 10})
        engine = create_engine(settings.resolved_database_url)
        dispatcher = WebhookDispatcher(create_sessionmaker(engine), settings)
        try:
            dispatcher.start()
            await _waiting(dispatcher.sessionmaker, shop, count=1, node=dispatcher.worker.node)
            dispatcher.worker.wake()
            await hanging.wait_for(1)
            started = time.monotonic()
            await dispatcher.aclose()
            stopped_in = time.monotonic() - started
            [row] = await _outbox(dispatcher, shop["tenant_id"])
            log = await _log(dispatcher.sessionmaker, shop["endpoint"]["id"])
        finally:
            await dispatcher.aclose()
            await engine.dispose()

    assert attempt_limit(settings) == 30
    assert stopped_in < STOP_GRACE_SECONDS + 2, f"stop() took {stopped_in:.1f} s"
    assert (row.status, row.node, row.attempts) == (PENDING, None, 0), "released to any node, the cut attempt not counted"
    assert as_utc(row.next_attempt_at) <= utcnow(), "due at once for the next node"
    assert row.body is not None and log == [], "nothing recorded for an attempt whose outcome is unknown"


async def test_a_due_delivery_locked_elsewhere_is_polled_less_and_less(backend, tmp_path: Path):
    """PostgreSQL: SKIP LOCKED passes over a row another transaction holds, while the next-due query still
    sees it due. The worker backs off (0.05, 0.1, 0.2, 0.4, 0.8 s ...) instead of polling every 50 ms."""
    if backend.name != "postgres":
        pytest.skip("SQLite has no row locks for the claim to skip")
    async with backend_context(backend.name, tmp_path) as fresh, receiver() as got:
        async with node(fresh) as setup:
            shop = await _shop_with_endpoint(setup, got.url)
        settings = fresh.settings(**LOOPBACK)
        engine = create_engine(settings.resolved_database_url)
        dispatcher = WebhookDispatcher(create_sessionmaker(engine), settings)
        worker = dispatcher.worker
        try:
            await _waiting(dispatcher.sessionmaker, shop, count=1, node=None)
            async with engine.connect() as locker:
                await locker.execute(text("SELECT id FROM webhook_outbox FOR UPDATE"))
                dispatcher.start()
                started = time.monotonic()
                while worker.passes < 6:
                    await worker.passed()
                six_passes = time.monotonic() - started
                await locker.rollback()
            worker.wake()
            await got.wait_for(1)  # the lock gone, the delivery goes out
        finally:
            await dispatcher.aclose()
            await engine.dispose()

    assert six_passes >= 1.0, f"six passes in {six_passes:.2f} s: the worker polled a locked row without backing off"
