"""A closed tenant restored from a backup taken while a legal hold was in force: closing it again is refused by the
restored hold (an operator decides), yet the tenant goes off the air at once, as a closing tenant does: no widget
opens a chat, no API key and no member's session reaches it. It used to stay on the air until someone noticed."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Table, insert, select, update

from confide.chats import service as chats
from confide.core.clock import utcnow
from confide.core.identity import Tenant
from confide.privacy.erasure_models import LegalHold
from confide.tenants.closure import count_rows, tenant_tables
from tests.support.chat import connect, published_avatar
from tests.support.factory import Factory

Backup = list[tuple[Table, list[dict[str, Any]]]]


async def backup_of(app: FastAPI, tenant_id: str) -> Backup:
    """Every row of the tenant (its tenant row first, then parents before children), as a backup holds them."""
    tables = [(Tenant.__table__, Tenant.__table__.c.id)] + list(reversed(tenant_tables()))
    async with app.state.sessionmaker() as session:
        return [(table, [dict(row) for row in (await session.execute(select(table).where(column == tenant_id))).mappings()]) for table, column in tables]


async def restore(app: FastAPI, backup: Backup) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        for table, rows in backup:
            if rows:
                await session.execute(insert(table), rows)


async def tenant_rows(app: FastAPI, tenant_id: str) -> dict[str, int]:
    async with app.state.sessionmaker() as session:
        return {table: n for table, n in (await count_rows(session, tenant_id)).items() if n}


async def test_a_restored_closed_tenant_under_a_legal_hold_goes_off_the_air(app: FastAPI, base: str, client: httpx.AsyncClient, factory: Factory) -> None:
    """The backup was taken while the hold was in force; the hold was released and the tenant closed; the backup is
    restored. The erasure worker's pass cannot close it again, but takes it off the air all the same."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Restored GmbH")
    avatar = await published_avatar(client, owner, tenant_id)
    member = await factory.member(tenant_id, owner, "editor")
    r = await client.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": "crm", "role": "admin"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    api_key = {"Authorization": f"Bearer {r.json()['key']}"}
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar["avatar_id"], avatar_version_id=None, visitor_id="vis_restored", customer_ref="crm-1", language="en"
        )
        await session.commit()
    holds = f"/v1/tenants/{tenant_id}/legal-holds"
    r = await client.post(holds, json={"conversation_id": conversation.id, "reason": "Litigation 12/34"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    hold_id = r.json()["id"]
    backup = await backup_of(app, tenant_id)  # the nightly backup, the hold in force

    r = await client.request("DELETE", f"{holds}/{hold_id}", json={"reason": "Settled"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    r = await client.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=owner.headers)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    assert (await client.get(f"/v1/tenants/{tenant_id}/closure", headers=owner.headers)).json()["status"] == "closed"
    assert await tenant_rows(app, tenant_id) == {}

    await restore(app, backup)
    try:
        await app.state.erasure_worker.drain()  # its pass finds the closed tenant back, and the hold refuses closing it again

        r = await client.get(f"/v1/tenants/{tenant_id}", headers=api_key)
        assert r.status_code == 401, r.text
        for person in (member, owner):
            r = await client.get(f"/v1/tenants/{tenant_id}", headers=person.headers)
            assert r.status_code == 404 and r.json()["type"].endswith("/not-found"), r.text
        async with connect(f"{base}/v1/widget/{avatar['widget_key']}/chat") as chat:
            assert (await chat.closed()).code == 4404
        restored = await tenant_rows(app, tenant_id)
        assert restored["tenant"] == 1 and restored["legal_hold"] == 1, "the held data is kept until an operator decides"
    finally:
        async with app.state.sessionmaker() as session, session.begin():  # the operator releases the restored hold
            await session.execute(update(LegalHold).where(LegalHold.id == hold_id).values(released_at=utcnow(), release_reason="Settled"))
        await app.state.erasure_worker.drain()  # closes it again: erasure queued
        await app.state.erasure_worker.drain()  # erased, then deleted
    assert await tenant_rows(app, tenant_id) == {}, "once released, the next passes close the tenant again"
