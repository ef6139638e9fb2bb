"""Fixes of 90db9b9 in the privacy domain: an LLM authorisation recorded while no provider was configured ({})
does not carry over to a provider configured later, while a version that records no provider at all (None,
from before migration p0003) still counts; a customer's erasure forgets the released legal holds on the visitor
id derived from their reference; and an app's shutdown stops its own account-erasure follow-up tasks only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from confide.app import create_app
from confide.chats.tokens import customer_visitor_id
from confide.privacy import rights
from confide.privacy.erasure_worker import ERASED_HOLD_TEXT
from confide.privacy.models import ProcessingInstructions
from confide.settings import Settings
from tests.conftest import Backend, running
from tests.privacy.chat_seed import Shop, make_shop, messages_of, seed_conversation
from tests.privacy.conftest import hooked_client
from tests.support.factory import PASSWORD, Factory, User
from tests.support.fake_llm import FakeLLM
from tests.support.outbox import Outbox

LLM_ON = {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}}


def instructions_url(tenant_id: str) -> str:
    return f"/v1/tenants/{tenant_id}/privacy/instructions"


def factory_for(app: FastAPI, client: httpx.AsyncClient) -> Factory:
    return Factory(client, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)


async def set_recorded_provider(app: FastAPI, tenant_id: str, recorded: dict[str, str] | None) -> None:
    """Overwrite what the tenant's versions record as the authorised LLM provider (as older rows hold it)."""
    async with app.state.sessionmaker() as session:
        await session.execute(update(ProcessingInstructions).where(ProcessingInstructions.tenant_id == tenant_id).values(llm_provider=recorded))
        await session.commit()


async def preview(client: httpx.AsyncClient, owner: User, tenant_id: str, avatar_id: str) -> dict[str, Any]:
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/preview", json={"message": "When are you open?"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_llm_authorised_while_no_provider_was_configured_does_not_cover_one_configured_later(backend: Backend, fake_llm: FakeLLM) -> None:
    """A node without an LLM endpoint records {} for a tenant's `llm` authorisation (here: filling in a version from
    before p0003 at start-up). That tenant authorised no provider in particular, so once the operator configures
    one, the tenant must confirm it first (Art. 28(2) GDPR); {} used to read as "nothing recorded" and let the
    previews and chats reach the new provider at once."""
    with_llm = backend.settings(openai_base_url=fake_llm.base_url, openai_api_key="test", retention_job_enabled=False)
    async with running(create_app(with_llm)) as node, hooked_client(node) as c:
        factory = factory_for(node, c)
        owner = await factory.user()
        tenant = await factory.tenant(owner)
        r = await c.post(instructions_url(tenant), json=LLM_ON, headers=owner.headers)
        assert r.status_code == 201, r.text
        avatar = {"name": "Mia", "persona": {"role_description": "Support"}, "languages": ["en"], "default_language": "en",
                  "messages": {"en": {"greeting": "Hi", "fallback": "Sorry, I do not know."}}, "responder": {"engine": "openai"}}
        r = await c.post(f"/v1/tenants/{tenant}/avatars", json=avatar, headers=owner.headers)
        assert r.status_code == 201, r.text
        avatar_id = r.json()["id"]
        await set_recorded_provider(node, tenant, None)  # as the row was before migration p0003

    async with running(create_app(backend.settings(openai_base_url=None, retention_job_enabled=False))) as bare, hooked_client(bare) as c:
        body = (await c.get(instructions_url(tenant), headers=owner.headers)).json()
        assert body["llm_provider"] == {} and "llm" in body["authorised_subprocessors"], body  # filled in with no provider known

    async with running(create_app(with_llm)) as node, hooked_client(node) as c:
        body = (await c.get(instructions_url(tenant), headers=owner.headers)).json()
        assert body["llm_provider_changed"] is True and body["llm_provider_authorised"] is False, body
        outcome = (await preview(c, owner, tenant, avatar_id))["outcome"]
        assert outcome["engine"] == "builtin" and outcome["error"] == "not_instructed", outcome
        assert fake_llm.chat_requests == [], "nothing reaches a provider the tenant has not confirmed"
        # Another change, one that does not name the sub-processors, confirms no provider either (it recorded the
        # configured one, a review found).
        r = await c.post(instructions_url(tenant), json={"retention_days": 9}, headers=owner.headers)
        assert r.status_code == 201, r.text
        assert r.json()["llm_provider"] == {} and r.json()["llm_provider_changed"] is True and r.json()["llm_provider_authorised"] is False, r.json()

        r = await c.post(instructions_url(tenant), json=LLM_ON, headers=owner.headers)  # the tenant confirms this provider
        assert r.status_code == 201, r.text
        assert r.json()["llm_provider_authorised"] is True and r.json()["llm_provider_changed"] is False
        assert r.json()["llm_provider"]["name"] == "Operator of the LLM endpoint at 127.0.0.1"
        outcome = (await preview(c, owner, tenant, avatar_id))["outcome"]
        assert outcome["engine"] == "openai" and outcome["error"] is None, outcome
        assert len(fake_llm.chat_requests) == 1


async def test_a_version_that_records_no_provider_stays_authorised_for_the_configured_one(app: FastAPI, client: httpx.AsyncClient, factory: Factory) -> None:
    """None is not {}: a version from before p0003 that no start-up has filled in yet (the database was away)
    counts as authorised for the provider configured now, as it did before the fix."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(instructions_url(tenant), json=LLM_ON, headers=owner.headers)
    assert r.status_code == 201, r.text
    await set_recorded_provider(app, tenant, None)
    body = (await client.get(instructions_url(tenant), headers=owner.headers)).json()
    assert body["llm_provider"] is None and body["llm_provider_changed"] is False and body["llm_provider_authorised"] is True, body


async def hold(client: httpx.AsyncClient, shop: Shop, visitor_id: str, reason: str, *, release: str | None = None) -> str:
    """A legal hold on a visitor id, released with `release` if given; returns its id."""
    holds = f"/v1/tenants/{shop.tenant_id}/legal-holds"
    r = await client.post(holds, json={"visitor_id": visitor_id, "reason": reason}, headers=shop.owner.headers)
    assert r.status_code == 201, r.text
    hold_id = r.json()["id"]
    if release is not None:
        r = await client.request("DELETE", f"{holds}/{hold_id}", json={"reason": release}, headers=shop.owner.headers)
        assert r.status_code == 200, r.text
    return hold_id


async def read_hold(client: httpx.AsyncClient, shop: Shop, hold_id: str) -> dict[str, Any]:
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/legal-holds/{hold_id}", headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def erasure(app: FastAPI, client: httpx.AsyncClient, shop: Shop, request_id: str) -> dict[str, Any]:
    """The erasure request after a pass of the worker."""
    await app.state.erasure_worker.drain()
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/erasure-requests/{request_id}", headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_customers_erasure_forgets_released_holds_on_their_derived_visitor_id(app: FastAPI, client: httpx.AsyncClient, factory: Factory) -> None:
    """A signed-in customer chats under a visitor id derived from their reference, and staff place holds on that
    visitor id. Erasing the customer forgot only holds placed on the reference: released holds on the visitor id
    kept it and reasons naming the person. A hold in force is left as it is (it keeps the data, and the erasure
    waits for it); once released, the erasure finishes and forgets it too."""
    shop = await make_shop(client, factory)
    erika = customer_visitor_id(shop.tenant_id, "crm-erika")
    other = customer_visitor_id(shop.tenant_id, "crm-other")
    kept = await seed_conversation(app, shop, visitor_id=erika, customer_ref="crm-erika", texts=("My name is Erika Mustermann",))
    await seed_conversation(app, shop, visitor_id=other, customer_ref="crm-other")
    old = await hold(client, shop, erika, "Complaint filed by Erika Mustermann", release="Erika withdrew her complaint")
    others = await hold(client, shop, other, "Audit of crm-other", release="Audit done")
    in_force = await hold(client, shop, erika, "Court order concerning Erika Mustermann")

    r = await client.post(f"/v1/tenants/{shop.tenant_id}/erasure-requests", json={"scope": "customer", "customer_ref": "crm-erika"}, headers=shop.owner.headers)
    assert r.status_code == 202, r.text
    waiting = await erasure(app, client, shop, r.json()["id"])
    assert waiting["status"] == "done" and waiting["held"] == {"conversations": 1, "legal_holds": [in_force]}, waiting
    assert (await read_hold(client, shop, in_force))["reason"] == "Court order concerning Erika Mustermann"
    assert (await read_hold(client, shop, old))["reason"] == "Complaint filed by Erika Mustermann", "nothing is forgotten while data is kept"

    r = await client.request("DELETE", f"/v1/tenants/{shop.tenant_id}/legal-holds/{in_force}", json={"reason": "Erika's case closed"}, headers=shop.owner.headers)
    assert r.status_code == 200 and r.json()["requeued_erasure_requests"] == [waiting["id"]], r.text
    done = await erasure(app, client, shop, waiting["id"])
    assert done["status"] == "done" and done["held"] == {"conversations": 0, "legal_holds": []}, done
    assert await messages_of(app, kept) == []

    for hold_id in (old, in_force):
        forgotten = await read_hold(client, shop, hold_id)
        assert forgotten["visitor_id"] == done["subject_ref"] and forgotten["visitor_id"].startswith("sub_"), forgotten
        assert forgotten["reason"] == forgotten["release_reason"] == ERASED_HOLD_TEXT, forgotten
    untouched = await read_hold(client, shop, others)
    assert (untouched["visitor_id"], untouched["reason"], untouched["release_reason"]) == (other, "Audit of crm-other", "Audit done")


def unlinking_tasks() -> set[asyncio.Task[None]]:
    return set(rights._UNLINKING)


async def erase_an_account(app: FastAPI) -> asyncio.Task[None]:
    """Erase a new account through this app; returns the follow-up unlinking task the erasure scheduled."""
    async with hooked_client(app) as c:
        user = await factory_for(app, c).user()
        before = unlinking_tasks()
        r = await c.post("/v1/me/erasure", json={"password": PASSWORD}, headers=user.headers)
        assert r.status_code == 200, r.text
    (task,) = unlinking_tasks() - before
    return task


async def test_an_apps_shutdown_cancels_its_own_follow_up_unlinkings_only(backend: Backend) -> None:
    """The follow-up unlinking runs on its app's engine a few seconds after an account's erasure: an app that
    stops (its engine disposed) drops its own, while another app in the process keeps its."""
    settings: Settings = backend.settings(retention_job_enabled=False)
    async with running(create_app(settings)) as staying:
        async with running(create_app(settings)) as stopping:
            stopping_task = await erase_an_account(stopping)
            staying_task = await erase_an_account(staying)
            assert not stopping_task.done() and not staying_task.done()
        assert stopping_task.cancelled() and stopping_task not in rights._UNLINKING
        assert not staying_task.done() and staying_task in rights._UNLINKING
    assert staying_task.cancelled()
