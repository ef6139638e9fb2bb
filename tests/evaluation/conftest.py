"""Evaluation tests run on their own app (webhooks reach http://127.0.0.1 and retry quickly, as in every app of
the suite: tests/conftest.py Backend.settings). It shares the backend's database with the suite's app, and is
package-scoped so that its connections close when these tests end. The chat runs on a real uvicorn server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from confide.app import create_app
from tests.conftest import client_for, running
from tests.support.chat import live_server, published_avatar

HUMAN_RULE = {"id": "human", "kind": "escalation", "phrases": ["talk to a human"]}


@pytest.fixture(scope="package")
async def app(backend) -> AsyncIterator[FastAPI]:  # noqa: ANN001
    async with running(create_app(backend.settings())) as started:
        yield started


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture(scope="package")
async def base(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url


@pytest.fixture
async def shop(client, factory) -> dict[str, Any]:  # noqa: ANN001
    """A tenant with an owner and a published avatar that hands off on 'talk to a human'."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Shop GmbH")
    avatar = await published_avatar(client, owner, tenant_id, spec={"rules": [HUMAN_RULE]})
    return {"owner": owner, "tenant_id": tenant_id, **avatar}
