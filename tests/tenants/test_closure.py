"""Closing a tenant (DELETE /v1/tenants/{tenant_id}): owners only, with the tenant's id repeated; off the air
at once, then every row of the tenant deleted through the tenant-scope erasure; the closure record stays
with counts and no content; harmless to send again; refused under a legal hold; and afterwards the former
sole owner can erase their account."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from confide.chats import service as chats
from confide.privacy.erasure_models import ErasureRequest
from confide.tenants.closure import count_rows, finish_closures
from confide.tenants.models import TenantClosure
from tests.support.chat import connect, published_avatar, visitor
from tests.support.factory import PASSWORD, Factory, User


@dataclass
class Shop:
    owner: User
    tenant_id: str
    avatar_id: str
    widget_key: str
    member: User
    api_key: str
    conversation_id: str


SECRET = "my card number is 4111 1111 1111 1111, Erika Mustermann"


async def make_shop(app, client, factory: Factory, name: str = "Closing GmbH") -> Shop:
    """A tenant with something in every kind of table: avatar (published, with knowledge and a guideline set),
    an editor, an API key, an open invitation, a webhook, a legal hold released again, and a conversation."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    avatar = await published_avatar(client, owner, tenant_id)
    member = await factory.member(tenant_id, owner, "editor")
    r = await client.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": "crm", "role": "admin"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    api_key = r.json()["key"]
    r = await client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": f"invitee-{tenant_id}@example.com", "role": "analyst"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/tenants/{tenant_id}/webhooks", json={"name": "CRM", "url": "https://crm.example.com/hook", "events": ["conversation.closed"]}, headers=owner.headers)
    assert r.status_code == 201, r.text
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar["avatar_id"], avatar_version_id=None, visitor_id=f"vis_{tenant_id[-8:]}", customer_ref="crm-4711", language="en"
        )
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", text=SECRET)
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="avatar", text="I cannot take card numbers here.")
        await session.commit()
    holds = f"/v1/tenants/{tenant_id}/legal-holds"
    r = await client.post(holds, json={"conversation_id": conversation.id, "reason": "Old matter"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    r = await client.request("DELETE", f"{holds}/{r.json()['id']}", json={"reason": "Settled"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return Shop(owner, tenant_id, avatar["avatar_id"], avatar["widget_key"], member, api_key, conversation.id)


@pytest.fixture
async def shop(app, client, factory) -> Shop:
    return await make_shop(app, client, factory)


async def rows(app, tenant_id: str) -> dict[str, int]:
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        return await count_rows(session, tenant_id)


def close(client, shop: Shop, body: dict | None = None, headers: dict | None = None):
    body = {"confirm_tenant_id": shop.tenant_id} if body is None else body
    return client.request("DELETE", f"/v1/tenants/{shop.tenant_id}", json=body, headers=headers or shop.owner.headers)


async def closed(app, client, shop: Shop) -> dict:
    await app.state.erasure_worker.drain()
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/closure", headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_owner_closes_the_tenant_then_erases_their_account(app, base, client, factory, shop):
    other = await make_shop(app, client, factory, "Bystander AG")
    others_before = await rows(app, other.tenant_id)
    async with visitor(base, shop.widget_key) as (chat, welcome):  # the real chat works before (and is logged)
        await chat.expect("message")
    before = await rows(app, shop.tenant_id)
    for table in ("avatar", "avatar_version", "knowledge_entry", "guideline_set", "membership", "api_key", "invitation", "webhook_endpoint",
                  "conversation", "chat_message", "legal_hold", "processing_log", "tenant"):
        assert before[table] >= 1, f"the shop should have {table} rows to delete"

    r = await close(client, shop)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "closing" and started["tenant_id"] == shop.tenant_id and started["receipt"] is None
    assert r.headers["location"] == f"/v1/tenants/{shop.tenant_id}/closure"

    # At once: off the air, nobody works in it, the owner is no sole owner of anything any more.
    async with connect(f"{base}/v1/widget/{shop.widget_key}/chat") as chat:
        assert (await chat.closed()).code == 4404
    r = await client.get(f"/v1/tenants/{shop.tenant_id}", headers=shop.member.headers)
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found")
    r = await client.get(f"/v1/tenants/{shop.tenant_id}", headers={"Authorization": f"Bearer {shop.api_key}"})
    assert r.status_code == 401
    assert shop.tenant_id not in [t["id"] for t in (await client.get("/v1/tenants", headers=shop.owner.headers)).json()["items"]]

    done = await closed(app, client, shop)
    assert done["status"] == "closed" and done["finished_at"] and done["error"] is None
    receipt = done["receipt"]
    assert receipt["chat_data"]["scope"] == "tenant" and receipt["chat_data"]["erased"]["database"]["chat_message"] >= 2
    assert receipt["deleted_with_tenant"]["tenant"] == 1 and receipt["deleted_with_tenant"]["avatar"] == 1
    as_text = json.dumps(done)
    for secret in ("4111", "Erika", "crm-4711", shop.owner.id, shop.owner.email, "Closing GmbH"):
        assert secret not in as_text, f"the receipt holds counts only: {secret}"

    after = await rows(app, shop.tenant_id)
    assert {t: n for t, n in after.items() if n} == {}, "every row of the tenant is gone"
    assert await rows(app, other.tenant_id) == others_before, "another tenant is untouched"
    r = await client.get(f"/v1/tenants/{other.tenant_id}/conversations/{other.conversation_id}/transcript", headers=other.owner.headers)
    assert r.status_code == 200 and SECRET in [m["text"] for m in r.json()["messages"]]

    # The member simply lost the membership; the former owner's account erasure now succeeds.
    assert (await client.get("/v1/me", headers=shop.member.headers)).status_code == 200
    r = await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    async with app.state.sessionmaker() as session:
        record = await session.scalar(select(TenantClosure).where(TenantClosure.tenant_id == shop.tenant_id))
    assert record is not None and record.status == "closed" and record.requested_by_user_id is None, "the proof stays, unlinked from the person"


async def test_only_an_owner_may_close(app, client, factory, shop):
    admin = await factory.member(shop.tenant_id, shop.owner, "admin")
    before = await rows(app, shop.tenant_id)
    r = await close(client, shop, headers=admin.headers)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/permission-denied") and "owner" in r.json()["detail"]
    for who in (shop.member.headers, {"Authorization": f"Bearer {shop.api_key}"}):  # an editor; an API key (at most admin)
        r = await close(client, shop, headers=who)
        assert r.status_code == 403 and r.json()["permission"] == "tenant:manage", r.text
    assert await rows(app, shop.tenant_id) == before
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(TenantClosure).where(TenantClosure.tenant_id == shop.tenant_id)) is None


async def test_another_tenants_owner_gets_404_as_for_a_missing_tenant(app, client, factory, shop):
    stranger = await factory.user()
    await factory.tenant(stranger, "Stranger SE")
    before = await rows(app, shop.tenant_id)
    answers = []
    for tenant_id in (shop.tenant_id, "ten_missing"):
        r = await client.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=stranger.headers)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        answers.append({k: v for k, v in r.json().items() if k != "instance"})
        r = await client.get(f"/v1/tenants/{tenant_id}/closure", headers=stranger.headers)
        assert r.status_code == 404
        answers.append({k: v for k, v in r.json().items() if k != "instance"})
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert await rows(app, shop.tenant_id) == before


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "Field required"),
        ({"confirm_tenant_id": "ten_other"}, "repeat"),
        ({"confirm_tenant_id": "Closing GmbH"}, "repeat"),
        ({"confirm_tenant_id": "{tenant}", "force": True}, "Unknown field"),
    ],
)
async def test_a_missing_or_wrong_confirmation_deletes_nothing(app, base, client, shop, body, message):
    body = {k: (shop.tenant_id if v == "{tenant}" else v) for k, v in body.items()}
    before = await rows(app, shop.tenant_id)
    r = await close(client, shop, body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["body.force"] if "force" in body else fields == ["body.confirm_tenant_id"]
    assert message in json.dumps(r.json())
    r = await client.request("DELETE", f"/v1/tenants/{shop.tenant_id}", headers=shop.owner.headers)  # no body at all
    assert r.status_code == 422 and r.json()["type"].endswith("/validation-error")
    await app.state.erasure_worker.drain()
    assert await rows(app, shop.tenant_id) == before
    async with visitor(base, shop.widget_key) as (chat, _):
        await chat.expect("message")
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/closure", headers=shop.owner.headers)
    assert r.status_code == 404 and "not being closed" in r.json()["detail"]


async def test_sending_it_again_is_harmless(app, client, factory, shop):
    first = await close(client, shop)
    assert first.status_code == 202
    again = await close(client, shop)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["status"] == "closing"
    wrong = await close(client, shop, {"confirm_tenant_id": "ten_other"})
    assert wrong.status_code == 422, "a retry is confirmed like the first request"
    done = await closed(app, client, shop)
    assert done["status"] == "closed"
    again = await close(client, shop)
    assert again.status_code == 200 and again.json() == done
    await app.state.erasure_worker.drain()
    assert (await client.get(f"/v1/tenants/{shop.tenant_id}/closure", headers=shop.owner.headers)).json() == done
    # Nobody else learns anything: for them the tenant does not exist.
    r = await client.request("DELETE", f"/v1/tenants/{shop.tenant_id}", json={"confirm_tenant_id": shop.tenant_id}, headers=shop.member.headers)
    assert r.status_code == 404


async def test_a_failed_erasure_fails_the_closure_and_a_retry_finishes_it(app, client, shop):
    started = (await close(client, shop)).json()
    # The erasure gave up (say the broker was away five times): the closure says so, the tenant stays.
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(update(ErasureRequest).where(ErasureRequest.id == started["erasure_request_id"]).values(status="failed", active_key=None))
    await finish_closures(app.state.sessionmaker)
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/closure", headers=shop.owner.headers)
    assert r.json()["status"] == "failed" and "again" in r.json()["error"]
    assert (await rows(app, shop.tenant_id))["tenant"] == 1
    r = await close(client, shop)
    assert r.status_code == 202 and r.json()["status"] == "closing" and r.json()["erasure_request_id"] != started["erasure_request_id"]
    done = await closed(app, client, shop)
    assert done["status"] == "closed" and not any((await rows(app, shop.tenant_id)).values())


async def test_a_legal_hold_in_force_refuses_the_closure(app, base, client, shop):
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/legal-holds", json={"customer_ref": "crm-4711", "reason": "Litigation 12/34"}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    hold_id = r.json()["id"]
    before = await rows(app, shop.tenant_id)
    r = await close(client, shop)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/legal-holds-active") and r.json()["legal_holds"] == [hold_id]
    assert await rows(app, shop.tenant_id) == before
    async with visitor(base, shop.widget_key) as (chat, _):  # still on the air
        await chat.expect("message")
    r = await client.request("DELETE", f"/v1/tenants/{shop.tenant_id}/legal-holds/{hold_id}", json={"reason": "Settled"}, headers=shop.owner.headers)
    assert r.status_code == 200
    assert (await close(client, shop)).status_code == 202
    assert (await closed(app, client, shop))["status"] == "closed"
