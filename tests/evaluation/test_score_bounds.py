"""A category score's list cannot grow to a gigabyte (security review F5): a label is at most 100
characters, a text score value likewise, and a tenant has at most 100 score definitions (409 `conflict`)."""

from __future__ import annotations

from confide.evaluation.schemas import MAX_LABEL_CHARS
from confide.evaluation.annotations import MAX_SCORE_DEFINITIONS
from tests.evaluation.test_annotations import _conversation


async def test_labels_and_text_values_are_short(app, client, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/evaluation/score-definitions", shop["owner"].headers
    assert MAX_LABEL_CHARS == 100
    r = await client.post(url, json={"name": "Long", "kind": "categorical", "labels": ["ok", "x" * 101]}, headers=h)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.labels.1"], r.json()
    r = await client.post(url, json={"name": "Long", "kind": "categorical", "labels": ["a" * 20_000] * 50}, headers=h)
    assert r.status_code == 422, r.text
    r = await client.post(url, json={"name": "Tone", "kind": "categorical", "labels": ["ok", "x" * 100]}, headers=h)
    assert r.status_code == 201, r.text
    definition_id = r.json()["id"]

    scores = f"/v1/tenants/{shop['tenant_id']}/conversations/{await _conversation(app, shop)}/scores"
    r = await client.post(scores, json={"definition_id": definition_id, "value": "y" * 4001}, headers=h)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.value"], r.json()
    assert "4000 characters" in r.json()["errors"][0]["message"]
    r = await client.post(scores, json={"definition_id": definition_id, "value": "y" * 101}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.value", "no label of the definition"
    r = await client.post(scores, json={"definition_id": definition_id, "value": "x" * 100}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.patch(f"/v1/tenants/{shop['tenant_id']}/evaluation/scores/{r.json()['id']}", json={"value": "z" * 5000}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.value", r.text


async def test_a_tenant_has_at_most_a_hundred_score_definitions(client, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/evaluation/score-definitions", shop["owner"].headers
    assert MAX_SCORE_DEFINITIONS == 100
    for i in range(MAX_SCORE_DEFINITIONS):
        r = await client.post(url, json={"name": f"Score {i}", "kind": "boolean"}, headers=h)
        assert r.status_code == 201, (i, r.text)
    r = await client.post(url, json={"name": "One too many", "kind": "boolean"}, headers=h)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "https://confide.dev/problems/conflict"
    assert "at most 100 score definitions" in body["detail"], body
    first = (await client.get(url, params={"limit": 1}, headers=h)).json()["items"][0]["id"]
    assert (await client.delete(f"{url}/{first}", headers=h)).status_code == 204
    r = await client.post(url, json={"name": "One too many", "kind": "boolean"}, headers=h)
    assert r.status_code == 201, r.text
