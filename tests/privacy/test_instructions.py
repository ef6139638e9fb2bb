"""Processing instructions: defaults as version 0, append-only versions with author and time, who may
change them, and contradictions refused with the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from confide.app import create_app
from confide.privacy.models import ProcessingInstructions
from tests.conftest import running
from tests.privacy.conftest import hooked_client


def base(tenant_id: str) -> str:
    return f"/v1/tenants/{tenant_id}/privacy/instructions"


async def test_a_new_tenant_runs_on_the_defaults_as_version_0(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.get(base(tenant), headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 0 and body["set_by"] is None and body["set_at"] is None
    assert body["purposes"] == {
        "answer_chats": True,
        "store_transcripts": True,
        "evaluate": True,
        "operator_review": True,
        "external_llm": False,
    }
    assert body["redact_pii_before_llm"] is True and body["retention_days"] == 30
    assert body["authorised_subprocessors"] == ["hosting", "cdn"]
    assert body["llm_provider_authorised"] is False
    r = await client.get(base(tenant) + "/history", headers=owner.headers)
    assert r.json() == {"items": [], "next_cursor": None}


async def test_changes_add_versions_with_author_and_never_touch_old_ones(app, client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    admin = await factory.member(tenant, owner, "admin")

    r = await client.post(base(tenant), json={"retention_days": 7, "purposes": {"evaluate": False}}, headers=owner.headers)
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["version"] == 1 and v1["set_by"] == {"kind": "user", "id": owner.id} and v1["set_at"]
    assert v1["retention_days"] == 7 and v1["purposes"]["evaluate"] is False and v1["purposes"]["operator_review"] is True

    r = await client.post(
        base(tenant),
        json={"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}, "redact_pii_before_llm": True},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert v2["version"] == 2 and v2["set_by"]["id"] == admin.id
    assert v2["retention_days"] == 7, "omitted fields keep the current value"
    assert v2["purposes"]["external_llm"] is True and v2["llm_provider_authorised"] is True

    r = await client.get(base(tenant), headers=owner.headers)
    assert r.json() == v2
    page1 = (await client.get(base(tenant) + "/history", params={"limit": 1}, headers=owner.headers)).json()
    page2 = (await client.get(base(tenant) + "/history", params={"limit": 1, "cursor": page1["next_cursor"]}, headers=owner.headers)).json()
    assert [v["version"] for v in page1["items"] + page2["items"]] == [1, 2] and page2["next_cursor"] is None
    assert page1["items"][0] == v1, "version 1 is unchanged after version 2"

    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(ProcessingInstructions).where(ProcessingInstructions.tenant_id == tenant))).all()
    assert sorted(r.version for r in rows) == [1, 2]


async def test_an_empty_change_adopts_the_defaults_as_a_version_of_record(client, factory):
    """`{}` alters nothing, yet adds a version on purpose: the defaults (version 0) become the tenant's own
    documented instructions, with who confirmed them and when; a later confirmation is on record too."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    defaults = (await client.get(base(tenant), headers=owner.headers)).json()
    r = await client.post(base(tenant), json={}, headers=owner.headers)
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["version"] == 1 and v1["set_by"] == {"kind": "user", "id": owner.id} and v1["set_at"]
    unchanged = ("purposes", "redact_pii_before_llm", "retention_days", "authorised_subprocessors", "llm_provider_authorised")
    assert {k: v1[k] for k in unchanged} == {k: defaults[k] for k in unchanged}
    r = await client.post(base(tenant), json={"retention_days": v1["retention_days"]}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and {k: r.json()[k] for k in unchanged} == {k: v1[k] for k in unchanged}
    history = (await client.get(base(tenant) + "/history", headers=owner.headers)).json()
    assert [v["version"] for v in history["items"]] == [1, 2]


async def test_an_api_key_with_admin_role_is_recorded_as_author(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "ops", "role": "admin"}, headers=owner.headers)
    key = r.json()
    r = await client.post(base(tenant), json={"retention_days": 14}, headers={"Authorization": f"Bearer {key['key']}"})
    assert r.status_code == 201, r.text
    assert r.json()["set_by"] == {"kind": "api_key", "id": key["id"]}


@pytest.mark.parametrize("role", ["editor", "analyst", "operator"])
async def test_only_owners_and_admins_change_or_read_instructions(client, factory, role):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    member = await factory.member(tenant, owner, role)
    r = await client.post(base(tenant), json={"retention_days": 1}, headers=member.headers)
    assert r.status_code == 403
    assert r.json()["type"].endswith("/permission-denied") and r.json()["permission"] == "privacy:manage"
    assert "privacy:manage" in r.json()["detail"]
    r = await client.get(base(tenant), headers=member.headers)
    assert r.status_code == 403 and r.json()["permission"] == "privacy:read"
    r = await client.get(base(tenant), headers=owner.headers)
    assert r.json()["version"] == 0, "nothing was stored"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"purposes": {"external_llm": True}}, "body.purposes.external_llm", "'llm'"),
        ({"authorised_subprocessors": ["cdn"]}, "body.authorised_subprocessors", "hosting"),
    ],
)
async def test_contradictions_are_refused_saying_why(client, factory, change, field, reason):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(base(tenant), json=change, headers=owner.headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/contradictory-instructions")
    assert problem["errors"][0]["field"] == field and reason in problem["detail"]
    assert (await client.get(base(tenant), headers=owner.headers)).json()["version"] == 0


async def test_withdrawing_the_llm_provider_while_external_llm_is_on_is_a_contradiction(client, factory):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(base(tenant), json={"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}}, headers=owner.headers)
    assert r.status_code == 201
    r = await client.post(base(tenant), json={"authorised_subprocessors": ["hosting", "cdn"]}, headers=owner.headers)
    assert r.status_code == 422 and "external_llm" in r.json()["detail"]
    r = await client.post(base(tenant), json={"authorised_subprocessors": ["hosting", "cdn"], "purposes": {"external_llm": False}}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["llm_provider_authorised"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retention": 5}, "body.retention"),
        ({"purposes": {"answer_chat": False}}, "body.purposes.answer_chat"),
        ({"retention_days": 0}, "body.retention_days"),
        ({"retention_days": "forever"}, "body.retention_days"),
        ({"authorised_subprocessors": ["hosting", "cdn", "acme-cloud"]}, "body.authorised_subprocessors"),
    ],
)
async def test_unknown_fields_and_bad_values_are_422_naming_the_field(client, factory, body, field):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    r = await client.post(base(tenant), json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_without_a_configured_llm_external_llm_cannot_be_instructed(backend, factory, client):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    async with running(create_app(backend.settings(openai_base_url=None, retention_job_enabled=False))) as plain, hooked_client(plain) as c:
        r = await c.post(base(tenant), json={"purposes": {"external_llm": True}}, headers=owner.headers)
        assert r.status_code == 422
        assert "no external LLM provider configured" in r.json()["detail"]
        r = await c.post(base(tenant), json={"authorised_subprocessors": ["hosting", "cdn", "llm"]}, headers=owner.headers)
        assert r.status_code == 422 and "Unknown sub-processor(s): llm" in r.json()["detail"]


async def test_a_new_llm_provider_needs_a_new_authorisation(backend, factory):
    """A tenant authorises `llm` for the provider behind it then (Art. 28(2) GDPR): when the operator points the
    platform at another provider, that authorisation does not carry over (a privacy review found it did), until
    the tenant names its sub-processors again. Another change of its instructions keeps it as it is."""
    from confide.privacy.gate import Purpose, PurposeNotInstructed

    owner = await factory.user()
    tenant = await factory.tenant(owner)
    llm_on = {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}}
    async with running(create_app(backend.settings(openai_base_url="https://api.mistral.ai/v1", retention_job_enabled=False))) as eu, hooked_client(eu) as c:
        r = await c.post(base(tenant), json=llm_on, headers=owner.headers)
        assert r.status_code == 201, r.text
        authorised = r.json()
        assert authorised["llm_provider_authorised"] is True and authorised["llm_provider_changed"] is False
        assert authorised["llm_provider"]["name"].startswith("Mistral AI") and authorised["llm_provider"]["location"] == "EU (France)"

    async with running(create_app(backend.settings(openai_base_url="https://api.openai.com/v1", retention_job_enabled=False))) as us, hooked_client(us) as c:
        r = await c.get(base(tenant), headers=owner.headers)
        body = r.json()
        assert body["llm_provider_authorised"] is False and body["llm_provider_changed"] is True, body
        assert body["llm_provider"] == authorised["llm_provider"] and "llm" in body["authorised_subprocessors"]
        async with us.state.sessionmaker() as session:
            with pytest.raises(PurposeNotInstructed):
                await us.state.purpose_gate.authorize(session, tenant_id=tenant, purpose=Purpose.EXTERNAL_LLM, actor="avt_x")
        r = await c.post(base(tenant), json={"retention_days": 9}, headers=owner.headers)  # not a new authorisation
        assert r.status_code == 201 and r.json()["llm_provider_changed"] is True and r.json()["llm_provider_authorised"] is False
        r = await c.post(base(tenant), json=llm_on, headers=owner.headers)
        assert r.status_code == 201, r.text
        assert r.json()["llm_provider_authorised"] is True and r.json()["llm_provider_changed"] is False
        assert r.json()["llm_provider"]["name"].startswith("OpenAI") and r.json()["retention_days"] == 9
        async with us.state.sessionmaker() as session:
            await us.state.purpose_gate.authorize(session, tenant_id=tenant, purpose=Purpose.EXTERNAL_LLM, actor="avt_x")


async def test_instructions_from_before_the_provider_was_kept_get_the_current_one_at_start(backend, factory, client):
    """Rows written before migration p0003 record no provider: a node fills them in at start-up."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    llm_on = {"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}}
    settings = backend.settings(openai_base_url="https://api.mistral.ai/v1", retention_job_enabled=False)
    async with running(create_app(settings)) as node, hooked_client(node) as c:
        assert (await c.post(base(tenant), json={"retention_days": 5}, headers=owner.headers)).status_code == 201
        assert (await c.post(base(tenant), json=llm_on, headers=owner.headers)).status_code == 201
        async with node.state.sessionmaker() as session:  # as the rows were before the migration
            await session.execute(update(ProcessingInstructions).where(ProcessingInstructions.tenant_id == tenant).values(llm_provider=None))
            await session.commit()
    async with running(create_app(settings)) as node, hooked_client(node) as c:
        async with node.state.sessionmaker() as session:
            rows = (await session.scalars(select(ProcessingInstructions).where(ProcessingInstructions.tenant_id == tenant).order_by(ProcessingInstructions.version))).all()
        assert rows[0].llm_provider == {} and rows[1].llm_provider["location"] == "EU (France)"
        assert (await c.get(base(tenant), headers=owner.headers)).json()["llm_provider_authorised"] is True


def _register_json(llm_name: str, llm_location: str) -> str:
    """A register from CONFIDE_SUBPROCESSORS_JSON whose LLM entry has an id of its own."""
    import json

    return json.dumps(
        [
            {"id": "hosting", "name": "Host GmbH", "kind": "hosting", "purpose": "Hosting", "location": "EU (Germany)", "transfer_safeguard": "EU", "required": True},
            {"id": "eu-llm", "name": llm_name, "kind": "llm", "purpose": "Avatar replies", "location": llm_location, "transfer_safeguard": "EU"},
        ]
    )


async def test_a_new_llm_provider_needs_a_new_authorisation_under_an_llm_entry_of_another_id(backend, factory):
    """The register's LLM entry may have an id other than `llm` (CONFIDE_SUBPROCESSORS_JSON): authorising it is
    tied to the provider behind it all the same (a review found a provider change under such an id went unseen)."""
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    llm_on = {"authorised_subprocessors": ["hosting", "eu-llm"], "purposes": {"external_llm": True}}
    first = backend.settings(openai_base_url="https://llm.example.eu/v1", subprocessors_json=_register_json("Alpha LLM SE", "EU (Ireland)"), retention_job_enabled=False)
    async with running(create_app(first)) as node, hooked_client(node) as c:
        r = await c.post(base(tenant), json=llm_on, headers=owner.headers)
        assert r.status_code == 201, r.text
        assert r.json()["llm_provider_authorised"] is True and r.json()["llm_provider"]["name"] == "Alpha LLM SE"

    moved = backend.settings(openai_base_url="https://llm.example.eu/v1", subprocessors_json=_register_json("Beta LLM Inc.", "USA"), retention_job_enabled=False)
    async with running(create_app(moved)) as node, hooked_client(node) as c:
        body = (await c.get(base(tenant), headers=owner.headers)).json()
        assert body["llm_provider_authorised"] is False and body["llm_provider_changed"] is True, body
        assert body["llm_provider"]["name"] == "Alpha LLM SE"
        r = await c.post(base(tenant), json=llm_on, headers=owner.headers)
        assert r.status_code == 201 and r.json()["llm_provider_authorised"] is True and r.json()["llm_provider"]["name"] == "Beta LLM Inc."
