"""Access that ends on one node closes the sockets that rested on it on every node: two `confide serve`
processes on PostgreSQL and Redis. A widget key rotated, a logout and a conversation erased, all on node A,
close the visitor's, the operator's and the erased conversation's sockets on node B. A node that could not hear the notices (Redis was away when the
changes were made) re-checks its sockets once its subscription is back and closes them then."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.realtime.test_access_cut import assert_cut, frames_until_close, still_open
from tests.realtime.test_tenant_closure import stoppable_redis
from tests.support.chat import operator, published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import cluster_env, needs_a_cluster, two_nodes


async def _setup(api: httpx.AsyncClient, outbox: Outbox) -> dict:
    factory = Factory(api, outbox)
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Cluster Access GmbH")
    shop = await published_avatar(api, owner, tenant_id)
    other = await published_avatar(api, owner, tenant_id)  # another avatar of the same tenant: untouched
    r = await api.post("/v1/auth/login", json={"email": owner.email, "password": owner.password})
    assert r.status_code == 200, r.text
    return {"owner": owner, "tenant_id": tenant_id, "shop": shop, "other": other, "second_token": r.json()["token"]}


async def _change_access(api: httpx.AsyncClient, s: dict) -> None:
    """Rotate the shop avatar's key and sign the second session out."""
    r = await api.post(f"/v1/tenants/{s['tenant_id']}/avatars/{s['shop']['avatar_id']}/widget/rotate", headers=s["owner"].headers)
    assert r.status_code == 200, r.text
    r = await api.post("/v1/auth/logout", headers={"Authorization": f"Bearer {s['second_token']}"})
    assert r.status_code == 204, r.text


@asynccontextmanager
async def _sockets_on(ws: str, s: dict) -> AsyncIterator[tuple[Any, Any, Any, Any]]:
    """On one node: a visitor of the shop avatar and of the other avatar, an operator on the session that will be
    signed out, and the owner's operator socket on its first session."""
    async with (
        visitor(ws, s["shop"]["widget_key"]) as (chat, _),
        visitor(ws, s["other"]["widget_key"]) as (other, _),
        operator(ws, s["tenant_id"], s["second_token"]) as (ops, _),
        operator(ws, s["tenant_id"], s["owner"].token) as (owner, _),
    ):
        yield chat, other, ops, owner


async def _erase(api: httpx.AsyncClient, s: dict, conversation_id: str) -> None:
    r = await api.post(f"/v1/tenants/{s['tenant_id']}/erasure-requests", json={"scope": "conversation", "conversation_id": conversation_id}, headers=s["owner"].headers)
    assert r.status_code == 202, r.text


async def test_a_rotation_and_a_logout_on_one_node_close_the_sockets_on_another(backend, tmp_path):
    needs_a_cluster(backend)
    prefix = f"{backend.redis_prefix}access-{secrets.token_hex(4)}:"  # these two nodes only
    env = cluster_env(backend.database_url, backend.redis_url, CONFIDE_REDIS_PREFIX=prefix)
    async with two_nodes(env, tmp_path) as (node_a, node_b), httpx.AsyncClient(base_url=node_a) as api:
        s = await _setup(api, Outbox(tmp_path / "a" / "outbox"))
        ws_b = node_b.replace("http", "ws")
        async with _sockets_on(ws_b, s) as (chat_b, other_b, ops_b, owner_b), visitor(ws_b, s["other"]["widget_key"]) as (erased_b, welcome):
            await _change_access(api, s)
            await _erase(api, s, welcome["conversation_id"])  # carried out by a node's erasure worker, announced over Redis
            frames, closed = await frames_until_close(chat_b)
            assert_cut(frames, closed, 4404, "unknown-widget")
            frames, closed = await frames_until_close(ops_b)
            assert_cut(frames, closed, 4401, "unauthorized")
            frames, closed = await frames_until_close(erased_b)
            assert_cut(frames, closed, 4410, "conversation-erased")
            await still_open(other_b)
            await still_open(owner_b)


async def test_a_node_that_missed_the_notices_closes_the_sockets_once_redis_is_back(backend, tmp_path):
    needs_a_cluster(backend)
    async with stoppable_redis() as redis_server:
        env = cluster_env(backend.database_url, redis_server.url)
        async with two_nodes(env, tmp_path) as (node_a, node_b), httpx.AsyncClient(base_url=node_a) as api:
            s = await _setup(api, Outbox(tmp_path / "a" / "outbox"))
            async with _sockets_on(node_b.replace("http", "ws"), s) as (chat_b, other_b, ops_b, owner_b):
                redis_server.stop()  # the notices are lost: node A cannot send them, node B could not hear them
                await _change_access(api, s)
                await redis_server.start()
                frames, closed = await frames_until_close(chat_b)  # node B resubscribed and re-checked its sockets
                assert_cut(frames, closed, 4404, "unknown-widget")
                frames, closed = await frames_until_close(ops_b)
                assert_cut(frames, closed, 4401, "unauthorized")
                await still_open(other_b)
                await still_open(owner_b)
