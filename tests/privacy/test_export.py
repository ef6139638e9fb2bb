"""A tenant's export of its chat data: streamed NDJSON and CSV with a manifest whose hash matches the
bytes, filters for one end customer or a date range, evaluation rows included, only admins, logged."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from confide.core import events
from confide.core.clock import utcnow
from confide.privacy.models import ProcessingLogEntry
from tests.privacy.chat_seed import Shop, make_shop, seed_conversation


@pytest.fixture
async def shop(client, factory) -> Shop:
    return await make_shop(client, factory)


def export_url(shop: Shop, what: str = "conversations") -> str:
    return f"/v1/tenants/{shop.tenant_id}/exports/{what}"


def ndjson(body: bytes) -> tuple[list[dict], dict]:
    lines = body.decode().splitlines()
    records = [json.loads(line) for line in lines]
    head, manifest = body.rsplit(b"\n", 2)[0] + b"\n", records[-1]
    assert manifest["type"] == "manifest"
    assert manifest["sha256"] == hashlib.sha256(head).hexdigest(), "the manifest hashes every byte before it"
    return records, manifest


async def evaluated(app, shop: Shop, conversation_id: str, score: int) -> None:
    """What the chat emits when a conversation closes and is rated; the evaluation domain records its figures."""
    bus = app.state.services.events
    payload = {"tenant_id": shop.tenant_id, "conversation_id": conversation_id, "avatar_id": shop.avatar_id}
    bus.emit(events.CONVERSATION_CLOSED, {**payload, "closed_by": "visitor"})
    bus.emit(events.RATING_RECEIVED, {**payload, "score": score, "resolved": True, "message_id": None})
    await bus.drain()


async def test_the_whole_tenant_as_ndjson(app, client, factory, shop):
    now = utcnow()
    a = await seed_conversation(
        app, shop, visitor_id="vis_e1", customer_ref="crm-e1", texts=("Where is order 12?", "It ships today.", 'He said "thanks", then left'),
        note="VIP customer", rating=(4, "quick, thanks"), rule_id="order-status", at=now - timedelta(days=3),
    )
    b = await seed_conversation(app, shop, visitor_id="vis_e2", texts=("Hi",), close=False, at=now - timedelta(days=1))
    await evaluated(app, shop, a, 4)
    other = await make_shop(client, factory, "Other AG")
    await seed_conversation(app, other, visitor_id="vis_foreign", texts=("foreign secret",))

    r = await client.get(export_url(shop), headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert r.headers["content-disposition"].startswith("attachment;") and r.headers["cache-control"] == "no-store"
    body = r.content
    records, manifest = ndjson(body)
    assert b"foreign" not in body

    header = records[0]
    assert header == {"type": "export", "format": "confide-chat-export/1", "tenant_id": shop.tenant_id,
                      "filters": {"visitor_id": None, "customer_ref": None, "from": None, "to": None}}
    kinds = [rec["type"] for rec in records[1:-1]]
    counts = {k: kinds.count(k) for k in set(kinds)}
    assert manifest["counts"] == counts and manifest["records"] == len(kinds)
    assert counts["conversation"] == 2 and counts["message"] == 4 and counts["note"] == 1 and counts["rating"] == 1 and counts["event"] == 1
    assert counts["rule_hit"] == 1 and counts["evaluation_conversation_metrics"] == 1 and counts["evaluation_outcome"] == 1

    by_type = {k: [rec for rec in records if rec["type"] == k] for k in counts}
    conv = {c["id"]: c for c in by_type["conversation"]}
    assert set(conv) == {a, b}
    assert conv[a]["visitor_id"] == "vis_e1" and conv[a]["customer_ref"] == "crm-e1" and conv[a]["rating"] == 4 and conv[a]["status"] == "closed"
    assert "tenant_id" not in conv[a]
    note = by_type["note"][0]
    assert note["text"] == "VIP customer" and note["kind"] == "note" and note["author"] == "operator" and note["seq"] is None
    rating = by_type["rating"][0]
    assert (rating["score"], rating["resolved"], rating["text"], rating["conversation_id"]) == (4, True, "quick, thanks", a)
    texts = [m["text"] for m in by_type["message"] if m["conversation_id"] == a]
    assert texts == ["Where is order 12?", "It ships today.", 'He said "thanks", then left'], "messages in conversation order"
    assert by_type["rule_hit"][0]["rule_id"] == "order-status" and by_type["evaluation_outcome"][0]["score"] == 4
    seen: set[str] = set()
    for rec in records[1:-1]:  # every record comes after its conversation's record
        if rec["type"] == "conversation":
            seen.add(rec["id"])
        else:
            assert rec["conversation_id"] in seen, rec

    # The manifest on its own agrees while nothing changes.
    r = await client.get(export_url(shop, "manifest"), headers=shop.owner.headers)
    assert r.status_code == 200, r.text
    alone = r.json()
    assert (alone["sha256"], alone["counts"], alone["records"]) == (manifest["sha256"], manifest["counts"], manifest["records"])
    assert alone["bytes"] == len(body) - len(body.splitlines()[-1]) - 1

    # Each export is in the processing log, with counts and no content.
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        logged = (await session.scalars(select(ProcessingLogEntry).where(ProcessingLogEntry.tenant_id == shop.tenant_id, ProcessingLogEntry.purpose == "export"))).all()
    assert len(logged) == 2 and logged[0].actor == shop.owner.id and logged[0].counts == {"conversations": 2, "messages": 7}


async def test_one_customer_and_a_date_range(app, client, shop):
    now = utcnow()
    old = await seed_conversation(app, shop, visitor_id="vis_f1", customer_ref="crm-f", at=now - timedelta(days=20))
    new = await seed_conversation(app, shop, visitor_id="vis_f2", customer_ref="crm-f", at=now - timedelta(days=2))
    stranger = await seed_conversation(app, shop, visitor_id="vis_f3", at=now - timedelta(days=2))

    async def ids(**params) -> set[str]:  # noqa: ANN003
        r = await client.get(export_url(shop), params=params, headers=shop.owner.headers)
        assert r.status_code == 200, r.text
        records, _ = ndjson(r.content)
        return {rec["id"] for rec in records if rec["type"] == "conversation"}

    assert await ids(customer_ref="crm-f") == {old, new}
    assert await ids(visitor_id="vis_f3") == {stranger}
    assert await ids(visitor_id="vis_f1", customer_ref="crm-f") == {old}
    assert await ids(**{"from": (now - timedelta(days=5)).isoformat()}) == {new, stranger}
    assert await ids(to=(now - timedelta(days=5)).isoformat()) == {old}
    assert await ids(customer_ref="crm-nobody") == set()

    r = await client.get(export_url(shop), params={"customer_ref": "crm-f"}, headers=shop.owner.headers)
    assert json.loads(r.content.splitlines()[0])["filters"]["customer_ref"] == "crm-f"
    await app.state.purpose_gate.flush()
    async with app.state.sessionmaker() as session:
        refs = (await session.scalars(select(ProcessingLogEntry.subject_ref).where(ProcessingLogEntry.tenant_id == shop.tenant_id, ProcessingLogEntry.purpose == "export"))).all()
    assert "crm-f" not in refs and any(ref and ref.startswith("sub_") for ref in refs) and "vis_f3" in refs

    for params, field in [
        ({"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}, "query.from"),
        ({"format": "xml"}, "query.format"),
        ({"from": "yesterday"}, "query.from"),
        ({"customer": "crm-f"}, None),
    ]:
        r = await client.get(export_url(shop), params=params, headers=shop.owner.headers)
        assert r.status_code == 422, (params, r.text)
        if field:
            assert r.json()["errors"][0]["field"] == field


async def test_csv_has_the_same_records_and_a_manifest_row(app, client, shop):
    await seed_conversation(app, shop, visitor_id="vis_c", customer_ref="crm-c", texts=('Comma, "quote"\nand a new line', "ok"), note="n", rating=(5, "top"))
    r = await client.get(export_url(shop), params={"format": "csv"}, headers=shop.owner.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    body = r.content
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0]) == ["type", "id", "conversation_id", "created_at", "author", "kind", "text", "data"]
    manifest = json.loads(rows[-1]["data"])
    assert rows[-1]["type"] == "manifest"
    before_manifest = body[: body.rindex(b"\nmanifest,") + 1]
    assert manifest["sha256"] == hashlib.sha256(before_manifest).hexdigest()
    kinds = [row["type"] for row in rows[1:-1]]
    assert manifest["counts"] == {k: kinds.count(k) for k in set(kinds)}
    first = next(row for row in rows if row["type"] == "message")
    assert first["text"] == 'Comma, "quote"\nand a new line' and first["author"] == "visitor"
    conversation = next(row for row in rows if row["type"] == "conversation")
    assert json.loads(conversation["data"])["customer_ref"] == "crm-c"

    r = await client.get(export_url(shop, "manifest"), params={"format": "csv"}, headers=shop.owner.headers)
    assert r.json()["sha256"] == manifest["sha256"]


async def test_erased_conversations_are_not_exported(app, client, shop):
    gone = await seed_conversation(app, shop, visitor_id="vis_gone", texts=("forget me",))
    kept = await seed_conversation(app, shop, visitor_id="vis_kept")
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/erasure-requests", json={"scope": "visitor", "visitor_id": "vis_gone"}, headers=shop.owner.headers)
    assert r.status_code == 202
    await app.state.erasure_worker.drain()
    r = await client.get(export_url(shop), headers=shop.owner.headers)
    records, manifest = ndjson(r.content)
    assert {rec["id"] for rec in records if rec["type"] == "conversation"} == {kept}
    assert gone not in r.text and b"forget me" not in r.content and manifest["counts"]["conversation"] == 1


async def test_an_empty_tenant_exports_a_header_and_a_manifest(client, shop):
    r = await client.get(export_url(shop), headers=shop.owner.headers)
    records, manifest = ndjson(r.content)
    assert [rec["type"] for rec in records] == ["export", "manifest"] and manifest["counts"] == {} and manifest["records"] == 0


async def test_only_admins_export(client, factory, shop):
    for role in ("editor", "analyst", "operator"):
        member = await factory.member(shop.tenant_id, shop.owner, role)
        for what in ("conversations", "manifest"):
            r = await client.get(export_url(shop, what), headers=member.headers)
            assert r.status_code == 403 and r.json()["permission"] == "data:export", (role, what)
    admin = await factory.member(shop.tenant_id, shop.owner, "admin")
    assert (await client.get(export_url(shop), headers=admin.headers)).status_code == 200
    r = await client.post(f"/v1/tenants/{shop.tenant_id}/api-keys", json={"name": "backup", "role": "admin"}, headers=shop.owner.headers)
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    assert (await client.get(export_url(shop), headers=key)).status_code == 200
