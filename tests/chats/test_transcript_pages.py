"""A long conversation's transcript comes in pages (up to 1,000 messages each, the default), in the order the
messages happened, notes included; a page's cursor continues only that conversation's transcript."""

from __future__ import annotations

from tests.privacy.chat_seed import make_shop, seed_conversation
from tests.test_errors import assert_problem


async def test_pages_put_together_are_the_whole_transcript(app, client, factory):
    shop = await make_shop(client, factory, "Pages GmbH")
    texts = tuple(f"message {i}" for i in range(7))
    conversation_id = await seed_conversation(app, shop, visitor_id="vis_pages1", texts=texts, note="a staff note", rule_id="greeting")
    url = f"/v1/tenants/{shop.tenant_id}/conversations/{conversation_id}/transcript"
    whole = await client.get(url, headers=shop.owner.headers)
    assert whole.status_code == 200 and whole.json()["next_cursor"] is None, whole.text
    everything = [(m["id"], m["rules"]) for m in whole.json()["messages"]]
    assert [r["rule_id"] for _, rules in everything for r in rules] == ["greeting"], "the rule hit comes with its message"
    assert len(everything) >= 9  # seven messages, the note, the close
    seen, cursor, pages = [], None, 0
    while True:
        r = await client.get(url, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=shop.owner.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["messages"]) <= 3 and page["conversation_id"] == conversation_id
        seen += [(m["id"], m["rules"]) for m in page["messages"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything and pages == -(-len(everything) // 3)


async def test_a_cursor_continues_only_its_own_transcript_and_limits_are_checked(app, client, factory):
    shop = await make_shop(client, factory, "Cursor GmbH")
    first = await seed_conversation(app, shop, visitor_id="vis_pages2", texts=("a", "b", "c"))
    second = await seed_conversation(app, shop, visitor_id="vis_pages3", texts=("d", "e", "f"))
    base = f"/v1/tenants/{shop.tenant_id}/conversations"
    cursor = (await client.get(f"{base}/{first}/transcript", params={"limit": 1}, headers=shop.owner.headers)).json()["next_cursor"]
    assert cursor
    assert_problem(await client.get(f"{base}/{second}/transcript", params={"cursor": cursor}, headers=shop.owner.headers), 400, "invalid-cursor")
    assert_problem(await client.get(f"{base}/{first}/transcript", params={"cursor": "garbage"}, headers=shop.owner.headers), 400, "invalid-cursor")
    for bad in (0, 1001, "many"):
        r = await client.get(f"{base}/{first}/transcript", params={"limit": bad}, headers=shop.owner.headers)
        assert assert_problem(r, 422, "validation-error")["errors"][0]["field"] == "query.limit"
