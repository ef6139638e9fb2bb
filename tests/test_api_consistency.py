"""The API answers alike where alike is asked: every list pages with `cursor`/`limit` into
`{items, next_cursor}`, every time filter is `from`/`to`, the same condition gets the same problem
whichever route meets it, and routes about members take member ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from confide.core.clock import utcnow
from confide.privacy.gate import Purpose, authorize
from tests.chats.conftest import make_conversation
from tests.support.chat import shop_with_avatar


@pytest.fixture
async def shop(client, factory):  # noqa: ANN001, ANN201
    return await shop_with_avatar(client, factory, "Consistent GmbH")


async def _member_id(client, tenant_id: str, owner, user_id: str) -> str:  # noqa: ANN001
    r = await client.get(f"/v1/tenants/{tenant_id}/members", params={"limit": 200}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return next(m["id"] for m in r.json()["items"] if m["user_id"] == user_id)


def _problem(response) -> tuple:  # noqa: ANN001
    body = response.json()
    return response.status_code, body["type"], body["detail"], body.get("errors")


# 1. GET …/conversation-tags pages like every other list.


async def test_conversation_tags_page_with_cursor_and_limit(app, client, factory, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    one = await make_conversation(app, t, shop["avatar_id"])
    two = await make_conversation(app, t, shop["avatar_id"])
    await client.post(f"/v1/tenants/{t}/conversations/{one}/tags", json={"tags": ["late", "refund", "vip"]}, headers=h)
    await client.post(f"/v1/tenants/{t}/conversations/{two}/tags", json={"tags": ["refund"]}, headers=h)
    url = f"/v1/tenants/{t}/conversation-tags"

    r = await client.get(url, headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [{"tag": "late", "conversations": 1}, {"tag": "refund", "conversations": 2}, {"tag": "vip", "conversations": 1}],
        "next_cursor": None,
    }
    page1 = (await client.get(url, params={"limit": 2}, headers=h)).json()
    assert [i["tag"] for i in page1["items"]] == ["late", "refund"] and page1["next_cursor"]
    page2 = (await client.get(url, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=h)).json()
    assert page2 == {"items": [{"tag": "vip", "conversations": 1}], "next_cursor": None}

    for bad in (0, 201):
        r = await client.get(url, params={"limit": bad}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit", r.text
    assert (await client.get(url, params={"limit": 200}, headers=h)).status_code == 200
    r = await client.get(url, params={"cursor": "not-a-cursor"}, headers=h)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")

    # Another tenant sees only its own tags, and cannot continue this tenant's cursor.
    other = await factory.user()
    other_tenant = await factory.tenant(other, "Other GmbH")
    other_url = f"/v1/tenants/{other_tenant}/conversation-tags"
    assert (await client.get(other_url, headers=other.headers)).json() == {"items": [], "next_cursor": None}
    r = await client.get(other_url, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=other.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")
    assert (await client.get(url, headers=other.headers)).status_code == 404

    params = {p["name"]: p for p in app.openapi()["paths"]["/v1/tenants/{tenant_id}/conversation-tags"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200 and params["limit"]["schema"]["default"] == 50 and "cursor" in params


# 2. GET …/privacy/processing-log filters time with from/to.


async def test_processing_log_filters_time_with_from_and_to(app, client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    async with app.state.sessionmaker() as session:
        for i in range(3):
            await authorize(session, tenant_id=tenant, purpose=Purpose.ANSWER_CHAT, actor="system", subject_ref=f"vis_{i}", counts={"messages": 1})
    url = f"/v1/tenants/{tenant}/privacy/processing-log"
    now = utcnow()
    total = len((await client.get(url, headers=owner.headers)).json()["items"])
    assert total >= 3

    r = await client.get(url, params={"from": (now + timedelta(minutes=1)).isoformat()}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
    r = await client.get(url, params={"to": (now - timedelta(minutes=5)).isoformat()}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["items"] == []
    window = {"from": (now - timedelta(minutes=5)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()}
    r = await client.get(url, params=window, headers=owner.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == total

    # A window that ends before it starts is refused, as on the other routes.
    r = await client.get(url, params={"from": window["to"], "to": window["from"]}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.from"

    # The former names still work, deprecated; giving both spellings of one bound is an error.
    r = await client.get(url, params={"since": window["from"], "until": window["to"]}, headers=owner.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == total
    r = await client.get(url, params={"from": window["from"], "since": window["from"]}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.since"

    params = {p["name"]: p for p in app.openapi()["paths"]["/v1/tenants/{tenant_id}/privacy/processing-log"]["get"]["parameters"]}
    assert "from" in params and "to" in params
    assert params["since"].get("deprecated") is True and params["until"].get("deprecated") is True


# 3. An erased conversation: the same 409 from DELETE and from an erasure request.


async def test_erasure_request_for_an_erased_conversation_is_409_like_delete(app, client, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    gone = await make_conversation(app, t, shop["avatar_id"], messages=("Please forget me",))
    r = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=h)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    assert (await client.get(f"/v1/tenants/{t}/erasure-requests/{r.json()['id']}", headers=h)).json()["status"] == "done"

    deleted = await client.delete(f"/v1/tenants/{t}/conversations/{gone}", headers=h)
    requested = await client.post(f"/v1/tenants/{t}/erasure-requests", json={"scope": "conversation", "conversation_id": gone}, headers=h)
    assert deleted.status_code == 409 and deleted.json()["type"].endswith("/conversation-erased")
    assert requested.status_code == 409, requested.text
    assert _problem(requested) == _problem(deleted)

    # An unknown conversation still answers 422 naming the field.
    r = await client.post(f"/v1/tenants/{t}/erasure-requests", json={"scope": "conversation", "conversation_id": "cnv_missing"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.conversation_id"


# 4. Assigning takes a member id as well as a user id.


async def test_assign_accepts_a_member_id(app, client, factory, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    conversation = await make_conversation(app, t, shop["avatar_id"])
    op = await factory.member(t, owner, "operator")
    analyst = await factory.member(t, owner, "analyst")
    op_member = await _member_id(client, t, owner, op.id)
    url = f"/v1/tenants/{t}/conversations/{conversation}"

    r = await client.post(f"{url}/assign", json={"assignee_id": op_member}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == op.id, "a member id resolves to its user"
    await client.post(f"{url}/unassign", headers=owner.headers)
    r = await client.post(f"{url}/assign", json={"assignee_id": op.id}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["assignee_id"] == op.id, "a user id still works"

    r = await client.post(f"{url}/assign", json={"assignee_id": await _member_id(client, t, owner, analyst.id)}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.assignee_id"

    other = await make_conversation(app, t, shop["avatar_id"])
    r = await client.post(
        f"/v1/tenants/{t}/conversations/bulk", json={"action": "assign", "conversation_ids": [other], "assignee_id": op_member}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["done"] == 1, r.text
    assert (await client.get(f"/v1/tenants/{t}/conversations/{other}", headers=owner.headers)).json()["assignee_id"] == op.id

    schema = app.openapi()["components"]["schemas"]["AssignIn"]["properties"]["assignee_id"]
    assert "member id" in schema["description"] and "user id" in schema["description"]


async def test_assign_answers_another_tenants_ids_as_unknown_ones(app, client, factory, shop):
    t, owner = shop["tenant_id"], shop["owner"]
    conversation = await make_conversation(app, t, shop["avatar_id"])
    url = f"/v1/tenants/{t}/conversations/{conversation}/assign"
    elsewhere_owner = await factory.user()
    elsewhere = await factory.tenant(elsewhere_owner, "Elsewhere GmbH")
    their_op = await factory.member(elsewhere, elsewhere_owner, "operator")
    their_op_member = await _member_id(client, elsewhere, elsewhere_owner, their_op.id)
    their_owner_member = await _member_id(client, elsewhere, elsewhere_owner, elsewhere_owner.id)

    unknown_member = await client.post(url, json={"assignee_id": "mem_doesnotexist"}, headers=owner.headers)
    unknown_user = await client.post(url, json={"assignee_id": "usr_doesnotexist"}, headers=owner.headers)
    assert unknown_member.status_code == 422 and unknown_member.json()["errors"][0]["field"] == "body.assignee_id"
    assert _problem(unknown_member) == _problem(unknown_user)
    for theirs in (their_op_member, their_owner_member, their_op.id, elsewhere_owner.id):
        r = await client.post(url, json={"assignee_id": theirs}, headers=owner.headers)
        assert _problem(r) == _problem(unknown_member), (theirs, r.text)
        r = await client.post(
            f"/v1/tenants/{t}/conversations/bulk", json={"action": "assign", "conversation_ids": [conversation], "assignee_id": theirs}, headers=owner.headers
        )
        assert _problem(r) == _problem(unknown_member), (theirs, r.text)
    assert (await client.get(f"/v1/tenants/{t}/conversations/{conversation}", headers=owner.headers)).json()["assignee_id"] is None
