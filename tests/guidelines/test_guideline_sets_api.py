"""Guideline sets over REST: versioned storage, validation that names the field, tenant isolation,
roles, and evaluating text against a set."""

from __future__ import annotations

from typing import Any

import pytest

LEGAL = {
    "id": "legal",
    "kind": "forbidden_topic",
    "phrases": ["lawsuit"],
    "message": {"en": "I cannot talk about legal matters.", "de": "Über rechtliche Fragen kann ich nicht sprechen."},
}
STYLE = {"id": "tone", "kind": "style", "instruction": "Be friendly and concise."}
COMPETITOR = {"id": "competitor", "kind": "banned_phrase", "phrases": ["MegaCorp"], "action": "replace", "replacement": "another provider"}


def guideline_body(name: str = "House rules", rules: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "rules": rules if rules is not None else [LEGAL, STYLE, COMPETITOR], **extra}


async def create_set(client, user, tenant_id: str, **kwargs: Any) -> dict[str, Any]:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{tenant_id}/guideline-sets", json=guideline_body(**kwargs), headers=user.headers)
    assert r.status_code == 201, r.text
    return r.json()


def fields(response) -> list[str]:  # noqa: ANN001
    return [e["field"] for e in response.json().get("errors", [])]


async def test_create_read_update_keeps_every_version(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    created = await create_set(client, owner, tenant)
    assert created["current_version"] == 1 and created["name"] == "House rules"
    assert [r["id"] for r in created["spec"]["rules"]] == ["legal", "tone", "competitor"]
    assert "name" not in created["spec"]

    r = await client.put(
        f"/v1/tenants/{tenant}/guideline-sets/{created['id']}", json=guideline_body("Stricter rules", rules=[LEGAL]), headers=owner.headers
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["current_version"] == 2 and updated["name"] == "Stricter rules"
    assert updated["current_version_id"] != created["current_version_id"]

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}", headers=owner.headers)
    assert r.json()["current_version"] == 2 and [rule["id"] for rule in r.json()["spec"]["rules"]] == ["legal"]

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/versions", headers=owner.headers)
    versions = r.json()["items"]
    assert [(v["version"], v["current"], v["author"]) for v in versions] == [(1, False, owner.id), (2, True, owner.id)]

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/versions/1", headers=owner.headers)
    assert r.status_code == 200 and len(r.json()["spec"]["rules"]) == 3, "old versions are immutable"
    for missing in ("3", "0", "one", "99999999999"):
        r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/versions/{missing}", headers=owner.headers)
        assert r.status_code == 404, missing


async def test_list_paginates_and_filters_by_name(client, factory, app):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    for name in ("Support", "Sales", "Support DE"):
        await create_set(client, owner, tenant, name=name)
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", params={"limit": 2}, headers=owner.headers)
    page = r.json()
    assert [s["name"] for s in page["items"]] == ["Support", "Sales"] and page["next_cursor"]
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", params={"limit": 2, "cursor": page["next_cursor"]}, headers=owner.headers)
    assert [s["name"] for s in r.json()["items"]] == ["Support DE"] and r.json()["next_cursor"] is None

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", params={"name": "support"}, headers=owner.headers)
    assert [s["name"] for s in r.json()["items"]] == ["Support", "Support DE"]
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", params={"name": "%"}, headers=owner.headers)
    assert r.json()["items"] == [], "LIKE wildcards are matched literally"

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", params={"name": "Sales", "cursor": page["next_cursor"]}, headers=owner.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"id": "r", "kind": "banned_phrase", "patterns": ["(unclosed"]}], "body.rules.0.banned_phrase.patterns.0"),
        ([], "body.rules"),
        ([{"id": f"r{i}", "kind": "banned_phrase", "phrases": ["x"]} for i in range(501)], "body.rules"),
        ([{"id": "r", "kind": "telepathy", "phrases": ["x"]}], "body.rules.0"),
        ([{"id": "s", "kind": "style", "instruction": "Decide whether the customer gets a loan."}], "body.rules.0.style.instruction"),
        ([{"id": "d", "kind": "decision_guard", "enabled": False}], "body.rules.0"),
    ],
    ids=["invalid-pattern", "empty", "oversized", "unknown-kind", "instructs-decision", "switches-off-guard"],
)
async def test_bad_rule_sets_are_refused_naming_the_field(client, factory, rules, field):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(f"/v1/tenants/{tenant}/guideline-sets", json=guideline_body(rules=rules), headers=owner.headers)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/validation-error")
    assert field in fields(r), fields(r)
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets", headers=owner.headers)
    assert r.json()["items"] == [], "nothing stored"


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"languages": ["english"]}, "body.languages.0"), ({"colour": "red"}, "body.colour"), ({"name": ""}, "body.name")],
)
async def test_bad_set_fields_name_the_field(client, factory, extra, field):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(f"/v1/tenants/{tenant}/guideline-sets", json=guideline_body(**extra), headers=owner.headers)
    assert r.status_code == 422 and field in fields(r), r.text


async def test_a_failed_update_keeps_the_current_version(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    created = await create_set(client, owner, tenant)
    r = await client.put(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}", json=guideline_body(rules=[]), headers=owner.headers)
    assert r.status_code == 422
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/versions", headers=owner.headers)
    assert len(r.json()["items"]) == 1


async def test_evaluate_input_and_output(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    created = await create_set(client, owner, tenant)
    url = f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/evaluate"

    r = await client.post(url, json={"text": "I will file a lawsuit!", "direction": "input", "language": "en"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 1 and body["language"] == "en" and body["direction"] == "input"
    assert body["verdict"]["action"] == "refuse" and body["verdict"]["rule_ids"] == ["legal"]
    assert body["verdict"]["message"] == "I cannot talk about legal matters."

    r = await client.post(url, json={"text": "Can you approve my refund?", "direction": "input", "language": "en"}, headers=owner.headers)
    assert r.json()["verdict"]["action"] == "handoff" and r.json()["verdict"]["handoff_reason"] == "decision_required"

    r = await client.post(url, json={"text": "MegaCorp sells that too.", "direction": "output", "language": "de"}, headers=owner.headers)
    verdict = r.json()["verdict"]
    assert r.json()["language"] == "de"
    assert verdict["action"] == "redact" and verdict["redacted_text"] == "another provider sells that too."

    r = await client.post(url, json={"text": "Our shop opens at nine.", "direction": "output"}, headers=owner.headers)
    assert r.json()["verdict"]["action"] == "allow" and r.json()["language"] == "en"

    for bad, field in (({"text": "x", "direction": "sideways"}, "body.direction"), ({"text": "", "direction": "input"}, "body.text"), ({"text": "x", "direction": "input", "language": "??"}, "body.language")):
        r = await client.post(url, json=bad, headers=owner.headers)
        assert r.status_code == 422 and field in fields(r), r.text


async def test_roles_analysts_read_and_evaluate_but_do_not_write(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    created = await create_set(client, owner, tenant)
    analyst = await factory.member(tenant, owner, "analyst")
    editor = await factory.member(tenant, owner, "editor")

    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}", headers=analyst.headers)
    assert r.status_code == 200
    r = await client.post(
        f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/evaluate", json={"text": "hello", "direction": "output"}, headers=analyst.headers
    )
    assert r.status_code == 200
    for method, url in (("POST", f"/v1/tenants/{tenant}/guideline-sets"), ("PUT", f"/v1/tenants/{tenant}/guideline-sets/{created['id']}")):
        r = await client.request(method, url, json=guideline_body(), headers=analyst.headers)
        assert r.status_code == 403 and r.json()["permission"] == "avatars:write", r.text
        assert "avatars:write" in r.json()["detail"]

    r = await client.put(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}", json=guideline_body(), headers=editor.headers)
    assert r.status_code == 200 and r.json()["current_version"] == 2
    r = await client.get(f"/v1/tenants/{tenant}/guideline-sets/{created['id']}/versions", headers=owner.headers)
    assert r.json()["items"][1]["author"] == editor.id


async def test_another_tenants_set_is_not_found(client, factory):
    victim = await factory.user()
    victim_tenant = await factory.tenant(victim)
    theirs = await create_set(client, victim, victim_tenant)
    attacker = await factory.user()
    own_tenant = await factory.tenant(attacker)
    base = f"/v1/tenants/{own_tenant}/guideline-sets/{theirs['id']}"
    for method, url, body in (
        ("GET", base, None),
        ("PUT", base, guideline_body()),
        ("GET", base + "/versions", None),
        ("GET", base + "/versions/1", None),
        ("POST", base + "/evaluate", {"text": "lawsuit", "direction": "input"}),
    ):
        r = await client.request(method, url, json=body, headers=attacker.headers)
        assert r.status_code == 404 and r.json()["detail"] == "No such guideline set.", (method, url, r.text)
    r = await client.get(f"/v1/tenants/{victim_tenant}/guideline-sets/{theirs['id']}", headers=attacker.headers)
    assert r.status_code == 404
    r = await client.get(f"/v1/tenants/{victim_tenant}/guideline-sets/{theirs['id']}", headers=victim.headers)
    assert r.json()["current_version"] == 1, "untouched"
