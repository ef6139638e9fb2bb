"""The privacy tests run on an app with operator routes on and an external LLM endpoint configured,
sharing the backend's database and outbox with the suite's own app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from confide.app import create_app
from tests.conftest import running
from tests.support.cookies import record_set_cookies

OPERATOR_TOKEN = "operator-secret-for-tests-" + "x" * 16  # at least 32 characters
OPERATOR = {"X-Operator-Token": OPERATOR_TOKEN}
LLM_URL = "https://api.openai.com/v1"


@pytest.fixture(scope="session")
async def app(backend) -> AsyncIterator[FastAPI]:  # noqa: ANN001
    settings = backend.settings(
        operator_token=OPERATOR_TOKEN, openai_base_url=LLM_URL, retention_job_enabled=False, contact_limit_per_hour=100_000,
        contact_retention_days=30,
    )
    async with running(create_app(settings)) as started:
        yield started


def hooked_client(app: FastAPI, address: str = "127.0.0.1", base_url: str = "http://confide.test") -> httpx.AsyncClient:
    """A client whose every response goes through the suite's cookie audit."""
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    return httpx.AsyncClient(transport=transport, base_url=base_url, event_hooks={"response": [record_set_cookies]})


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with hooked_client(app) as c:
        yield c
