"""Closing a tenant (DELETE /v1/tenants/{tenant_id}): owners only, with the tenant's id repeated; off the air
at once, then every row of the tenant deleted through the tenant-scope erasure, in batches; the closure
record stays with counts and no content; harmless to send again; refused under a legal hold, and no hold
can be placed once it started; a failed erasure is queued again without anyone asking, a closure that
keeps failing does not hold up the others, and a platform operator retries one that gave up (cutting the
tenant's chat sockets again, should a node have missed the first notice); and afterwards the former sole owner can erase their account."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass

import pytest
from sqlalchemy import insert, select, text, update

from confide.app import create_app
from confide.chats import service as chats
from confide.core.auth import Principal
from confide.core.clock import utcnow
from confide.core.tenancy import Role, TenantContext
from confide.migrate import upgrade
from confide.privacy.erasure_models import ErasureRequest, LegalHold
from confide.privacy.models import ProcessingInstructions
from confide.privacy.holds import TenantClosing, create_hold
from confide.tenants import closure as closures
from confide.tenants.closure import MAX_ATTEMPTS, LegalHoldsActive, count_rows, finish_closures
from confide.tenants.models import TenantClosure
from tests.conftest import client_for, running
from tests.realtime.test_tenant_closure import cut_off, still_open
from tests.support.chat import connect, live_server, published_avatar, visitor
from tests.support.erasure import worker_held_off
from tests.support.factory import PASSWORD, Factory, User
from tests.support.outbox import Outbox
from tests.support.services import postgres_database


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


async def test_a_closed_tenant_restored_from_a_backup_is_closed_again(app, client, shop):
    """Its erasure ledger went with it, so the ledger's sweep would not find it (a privacy review): the erasure
    worker's pass finds the tenant row of a closed closure in the database again and deletes the tenant again."""
    assert (await close(client, shop)).status_code == 202
    first = await closed(app, client, shop)
    assert first["status"] == "closed" and first["receipt"]["deleted_with_tenant"]["tenant"] == 1
    async with app.state.sessionmaker() as session:  # what a restore of this tenant's rows brings back
        await session.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (:id, 'Closing GmbH', :at)"), {"id": shop.tenant_id, "at": utcnow()})
        await session.execute(
            insert(ProcessingInstructions).values(
                id="pin_restored", tenant_id=shop.tenant_id, version=1, answer_chats=True, store_transcripts=True, evaluate=True, operator_review=True,
                external_llm=False, redact_pii_before_llm=True, retention_days=30, subprocessors=["hosting"], llm_provider={}, created_at=utcnow(),
            )
        )
        await session.commit()
    assert (await rows(app, shop.tenant_id))["tenant"] == 1

    again = await closed(app, client, shop)
    assert again["status"] == "closed" and again["receipt"]["deleted_with_tenant"]["tenant"] == 2, again["receipt"]
    assert {t: n for t, n in (await rows(app, shop.tenant_id)).items() if n} == {}, "the restored rows are gone again"


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


async def fail_erasure(app, closure_id: str) -> str:
    """The closure's current erasure gives up (as after five failed batches, say the broker was away)."""
    async with app.state.sessionmaker() as session, session.begin():
        request_id = (await session.get(TenantClosure, closure_id)).erasure_request_id
        await session.execute(update(ErasureRequest).where(ErasureRequest.id == request_id).values(status="failed", active_key=None, error="ConnectionError: a batch failed; given up"))
    return request_id


async def read_closure(app, closure_id: str) -> TenantClosure:
    async with app.state.sessionmaker() as session:
        return await session.get(TenantClosure, closure_id)


OP_TOKEN = "op-" + "t" * 32
OP = {"X-Operator-Token": OP_TOKEN}


async def worker_pass(app) -> None:
    """One pass of the session's worker, run by the test while it holds the worker off (worker_held_off)."""
    worker = app.state.erasure_worker
    async with app.state.sessionmaker() as session:
        pending = (await session.scalars(select(ErasureRequest.id).where(ErasureRequest.status.in_(("pending", "running"))))).all()
    for request_id in pending:
        await worker.process(request_id)
    for hook in worker.after_pass:
        await hook(app.state.sessionmaker)


@pytest.fixture
async def operator_client(backend):
    """An app of its own with the platform-operator token set (the session's app has none)."""
    async with running(create_app(backend.settings(operator_token=OP_TOKEN, erasure_worker_enabled=False))) as op_app, client_for(op_app) as c:
        yield c


async def test_a_failed_erasure_is_queued_again_without_anyone_asking(app, client, shop):
    async with worker_held_off(app):
        started = (await close(client, shop)).json()
        # The owner is gone: nobody could send the DELETE again.
        assert (await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=shop.owner.headers)).status_code == 200
        failed_request = await fail_erasure(app, started["id"])
        await finish_closures(app.state.sessionmaker, settings=app.state.settings)
        again = await read_closure(app, started["id"])
    assert again.status == "closing" and again.attempts == 1 and again.erasure_request_id != failed_request
    assert "ConnectionError" in again.error and "queued again" in again.error
    await app.state.erasure_worker.drain()
    done = await read_closure(app, started["id"])
    assert done.status == "closed" and done.error is None and done.requested_by_user_id is None
    assert not any((await rows(app, shop.tenant_id)).values())


async def test_a_closure_that_keeps_failing_gives_up_and_an_operator_retries_it(app, client, operator_client, shop):
    async with worker_held_off(app):
        started = (await close(client, shop)).json()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await fail_erasure(app, started["id"])
            await finish_closures(app.state.sessionmaker, settings=app.state.settings)
            assert (await read_closure(app, started["id"])).attempts == attempt
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/closure", headers=shop.owner.headers)
    assert r.json()["status"] == "failed" and r.json()["attempts"] == MAX_ATTEMPTS
    assert "ConnectionError" in r.json()["error"] and f"/v1/admin/tenant-closures/{started['id']}/retry" in r.json()["error"]
    assert (await rows(app, shop.tenant_id))["tenant"] == 1
    await app.state.erasure_worker.drain()
    assert (await read_closure(app, started["id"])).status == "failed", "it stays failed: no endless retries"
    assert (await client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=shop.owner.headers)).status_code == 200

    # The platform operator finds it and retries it.
    retry = f"/v1/admin/tenant-closures/{started['id']}/retry"
    assert (await operator_client.post(retry)).status_code == 401
    assert (await operator_client.post(retry, headers={"X-Operator-Token": "guess"})).status_code == 401
    r = await operator_client.get("/v1/admin/tenant-closures", params={"status": "failed", "limit": 200}, headers=OP)
    assert r.status_code == 200 and started["id"] in [c["id"] for c in r.json()["items"]]
    r = await operator_client.post("/v1/admin/tenant-closures/tcl_missing/retry", headers=OP)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await operator_client.post(retry, headers=OP)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "closing" and r.json()["attempts"] == 0 and r.json()["error"] is None
    r = await operator_client.post(retry, headers=OP)
    assert r.status_code == 409 and r.json()["type"].endswith("/closure-not-failed") and r.json()["closure_status"] == "closing"
    await app.state.erasure_worker.drain()
    done = await read_closure(app, started["id"])
    assert done.status == "closed" and done.requested_by_user_id is None
    assert not any((await rows(app, shop.tenant_id)).values())


async def test_the_requester_retries_a_failed_closure_unless_restricted(app, client, shop):
    async with worker_held_off(app):
        started = (await close(client, shop)).json()
        for _ in range(MAX_ATTEMPTS):
            await fail_erasure(app, started["id"])
            await finish_closures(app.state.sessionmaker, settings=app.state.settings)
    assert (await read_closure(app, started["id"])).status == "failed"
    assert (await client.post("/v1/me/restriction", headers=shop.owner.headers)).status_code == 200
    r = await close(client, shop)
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted")
    assert (await read_closure(app, started["id"])).status == "failed"
    assert (await client.delete("/v1/me/restriction", headers=shop.owner.headers)).status_code == 200
    r = await close(client, shop)
    assert r.status_code == 202 and r.json()["status"] == "closing" and r.json()["erasure_request_id"] != started["erasure_request_id"]
    done = await closed(app, client, shop)
    assert done["status"] == "closed" and not any((await rows(app, shop.tenant_id)).values())


def owner_ctx(shop: Shop) -> TenantContext:
    """The owner's context as a request resolved it, before the other transaction committed."""
    return TenantContext(shop.tenant_id, Role.OWNER, Principal("user", shop.owner.id, user_id=shop.owner.id))


async def test_a_hold_placed_while_the_tenant_closes_is_refused(app, shop):
    ctx = owner_ctx(shop)
    async with app.state.sessionmaker() as closing, app.state.sessionmaker() as holding:
        found, created = await closures.close_tenant(closing, ctx, settings=app.state.settings, confirm_tenant_id=shop.tenant_id)
        assert created
        hold = asyncio.create_task(create_hold(holding, ctx, conversation_id=shop.conversation_id, visitor_id=None, customer_ref=None, reason="Litigation"))
        await asyncio.sleep(0.5)
        assert not hold.done(), "the hold waits for the closure's transaction (the tenant row is locked)"
        await closing.commit()
        with pytest.raises(TenantClosing) as refused:
            await hold
        await holding.rollback()
    problem = refused.value.body()
    assert refused.value.status == 409 and problem["type"].endswith("/tenant-closing") and "closed" in problem["detail"]
    async with app.state.sessionmaker() as session:
        assert (await session.scalars(select(LegalHold.id).where(LegalHold.tenant_id == shop.tenant_id, LegalHold.released_at.is_(None)))).all() == []
    await app.state.erasure_worker.drain()
    assert (await read_closure(app, found.id)).status == "closed"


async def test_a_hold_placed_first_makes_a_concurrent_closure_wait_and_refuse(app, shop):
    ctx = owner_ctx(shop)
    async with app.state.sessionmaker() as holding, app.state.sessionmaker() as closing:
        hold = await create_hold(holding, ctx, conversation_id=shop.conversation_id, visitor_id=None, customer_ref=None, reason="Litigation")
        closure = asyncio.create_task(closures.close_tenant(closing, ctx, settings=app.state.settings, confirm_tenant_id=shop.tenant_id))
        await asyncio.sleep(0.5)
        assert not closure.done(), "the closure waits for the hold's transaction"
        await holding.commit()
        with pytest.raises(LegalHoldsActive) as refused:
            await closure
        await closing.rollback()
    assert refused.value.extra["legal_holds"] == [hold.id]
    assert (await rows(app, shop.tenant_id))["membership"] >= 2, "nothing was closed"


async def install_delete_refusal(app, table: str, tenant_id: str) -> str:
    """A database trigger that refuses to delete this tenant's rows of `table`: a closure that keeps failing."""
    name = f"keep_{tenant_id[-12:].lower()}"
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'kept'; END $$ LANGUAGE plpgsql"))
            await conn.execute(text(f"CREATE TRIGGER {name} BEFORE DELETE ON {table} FOR EACH ROW WHEN (OLD.tenant_id = '{tenant_id}') EXECUTE FUNCTION {name}()"))
        else:
            await conn.execute(text(f"CREATE TRIGGER {name} BEFORE DELETE ON {table} WHEN OLD.tenant_id = '{tenant_id}' BEGIN SELECT RAISE(ABORT, 'kept'); END"))
    return name


async def drop_delete_refusal(app, table: str, name: str) -> None:
    async with app.state.engine.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER {name}" + (f" ON {table}" if conn.dialect.name == "postgresql" else "")))
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"DROP FUNCTION {name}()"))


async def test_a_closure_that_keeps_raising_does_not_hold_up_the_others(app, client, factory, operator_client, shop):
    healthy = await make_shop(app, client, factory, "Healthy KG")
    async with worker_held_off(app):
        broken = (await close(client, shop)).json()  # asked for first: first in line
        trigger = await install_delete_refusal(app, "webhook_endpoint", shop.tenant_id)
        try:
            fine = (await close(client, healthy)).json()
            await worker_pass(app)
            assert (await read_closure(app, fine["id"])).status == "closed", "the next closure went on"
            assert not any((await rows(app, healthy.tenant_id)).values())
            stuck = await read_closure(app, broken["id"])
            assert stuck.status == "closing" and stuck.attempts == 1 and "finishing the closure failed" in stuck.error
            assert "kept" not in stuck.error, "the error's type only, never its text"
            assert stuck.receipt["deleted_with_tenant"], "the rows before the refusing table are deleted, and counted"
            for _ in range(MAX_ATTEMPTS - 1):
                await worker_pass(app)
            stuck = await read_closure(app, broken["id"])
            assert stuck.status == "failed" and stuck.attempts == MAX_ATTEMPTS and "operator" in stuck.error
            assert (await rows(app, shop.tenant_id))["tenant"] == 1
        finally:
            await drop_delete_refusal(app, "webhook_endpoint", trigger)
    r = await operator_client.post(f"/v1/admin/tenant-closures/{broken['id']}/retry", headers=OP)
    assert r.status_code == 202 and r.json()["erasure_request_id"] == broken["erasure_request_id"], "the deletion resumes: no new erasure"
    await app.state.erasure_worker.drain()
    done = await read_closure(app, broken["id"])
    assert done.status == "closed" and done.receipt["deleted_with_tenant"]["webhook_endpoint"] == 1 and done.receipt["deleted_with_tenant"]["tenant"] == 1
    assert done.receipt["chat_data"]["scope"] == "tenant"
    assert not any((await rows(app, shop.tenant_id)).values())


async def test_the_tenant_is_deleted_in_batches(app, backend, client, shop):
    small = backend.settings(erasure_batch_rows=2)
    async with app.state.sessionmaker() as session:
        for n in range(5):
            await chats.append(session, tenant_id=shop.tenant_id, conversation_id=shop.conversation_id, author="visitor", text=f"more {n}")
        await session.commit()
    for n in range(4):  # rows the erasure leaves to the deletion: more than a batch
        r = await client.post(f"/v1/tenants/{shop.tenant_id}/api-keys", json={"name": f"key {n}", "role": "analyst"}, headers=shop.owner.headers)
        assert r.status_code == 201
    batches: list[tuple[str, int]] = []
    async with worker_held_off(app):  # this test runs the steps itself
        # Closures other tests left behind with their erasure done (nodes stopped before finishing
        # them) are finished first, so the batches counted below are this closure's alone.
        await finish_closures(app.state.sessionmaker, settings=small)
        started = (await close(client, shop)).json()
        before = await rows(app, shop.tenant_id)
        assert before["api_key"] == 5 and before["chat_message"] == 7
        assert await app.state.erasure_worker.process(started["erasure_request_id"]) == "done"
        # The erasure's own log entry is buffered: written now, it is counted in a batch, not left for the
        # writer's timer to land mid-deletion (where the last transaction counts it outside the batches).
        await app.state.purpose_gate.flush()
        assert await finish_closures(app.state.sessionmaker, settings=small, on_batch=lambda table, n: batches.append((table, n))) >= 1
    assert batches and all(n <= 2 for _, n in batches)
    per_table: dict[str, int] = {}
    for table, n in batches:
        per_table[table] = per_table.get(table, 0) + n
    assert per_table["api_key"] == 5 and [t for t, _ in batches].count("api_key") == 3, "more rows than a batch: several commits"
    done = await read_closure(app, started["id"])
    assert done.status == "closed"
    assert {t: n for t, n in done.receipt["deleted_with_tenant"].items() if t != "tenant"} == per_table
    assert done.receipt["deleted_with_tenant"]["tenant"] == 1
    assert not any((await rows(app, shop.tenant_id)).values())


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


async def failed_closure_without_notice(app, shop, chat) -> str:  # noqa: ANN001
    """A closure committed as failed without its notice (the node that accepted it died first, say): `chat`,
    a socket of the tenant, is still open afterwards. Returns the closure's id."""
    async with worker_held_off(app), app.state.sessionmaker() as session:
        found, created = await closures.close_tenant(session, owner_ctx(shop), settings=app.state.settings, confirm_tenant_id=shop.tenant_id)
        assert created
        found.status, found.error = closures.FAILED, "After 3 attempts erasing the tenant's chat data failed"
        await session.commit()  # and no announce_closed
    await chat.send({"type": "ping"})
    await chat.expect("pong")
    return found.id


async def test_the_closure_finishing_announces_it_again_for_nodes_that_missed_the_first_notice(app, base, shop):
    """The notice goes out once when the closure is accepted. A node that missed it while its own subscription
    stayed up (the publish itself failed, or the accepting node died first) had no reason to ask the database:
    its sockets stayed open. The erasure pass that finishes the closure announces it again, so they are cut."""
    async with visitor(base, shop.widget_key) as (chat, _):
        await chat.expect("message")
        async with worker_held_off(app), app.state.sessionmaker() as session:
            found, created = await closures.close_tenant(session, owner_ctx(shop), settings=app.state.settings, confirm_tenant_id=shop.tenant_id)
            assert created
            await session.commit()  # and no announce_closed
        await still_open(chat)
        await app.state.erasure_worker.drain()
        assert (await read_closure(app, found.id)).status == "closed"
        error, closed = await cut_off(chat)
        assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")


async def test_an_erasure_worker_on_its_own_announces_the_closures_it_finishes(backend, tmp_path):
    """`python -m confide.privacy.erasure_worker`, in a process of its own, finishes a closure whose first
    notice never went out: the closure is announced over Redis, and the node holding the tenant's socket cuts it.
    A database of its own, so the session's app (which polls the queue) cannot finish the closure first."""
    if backend.name != "postgres":
        pytest.skip("a worker in another process reaches a node only through Redis: runs with the postgres backend")
    async with postgres_database() as url:
        await upgrade(url)
        settings = backend.settings(database_url=url, data_dir=tmp_path, erasure_worker_enabled=False)
        async with running(create_app(settings)) as node, live_server(node) as base, client_for(node) as client:
            shop = await make_shop(node, client, Factory(client, Outbox(settings.resolved_outbox_dir), settle=node.state.detached_mails.drain))
            async with visitor(base, shop.widget_key) as (chat, _):
                await chat.expect("message")
                async with node.state.sessionmaker() as session:
                    found, created = await closures.close_tenant(session, owner_ctx(shop), settings=settings, confirm_tenant_id=shop.tenant_id)
                    assert created
                    await session.commit()  # and no announce_closed
                await still_open(chat)
                env = {
                    **os.environ,
                    "CONFIDE_DATABASE_URL": url,
                    "CONFIDE_SECRET_KEY": settings.resolved_secret_key,
                    "CONFIDE_DATA_DIR": str(tmp_path),
                    "CONFIDE_REDIS_URL": settings.redis_url,
                    "CONFIDE_REDIS_PREFIX": settings.redis_prefix,
                    "CONFIDE_LOG_LEVEL": "WARNING",
                }
                worker = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "confide.privacy.erasure_worker", "--once", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
                )
                _, err = await asyncio.wait_for(worker.communicate(), 120)
                assert worker.returncode == 0, err.decode()[-2000:]
                assert (await read_closure(node, found.id)).status == "closed"
                error, closed = await cut_off(chat)
                assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")


async def test_an_operators_retry_cuts_chat_sockets_the_first_notice_missed(app, backend, shop):
    """The closure committed, but its notice never went out (the node that accepted it died first, say): a
    visitor's socket is still open. Retrying the failed closure announces it again, like the DELETE."""
    async with (
        running(create_app(backend.settings(operator_token=OP_TOKEN, erasure_worker_enabled=False))) as op_app,
        live_server(op_app) as op_base,
        client_for(op_app) as op_client,
        visitor(op_base, shop.widget_key) as (chat, _),
    ):
        await chat.expect("message")
        closure_id = await failed_closure_without_notice(app, shop, chat)
        r = await op_client.post(f"/v1/admin/tenant-closures/{closure_id}/retry", headers=OP)
        assert r.status_code == 202, r.text
        error, closed = await cut_off(chat)
        assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
    await app.state.erasure_worker.drain()
    assert (await read_closure(app, closure_id)).status == "closed"


async def test_the_clis_retry_cuts_chat_sockets_the_first_notice_missed(app, backend, shop):
    """`confide closures retry` queued the closure again without a notice, unlike the admin route: a socket
    the first notice missed stayed open. The CLI runs in a process of its own, so its notice goes through
    Redis (the in-process broker of the sqlite backend reaches no other process)."""
    if backend.name != "postgres":
        pytest.skip("the CLI reaches a running node only through Redis: runs with the postgres backend")
    import argparse

    from confide.privacy.cli import _closures

    settings = backend.settings(erasure_worker_enabled=False)
    async with running(create_app(settings)) as node, live_server(node) as base, visitor(base, shop.widget_key) as (chat, _):
        await chat.expect("message")
        await asyncio.wait_for(node.state.chat.live.listening.wait(), 10)
        closure_id = await failed_closure_without_notice(app, shop, chat)
        result = await _closures(settings, argparse.Namespace(action="retry", closure_id=closure_id, status=None, limit=50))
        assert result["status"] == "closing", result
        error, closed = await cut_off(chat)
        assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
    await app.state.erasure_worker.drain()
    assert (await read_closure(app, closure_id)).status == "closed"


async def test_the_clis_retry_says_so_when_its_notice_cannot_go_out(app, backend, base, shop, capsys):
    """With Redis unreachable the retry stands (the closure is queued again, and the erasure pass that finishes
    it announces it) but its notice cannot go: the CLI says so on stderr. (The publish used to fail inside the
    broker's queue, where nobody heard of it, and the CLI reported nothing.)"""
    import argparse

    from confide.privacy.cli import _closures
    from tests.support.server import free_port

    settings = backend.settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", erasure_worker_enabled=False)  # nothing listens there
    async with visitor(base, shop.widget_key) as (chat, _):
        await chat.expect("message")
        closure_id = await failed_closure_without_notice(app, shop, chat)
        result = await _closures(settings, argparse.Namespace(action="retry", closure_id=closure_id, status=None, limit=50))
        assert result["status"] == "closing", result
        warning = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert warning["warning"] == "the closure notice could not be sent"
        await app.state.erasure_worker.drain()
        assert (await read_closure(app, closure_id)).status == "closed"
        await cut_off(chat)  # announced by the pass that finished it
