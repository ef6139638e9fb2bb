"""Access logs hold IP address, time, method, route template and status, linked to nobody (policy V)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from confide.core.access_log import AccessLog, AccessLogWriter
from tests.conftest import client_for


async def test_requests_are_logged_with_ip_and_route_template_only(app, factory):
    user = await factory.user()
    async with client_for(app, "203.0.113.9") as client:
        await client.get("/v1/me", headers=user.headers)
        await client.get(f"/v1/tenants/ten_{user.id[4:]}/members", headers=user.headers)
        await client.get("/v1/no-such-route?email=alice@example.com")
    await app.state.access_log.flush()
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(AccessLog).where(AccessLog.ip == "203.0.113.9"))).all()
    seen = {(r.method, r.route, r.status) for r in rows}
    assert ("GET", "/v1/me", 200) in seen
    assert ("GET", "/v1/tenants/{tenant_id}/members", 404) in seen
    assert ("GET", "(unmatched)", 404) in seen
    assert all(r.at.tzinfo is not None for r in rows)
    assert all(r.at.second == 0 and r.at.microsecond == 0 for r in rows), "to the minute: no exact time to line up with an account's rows"
    assert not any(user.id in r.route or "alice" in r.route for r in rows)


async def test_a_stop_during_a_write_lets_the_write_finish(app, backend):
    """stop() at shutdown used to cancel the periodic flush in the middle of its INSERT: the batch was
    neither written nor put back. Now it waits for the write (here held up by a table lock)."""
    if backend.name != "postgres":
        pytest.skip("holding a write up with a table lock from another connection needs PostgreSQL")
    writer = AccessLogWriter(app.state.sessionmaker, interval=0.001)
    for status in (200, 201, 204):
        writer.record("198.51.100.77", "GET", "/v1/stop-test", status)
    async with app.state.sessionmaker() as locker:
        await locker.execute(text("LOCK TABLE access_log IN EXCLUSIVE MODE"))
        writer.start()
        async with app.state.sessionmaker() as watcher:  # the periodic flush's INSERT is waiting on the lock
            for _ in range(500):
                waiting = await watcher.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO access_log%'")
                )
                await watcher.rollback()  # the activity view is a snapshot per transaction
                if waiting:
                    break
                await asyncio.sleep(0.01)
            assert waiting == 1
        stopping = asyncio.create_task(writer.stop())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not stopping.done()  # waits for the write in flight rather than cancelling it
        await locker.commit()
    await stopping
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(AccessLog).where(AccessLog.ip == "198.51.100.77"))).all()
    assert sorted(r.status for r in rows) == [200, 201, 204]
