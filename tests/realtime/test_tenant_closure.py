"""Closing a tenant cuts its open chat websockets: the visitors' and the operators', with an `error` frame
`tenant-closed` and close code 4404, while another tenant's stay open. A connection whose checks passed
just before the closure and that registers just after the notice is refused the same way."""

from __future__ import annotations

from typing import Any

from confide.tenants.closure import announce_closed
from tests.support.chat import ChatClient, Closed, connect, operator, published_avatar, visitor


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
        await announce_closed(app.state.services.broker, shop["tenant_id"])
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
