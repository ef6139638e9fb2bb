"""An invitation sent with an API key goes with the key (review finding): it recorded no sender (invited_by is a
user id, null for a key), so neither revoking the key nor its creator leaving revoked it, and the invitee could
still accept it, as an admin. Now it names the key (`invited_by_api_key_id`) and is revoked with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, select

from confide.core.auth import Principal
from confide.core.db import create_engine
from confide.core.errors import Unauthorized
from confide.core.identity import ApiKey, Tenant
from confide.core.tenancy import Role, TenantContext
from confide.migrate import upgrade
from confide.tenants import service
from confide.tenants.models import Invitation
from tests.conftest import random_email
from tests.support.factory import PASSWORD
from tests.support.services import postgres_database


async def _key(client, tenant: str, creator, role: str = "admin") -> dict:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": f"{role} key", "role": role}, headers=creator.headers)
    assert r.status_code == 201, r.text
    return {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['key']}"}}


async def _invite(client, tenant: str, headers: dict, role: str = "admin") -> dict:  # noqa: ANN001
    email = random_email()
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": email, "role": role}, headers=headers)
    assert r.status_code == 201, r.text
    return {**r.json(), "email": email}


async def _member_id(client, tenant: str, owner, user) -> str:  # noqa: ANN001
    members = (await client.get(f"/v1/tenants/{tenant}/members", params={"limit": 200}, headers=owner.headers)).json()["items"]
    return next(m["id"] for m in members if m["user_id"] == user.id)


async def _invitations(client, tenant: str, owner) -> dict[str, dict]:  # noqa: ANN001
    r = await client.get(f"/v1/tenants/{tenant}/invitations", params={"limit": 200}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return {i["id"]: i for i in r.json()["items"]}


async def _accept(client, factory, outbox, invitation: dict) -> Any:  # noqa: ANN001
    """The invitee registers with the invited address and accepts the token mailed to it."""
    token = outbox.last_token_for(invitation["email"])  # before the registration mails its own
    invitee = await factory.user(email=invitation["email"])
    return await client.post("/v1/invitations/accept", json={"token": token}, headers=invitee.headers)


async def _revoked_answer(client, factory, outbox, tenant: str, owner) -> tuple:  # noqa: ANN001
    """What accepting an invitation revoked by its DELETE answers: the answer a key's revoked invitation must give."""
    invitation = await _invite(client, tenant, owner.headers, "analyst")
    assert (await client.delete(f"/v1/tenants/{tenant}/invitations/{invitation['id']}", headers=owner.headers)).status_code == 200
    return _problem(await _accept(client, factory, outbox, invitation))


def _problem(r) -> tuple:  # noqa: ANN001
    body = r.json()
    return r.status_code, body.get("type"), body.get("detail"), body.get("role")  # role: the tenant joined, on success


async def test_a_keys_invitation_names_the_key_and_the_list_shows_it(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    key = await _key(client, tenant, owner)
    by_key = await _invite(client, tenant, key["headers"])
    assert (by_key["invited_by"], by_key["invited_by_api_key_id"]) == (None, key["id"])
    by_owner = await _invite(client, tenant, owner.headers)
    assert (by_owner["invited_by"], by_owner["invited_by_api_key_id"]) == (owner.id, None)
    listed = await _invitations(client, tenant, owner)
    assert (listed[by_key["id"]]["invited_by"], listed[by_key["id"]]["invited_by_api_key_id"]) == (None, key["id"])
    assert (listed[by_owner["id"]]["invited_by"], listed[by_owner["id"]]["invited_by_api_key_id"]) == (owner.id, None)
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["InvitationOut"]["properties"]
    assert "API key" in schema["invited_by_api_key_id"]["description"] and "member" in schema["invited_by"]["description"]


async def _admins_key_invited(client, factory) -> tuple[Any, str, Any, dict, dict, dict]:  # noqa: ANN001
    """A tenant whose admin's key sent an invitation (`sent`), and the owner's key another (`kept`: it stays)."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    key = await _key(client, tenant, admin)
    owners_key = await _key(client, tenant, owner)
    sent = await _invite(client, tenant, key["headers"])
    kept = await _invite(client, tenant, owners_key["headers"])
    return owner, tenant, admin, key, sent, kept


async def test_removing_the_member_revokes_the_invitations_their_keys_sent(client, factory, outbox):
    """The repro: admin A creates admin key K; K invites someone as admin; the owner removes A. K stopped working,
    but its invitation stayed open and could be accepted: the invitee became an admin."""
    owner, tenant, admin, key, sent, kept = await _admins_key_invited(client, factory)
    by_owner = await _invite(client, tenant, owner.headers)

    r = await client.delete(f"/v1/tenants/{tenant}/members/{await _member_id(client, tenant, owner, admin)}", headers=owner.headers)
    assert r.status_code == 204, r.text
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 401
    invitations = await _invitations(client, tenant, owner)
    assert invitations[sent["id"]]["revoked_at"] is not None
    assert invitations[kept["id"]]["revoked_at"] is None and invitations[by_owner["id"]]["revoked_at"] is None

    revoked = await _revoked_answer(client, factory, outbox, tenant, owner)
    r = await _accept(client, factory, outbox, sent)
    assert revoked[0] == 400 and revoked[1].endswith("/invalid-token") and _problem(r) == revoked, r.text
    r = await _accept(client, factory, outbox, kept)
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text


async def test_revoking_the_key_revokes_its_invitations_only(client, factory, outbox):
    """The repro with a plain DELETE of the key; the creator's other key, and its invitation, stay."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    key, other = await _key(client, tenant, admin), await _key(client, tenant, admin)
    sent = await _invite(client, tenant, key["headers"])
    kept = await _invite(client, tenant, other["headers"])
    by_admin = await _invite(client, tenant, admin.headers)

    r = await client.delete(f"/v1/tenants/{tenant}/api-keys/{key['id']}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None, r.text
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 401
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=other["headers"])).status_code == 200
    invitations = await _invitations(client, tenant, owner)
    assert invitations[sent["id"]]["revoked_at"] is not None
    assert invitations[kept["id"]]["revoked_at"] is None and invitations[by_admin["id"]]["revoked_at"] is None
    # sent again: harmless, nothing else changes
    assert (await client.delete(f"/v1/tenants/{tenant}/api-keys/{key['id']}", headers=owner.headers)).status_code == 200
    assert (await _invitations(client, tenant, owner))[kept["id"]]["revoked_at"] is None

    revoked = await _revoked_answer(client, factory, outbox, tenant, owner)
    assert _problem(await _accept(client, factory, outbox, sent)) == revoked
    r = await _accept(client, factory, outbox, kept)
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text


async def test_a_role_without_api_keys_manage_revokes_the_keys_invitations(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    key = await _key(client, tenant, admin)
    sent = await _invite(client, tenant, key["headers"], "editor")
    member_id = await _member_id(client, tenant, owner, admin)
    r = await client.patch(f"/v1/tenants/{tenant}/members/{member_id}", json={"role": "owner"}, headers=owner.headers)
    assert r.status_code == 200, r.text  # still allowed to hold keys: the key and its invitation stay
    assert (await _invitations(client, tenant, owner))[sent["id"]]["revoked_at"] is None
    r = await client.patch(f"/v1/tenants/{tenant}/members/{member_id}", json={"role": "analyst"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 401
    assert (await _invitations(client, tenant, owner))[sent["id"]]["revoked_at"] is not None


async def test_an_erased_account_takes_its_keys_invitations_along(client, factory):
    owner, tenant, admin, key, sent, kept = await _admins_key_invited(client, factory)
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=admin.headers)
    assert r.status_code == 200, r.text
    invitations = await _invitations(client, tenant, owner)
    assert invitations[sent["id"]]["revoked_at"] is not None and invitations[sent["id"]]["invited_by_api_key_id"] == key["id"]
    assert invitations[kept["id"]]["revoked_at"] is None


# The key revoked while it sends an invitation: it was checked when its request came in.


async def _admin_key(client, factory) -> tuple[str, Any, dict, TenantContext]:  # noqa: ANN001
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    key = await _key(client, tenant, owner)
    ctx = TenantContext(tenant, Role.ADMIN, Principal("api_key", key["id"], tenant_id=tenant, role="admin"))
    return tenant, owner, key, ctx


async def test_a_key_revoked_before_its_invitation_is_stored_sends_none(app, client, factory, outbox):
    tenant, owner, key, ctx = await _admin_key(client, factory)
    assert (await client.delete(f"/v1/tenants/{tenant}/api-keys/{key['id']}", headers=owner.headers)).status_code == 200
    email = random_email()
    async with app.state.sessionmaker() as session:
        with pytest.raises(Unauthorized):
            await service.invite(session, app.state.services, ctx, email=email, role=Role.ADMIN)
        await session.rollback()
    async with app.state.sessionmaker() as session:
        assert (await session.scalars(select(Invitation.id).where(Invitation.tenant_id == tenant, Invitation.email == email))).all() == []
    assert outbox.messages_to(email) == []


async def test_a_key_revoked_while_its_invitation_is_being_stored_takes_it_along(app, client, factory):
    """The invitation stored, not yet committed, when the key's DELETE comes: the revocation waits for it (its key row
    share-locked on PostgreSQL; SQLite's single writer) and then revokes it too, instead of missing it."""
    tenant, owner, key, ctx = await _admin_key(client, factory)
    async with app.state.sessionmaker() as sending:
        invitation = await service.invite(sending, app.state.services, ctx, email=random_email(), role=Role.ADMIN)

        async def revoke() -> None:
            async with app.state.sessionmaker() as session:
                owner_ctx = TenantContext(tenant, Role.OWNER, Principal("user", owner.id, user_id=owner.id))
                await service.revoke_api_key(session, owner_ctx, key_id=key["id"])
                await session.commit()

        revoking = asyncio.create_task(revoke())
        await asyncio.sleep(0.5)
        assert not revoking.done(), "the revocation waits for the invitation being stored"
        await sending.commit()
    await asyncio.wait_for(revoking, 30)
    async with app.state.sessionmaker() as session:
        stored = await session.get(Invitation, invitation.id)
        key_row = await session.get(ApiKey, key["id"])
    assert stored is not None and stored.invited_by_api_key_id == key["id"]
    assert key_row is not None and key_row.revoked_at is not None and stored.revoked_at is not None


# Migration t0004: invitations that keys sent before it named no key; those still open are revoked.

_BEFORE_T0004 = ("id", "tenant_id", "email", "role", "token_hash", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")


async def _key_invitations_before_t0004(url: str) -> None:
    await upgrade(url, "t0003")
    t0 = datetime.now(UTC).replace(microsecond=0)
    earlier = t0 - timedelta(days=1)

    def row(id_: str, invited_by: str | None, **ended: datetime) -> dict:
        return {"id": id_, "tenant_id": "ten_m", "email": f"{id_}@example.com", "role": "admin", "token_hash": id_, "invited_by": invited_by,
                "created_at": t0, "expires_at": t0 + timedelta(days=7), "accepted_at": None, "revoked_at": None, **ended}

    user = {"id": "usr_m", "email": "m@example.com", "first_name": "M", "surname": "M", "pseudonym": "m", "password_hash": "x",
            "newsletter_opt_in": False, "privacy_policy_version": "1", "registered_at": t0, "updated_at": t0, "status": "active"}
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Tenant.__table__), [{"id": "ten_m", "name": "M", "created_at": t0}])
            await conn.execute(insert(sa.table("user_account", *(sa.column(c) for c in user))), [user])
            old = sa.table("invitation", *(sa.column(c, Invitation.__table__.c[c].type) for c in _BEFORE_T0004))
            await conn.execute(insert(old), [
                row("inv_by_key", None),
                row("inv_by_key_accepted", None, accepted_at=earlier),
                row("inv_by_key_revoked", None, revoked_at=earlier),
                row("inv_by_member", "usr_m"),
            ])
        await upgrade(url)
        async with engine.connect() as conn:
            rows = {r.id: r for r in (await conn.execute(Invitation.__table__.select().where(Invitation.tenant_id == "ten_m"))).all()}
        assert rows["inv_by_key"].revoked_at is not None and rows["inv_by_key"].revoked_at >= t0, "an open invitation naming nobody is revoked"
        assert (rows["inv_by_key_accepted"].accepted_at, rows["inv_by_key_accepted"].revoked_at) == (earlier, None)
        assert rows["inv_by_key_revoked"].revoked_at == earlier
        assert rows["inv_by_member"].revoked_at is None, "a member's invitation stays: it goes with the member"
        assert all(r.invited_by_api_key_id is None for r in rows.values())
    finally:
        await engine.dispose()


async def test_the_migration_revokes_open_invitations_a_key_sent_before_it(backend, tmp_path):
    if backend.name == "sqlite":
        await _key_invitations_before_t0004(f"sqlite+aiosqlite:///{tmp_path / 't0004.db'}")
    else:
        async with postgres_database() as url:
            await _key_invitations_before_t0004(url)
