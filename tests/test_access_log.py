"""Access logs hold IP address, time, method, route template and status, linked to nobody (policy V)."""

from __future__ import annotations

from sqlalchemy import select

from confide.core.access_log import AccessLog
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
    assert not any(user.id in r.route or "alice" in r.route for r in rows)
