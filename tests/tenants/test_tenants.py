"""Tenants, roles from the one permission table, invitations and API keys."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import update

from confide.core.clock import utcnow
from confide.core.tenancy import ROLE_PERMISSIONS, Permission, Role
from confide.tenants.models import Invitation
from tests.conftest import random_email
from tests.support.factory import PASSWORD


async def test_creator_becomes_owner_and_lists_tenants(client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user, "Acme")
    r = await client.get(f"/v1/tenants/{tenant}", headers=user.headers)
    assert r.json()["role"] == "owner" and r.json()["name"] == "Acme"
    for i in range(3):
        await factory.tenant(user, f"T{i}")
    page1 = (await client.get("/v1/tenants", params={"limit": 2}, headers=user.headers)).json()
    page2 = (await client.get("/v1/tenants", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=user.headers)).json()
    names = [t["name"] for t in page1["items"] + page2["items"]]
    assert names == ["Acme", "T0", "T1", "T2"] and page2["next_cursor"] is None


def test_permission_table_is_what_the_roles_promise():
    assert ROLE_PERMISSIONS[Role.OWNER] == frozenset(Permission)
    assert Permission.AVATARS_WRITE in ROLE_PERMISSIONS[Role.EDITOR]
    assert Permission.CHATS_OPERATE not in ROLE_PERMISSIONS[Role.EDITOR]
    assert Permission.CHATS_OPERATE in ROLE_PERMISSIONS[Role.OPERATOR]
    assert all(not p.value.endswith((":write", ":manage", ":operate", ":erase", ":export")) for p in ROLE_PERMISSIONS[Role.ANALYST])


@pytest.mark.parametrize("role", ["editor", "operator", "analyst"])
async def test_roles_without_permission_get_403_naming_it(client, factory, role):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    member = await factory.member(tenant, owner, role)
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "k", "role": "analyst"}, headers=member.headers)
    assert r.status_code == 403
    assert r.json()["permission"] == "api_keys:manage" and "api_keys:manage" in r.json()["detail"]
    r = await client.patch(f"/v1/tenants/{tenant}", json={"name": "x"}, headers=member.headers)
    assert r.status_code == 403 and r.json()["permission"] == "tenant:manage"
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=member.headers)).status_code == 200


async def test_invitation_flow_and_its_bad_paths(client, factory, outbox):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    invitee, stranger = await factory.user(), await factory.user()
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": invitee.email, "role": "editor"}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["role"] == "editor"
    token = outbox.last_token_for(invitee.email)
    # someone else cannot use it
    r = await client.post("/v1/invitations/accept", json={"token": token}, headers=stranger.headers)
    assert r.status_code == 400
    r = await client.post("/v1/invitations/accept", json={"token": token}, headers=invitee.headers)
    assert r.status_code == 200 and r.json()["role"] == "editor"
    r = await client.post("/v1/invitations/accept", json={"token": token}, headers=invitee.headers)
    assert r.status_code == 400  # single use
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": invitee.email, "role": "editor"}, headers=owner.headers)
    assert r.status_code == 409
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": "x@example.com", "role": "emperor"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role"



async def test_a_second_invitation_to_a_pending_address_is_409_until_revoked_or_expired(app, client, factory, outbox):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    url, h = f"/v1/tenants/{tenant}/invitations", owner.headers
    grace, ada = f"grace-{secrets.token_hex(4)}@example.com", f"ada-{secrets.token_hex(4)}@example.com"
    first = await client.post(url, json={"email": grace, "role": "analyst"}, headers=h)
    assert first.status_code == 201, first.text
    r = await client.post(url, json={"email": grace.capitalize().replace("example", "Example"), "role": "editor"}, headers=h)  # the same address
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["type"].endswith("/conflict") and r.json()["invitation_id"] == first.json()["id"]
    assert r.json()["detail"] == "An invitation to that address is pending; revoke it first or wait until it expires."
    assert len(outbox.messages_to(grace)) == 1  # no second token went out
    listed = (await client.get(url, headers=h)).json()["items"]
    assert [i["id"] for i in listed] == [first.json()["id"]]
    r = await client.post(url, json={"email": ada, "role": "analyst"}, headers=h)  # another address
    assert r.status_code == 201, r.text
    other_tenant = await factory.tenant(owner, "Elsewhere")
    r = await client.post(f"/v1/tenants/{other_tenant}/invitations", json={"email": grace, "role": "analyst"}, headers=h)
    assert r.status_code == 201, r.text  # per tenant

    # Revoked: invited again at once.
    assert (await client.delete(f"{url}/{first.json()['id']}", headers=h)).status_code == 200
    second = await client.post(url, json={"email": grace, "role": "editor"}, headers=h)
    assert second.status_code == 201, second.text
    # Expired: invited again too.
    async with app.state.sessionmaker() as session:
        await session.execute(update(Invitation).where(Invitation.id == second.json()["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    third = await client.post(url, json={"email": grace, "role": "editor"}, headers=h)
    assert third.status_code == 201, third.text
    # Accepted: a member now, which is its own conflict.
    token = outbox.last_token_for(grace)  # the third invitation's (registering mails a token of its own)
    invitee = await factory.user(email=grace)
    r = await client.post("/v1/invitations/accept", json={"token": token}, headers=invitee.headers)
    assert r.status_code == 200, r.text
    r = await client.post(url, json={"email": grace, "role": "editor"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"] == "That person is already a member." and "invitation_id" not in r.json()

    documented = (await client.get("/openapi.json")).json()["paths"]["/v1/tenants/{tenant_id}/invitations"]["post"]["responses"]["409"]
    assert "pending" in documented["description"] and "invitation_id" in documented["description"]

async def test_revoked_invitation_cannot_be_accepted(client, factory, outbox):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    invitee = await factory.user()
    inv = (await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": invitee.email, "role": "analyst"}, headers=owner.headers)).json()
    r = await client.delete(f"/v1/tenants/{tenant}/invitations/{inv['id']}", headers=owner.headers)
    assert r.json()["revoked_at"] is not None
    r = await client.post("/v1/invitations/accept", json={"token": outbox.last_token_for(invitee.email)}, headers=invitee.headers)
    assert r.status_code == 400


async def test_admins_cannot_make_owners_and_the_last_owner_stays(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": "boss@example.com", "role": "owner"}, headers=admin.headers)
    assert r.status_code == 403
    members = (await client.get(f"/v1/tenants/{tenant}/members", headers=owner.headers)).json()["items"]
    owner_member = next(m for m in members if m["user_id"] == owner.id)
    admin_member = next(m for m in members if m["user_id"] == admin.id)
    assert admin_member["email"] == admin.email
    r = await client.patch(f"/v1/tenants/{tenant}/members/{owner_member['id']}", json={"role": "analyst"}, headers=admin.headers)
    assert r.status_code == 403
    r = await client.patch(f"/v1/tenants/{tenant}/members/{owner_member['id']}", json={"role": "analyst"}, headers=owner.headers)
    assert r.status_code == 409
    r = await client.delete(f"/v1/tenants/{tenant}/members/{owner_member['id']}", headers=owner.headers)
    assert r.status_code == 409
    r = await client.patch(f"/v1/tenants/{tenant}/members/{admin_member['id']}", json={"role": "owner"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["role"] == "owner"
    r = await client.patch(f"/v1/tenants/{tenant}/members/{owner_member['id']}", json={"role": "analyst"}, headers=owner.headers)
    assert r.status_code == 200
    r = await client.delete(f"/v1/tenants/{tenant}/members/{admin_member['id']}", headers=admin.headers)
    assert r.status_code == 409  # the former admin is now the only owner


async def test_api_keys_work_with_their_role_and_stop_when_revoked(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "crm", "role": "owner"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role"
    created = (await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "crm", "role": "analyst"}, headers=owner.headers)).json()
    key = created["key"]
    assert key.startswith("cfk_") and created["key_prefix"] == key[:12]
    listed = (await client.get(f"/v1/tenants/{tenant}/api-keys", headers=owner.headers)).json()["items"]
    assert all("key" not in k for k in listed) and key not in str(listed)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=headers)).status_code == 200
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": "a@example.com", "role": "analyst"}, headers=headers)
    assert r.status_code == 403
    r = await client.get("/v1/me", headers=headers)
    # keys are for tenant routes, not a person's account: a valid key, so 403, not 401
    assert r.status_code == 403 and r.json()["type"].endswith("/person-required")
    assert "WWW-Authenticate" not in r.headers
    assert (await client.get("/v1/tenants", headers=headers)).status_code == 403
    await client.delete(f"/v1/tenants/{tenant}/api-keys/{created['id']}", headers=owner.headers)
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=headers)).status_code == 401


async def test_removed_member_loses_access(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    member = await factory.member(tenant, owner, "editor")
    members = (await client.get(f"/v1/tenants/{tenant}/members", headers=owner.headers)).json()["items"]
    member_id = next(m["id"] for m in members if m["user_id"] == member.id)
    assert (await client.delete(f"/v1/tenants/{tenant}/members/{member_id}", headers=owner.headers)).status_code == 204
    r = await client.get(f"/v1/tenants/{tenant}", headers=member.headers)
    assert r.status_code == 404
    assert PASSWORD  # the member's account itself lives on
    assert (await client.get("/v1/me", headers=member.headers)).status_code == 200


async def _member_id(client, tenant: str, owner, user) -> str:  # noqa: ANN001
    members = (await client.get(f"/v1/tenants/{tenant}/members", headers=owner.headers)).json()["items"]
    return next(m["id"] for m in members if m["user_id"] == user.id)


async def _key(client, tenant: str, creator, role: str = "admin") -> dict:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": f"{role} key", "role": role}, headers=creator.headers)
    assert r.status_code == 201, r.text
    return {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['key']}"}}


async def test_a_members_keys_and_invitations_go_when_they_leave(client, factory):
    """Security review: a removed admin kept their API keys (and an admin key could mint more, answerable to
    nobody), so a departing admin, or anyone who held their session for a minute, kept the tenant."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    key = await _key(client, tenant, admin)
    assert key["created_by"] == admin.id
    kept = await _key(client, tenant, owner, "analyst")
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": random_email(), "role": "admin"}, headers=admin.headers)
    invitation = r.json()["id"]
    # a key cannot make a key: every key has a person who answers for it
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "spare", "role": "admin"}, headers=key["headers"])
    assert r.status_code == 403 and r.json()["type"].endswith("/person-required"), r.text
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 200

    assert (await client.delete(f"/v1/tenants/{tenant}/members/{await _member_id(client, tenant, owner, admin)}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 401
    keys = {k["id"]: k for k in (await client.get(f"/v1/tenants/{tenant}/api-keys", headers=owner.headers)).json()["items"]}
    assert keys[key["id"]]["revoked_at"] is not None and keys[kept["id"]]["revoked_at"] is None
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=kept["headers"])).status_code == 200
    invitations = (await client.get(f"/v1/tenants/{tenant}/invitations", headers=owner.headers)).json()["items"]
    assert next(i for i in invitations if i["id"] == invitation)["revoked_at"] is not None


async def test_a_new_role_keeps_only_the_grants_it_could_make(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    co_owner = await factory.member(tenant, owner, "owner")
    owner_key = await _key(client, tenant, co_owner)
    to_owner = (await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": random_email(), "role": "owner"}, headers=co_owner.headers)).json()["id"]
    to_editor = (await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": random_email(), "role": "editor"}, headers=co_owner.headers)).json()["id"]
    member_id = await _member_id(client, tenant, owner, co_owner)

    # owner -> admin: an admin makes keys and invites, but no owners
    assert (await client.patch(f"/v1/tenants/{tenant}/members/{member_id}", json={"role": "admin"}, headers=owner.headers)).status_code == 200
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=owner_key["headers"])).status_code == 200
    invitations = {i["id"]: i for i in (await client.get(f"/v1/tenants/{tenant}/invitations", headers=owner.headers)).json()["items"]}
    assert invitations[to_owner]["revoked_at"] is not None and invitations[to_editor]["revoked_at"] is None

    # admin -> editor: no api_keys:manage nor members:manage, so neither keys nor invitations stay
    assert (await client.patch(f"/v1/tenants/{tenant}/members/{member_id}", json={"role": "editor"}, headers=owner.headers)).status_code == 200
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=owner_key["headers"])).status_code == 401
    invitations = {i["id"]: i for i in (await client.get(f"/v1/tenants/{tenant}/invitations", headers=owner.headers)).json()["items"]}
    assert invitations[to_editor]["revoked_at"] is not None


async def test_an_erased_account_takes_its_keys_along(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")
    key = await _key(client, tenant, admin)
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/tenants/{tenant}/members", headers=key["headers"])).status_code == 401
    listed = (await client.get(f"/v1/tenants/{tenant}/api-keys", headers=owner.headers)).json()["items"]
    assert [(k["revoked_at"] is not None, k["created_by"]) for k in listed if k["id"] == key["id"]] == [(True, None)]


async def test_members_page_through_with_cursors(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    others = [await factory.member(tenant, owner, "analyst") for _ in range(2)]
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/v1/tenants/{tenant}/members", params=params, headers=owner.headers)).json()
        seen += [m["user_id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [owner.id] + [o.id for o in others]
