"""Application logs are structured and carry no personal data; readiness tells when a dependency is down."""

from __future__ import annotations

import asyncio
import gc
import json
import logging

from confide.app import create_app
from confide.core.logs import QUIET_LOGGERS, JsonFormatter, ServerLines, configure_logging
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
        # the websockets library logs every frame (message text, visitor tokens) on uvicorn's logger at DEBUG
        assert not logging.getLogger("uvicorn.error").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], root.level = handlers, level
        logging.getLogger("uvicorn.error").setLevel(logging.NOTSET)


def _server_line(message: str, *args: object) -> str | None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, message, args, None)
    return JsonFormatter().format(record) if ServerLines().filter(record) else None


def test_uvicorn_lines_keep_no_client_address_and_no_traceback_text():
    assert _server_line('%s - "WebSocket %s" [accepted]', "203.0.113.9:50123", "/v1/widget/k/chat") is None
    assert _server_line("connection open") is None
    assert "Uvicorn running" in (_server_line("Uvicorn running on %s://%s:%d", "http", "0.0.0.0", 8000) or "")
    # a failed start-up: Starlette hands uvicorn the whole traceback, SQL parameters and all
    failed = _server_line('Traceback (most recent call last):\n  File "app.py", line 1\nsqlalchemy.exc.IntegrityError: (alice@example.com)')
    assert failed is not None and "alice@example.com" not in failed
    assert json.loads(failed)["message"] == "the application failed: sqlalchemy.exc.IntegrityError"


async def test_a_background_task_that_failed_unread_logs_only_the_error_type(app, caplog):
    caplog.set_level(logging.INFO)

    async def fails() -> None:
        raise ValueError("duplicate key (email)=(alice@example.com)")

    task = asyncio.ensure_future(fails())
    await asyncio.wait([task])
    del task
    gc.collect()  # asyncio reports the unread error when the task is collected, through the app's loop handler

    (record,) = [r for r in caplog.records if r.name == "confide.loop"]
    line = JsonFormatter().format(record)
    assert "alice@example.com" not in line and "Task exception was never retrieved" in line
    assert json.loads(line)["error_type"] == "ValueError"


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
