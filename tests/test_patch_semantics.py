"""One rule for PATCH bodies (core/patching.py): a field left out stays as it is; `null` clears a field that can
be empty; `null` for a field that cannot be empty is a 422 naming it, and changes nothing. Checked on the webhook,
profile, tenant and Q&A-entry routes, as a client sees them, and in the OpenAPI they are described by. Webhook
`events` refuse duplicates as avatar `languages` do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.avatars.test_avatars_api import create_avatar

HOOK = {"name": "CRM", "url": "https://crm.example.com/confide", "events": ["conversation.closed", "conversation.handoff_requested"]}
ENTRY = {"questions": ["When are you open?"], "answer": "From nine to five.", "language": "en", "tags": ["hours"]}


def refused(r: httpx.Response, *fields: str, says: str = "cannot be cleared") -> None:
    """A 422 validation-error problem naming exactly these fields, each with a message containing `says`."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/validation-error")
    assert sorted(e["field"] for e in problem["errors"]) == sorted(fields), problem
    for error in problem["errors"]:
        assert says in error["message"], error


@pytest.fixture
async def owner_and_tenant(factory) -> tuple[Any, str]:  # noqa: ANN001
    owner = await factory.user()
    return owner, await factory.tenant(owner, "Patch GmbH")


# ---- webhooks ----------------------------------------------------------------------------------


async def test_webhook_null_is_refused_for_every_field_and_changes_nothing(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    r = await client.post(f"/v1/tenants/{tenant}/webhooks", json=HOOK, headers=owner.headers)
    assert r.status_code == 201, r.text
    hook = f"/v1/tenants/{tenant}/webhooks/{r.json()['id']}"
    before = (await client.get(hook, headers=owner.headers)).json()

    for field in ("name", "url", "events", "include_text", "active"):
        refused(await client.patch(hook, json={field: None}, headers=owner.headers), f"body.{field}")
    # The measured case: null name and active used to answer 200 and change nothing, silently.
    refused(await client.patch(hook, json={"name": None, "active": None, "include_text": True}, headers=owner.headers), "body.name", "body.active")
    assert (await client.get(hook, headers=owner.headers)).json() == before

    r = await client.patch(hook, json={}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "CRM" and r.json()["active"] is True and r.json()["events"] == HOOK["events"]

    r = await client.patch(hook, json={"active": False, "name": "Tickets"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["name"], r.json()["url"]) == (False, "Tickets", HOOK["url"])


async def test_webhook_events_refuse_duplicates_on_create_and_change(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    twice = ["conversation.closed", "conversation.closed"]
    refused(await client.post(f"/v1/tenants/{tenant}/webhooks", json={**HOOK, "events": twice}, headers=owner.headers), "body.events", says="contains duplicates")
    assert (await client.get(f"/v1/tenants/{tenant}/webhooks", headers=owner.headers)).json()["items"] == [], "nothing was created"

    r = await client.post(f"/v1/tenants/{tenant}/webhooks", json=HOOK, headers=owner.headers)
    hook = f"/v1/tenants/{tenant}/webhooks/{r.json()['id']}"
    refused(await client.patch(hook, json={"events": twice}, headers=owner.headers), "body.events", says="contains duplicates")
    assert (await client.get(hook, headers=owner.headers)).json()["events"] == HOOK["events"]


# ---- the profile (PATCH /v1/me) ---------------------------------------------------------------


async def test_profile_null_clears_phone_and_company_and_is_refused_for_the_rest(client, factory):
    user = await factory.user(phone="+49 221 715975 75", company_name="Acme GmbH")
    before = (await client.get("/v1/me", headers=user.headers)).json()
    assert before["phone"] == "+4922171597575" and before["company_name"] == "Acme GmbH"

    for field in ("first_name", "surname", "pseudonym", "email"):
        refused(await client.patch("/v1/me", json={field: None}, headers=user.headers), f"body.{field}")
    # Refused whole: the phone sent alongside the null first_name is not changed either.
    refused(await client.patch("/v1/me", json={"first_name": None, "phone": None}, headers=user.headers), "body.first_name")
    assert (await client.get("/v1/me", headers=user.headers)).json() == before

    r = await client.patch("/v1/me", json={}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("first_name", "phone", "company_name")} == {"first_name": "Ada", "phone": "+4922171597575", "company_name": "Acme GmbH"}

    r = await client.patch("/v1/me", json={"phone": None, "company_name": None, "first_name": "Augusta"}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["phone"], r.json()["company_name"], r.json()["first_name"], r.json()["surname"]) == (None, None, "Augusta", "Lovelace")
    assert (await client.get("/v1/me", headers=user.headers)).json()["phone"] is None


# ---- tenants -----------------------------------------------------------------------------------


async def test_tenant_patch_takes_an_empty_body_and_refuses_a_null_name(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    r = await client.patch(f"/v1/tenants/{tenant}", json={}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["name"], r.json()["role"]) == (tenant, "Patch GmbH", "owner")

    refused(await client.patch(f"/v1/tenants/{tenant}", json={"name": None}, headers=owner.headers), "body.name")
    assert (await client.get(f"/v1/tenants/{tenant}", headers=owner.headers)).json()["name"] == "Patch GmbH"

    r = await client.patch(f"/v1/tenants/{tenant}", json={"name": "Renamed GmbH"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["name"] == "Renamed GmbH", r.text


# ---- knowledge entries -------------------------------------------------------------------------


async def test_entry_null_is_refused_and_empty_tags_clear(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    avatar = await create_avatar(client, owner, tenant)
    r = await client.post(f"/v1/tenants/{tenant}/avatars/{avatar['id']}/knowledge/entries", json=ENTRY, headers=owner.headers)
    assert r.status_code == 201, r.text
    entry = f"/v1/tenants/{tenant}/avatars/{avatar['id']}/knowledge/entries/{r.json()['id']}"
    before = r.json()

    for field in ("questions", "answer", "language", "tags"):
        refused(await client.patch(entry, json={field: None}, headers=owner.headers), f"body.{field}")
    assert (await client.get(entry, headers=owner.headers)).json() == before

    r = await client.patch(entry, json={}, headers=owner.headers)
    assert r.status_code == 200 and r.json() == before, r.text

    r = await client.patch(entry, json={"tags": []}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == [] and r.json()["answer"] == ENTRY["answer"]


# ---- score definitions ------------------------------------------------------------------------


async def test_score_definition_null_is_refused_and_an_empty_description_clears(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    url = f"/v1/tenants/{tenant}/evaluation/score-definitions"
    r = await client.post(url, json={"name": "Helpful", "kind": "boolean", "description": "Did it help?"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    definition = r.json()
    refused(await client.patch(f"{url}/{definition['id']}", json={"name": None, "description": None}, headers=owner.headers), "body.name", "body.description")
    r = await client.get(f"{url}/{definition['id']}", headers=owner.headers)
    assert (r.json()["name"], r.json()["description"]) == ("Helpful", "Did it help?"), "nothing changed"
    r = await client.patch(f"{url}/{definition['id']}", json={"description": ""}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["description"] == "" and r.json()["name"] == "Helpful", r.text
    r = await client.patch(f"{url}/{definition['id']}", json={}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["name"] == "Helpful"


async def test_avatar_null_clears_voice_and_guidelines_and_is_refused_for_the_rest(client, owner_and_tenant):
    owner, tenant = owner_and_tenant
    avatar = await create_avatar(client, owner, tenant)
    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    refused(await client.patch(url, json={"name": None, "appearance": None}, headers=owner.headers), "body.name", "body.appearance")
    r = await client.patch(url, json={"voice_id": "nova"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["voice_id"] == "nova", r.text
    r = await client.patch(url, json={"voice_id": None}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["voice_id"] is None and r.json()["name"] == avatar["name"], r.text


# ---- the rule in OpenAPI -----------------------------------------------------------------------


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(s) for s in schema.get("anyOf", []))


@pytest.mark.parametrize(
    ("path", "clears", "kept"),
    [
        ("/v1/tenants/{tenant_id}/webhooks/{webhook_id}", set(), {"name", "url", "events", "include_text", "active"}),
        ("/v1/me", {"phone", "company_name"}, {"email", "first_name", "surname", "pseudonym"}),
        ("/v1/tenants/{tenant_id}", set(), {"name"}),
        ("/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries/{entry_id}", set(), {"questions", "answer", "language", "tags"}),
        ("/v1/tenants/{tenant_id}/evaluation/score-definitions/{definition_id}", set(), {"name", "description"}),
        ("/v1/tenants/{tenant_id}/avatars/{avatar_id}", {"voice_id", "guideline_set_id"}, {"name", "appearance", "responder"}),
        ("/v1/tenants/{tenant_id}/evaluation/scores/{score_id}", {"comment"}, {"value"}),
    ],
)
async def test_openapi_states_the_rule_and_offers_null_only_where_it_clears(client, path, clears, kept):
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][path]["patch"]
    assert "Fields left out stay as they are" in operation["description"]
    for name in clears:
        assert f"`null` clears" in operation["description"] and f"`{name}`" in operation["description"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "required" not in body, "every field of a PATCH body may be left out"
    properties = body["properties"]
    assert {name for name in properties if _nullable(properties[name])} == clears
    assert kept <= set(properties)
