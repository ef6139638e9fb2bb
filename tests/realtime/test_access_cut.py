"""Access that ends closes the open websockets that rested on it, at once, on every node (realtime/access.py).

Operators: a membership removed or a role lowered (in the tenant), a logout, a password change or an
account erased (in every tenant) closes the operator's socket with an `unauthorized` error frame and 4401,
before any further visitor message reaches it; an operator who may still operate (a role change that keeps
the permission, the session that changed the password) stays connected. They used to keep receiving live
chat until their next frame or presence beat (up to 20 s).

Visitors: a widget key rotated closes the chats opened on the old key with 4404 `unknown-widget`, and an
origin taken off the avatar's list closes the chats from that origin with 4403 `origin-not-allowed`, what a
new connection would get; the visitor's token stays valid, so with the new key it resumes its conversation.
They used to stay open until the visitor left."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from confide.core.identity import Membership
from confide.core.tenancy import Role
from tests.realtime.test_tenant_closure import make_tenant
from tests.support.chat import ORIGIN, ChatClient, Closed, connect, operator, visitor

OTHER_ORIGIN = "http://localhost:8000"  # published_avatar allows it besides ORIGIN


async def frames_until_close(chat: ChatClient, timeout: float = 10.0) -> tuple[list[dict[str, Any]], Closed]:
    """Every frame up to the close, and the close."""
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frames.append(await chat.recv(timeout))
        except Closed as closed:
            return frames, closed


def assert_cut(frames: list[dict[str, Any]], closed: Closed, code: int, slug: str) -> None:
    assert closed.code == code and closed.reason == slug, (closed.code, closed.reason)
    assert frames and frames[-1]["type"] == "error", frames[-3:]
    problem = frames[-1]["problem"]
    assert problem["type"].endswith("/" + slug) and problem["close_code"] == code


async def next_message(chat: ChatClient, text: str) -> dict[str, Any]:
    while True:
        frame = await chat.recv()
        if frame["type"] == "message" and frame.get("text") == text:
            return frame


async def say(chat: ChatClient, text: str, client_message_id: str) -> dict[str, Any]:
    """Send a visitor message and wait for its ack (the avatar's reply to an earlier one may come first)."""
    await chat.send({"type": "message", "client_message_id": client_message_id, "text": text})
    while True:
        frame = await chat.recv()
        if frame["type"] == "ack" and frame["client_message_id"] == client_message_id:
            return frame


async def still_open(chat: ChatClient) -> None:
    """Answers a ping (frames already on their way, an avatar's reply, are skipped)."""
    await chat.send({"type": "ping"})
    while (await chat.recv())["type"] != "pong":
        pass


async def watching(ops: ChatClient, conversation_id: str) -> None:
    await ops.send({"type": "join", "conversation_id": conversation_id})
    while (await ops.recv())["type"] != "joined":
        pass


async def membership_of(app: Any, tenant_id: str, user_id: str) -> str:
    async with app.state.sessionmaker() as session:
        member_id = await session.scalar(select(Membership.id).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id))
    assert member_id is not None
    return member_id


# Through the tenants routes (DELETE and PATCH …/members/{member_id}), as the owner does it.


async def remove_member(client: Any, shop: dict[str, Any], user_id: str, app: Any) -> None:
    member_id = await membership_of(app, shop["tenant_id"], user_id)
    r = await client.delete(f"/v1/tenants/{shop['tenant_id']}/members/{member_id}", headers=shop["owner"].headers)
    assert r.status_code == 204, r.text


async def change_role(client: Any, shop: dict[str, Any], user_id: str, role: Role, app: Any) -> None:
    member_id = await membership_of(app, shop["tenant_id"], user_id)
    r = await client.patch(f"/v1/tenants/{shop['tenant_id']}/members/{member_id}", json={"role": str(role)}, headers=shop["owner"].headers)
    assert r.status_code == 200, r.text


# ---- operators ------------------------------------------------------------------------------------


async def test_a_removed_operator_is_closed_at_once_and_gets_no_further_visitor_message(app, base, client, factory):
    shop = await make_tenant(client, factory, "Removal Shop GmbH")
    member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with visitor(base, shop["widget_key"]) as (chat, welcome), operator(base, shop["tenant_id"], member.token) as (ops, _):
        await chat.expect("message")
        await watching(ops, welcome["conversation_id"])
        await say(chat, "Before the removal", "c1")
        await next_message(ops, "Before the removal")  # the operator reads the chat live

        await remove_member(client, shop, member.id, app)
        await say(chat, "After the removal", "c2")  # stored and relayed while the notice is handled

        frames, closed = await frames_until_close(ops)
        assert_cut(frames, closed, 4401, "unauthorized")
        assert not [f for f in frames if f.get("text") == "After the removal"], "a removed operator still read the chat"
        await still_open(chat)  # the visitor's chat goes on


async def test_a_role_change_keeps_an_operator_who_may_still_operate_and_closes_one_who_may_not(app, base, client, factory):
    shop = await make_tenant(client, factory, "Roles Shop GmbH")
    promoted = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    demoted = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with (
        visitor(base, shop["widget_key"]) as (chat, welcome),
        operator(base, shop["tenant_id"], promoted.token) as (stays, _),
        operator(base, shop["tenant_id"], demoted.token) as (goes, _),
    ):
        await chat.expect("message")
        for ops in (stays, goes):
            await watching(ops, welcome["conversation_id"])

        await change_role(client, shop, promoted.id, Role.ADMIN, app)  # still operates chats: re-checked, stays
        await change_role(client, shop, demoted.id, Role.ANALYST, app)  # reads, but no longer operates chats
        await say(chat, "After the role changes", "c1")

        frames, closed = await frames_until_close(goes)
        assert_cut(frames, closed, 4401, "unauthorized")
        assert not [f for f in frames if f.get("text") == "After the role changes"]
        await next_message(stays, "After the role changes")  # nothing lost while its re-check ran
        await still_open(stays)


async def test_a_removal_in_one_tenant_leaves_the_users_operator_socket_in_another(app, base, client, factory):
    shop = await make_tenant(client, factory, "Left Shop GmbH")
    other = await make_tenant(client, factory, "Kept Shop AG")
    member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    r = await client.post(f"/v1/tenants/{other['tenant_id']}/invitations", json={"email": member.email, "role": "operator"}, headers=other["owner"].headers)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/invitations/accept", json={"token": factory.outbox.last_token_for(member.email)}, headers=member.headers)
    assert r.status_code == 200, r.text
    async with operator(base, shop["tenant_id"], member.token) as (in_shop, _), operator(base, other["tenant_id"], member.token) as (in_other, _):
        await remove_member(client, shop, member.id, app)
        _, closed = await frames_until_close(in_shop)
        assert closed.code == 4401
        await in_other.send({"type": "queue"})  # a frame that checks access: it still holds
        while (await in_other.recv())["type"] != "queue":
            pass


async def test_a_password_change_closes_the_operator_sockets_of_the_other_sessions_at_once(base, client, factory):
    shop = await make_tenant(client, factory, "Password Shop GmbH")
    owner = shop["owner"]
    r = await client.post("/v1/auth/login", json={"email": owner.email, "password": owner.password})
    other_token = r.json()["token"]
    async with operator(base, shop["tenant_id"], other_token) as (signed_out, _), operator(base, shop["tenant_id"], owner.token) as (changer, _):
        r = await client.post("/v1/me/password", json={"current_password": owner.password, "new_password": "An0ther-long-passphrase!"}, headers=owner.headers)
        assert r.status_code == 204, r.text
        frames, closed = await frames_until_close(signed_out)
        assert_cut(frames, closed, 4401, "unauthorized")
        await changer.send({"type": "queue"})  # the session that changed it stays signed in, and its socket open
        while (await changer.recv())["type"] != "queue":
            pass


async def test_an_erased_account_closes_its_operator_socket_at_once(base, client, factory):
    shop = await make_tenant(client, factory, "Erasure Shop GmbH")
    member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with visitor(base, shop["widget_key"]) as (chat, welcome), operator(base, shop["tenant_id"], member.token) as (ops, _):
        await chat.expect("message")
        await watching(ops, welcome["conversation_id"])
        r = await client.post("/v1/me/erasure", json={"password": member.password}, headers=member.headers)
        assert r.status_code == 200, r.text
        await say(chat, "After the erasure", "c1")
        frames, closed = await frames_until_close(ops)
        assert_cut(frames, closed, 4401, "unauthorized")
        assert not [f for f in frames if f.get("text") == "After the erasure"]


# ---- visitors -------------------------------------------------------------------------------------


async def test_a_key_rotation_closes_the_chats_on_the_old_key_and_the_new_key_resumes_them(base, client, factory):
    shop = await make_tenant(client, factory, "Rotation Shop GmbH")
    other = await make_tenant(client, factory, "Unrotated AG")
    async with visitor(base, shop["widget_key"]) as (chat, welcome), visitor(base, other["widget_key"]) as (bystander, _):
        await chat.expect("message")
        await bystander.expect("message")
        last_seq = (await say(chat, "Hello", "c1"))["seq"]
        r = await client.post(f"/v1/tenants/{shop['tenant_id']}/avatars/{shop['avatar_id']}/widget/rotate", headers=shop["owner"].headers)
        assert r.status_code == 200, r.text
        new_key = r.json()["key"]
        frames, closed = await frames_until_close(chat)
        assert_cut(frames, closed, 4404, "unknown-widget")
        await still_open(bystander)
    # The visitor's token stays valid: the widget given the new key says hello with it and resumes.
    hello = {"visitor_token": welcome["visitor_token"], "resume": {"conversation_id": welcome["conversation_id"], "last_seq": last_seq}}
    async with visitor(base, new_key, **hello) as (again, resumed):
        assert resumed["resumed"] is True and resumed["conversation_id"] == welcome["conversation_id"]
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as old_key:  # the old key stays refused
        await old_key.send({"type": "hello"})
        frames, closed = await frames_until_close(old_key)
        assert_cut(frames, closed, 4404, "unknown-widget")


async def test_an_origin_taken_off_the_list_closes_its_chats_only(base, client, factory):
    shop = await make_tenant(client, factory, "Origins Shop GmbH")
    async with visitor(base, shop["widget_key"], origin=OTHER_ORIGIN) as (dropped, _), visitor(base, shop["widget_key"], origin=ORIGIN) as (kept, _):
        await dropped.expect("message")
        await kept.expect("message")
        widget = f"/v1/tenants/{shop['tenant_id']}/avatars/{shop['avatar_id']}/widget"
        r = await client.put(widget, json={"allowed_origins": [ORIGIN, "https://new.example"]}, headers=shop["owner"].headers)
        assert r.status_code == 200, r.text
        frames, closed = await frames_until_close(dropped)
        assert_cut(frames, closed, 4403, "origin-not-allowed")
        await still_open(kept)
        await say(kept, "Still here", "c1")


async def test_a_password_reset_closes_the_operator_sockets_at_once(app, base, client, factory):
    shop = await make_tenant(client, factory, "Reset Shop GmbH")
    member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with operator(base, shop["tenant_id"], member.token) as (ops, _):
        r = await client.post("/v1/auth/password-reset", json={"email": member.email})
        assert r.status_code == 202, r.text
        await app.state.detached_mails.drain()  # the reset mail goes out after the answer
        r = await client.post("/v1/auth/password-reset/confirm", json={"token": factory.outbox.last_token_for(member.email), "new_password": "A-fresh-long-passphrase-9"})
        assert r.status_code == 204, r.text
        frames, closed = await frames_until_close(ops)
        assert_cut(frames, closed, 4401, "unauthorized")


async def test_a_restricted_account_closes_its_operator_socket_at_once(base, client, factory):
    """Art. 18: a restricted account does no tenant work, so its live chat view closes with the restriction."""
    shop = await make_tenant(client, factory, "Restriction Shop GmbH")
    member = await factory.member(shop["tenant_id"], shop["owner"], "operator")
    async with visitor(base, shop["widget_key"]) as (chat, welcome), operator(base, shop["tenant_id"], member.token) as (ops, _):
        await chat.expect("message")
        await watching(ops, welcome["conversation_id"])
        assert (await client.post("/v1/me/restriction", headers=member.headers)).status_code == 200
        await say(chat, "After the restriction", "c1")
        frames, closed = await frames_until_close(ops)
        assert closed.code == 4401, (closed.code, closed.reason)
        assert not [f for f in frames if f.get("text") == "After the restriction"]


async def test_an_archived_avatar_closes_its_chats(base, client, factory):
    shop = await make_tenant(client, factory, "Archive Shop GmbH")
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        r = await client.post(f"/v1/tenants/{shop['tenant_id']}/avatars/{shop['avatar_id']}/archive", headers=shop["owner"].headers)
        assert r.status_code == 200, r.text
        frames, closed = await frames_until_close(chat)
        assert_cut(frames, closed, 4404, "unknown-widget")
