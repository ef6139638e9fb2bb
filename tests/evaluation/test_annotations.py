"""Staff annotations: score definitions and the scores staff (or an automatic evaluator) put on conversations."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from confide.core.errors import InvalidInput
from confide.evaluation.annotations import check_definition
from confide.evaluation.models import ConversationOutcome, ConversationScore
from tests.evaluation.helpers import set_instructions, stored_conversation


async def _conversation(app, shop) -> str:  # noqa: ANN001
    return await stored_conversation(app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=datetime.now(UTC),
                                     turns=[("visitor", "Hi", None, 0), ("avatar", "Hello!", None, 1)])


async def test_definitions_of_each_kind_and_their_rules(client, factory, shop):
    url, h = f"/v1/tenants/{shop['tenant_id']}/evaluation/score-definitions", shop["owner"].headers
    r = await client.post(url, json={"name": "Accuracy", "kind": "numeric", "min_value": 1, "max_value": 5, "description": "Was the answer right?"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json() == {**r.json(), "name": "Accuracy", "kind": "numeric", "min_value": 1.0, "max_value": 5.0, "labels": []}
    r = await client.post(url, json={"name": "Tone", "kind": "categorical", "labels": ["friendly", "neutral", "curt"]}, headers=h)
    assert r.status_code == 201 and r.json()["labels"] == ["friendly", "neutral", "curt"]
    r = await client.post(url, json={"name": "Escalated correctly", "kind": "boolean"}, headers=h)
    assert r.status_code == 201

    bad = [
        ({"name": "X", "kind": "numeric", "min_value": 1}, "body.max_value"),
        ({"name": "X", "kind": "numeric", "min_value": 5, "max_value": 5}, "body.max_value"),
        ({"name": "X", "kind": "numeric", "min_value": 1, "max_value": 5, "labels": ["a", "b"]}, "body.labels"),
        ({"name": "X", "kind": "categorical", "labels": ["only"]}, "body.labels"),
        ({"name": "X", "kind": "categorical", "labels": ["Good", "good"]}, "body.labels"),
        ({"name": "X", "kind": "categorical", "labels": ["a", "b"], "min_value": 0}, "body.min_value"),
        ({"name": "X", "kind": "boolean", "labels": ["yes", "no"]}, "body.labels"),
        ({"name": "X", "kind": "stars"}, "body.kind"),
        ({"name": "", "kind": "boolean"}, "body.name"),
        ({"name": "X", "kind": "boolean", "weight": 2}, "body.weight"),
    ]
    for body, field in bad:
        r = await client.post(url, json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    r = await client.post(url, json={"name": " accuracy ", "kind": "boolean"}, headers=h)
    assert r.status_code == 409

    analyst = await factory.member(shop["tenant_id"], shop["owner"], "analyst")
    assert (await client.post(url, json={"name": "Y", "kind": "boolean"}, headers=analyst.headers)).status_code == 403
    listed = (await client.get(url, headers=analyst.headers)).json()["items"]
    assert [d["name"] for d in listed] == ["Accuracy", "Tone", "Escalated correctly"]
    definition_id = listed[0]["id"]
    r = await client.patch(f"{url}/{definition_id}", json={"name": "Correctness"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "Correctness" and r.json()["max_value"] == 5.0
    assert (await client.patch(f"{url}/{definition_id}", json={"max_value": 10}, headers=h)).status_code == 422  # the range is fixed



async def test_an_infinite_range_names_the_bound_that_is_infinite(client, shop):
    """1e999 in JSON reads as infinity: the 422 names that bound (both, when both are), never the finite one."""
    url = f"/v1/tenants/{shop['tenant_id']}/evaluation/score-definitions"
    headers = {**shop["owner"].headers, "Content-Type": "application/json"}
    for min_value, max_value, fields in (
        ("1", "1e999", ["body.max_value"]),
        ("-1e999", "5", ["body.min_value"]),
        ("-1e999", "1e999", ["body.min_value", "body.max_value"]),
    ):
        body = f'{{"name": "Big", "kind": "numeric", "min_value": {min_value}, "max_value": {max_value}}}'
        r = await client.post(url, content=body.encode(), headers=headers)
        assert r.status_code == 422, (body, r.text)
        assert [e["field"] for e in r.json()["errors"]] == fields, (body, r.json())
        assert all("finite" in e["message"] for e in r.json()["errors"]), r.json()
    assert (await client.get(url, headers=shop["owner"].headers)).json()["items"] == []


def test_check_definition_names_the_infinite_bound():
    """The service's own check (for callers other than the route) names the bound too."""
    for low, high, field in ((1.0, math.inf, "body.max_value"), (-math.inf, 1.0, "body.min_value"), (math.nan, 1.0, "body.min_value")):
        with pytest.raises(InvalidInput) as caught:
            check_definition("numeric", low, high, None)
        assert caught.value.extra["errors"][0]["field"] == field, (low, high)

async def test_scores_must_fit_their_definition(app, client, factory, shop):
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    conversation_id = await _conversation(app, shop)
    defs = f"/v1/tenants/{tenant_id}/evaluation/score-definitions"
    accuracy = (await client.post(defs, json={"name": "Accuracy", "kind": "numeric", "min_value": 0, "max_value": 10}, headers=h)).json()["id"]
    tone = (await client.post(defs, json={"name": "Tone", "kind": "categorical", "labels": ["friendly", "curt"]}, headers=h)).json()["id"]
    escalated = (await client.post(defs, json={"name": "Escalated", "kind": "boolean"}, headers=h)).json()["id"]
    url = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"

    analyst = await factory.member(tenant_id, shop["owner"], "analyst")
    r = await client.post(url, json={"definition_id": accuracy, "value": 7.5, "comment": "one detail missing"}, headers=analyst.headers)
    assert r.status_code == 201, r.text
    assert r.json() == {**r.json(), "value": 7.5, "source": "staff", "comment": "one detail missing", "author_user_id": analyst.id, "conversation_id": conversation_id, "avatar_id": shop["avatar_id"]}
    r = await client.post(url, json={"definition_id": tone, "value": "friendly"}, headers=h)
    assert r.status_code == 201 and r.json()["value"] == "friendly"
    r = await client.post(url, json={"definition_id": escalated, "value": False, "source": "automatic"}, headers=h)
    assert r.status_code == 201 and r.json()["value"] is False and r.json()["source"] == "automatic"

    for definition_id, value in ((accuracy, 11), (accuracy, -0.5), (accuracy, "7"), (accuracy, True), (tone, "rude"), (tone, 1), (escalated, 1), (escalated, "yes")):
        r = await client.post(url, json={"definition_id": definition_id, "value": value}, headers=h)
        assert r.status_code == 422, (value, r.text)
        assert r.json()["errors"][0]["field"] == "body.value"
    r = await client.post(url, json={"definition_id": accuracy, "value": 5, "source": "robot"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.source"
    r = await client.post(url, json={"definition_id": "sdef_missing", "value": 5}, headers=h)
    assert r.status_code == 404 and r.json()["errors"] == [{"field": "body.definition_id", "message": "No such score definition.", "type": "not_found"}], r.text

    scores = (await client.get(url, headers=h)).json()["items"]
    assert [s["value"] for s in scores] == [7.5, "friendly", False]
    score_id = scores[0]["id"]
    r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", json={"value": 12}, headers=h)
    assert r.status_code == 422
    r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", json={"value": 9, "comment": None}, headers=h)
    assert r.status_code == 200 and r.json()["value"] == 9.0 and r.json()["comment"] is None

    r = await client.get(f"{defs}/{tone}/summary", headers=h)
    assert r.json()["groups"] == [{"avatar_id": shop["avatar_id"], "source": "staff", "count": 1, "mean": None, "min": None, "max": None, "distribution": {"friendly": 1, "curt": 0}}]
    r = await client.get(f"{defs}/{accuracy}/summary", headers=h)
    assert r.json()["groups"][0] == {**r.json()["groups"][0], "count": 1, "mean": 9.0}
    r = await client.get(f"/v1/tenants/{tenant_id}/evaluation/scores", params={"source": "automatic"}, headers=h)
    assert [s["definition_id"] for s in r.json()["items"]] == [escalated]

    assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", headers=h)).status_code == 204
    assert (await client.delete(f"{defs}/{tone}", headers=h)).status_code == 204
    assert [s["value"] for s in (await client.get(url, headers=h)).json()["items"]] == [False]


async def test_scoring_needs_evaluation_instructed(app, client, shop):
    tenant_id, owner = shop["tenant_id"], shop["owner"]
    conversation_id = await _conversation(app, shop)
    defs = f"/v1/tenants/{tenant_id}/evaluation/score-definitions"
    escalated = (await client.post(defs, json={"name": "Escalated", "kind": "boolean"}, headers=owner.headers)).json()["id"]
    await set_instructions(client, app, owner, tenant_id, evaluate=False)
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores", json={"definition_id": escalated, "value": True}, headers=owner.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/purpose-not-instructed")
    await set_instructions(client, app, owner, tenant_id, evaluate=True)
    assert (await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores", headers=owner.headers)).json()["items"] == []


async def test_an_erased_conversation_takes_no_resolution_nor_score(app, client, shop):
    """As tags and assignment on the same stub: 409 conversation-erased for every write about it; deleting a score stays possible."""
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    conversation_id = await _conversation(app, shop)
    kept = await _conversation(app, shop)
    defs = f"/v1/tenants/{tenant_id}/evaluation/score-definitions"
    accuracy = (await client.post(defs, json={"name": "Accuracy", "kind": "numeric", "min_value": 0, "max_value": 10}, headers=h)).json()["id"]
    scores = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"
    r = await client.post(scores, json={"definition_id": accuracy, "value": 6, "comment": "fine"}, headers=h)
    assert r.status_code == 201, r.text
    score_id = r.json()["id"]
    resolution = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/resolution"
    assert (await client.put(resolution, json={"resolved": True}, headers=h)).status_code == 200

    r = await client.delete(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}", headers=h)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/tags", json={"tags": ["late"]}, headers=h)
    assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased"), r.text  # erased indeed

    for method, url, body in (
        ("PUT", resolution, {"resolved": False}),
        ("POST", scores, {"definition_id": accuracy, "value": 3, "comment": "about the person"}),
        ("PATCH", f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", {"comment": "about the person"}),
        ("PATCH", f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", {"value": 2}),
    ):
        r = await client.request(method, url, json=body, headers=h)
        assert r.status_code == 409 and r.json()["type"].endswith("/conversation-erased"), (method, url, r.text)
    async with app.state.sessionmaker() as session:  # nothing was written meanwhile
        outcome = await session.scalar(select(ConversationOutcome).where(ConversationOutcome.conversation_id == conversation_id))
        assert outcome is not None and outcome.resolved is True
        score = await session.get(ConversationScore, score_id)
        assert score is not None and score.value_number == 6 and score.comment in ("fine", None)
    assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", headers=h)).status_code == 204

    # The tenant's other conversations are untouched by it.
    assert (await client.put(f"/v1/tenants/{tenant_id}/conversations/{kept}/resolution", json={"resolved": True}, headers=h)).status_code == 200
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{kept}/scores", json={"definition_id": accuracy, "value": 3}, headers=h)
    assert r.status_code == 201, r.text


async def test_only_a_scores_author_or_an_admin_changes_or_deletes_it(app, client, factory, shop):
    """Any member who may read evaluation changed and deleted anyone's scores (review, 2026-12-01)."""
    tenant_id, owner = shop["tenant_id"], shop["owner"]
    conversation_id = await _conversation(app, shop)
    definition = (await client.post(f"/v1/tenants/{tenant_id}/evaluation/score-definitions", json={"name": "Accuracy", "kind": "numeric", "min_value": 0, "max_value": 10}, headers=owner.headers)).json()["id"]
    url = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"
    alice, bob = await factory.member(tenant_id, owner, "analyst"), await factory.member(tenant_id, owner, "editor")
    admin = await factory.member(tenant_id, owner, "admin")
    r = await client.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": "evaluator", "role": "analyst"}, headers=owner.headers)
    key = {"Authorization": f"Bearer {r.json()['key']}"}
    scores = {}
    for who, headers in (("alice", alice.headers), ("key", key)):
        r = await client.post(url, json={"definition_id": definition, "value": 5}, headers=headers)
        assert r.status_code == 201, r.text
        scores[who] = r.json()["id"]

    for headers in (bob.headers, key):  # someone else's score
        r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['alice']}", json={"value": 1}, headers=headers)
        assert r.status_code == 403 and r.json()["type"].endswith("/permission-denied") and "author or an admin" in r.json()["detail"], r.text
        assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['alice']}", headers=headers)).status_code == 403
    r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['alice']}", json={"value": 6}, headers=alice.headers)
    assert r.status_code == 200 and r.json()["value"] == 6
    r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['key']}", json={"comment": "checked"}, headers=key)
    assert r.status_code == 200, r.text
    assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['key']}", headers=alice.headers)).status_code == 403
    assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['key']}", headers=admin.headers)).status_code == 204
    assert (await client.delete(f"/v1/tenants/{tenant_id}/evaluation/scores/{scores['alice']}", headers=alice.headers)).status_code == 204


async def test_a_value_of_the_wrong_kind_is_one_error_on_value(app, client, shop):
    """`null`, a list or an object named the union's inner branches (`body.value.bool`, …) (review, 2026-12-01)."""
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    conversation_id = await _conversation(app, shop)
    definition = (await client.post(f"/v1/tenants/{tenant_id}/evaluation/score-definitions", json={"name": "Helpful", "kind": "boolean"}, headers=h)).json()["id"]
    url = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"
    for value in (None, [True], {"value": True}):
        r = await client.post(url, json={"definition_id": definition, "value": value}, headers=h)
        assert r.status_code == 422, r.text
        assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [("body.value", "must be a number in the definition's range, one of its labels, or true/false")], r.json()
    score = (await client.post(url, json={"definition_id": definition, "value": True}, headers=h)).json()["id"]
    r = await client.patch(f"/v1/tenants/{tenant_id}/evaluation/scores/{score}", json={"value": [False]}, headers=h)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.value"], r.text
