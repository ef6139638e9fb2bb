"""A tenant closed on one node cuts its chat websockets on every node: two `confide serve` processes on
PostgreSQL and Redis; the closure is accepted by node A, and the tenant's sockets on both nodes close with
4404 while another tenant's socket on node B stays open. A node that could not hear the notice (Redis was
away when the closure was accepted) cuts the tenant's sockets once its subscription is back."""

from __future__ import annotations

import secrets

import httpx

from tests.realtime.test_tenant_closure import cut_off, still_open, stoppable_redis
from tests.support.chat import operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import cluster_env, needs_a_cluster, two_nodes


async def test_a_closure_on_one_node_cuts_the_tenants_sockets_on_every_node(backend, tmp_path):
    needs_a_cluster(backend)
    prefix = f"{backend.redis_prefix}closure-{secrets.token_hex(4)}:"  # these two nodes only
    env = cluster_env(backend.database_url, backend.redis_url, CONFIDE_REDIS_PREFIX=prefix)
    async with two_nodes(env, tmp_path) as (node_a, node_b):
        async with httpx.AsyncClient(base_url=node_a) as api:
            factory = Factory(api, Outbox(tmp_path / "a" / "outbox"))
            owner = await factory.user()
            tenant_id = await factory.tenant(owner, "Cluster Shop GmbH")
            shop = await published_avatar(api, owner, tenant_id)
            bystander = await factory.user()
            other = await published_avatar(api, bystander, await factory.tenant(bystander, "Bystander AG"))
            ws_a, ws_b = node_a.replace("http", "ws"), node_b.replace("http", "ws")
            async with (
                visitor(ws_a, shop["widget_key"]) as (on_a, _),
                visitor(ws_b, shop["widget_key"]) as (on_b, _),
                operator(ws_b, tenant_id, owner.token) as (ops_b, _),
                visitor(ws_b, other["widget_key"]) as (other_b, _),
            ):
                for chat in (on_a, on_b, other_b):
                    await chat.expect("message")
                r = await api.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=owner.headers)
                assert r.status_code == 202, r.text
                for socket in (on_a, on_b, ops_b):
                    error, closed = await cut_off(socket)
                    assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
                await still_open(other_b)


async def test_a_node_that_missed_the_notice_cuts_the_sockets_once_redis_is_back(backend, tmp_path):
    needs_a_cluster(backend)
    async with stoppable_redis() as redis_server:
        env = cluster_env(backend.database_url, redis_server.url)
        async with two_nodes(env, tmp_path) as (node_a, node_b):
            async with httpx.AsyncClient(base_url=node_a) as api:
                factory = Factory(api, Outbox(tmp_path / "a" / "outbox"))
                owner = await factory.user()
                tenant_id = await factory.tenant(owner, "Partitioned Shop GmbH")
                shop = await published_avatar(api, owner, tenant_id)
                bystander = await factory.user()
                other = await published_avatar(api, bystander, await factory.tenant(bystander, "Bystander AG"))
                ws_b = node_b.replace("http", "ws")
                async with visitor(ws_b, shop["widget_key"]) as (on_b, _), visitor(ws_b, other["widget_key"]) as (other_b, _):
                    for chat in (on_b, other_b):
                        await chat.expect("message")
                    redis_server.stop()  # the closure's notice is lost: node A cannot send it, node B could not hear it
                    r = await api.request("DELETE", f"/v1/tenants/{tenant_id}", json={"confirm_tenant_id": tenant_id}, headers=owner.headers)
                    assert r.status_code == 202, r.text
                    await redis_server.start()
                    error, closed = await cut_off(on_b)  # node B resubscribed and found the closure in the database
                    assert closed.code == 4404 and error["problem"]["type"].endswith("/tenant-closed")
                    await still_open(other_b)
