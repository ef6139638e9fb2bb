"""Closing a tenant cuts its open chat websockets: the visitors' and the operators', with an `error` frame
`tenant-closed` and close code 4404, while another tenant's stay open. A connection whose checks passed
just before the closure and that registers just after the notice is refused the same way. The node that
accepts the closure cuts its own sockets even when Redis is away and the notice cannot go out."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest

from confide.app import create_app
from confide.core.broker import create_broker
from confide.tenants.closure import MAX_ATTEMPTS, announce_closed
from tests.conftest import client_for, running
from tests.support.chat import ChatClient, Closed, connect, live_server, operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.services import StoppableRedis, stoppable_redis, unavailable


async def cut_off(chat: ChatClient) -> tuple[dict[str, Any], Closed]:
    """The error frame a cut sends, and the close that follows it (other frames before it are skipped)."""
    error = None
    while True:
        try:
            frame = await chat.recv(timeout=10)
        except Closed as closed:
            assert error is not None, "closed without the tenant-closed error frame"
            return error, closed
        if frame["type"] == "error":
            error = frame


async def still_open(chat: ChatClient) -> None:
    await chat.send({"type": "ping"})
    await chat.expect("pong")


async def make_tenant(client: Any, factory: Any, name: str) -> dict[str, Any]:
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, name)
    return {"owner": owner, "tenant_id": tenant_id, **(await published_avatar(client, owner, tenant_id))}


async def test_closing_a_tenant_cuts_its_open_visitor_and_operator_sockets_only(app, base, client, factory):
    shop = await make_tenant(client, factory, "Closing Shop GmbH")
    other = await make_tenant(client, factory, "Bystander AG")
    async with (
        visitor(base, shop["widget_key"]) as (chat, _),
        operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _),
        visitor(base, other["widget_key"]) as (other_chat, _),
        operator(base, other["tenant_id"], other["owner"].token) as (other_ops, _),
    ):
        await chat.expect("message")
        await other_chat.expect("message")
        assert app.state.chat.live.count(shop["tenant_id"]) == 2

        r = await client.request("DELETE", f"/v1/tenants/{shop['tenant_id']}", json={"confirm_tenant_id": shop["tenant_id"]}, headers=shop["owner"].headers)
        assert r.status_code == 202, r.text

        for socket in (chat, ops):
            error, closed = await cut_off(socket)
            assert closed.code == 4404 and closed.reason == "tenant-closed"
            assert error["problem"]["type"].endswith("/tenant-closed") and error["problem"]["close_code"] == 4404
        assert app.state.chat.live.count(shop["tenant_id"]) == 0
        await still_open(other_chat)  # isolation: another tenant's sockets stay open
        await still_open(other_ops)
        assert app.state.chat.live.count(other["tenant_id"]) == 2
    await app.state.erasure_worker.drain()


async def test_a_connection_that_registers_after_the_notice_is_refused(app, base, client, factory):
    """The notice reaches a node between a new connection's checks (the widget resolved, the membership
    held) and its registration: it is refused like the ones the notice cut."""
    shop = await make_tenant(client, factory, "Racing Shop GmbH")
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        # The notice alone, as a node hears it before its new connections see the closure in the database.
        await announce_closed(app.state.services.broker, shop["tenant_id"], this_node=None)  # as from another node
        _, closed = await cut_off(chat)
        assert closed.code == 4404  # the notice has been handled on this node
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as late:
        await late.send({"type": "hello"})
        error, closed = await cut_off(late)
        assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
    async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as late_ops:
        await late_ops.send({"type": "hello", "token": shop["owner"].token})
        error, closed = await cut_off(late_ops)
        assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")


async def test_the_accepting_node_cuts_its_own_sockets_while_redis_is_away(backend, tmp_path):
    """The notice cannot go out (Redis stopped), so nothing comes back to this node over Redis either: the
    node that accepted the closure cuts its own sockets directly."""
    if backend.name != "postgres":
        pytest.skip("needs a Redis of its own to stop: runs with the postgres backend")
    async with stoppable_redis() as redis_server:
        settings = backend.settings(redis_url=redis_server.url, data_dir=tmp_path)
        async with running(create_app(settings)) as app, live_server(app) as base, client_for(app) as client:
            shop = await make_tenant(client, Factory(client, Outbox(settings.resolved_outbox_dir), settle=app.state.detached_mails.drain), "Offline Shop GmbH")
            async with visitor(base, shop["widget_key"]) as (chat, _), operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
                await chat.expect("message")
                redis_server.stop()
                assert not await app.state.services.broker.ping()
                r = await client.request("DELETE", f"/v1/tenants/{shop['tenant_id']}", json={"confirm_tenant_id": shop["tenant_id"]}, headers=shop["owner"].headers)
                assert r.status_code == 202, r.text
                for socket in (chat, ops):
                    error, closed = await cut_off(socket)
                    assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
                assert app.state.chat.live.count(shop["tenant_id"]) == 0
            # Redis back: the closure finishes, leaving no closing closure behind for other tests' erasure passes.
            await redis_server.start()
            status = None
            for _ in range(MAX_ATTEMPTS + 1):  # an erasure that failed while Redis was away is queued again by the pass
                await app.state.erasure_worker.drain()
                status = (await client.get(f"/v1/tenants/{shop['tenant_id']}/closure", headers=shop["owner"].headers)).json()["status"]
                if status == "closed":
                    break
            assert status == "closed"


async def test_a_node_starts_while_redis_is_away_and_hears_closures_once_it_is_back(backend, tmp_path):
    """The node's tenant-closure subscription was made during start-up: with Redis away the whole node
    failed to start (ConnectionError), so a Redis restart during a deploy crash-looped every API node."""
    if backend.name != "postgres":
        pytest.skip("needs a Redis of its own to stop: runs with the postgres backend")
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed; the test needs a Redis of its own")
    redis_server = StoppableRedis(binary)  # not started yet
    try:
        settings = backend.settings(redis_url=redis_server.url, data_dir=tmp_path)
        async with running(create_app(settings)) as app, live_server(app) as base, client_for(app) as client:
            live = app.state.chat.live
            assert not live.listening.is_set()
            await redis_server.start()
            await asyncio.wait_for(live.listening.wait(), 30)  # retried in the background
            shop = await make_tenant(client, Factory(client, Outbox(settings.resolved_outbox_dir), settle=app.state.detached_mails.drain), "Late Redis GmbH")
            async with visitor(base, shop["widget_key"]) as (chat, _):
                await chat.expect("message")
                other_node = create_broker(settings.redis_url, settings.redis_prefix)
                await other_node.start()
                try:
                    await announce_closed(other_node, shop["tenant_id"], this_node=None)  # as another node would
                finally:
                    await other_node.close()
                error, closed = await cut_off(chat)
                assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
    finally:
        redis_server.stop()
