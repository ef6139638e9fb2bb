"""Application logs are structured and carry no personal data; readiness tells when a dependency is down."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import traceback

from confide.app import create_app
from confide.core.logs import QUIET_LOGGERS, JsonFormatter, ServerLines, configure_logging, log_loop_exception
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
    server = logging.getLogger("uvicorn.error")
    server_filters, server_level = server.filters[:], server.level
    try:
        configure_logging("DEBUG")
        assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in QUIET_LOGGERS)
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        # the websockets library logs every frame (message text, visitor tokens) on uvicorn's logger at DEBUG
        assert not logging.getLogger("uvicorn.error").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:], root.level = handlers, level
        server.filters[:], server.level = server_filters, server_level


def _server_line(message: str, *args: object) -> str | None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, message, args, None)
    return JsonFormatter().format(record) if ServerLines().filter(record) else None


def test_uvicorn_lines_keep_no_client_address_and_no_traceback_text():
    assert _server_line('%s - "WebSocket %s" [accepted]', "203.0.113.9:50123", "/v1/widget/k/chat") is None
    assert _server_line("connection open") is None
    assert "Uvicorn running" in (_server_line("Uvicorn running on %s://%s:%d", "http", "0.0.0.0", 8000) or "")


def _traceback_of(error: BaseException) -> str:
    try:
        raise error
    except BaseException:  # noqa: BLE001
        return traceback.format_exc()


def _failed_start_up(error: BaseException) -> str:
    # Starlette hands uvicorn the whole traceback of a failed start-up, which logs it as the message
    line = _server_line(_traceback_of(error))
    assert line is not None and "alice" not in line
    return json.loads(line)["message"]


def test_a_failed_start_up_is_logged_as_its_exception_type_only():
    from sqlalchemy.exc import IntegrityError

    sql = IntegrityError("INSERT INTO user_account (email) VALUES ($1)", ("alice@example.com",), Exception("DETAIL: Key (email)=(alice@example.com)"))
    assert _failed_start_up(sql) == "the application failed: sqlalchemy.exc.IntegrityError"
    assert _failed_start_up(ValueError("a row\nalice@example.com")) == "the application failed: ValueError"
    noted = ValueError("bad")
    noted.add_note("visitor alice@example.com")
    assert _failed_start_up(noted) == "the application failed: ValueError"
    chained = _traceback_of(ExceptionGroup("start-up", [KeyError("alice@example.com")]))
    assert "alice" not in (_server_line(chained) or "alice")
    assert json.loads(_server_line(chained) or "{}")["message"] == "the application failed: unknown"  # nothing of it, rather than a guess


async def test_a_background_error_nobody_read_is_logged_as_its_type_only(backend, caplog):
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()

    async def fails() -> None:
        raise ValueError("duplicate key (email)=(alice@example.com)")

    def callback(text: str) -> None:
        raise ValueError(text)

    async with running(create_app(backend.settings())):
        assert loop.get_exception_handler() is log_loop_exception
        gc.collect()  # failed tasks of earlier tests are reported now, not below
        caplog.clear()
        task = asyncio.ensure_future(fails())
        await asyncio.wait([task])
        del task
        gc.collect()  # asyncio reports the unread error when the task is collected
        loop.call_soon(callback, "Hi, I am alice@example.com")
        await asyncio.sleep(0)  # the callback runs (and fails) in this loop turn
        await asyncio.sleep(0)
    assert loop.get_exception_handler() is before  # restored when the app stops

    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "confide.loop"]
    assert len(lines) == 2 and not [line for line in lines if "alice" in line]
    assert [json.loads(line)["message"] for line in lines] == [
        "unhandled error in the event loop: Task exception was never retrieved",
        "unhandled error in the event loop: Exception in callback",
    ]
    assert {json.loads(line)["error_type"] for line in lines} == {"ValueError"}


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
