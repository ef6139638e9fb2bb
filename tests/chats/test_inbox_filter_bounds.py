"""A repeated inbox filter takes at most 20 values: each tag is one more subquery, and 999 of them
answered 500 on SQLite (security review F9). Beyond, a 422 names the parameter."""

from __future__ import annotations

from confide.chats.inbox_routes import MAX_FILTER_ITEMS


async def test_at_most_twenty_tags_and_statuses(client, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/conversations", shop["owner"].headers
    assert MAX_FILTER_ITEMS == 20
    tags = [f"tag-{i}" for i in range(MAX_FILTER_ITEMS)]
    r = await client.get(url, params={"tag": tags}, headers=h)
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    for name, values in (("tag", [*tags, "one-more"]), ("tag", [f"t{i}" for i in range(999)]), ("status", ["closed"] * (MAX_FILTER_ITEMS + 1))):
        r = await client.get(url, params={name: values}, headers=h)
        assert r.status_code == 422, (name, len(values), r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == [f"query.{name}"], r.json()
    r = await client.get(url, params={"status": ["closed", "waiting"]}, headers=h)
    assert r.status_code == 200, r.text
