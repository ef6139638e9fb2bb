"""Why an `openai` avatar's preview answered from its knowledge instead of the LLM, as a tenant admin reads it in
`outcome.error`: `not_configured` when the server has no LLM endpoint (it said `not_instructed`, sending the admin
to instructions that were not the cause), `not_instructed` when the tenant's instructions do not allow it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from confide.app import create_app
from tests.conftest import Backend, client_for, running
from tests.support.factory import Factory, User
from tests.support.fake_llm import FakeLLM
from tests.support.outbox import Outbox

AVATAR = {
    "name": "Mia",
    "persona": {"role_description": "Customer service"},
    "languages": ["en"],
    "default_language": "en",
    "messages": {"en": {"greeting": "Hello, I am Mia.", "fallback": "Sorry, I do not know that."}},
    "responder": {"engine": "openai"},
}
PROVIDER_ONLY = {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": False}}
PROVIDER_AND_PURPOSE = {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}}


@asynccontextmanager
async def serving(backend: Backend, **settings: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Factory]]:
    async with running(create_app(backend.settings(retention_job_enabled=False, **settings))) as app, client_for(app) as client:
        yield app, client, Factory(client, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)


async def openai_avatar(client: httpx.AsyncClient, factory: Factory, instructions: dict[str, Any] | None) -> tuple[User, str, str]:
    """A tenant with an `openai` avatar, and its instructions if given; returns the owner, tenant and avatar ids."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    if instructions is not None:
        r = await client.post(f"/v1/tenants/{tenant}/privacy/instructions", json=instructions, headers=owner.headers)
        assert r.status_code == 201, r.text
    r = await client.post(f"/v1/tenants/{tenant}/avatars", json=AVATAR, headers=owner.headers)
    assert r.status_code == 201, r.text
    return owner, tenant, r.json()["id"]


async def preview(client: httpx.AsyncClient, owner: User, tenant: str, avatar_id: str) -> dict[str, Any]:
    r = await client.post(f"/v1/tenants/{tenant}/avatars/{avatar_id}/preview", json={"message": "Do you ship to Mars?"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("instructions", [None, PROVIDER_AND_PURPOSE], ids=["defaults", "llm-instructed-while-configured"])
async def test_without_an_llm_endpoint_an_openai_preview_says_not_configured(backend: Backend, fake_llm: FakeLLM, instructions: dict[str, Any] | None) -> None:
    """Whatever the tenant instructed (here too when it authorised the LLM while the server had an endpoint), the
    cause is the server's: the admin is not sent to change instructions that would not help."""
    async with serving(backend, openai_base_url=fake_llm.base_url, openai_api_key="test") as (_, client, factory):
        owner, tenant, avatar_id = await openai_avatar(client, factory, instructions)
    async with serving(backend, openai_base_url=None) as (_, client, _factory):
        body = await preview(client, owner, tenant, avatar_id)
    assert body["engine"] == "openai" and body["reply"].startswith("Sorry, I do not know that.") and body["outcome"]["fallback_used"], body
    assert body["outcome"]["engine"] == "builtin" and body["outcome"]["error"] == "not_configured", body["outcome"]
    assert fake_llm.chat_requests == []


@pytest.mark.parametrize("instructions", [None, PROVIDER_ONLY], ids=["defaults", "provider-without-the-purpose"])
async def test_with_an_endpoint_but_no_instruction_an_openai_preview_says_not_instructed(backend: Backend, fake_llm: FakeLLM, instructions: dict[str, Any] | None) -> None:
    """The server has an LLM, the tenant has not allowed it (not the provider, or not the external_llm purpose):
    the preview answers from the knowledge, nothing reaches the LLM, and the admin is told their instructions are why."""
    async with serving(backend, openai_base_url=fake_llm.base_url, openai_api_key="test") as (_, client, factory):
        owner, tenant, avatar_id = await openai_avatar(client, factory, instructions)
        body = await preview(client, owner, tenant, avatar_id)
    assert body["outcome"]["engine"] == "builtin" and body["outcome"]["error"] == "not_instructed", body["outcome"]
    assert fake_llm.chat_requests == []
