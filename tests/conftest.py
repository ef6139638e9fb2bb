"""Real-server fixtures. Every test runs per backend: SQLite with the in-process broker, and PostgreSQL
with Redis. CONFIDE_TEST_BACKENDS=sqlite or =postgres picks one (CI runs each in turn)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from confide.app import create_app
from confide.migrate import upgrade
from confide.settings import Settings
from tests.support.chat import live_server
from tests.support.factory import Factory
from tests.support.cookies import cookie_audit, record_set_cookies  # noqa: F401  (session-wide check: only `lang` is ever set)
from tests.support.fake_llm import fake_llm, fake_llm_server  # noqa: F401  (suite-wide fixtures)
from tests.support.outbox import Outbox
from tests.support.services import postgres_database, redis_namespace

BACKENDS = [b.strip() for b in os.environ.get("CONFIDE_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()]


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str
    data_dir: Path

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "redis_prefix": self.redis_prefix,
            "data_dir": self.data_dir,
            "secret_key": "test-secret-key-of-the-backend-" + self.name,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 64,
            "login_limit_per_address": 100_000,
            "login_limit_per_account": 1_000,
            "registration_limit_per_address": 100_000,  # the suite registers hundreds of users from 127.0.0.1
            "contact_limit_per_hour": 100_000,  # and sends contact messages from it in many modules: no order dependence (test_contact tests the limit on an app of its own)
            "access_log_flush_seconds": 3600,
            "retention_job_enabled": False,
            "gc_freeze_after_startup": False,
            "chat_visitor_messages_per_window": 100_000,
            "chat_address_connects_per_window": 100_000,
            "chat_frame_burst": 100_000,
            # Every app of the suite shares the backend's database, so any app's webhook worker may claim a delivery the
            # evaluation tests made due: all deliver to the tests' loopback receivers alike, and retry quickly (a worker
            # that refused loopback gave such a delivery up now and then, failing a test that expected it sent).
            "webhook_allow_http_loopback": True,
            "webhook_retry_base_seconds": 0.01,
            "webhook_retry_max_seconds": 0.05,
            "webhook_timeout_seconds": 5,
            "webhook_max_attempts": 4,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def backend_context(name: str, tmp: Path) -> AsyncIterator[Backend]:
    if name == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'confide.db'}"
        await upgrade(url)
        yield Backend(name, url, None, "", tmp)
    elif name == "postgres":
        async with postgres_database() as url, redis_namespace() as (redis_url, prefix):
            await upgrade(url)
            yield Backend(name, url, redis_url, prefix, tmp)
    else:
        raise ValueError(f"unknown backend {name!r}; use sqlite or postgres")


@pytest.fixture(scope="session", params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backend]:
    async with backend_context(request.param, tmp_path_factory.mktemp(request.param)) as b:
        yield b


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def app(backend: Backend) -> AsyncIterator[FastAPI]:
    async with running(create_app(backend.settings())) as started:
        yield started


def client_for(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://confide.test", event_hooks={"response": [record_set_cookies]})


@pytest.fixture(scope="session")
async def base(app: FastAPI) -> AsyncIterator[str]:
    """The session's app served by a real uvicorn on a loopback port, for websocket clients."""
    async with live_server(app) as url:
        yield url


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


@pytest.fixture
def outbox(app: FastAPI) -> Outbox:
    return Outbox(app.state.settings.resolved_outbox_dir)


@pytest.fixture
def factory(app: FastAPI, client: httpx.AsyncClient, outbox: Outbox) -> Factory:
    return Factory(client, outbox, settle=app.state.detached_mails.drain)


def random_email() -> str:
    return f"p-{secrets.token_hex(6)}@example.com"
