"""The inbox list: every filter, full-text search, sorting, cursor pages, and bad input, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update

from confide.chats import inbox_routes
from confide.chats.models import Conversation, Message
from tests.chats.conftest import at, make_conversation
from tests.support.chat import published_avatar


def ids(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


@pytest.fixture
async def inbox(app, client, factory, shop):  # noqa: ANN001, ANN201
    """Six conversations, each different in one way, plus one of another tenant that says the same things."""
    owner, tenant_id, avatar_id = shop["owner"], shop["tenant_id"], shop["avatar_id"]
    operator = await factory.member(tenant_id, owner, "operator")
    make = lambda **kw: make_conversation(app, tenant_id, avatar_id, **kw)  # noqa: E731
    c = {
        "refund": await make(messages=("I want a Refund for order 48213", "it arrived broken"), status="waiting", rule_ids=("builtin:decision-guard",), created=at(1)),
        "hours": await make(messages=("When are you open?",), created=at(2), rating=5, language="de-AT"),
        "closed": await make(messages=("Thanks, bye",), status="closed", created=at(3), rating=2),
        "noted": await make(messages=("My parcel is late",), notes=("customer is a VIP, refund quickly",), status="operator", assignee_id=operator.id, created=at(4), language="de"),
        "muller": await make(messages=("Herr Müller fragt nach der Lieferung",), created=at(5), rating=4, language="fr"),
        "quiet": await make(messages=("hello-world wonderful service",), created=at(6)),
    }
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{c['hours']}/tags", json={"tags": ["opening-hours", "vip"]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{c['refund']}/tags", json={"tags": ["vip"]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    other_owner = await factory.user()
    other_tenant = await factory.tenant(other_owner, "Other GmbH")
    theirs = await published_avatar(client, other_owner, other_tenant)
    other = await make_conversation(app, other_tenant, theirs["avatar_id"], messages=("I want a refund for order 48213",), status="waiting", rule_ids=("builtin:decision-guard",), created=at(1))
    return {"owner": owner, "operator": operator, "tenant_id": tenant_id, "avatar_id": avatar_id, "c": c, "other": other, "other_owner": other_owner, "other_tenant": other_tenant, "other_avatar_id": theirs["avatar_id"]}


async def test_filters_each_narrow_the_list(client, inbox):
    t, h, c = inbox["tenant_id"], inbox["owner"].headers, inbox["c"]

    async def get(**params) -> list[str]:  # noqa: ANN003
        return ids(await client.get(f"/v1/tenants/{t}/conversations", params=params, headers=h))

    newest_first = [c[k] for k in ("quiet", "muller", "noted", "closed", "hours", "refund")]
    assert await get() == newest_first
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"tag": "opening-hours"}, headers=h)
    item = r.json()["items"][0]
    assert item == {
        "id": c["hours"],
        "avatar_id": inbox["avatar_id"],
        "avatar_version_id": None,
        "visitor_id": "vis_test",
        "customer_ref": None,
        "language": "de-AT",
        "status": "avatar",
        "handoff_reason": None,
        "handed_off": False,
        "assignee_id": None,
        "rating": 5,
        "last_seq": 1,
        "tags": ["opening-hours", "vip"],
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
        "closed_at": None,
    }
    assert item["created_at"].startswith("2026-03-02T11:00:00")
    assert inbox["other"] not in await get(limit=200)
    assert await get(status="waiting") == [c["refund"]]
    assert await get(status=["waiting", "closed"]) == [c["closed"], c["refund"]]
    assert await get(status="operator") == [c["noted"]]
    assert await get(status="avatar") == [c["quiet"], c["muller"], c["hours"]]
    assert await get(avatar_id=inbox["avatar_id"]) == newest_first
    # An avatar filter names one of the tenant's avatars: another tenant's answers 404 as one that exists nowhere
    # (an empty list would pass for "no conversations"); an archived one still lists its conversations (below).
    for unknown in ("ava_other", inbox["other_avatar_id"]):
        r = await client.get(f"/v1/tenants/{t}/conversations", params={"avatar_id": unknown}, headers=h)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["type"].endswith("/not-found") and "avatar" in r.json()["detail"]
    assert await get(**{"from": at(2).isoformat(), "to": at(4).isoformat()}) == [c["closed"], c["hours"]]  # from inclusive, to exclusive
    assert await get(**{"from": "2026-03-02T15:00:00+02:00"}) == [c["quiet"], c["muller"], c["noted"]]  # 13:00 UTC
    assert await get(**{"to": "2026-03-02"}) == []  # a date is midnight UTC
    assert await get(language="de") == [c["noted"], c["hours"]]  # de and de-AT
    assert await get(language="de-AT") == [c["hours"]]
    assert await get(language="DE-at") == [c["hours"]]  # standardised like the stored tags
    assert await get(tag="vip") == [c["hours"], c["refund"]]
    assert await get(tag=["vip", "opening-hours"]) == [c["hours"]]
    assert await get(tag="nobody-uses-this") == []
    assert await get(rating=5) == [c["hours"]]
    assert await get(rating_min=3) == [c["muller"], c["hours"]]
    assert await get(rating_max=3) == [c["closed"]]
    assert await get(rating_min=2, rating_max=4) == [c["muller"], c["closed"]]
    assert await get(handed_off="true") == [c["refund"]]
    assert c["refund"] not in await get(handed_off="false") and len(await get(handed_off="false")) == 5
    assert await get(rule_id="builtin:decision-guard") == [c["refund"]]
    assert await get(rule_id="builtin:pii") == []
    assert await get(assignee=inbox["operator"].id) == [c["noted"]]
    assert c["noted"] not in await get(assignee="unassigned") and len(await get(assignee="unassigned")) == 5
    assert await get(assignee="me") == []
    me = ids(await client.get(f"/v1/tenants/{t}/conversations", params={"assignee": "me"}, headers=inbox["operator"].headers))
    assert me == [c["noted"]]
    r = await client.post(f"/v1/tenants/{t}/avatars/{inbox['avatar_id']}/archive", headers=h)
    assert r.status_code == 200, r.text
    assert await get(avatar_id=inbox["avatar_id"]) == newest_first
    assert await get(status="avatar", language="de", tag="vip", rating=5) == [c["hours"]]


async def test_search_finds_words_in_messages_and_notes_of_this_tenant_only(app, client, inbox):
    t, h, c = inbox["tenant_id"], inbox["owner"].headers, inbox["c"]

    async def search(q: str, **params) -> list[str]:  # noqa: ANN003
        return ids(await client.get(f"/v1/tenants/{t}/conversations", params={"q": q, **params}, headers=h))

    assert await search("refund") == [c["noted"], c["refund"]]  # the note of 'noted' says refund, too
    assert await search("REFUND 48213") == [c["refund"]]  # every word, any case
    assert await search("order refund") == [c["refund"]]  # in any order, within one message
    assert await search("refund broken") == []  # words in two messages of one conversation do not count
    assert await search("ref*") == [c["noted"], c["refund"]]
    assert await search("refun") == []  # whole words without *
    assert await search("müller") == [c["muller"]] and await search("MÜLLER") == [c["muller"]]
    assert await search("hello-world") == [c["quiet"]]
    assert await search("wonder* service") == [c["quiet"]]
    assert await search("human") == []  # event text (the handoff notice) is not searched
    assert await search("refund", status="waiting") == [c["refund"]]
    assert inbox["other"] not in await search("refund 48213", limit=200)
    # the other tenant finds its own
    theirs = ids(await client.get(f"/v1/tenants/{inbox['other_tenant']}/conversations", params={"q": "48213"}, headers=inbox["other_owner"].headers))
    assert theirs == [inbox["other"]]

    # rewriting a message (as redaction does) and deleting one (as erasure does) reach the search index too
    async with app.state.sessionmaker() as session:
        await session.execute(update(Message).where(Message.conversation_id == c["muller"]).values(text="Herr <PERSON> fragt nach der Lieferung"))
        await session.commit()
    assert await search("müller") == [] and await search("lieferung") == [c["muller"]]
    async with app.state.sessionmaker() as session:
        await session.execute(delete(Message).where(Message.conversation_id == c["quiet"]))
        await session.commit()
    assert await search("wonderful") == []
    if app.state.settings.resolved_database_url.startswith("sqlite"):
        async with app.state.sessionmaker() as session:
            # the index agrees with the table, and the triggers that keep it so are in place (a later migration
            # that rebuilds chat_message with alembic's batch mode would drop them: this test is the alarm)
            await session.execute(text("INSERT INTO chat_message_fts(chat_message_fts) VALUES ('integrity-check')"))
            triggers = (await session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chat_message'"))).all()
        assert {"chat_message_fts_ai", "chat_message_fts_ad", "chat_message_fts_au"} <= set(triggers)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-05", "to": "2026-03-01"}, "query.from"),
        ({"from": "2026-03-05", "to": "2026-03-05"}, "query.from"),
        ({"from": "yesterday"}, "query.from"),
        ({"to": "2026-13-01"}, "query.to"),
        ({"sort": "visitor_id"}, "query.sort"),
        ({"order": "sideways"}, "query.order"),
        ({"status": "open"}, "query.status.0"),
        ({"rating": 6}, "query.rating"),
        ({"rating": 3, "rating_min": 2}, "query.rating"),
        ({"rating_min": 4, "rating_max": 2}, "query.rating_min"),
        ({"tag": "VIP"}, "query.tag"),
        ({"q": "?!"}, "query.q"),
        ({"q": " ".join(["word"] * 11)}, "query.q"),
        ({"q": ""}, "query.q"),
        ({"date_field": "closed_at"}, "query.date_field"),
        ({"handed_off": "maybe"}, "query.handed_off"),
        ({"limit": 0}, "query.limit"),
        ({"statuss": "waiting"}, "query.statuss"),
        ({"language": "de%"}, "query.language"),
    ],
)
async def test_bad_input_is_a_422_naming_the_parameter(client, shop, params, field):
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations", params=params, headers=shop["owner"].headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


async def test_assignee_me_needs_a_person(client, shop):
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/api-keys", json={"name": "inbox", "role": "operator"}, headers=shop["owner"].headers)
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations", params={"assignee": "me"}, headers=key)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.assignee"
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations", params={"assignee": "unassigned"}, headers=key)
    assert r.status_code == 200


async def test_pages_follow_the_sort_without_gaps_or_repeats(app, client, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    made = []
    for i, rating in enumerate([3, None, 5, 3, None, 1, 3]):
        made.append(await make_conversation(app, t, shop["avatar_id"], created=at(-i), updated=at(10 + (i * 7) % 5), rating=rating))
    same_time = await make_conversation(app, t, shop["avatar_id"], created=at(-1), updated=at(10))  # ties on updated_at are broken by id
    made.append(same_time)

    async def walk(**params) -> list[str]:  # noqa: ANN003
        seen, cursor = [], None
        while True:
            r = await client.get(f"/v1/tenants/{t}/conversations", params={**params, "limit": 3, **({"cursor": cursor} if cursor else {})}, headers=h)
            assert r.status_code == 200, r.text
            seen += [c["id"] for c in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return seen

    everything = ids(await client.get(f"/v1/tenants/{t}/conversations", params={"limit": 200}, headers=h))
    rows = {c["id"]: c for c in (await client.get(f"/v1/tenants/{t}/conversations", params={"limit": 200}, headers=h)).json()["items"]}
    assert sorted(everything) == sorted(made)
    for sort in ("updated_at", "created_at"):
        for order in ("asc", "desc"):
            expected = sorted(made, key=lambda i: (rows[i][sort], i), reverse=order == "desc")
            assert await walk(sort=sort, order=order) == expected, (sort, order)
    rated = [i for i in made if rows[i]["rating"] is not None]
    unrated = [i for i in made if rows[i]["rating"] is None]
    assert await walk(sort="rating", order="desc") == sorted(rated, key=lambda i: (rows[i]["rating"], i), reverse=True) + sorted(unrated, reverse=True)
    assert await walk(sort="rating", order="asc") == sorted(rated, key=lambda i: (rows[i]["rating"], i)) + sorted(unrated)
    # page sizes that end exactly where the rated part ends
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"sort": "rating", "limit": len(rated)}, headers=h)
    assert len(r.json()["items"]) == len(rated) and r.json()["next_cursor"]
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"sort": "rating", "limit": len(rated), "cursor": r.json()["next_cursor"]}, headers=h)
    assert [c["id"] for c in r.json()["items"]] == sorted(unrated, reverse=True) and r.json()["next_cursor"] is None


async def test_a_cursor_only_continues_its_own_query_in_its_own_tenant(client, factory, shop, app):
    t, h = shop["tenant_id"], shop["owner"].headers
    for i in range(3):
        await make_conversation(app, t, shop["avatar_id"], created=at(i))
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"limit": 1, "status": "avatar"}, headers=h)
    cursor = r.json()["next_cursor"]
    assert cursor
    ok = await client.get(f"/v1/tenants/{t}/conversations", params={"limit": 1, "status": "avatar", "cursor": cursor}, headers=h)
    assert ok.status_code == 200 and ok.json()["items"][0]["id"] != r.json()["items"][0]["id"]
    # another limit is the same query
    assert (await client.get(f"/v1/tenants/{t}/conversations", params={"limit": 5, "status": "avatar", "cursor": cursor}, headers=h)).status_code == 200
    for params in ({}, {"status": "closed"}, {"status": "avatar", "sort": "created_at"}, {"status": "avatar", "order": "asc"}, {"status": "avatar", "q": "hello"}):
        r = await client.get(f"/v1/tenants/{t}/conversations", params={**params, "cursor": cursor}, headers=h)
        assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor"), (params, r.text)
    other = await factory.user()
    other_tenant = await factory.tenant(other)
    r = await client.get(f"/v1/tenants/{other_tenant}/conversations", params={"status": "avatar", "cursor": cursor}, headers=other.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")
    r = await client.get(f"/v1/tenants/{t}/conversations", params={"cursor": "not-a-cursor"}, headers=h)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")


async def test_roles_and_strangers(client, factory, shop):
    t = shop["tenant_id"]
    analyst = await factory.member(t, shop["owner"], "analyst")
    assert (await client.get(f"/v1/tenants/{t}/conversations", headers=analyst.headers)).status_code == 200
    stranger = await factory.user()
    r = await client.get(f"/v1/tenants/{t}/conversations", headers=stranger.headers)
    assert r.status_code == 404
    assert (await client.get(f"/v1/tenants/{t}/conversations")).status_code == 401


async def test_reading_the_inbox_is_operator_review(app, client, shop):
    t, h = shop["tenant_id"], shop["owner"].headers
    conversation = await make_conversation(app, t, shop["avatar_id"])
    r = await client.post(f"/v1/tenants/{t}/privacy/instructions", json={"purposes": {"operator_review": False}}, headers=h)
    assert r.status_code in (200, 201), r.text
    app.state.purpose_gate.invalidate(t)
    for path in ("/conversations", f"/conversations/{conversation}", f"/conversations/{conversation}/transcript"):
        r = await client.get(f"/v1/tenants/{t}{path}", headers=h)
        assert r.status_code == 403 and r.json()["type"].endswith("/purpose-not-instructed"), (path, r.text)


async def test_acting_on_the_inbox_is_operator_review_too(app, client, shop):
    """Tags, assignee, close and reopen, one by one or in bulk, act on the conversation as the operator
    websocket does: with operator review off each is refused and nothing changes; with it on, each is logged
    against the conversation's visitor."""
    t, h = shop["tenant_id"], shop["owner"].headers
    base = f"/v1/tenants/{t}/conversations"
    conversation = await make_conversation(app, t, shop["avatar_id"])
    assert (await client.post(f"{base}/{conversation}/tags", json={"tags": ["kept"]}, headers=h)).status_code == 200
    assert (await client.post(f"{base}/{conversation}/assign", json={"assignee_id": "me"}, headers=h)).status_code == 200
    visitor_id = (await client.get(f"{base}/{conversation}", headers=h)).json()["visitor_id"]
    await app.state.purpose_gate.flush()
    r = await client.get(f"/v1/tenants/{t}/privacy/processing-log", params={"purpose": "operator_review", "subject_ref": visitor_id}, headers=h)
    assert r.status_code == 200 and len(r.json()["items"]) >= 3, r.text  # tag, assign, read

    r = await client.post(f"/v1/tenants/{t}/privacy/instructions", json={"purposes": {"operator_review": False}}, headers=h)
    assert r.status_code in (200, 201), r.text
    app.state.purpose_gate.invalidate(t)
    await app.state.purpose_gate.flush()
    logged = len((await client.get(f"/v1/tenants/{t}/privacy/processing-log", params={"purpose": "operator_review"}, headers=h)).json()["items"])
    attempts = [
        ("post", f"{base}/{conversation}/tags", {"tags": ["new"]}),
        ("delete", f"{base}/{conversation}/tags/kept", None),
        ("post", f"{base}/{conversation}/assign", {"assignee_id": "me"}),
        ("post", f"{base}/{conversation}/unassign", None),
        ("post", f"{base}/{conversation}/close", None),
        ("post", f"{base}/{conversation}/reopen", None),
        *(("post", f"{base}/bulk", {"action": action, "conversation_ids": [conversation], **extra})
          for action, extra in (("tag", {"tags": ["new"]}), ("untag", {"tags": ["kept"]}), ("unassign", {}), ("close", {}), ("reopen", {}))),
    ]
    for method, url, body in attempts:
        r = await client.request(method, url, json=body, headers=h)
        assert r.status_code == 403 and r.json()["type"].endswith("/purpose-not-instructed"), (method, url, body, r.text)
        assert visitor_id not in r.text, "a refusal shows none of the conversation"

    r = await client.post(f"/v1/tenants/{t}/privacy/instructions", json={"purposes": {"operator_review": True}}, headers=h)
    assert r.status_code in (200, 201), r.text
    app.state.purpose_gate.invalidate(t)
    after = (await client.get(f"{base}/{conversation}", headers=h)).json()
    assert after["tags"] == ["kept"] and after["assignee_id"] == shop["owner"].id and after["status"] != "closed", after
    await app.state.purpose_gate.flush()
    entries = (await client.get(f"/v1/tenants/{t}/privacy/processing-log", params={"purpose": "operator_review"}, headers=h)).json()["items"]
    assert len(entries) == logged + 1, "only the read just now was logged: the refused actions processed nothing"


async def test_bulk_tagging_reads_the_conversations_after_locking_them(app, client, shop, monkeypatch):
    """A conversation erased just before the bulk request locks it is a conflict, not tagged: the rows the
    request acts on are read after the lock (a read before it, for the review, kept them as they were)."""
    t, h = shop["tenant_id"], shop["owner"].headers
    conversation = await make_conversation(app, t, shop["avatar_id"])
    lock_rows = inbox_routes.lock_rows

    async def erased_meanwhile(session, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        async with app.state.sessionmaker() as other:
            await other.execute(update(Conversation).where(Conversation.id == conversation).values(status="erased"))
            await other.commit()
        return await lock_rows(session, *args, **kwargs)

    monkeypatch.setattr(inbox_routes, "lock_rows", erased_meanwhile)
    r = await client.post(f"/v1/tenants/{t}/conversations/bulk", json={"action": "tag", "tags": ["after-erasure"], "conversation_ids": [conversation]}, headers=h)
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "conflict", r.text
    tags = await client.get(f"/v1/tenants/{t}/conversation-tags", headers=h)
    assert "after-erasure" not in tags.text


@pytest.mark.parametrize("q", ['"refund"', "refund OR order", "NEAR(refund order)", "o'brien*", "-refund", "a*b", "ü*", "(x) & y | !z", "refund:*", "\\\\x", "col:refund", "^refund", "'; DROP TABLE chat_message; --"])
async def test_search_syntax_of_either_database_is_just_text(app, client, shop, q):
    await make_conversation(app, shop["tenant_id"], shop["avatar_id"], messages=("refund order o'brien",))
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/conversations", params={"q": q}, headers=shop["owner"].headers)
    assert r.status_code == 200, r.text
