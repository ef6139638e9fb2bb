"""Application logs are structured and carry no personal data; readiness tells when a dependency is down."""

from __future__ import annotations

import json
import logging

from confide.app import create_app
from confide.core.logs import QUIET_LOGGERS, JsonFormatter, configure_logging
from tests.conftest import client_for, running
from tests.support.factory import PASSWORD


async def test_logs_of_a_whole_account_flow_hold_no_personal_data(app, factory, caplog):
    caplog.set_level(logging.INFO)  # production level; configure_logging holds chatty libraries at WARNING
    async with client_for(app, "198.51.100.23") as client:
        user = await factory.user()
        await client.post("/v1/auth/login", json={"email": user.email, "password": "wrong password 1"})
        await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    formatter = JsonFormatter()
    for record in caplog.records:
        line = formatter.format(record)
        json.loads(line)  # every line is one JSON object
        assert user.email not in line and "198.51.100.23" not in line and PASSWORD not in line


def test_configure_logging_quiets_libraries_that_log_parameters():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG")
        assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in QUIET_LOGGERS)
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], root.level = handlers, level


async def test_readyz_is_503_when_the_broker_is_down(backend):
    app = create_app(backend.settings(redis_url="redis://127.0.0.1:1/0"))
    async with running(app), client_for(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        r = await client.get("/readyz")
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["checks"] == {"database": True, "broker": False}


async def test_readyz_is_503_when_the_database_is_down(backend, tmp_path):
    app = create_app(backend.settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    async with running(app), client_for(app) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["database"] is False
