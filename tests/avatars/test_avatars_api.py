"""Avatars over REST: the draft, validation that names the field, roles, tenant isolation, pagination,
publishing and rollback, widget keys, the chat-path lookups, and the preview on both engines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event

from avatars.service import get_live_version, get_version_by_id, resolve_widget, resolve_widget_key
from confide.app import create_app
from confide.core.tenancy import Permission
from tests.conftest import client_for, running
from tests.guidelines.test_guideline_sets_api import create_set, fields
from tests.support.factory import Factory
from tests.support.outbox import Outbox


def avatar_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Mia",
        "persona": {"role_description": "Customer service for Example GmbH", "tone_notes": "warm, concise"},
        "appearance": {"image_url": "https://cdn.example.com/mia.png", "accent_color": "#3366ff"},
        "languages": ["en", "de"],
        "default_language": "en",
        "messages": {
            "en": {"greeting": "Hello, I am Mia.", "fallback": "Sorry, I do not know that."},
            "de": {"greeting": "Hallo, ich bin Mia.", "fallback": "Das weiß ich leider nicht."},
        },
    }
    body.update(overrides)
    return body


async def create_avatar(client: httpx.AsyncClient, user: Any, tenant_id: str, **overrides: Any) -> dict[str, Any]:
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars", json=avatar_body(**overrides), headers=user.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def published_avatar(client: httpx.AsyncClient, user: Any, tenant_id: str, **overrides: Any) -> dict[str, Any]:
    """An avatar with a guideline set, published once."""
    gset = await create_set(client, user, tenant_id)
    avatar = await create_avatar(client, user, tenant_id, guideline_set_id=gset["id"], **overrides)
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar['id']}/publish", headers=user.headers)
    assert r.status_code == 201, r.text
    return avatar


@pytest.fixture
async def owner_tenant(factory):
    owner = await factory.user()
    return owner, await factory.tenant(owner)


async def test_create_read_update_archive(client, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant, languages=["en-us", "de"], default_language="en-US", messages={"en-US": {"greeting": "Hi", "fallback": "Sorry"}})
    assert avatar["status"] == "draft" and avatar["live_version"] is None and avatar["has_unpublished_changes"]
    assert avatar["languages"] == ["en-US", "de"], "tags are stored in their standard spelling"
    assert avatar["responder"] == {"engine": "builtin", "model": "", "temperature": 0.3, "max_tokens": 400}
    assert avatar["appearance"]["accent_color"] == "#3366ff"
    assert avatar["widget"]["key"].startswith("cfw_") and len(avatar["widget"]["key"]) > 30
    assert avatar["widget"]["allowed_origins"] == []

    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    r = await client.patch(url, json={"name": "Mia 2", "voice_id": "alloy", "responder": {"engine": "openai", "model": "gpt-4o-mini", "temperature": 1.5, "max_tokens": 100}}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Mia 2" and r.json()["voice_id"] == "alloy" and r.json()["responder"]["engine"] == "openai"
    assert r.json()["persona"] == avatar["persona"], "fields not sent stay"

    r = await client.patch(url, json={"languages": ["en-US"]}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["languages"] == ["en-US"]
    r = await client.patch(url, json={"voice_id": None}, headers=owner.headers)
    assert r.json()["voice_id"] is None

    r = await client.post(url + "/archive", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "archived" and r.json()["archived_at"]
    r = await client.get(url, headers=owner.headers)
    assert r.json()["status"] == "archived" and r.json()["name"] == "Mia 2"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"languages": ["english"]}, "body.languages.0"),
        ({"languages": ["en", "en"]}, "body.languages"),
        ({"default_language": "fr"}, "body.default_language"),
        ({"messages": {"de": {"greeting": "Hallo", "fallback": "Leider nicht"}}}, "body.messages"),
        ({"messages": {"en": {"greeting": "Hi", "fallback": "No"}, "fr": {"greeting": "Salut", "fallback": "Non"}}}, "body.messages.fr"),
        ({"messages": {"en": {"greeting": "", "fallback": "No"}}}, "body.messages.en.greeting"),
        ({"appearance": {"accent_color": "blue"}}, "body.appearance.accent_color"),
        ({"appearance": {"image_url": "http://cdn.example.com/mia.png"}}, "body.appearance.image_url"),
        ({"responder": {"engine": "gpt"}}, "body.responder.engine"),
        ({"responder": {"temperature": 2.5}}, "body.responder.temperature"),
        ({"responder": {"max_tokens": 0}}, "body.responder.max_tokens"),
        ({"name": ""}, "body.name"),
        ({"mood": "happy"}, "body.mood"),
        ({"persona": {"role_description": "x", "age": 3}}, "body.persona.age"),
    ],
)
async def test_bad_avatars_are_refused_naming_the_field(client, owner_tenant, overrides, field):
    owner, tenant = owner_tenant
    r = await client.post(f"/v1/tenants/{tenant}/avatars", json=avatar_body(**overrides), headers=owner.headers)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/validation-error") and field in fields(r), fields(r)
    r = await client.get(f"/v1/tenants/{tenant}/avatars", headers=owner.headers)
    assert r.json()["items"] == []


async def test_patch_validates_the_merged_draft(client, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant)
    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    for body, field in (
        ({"languages": ["de"]}, "body.default_language"),
        ({"default_language": "de", "messages": {"en": {"greeting": "Hi", "fallback": "No"}}}, "body.messages"),
        ({"name": None}, "body.name"),
        ({"languages": None}, "body.languages"),
        ({"status": "published"}, "body.status"),
    ):
        r = await client.patch(url, json=body, headers=owner.headers)
        assert r.status_code == 422 and field in fields(r), (body, r.text)
    r = await client.get(url, headers=owner.headers)
    assert r.json()["languages"] == ["en", "de"] and r.json()["status"] == "draft", "nothing changed"


async def test_guideline_set_must_be_the_tenants_own(client, factory, owner_tenant):
    owner, tenant = owner_tenant
    other = await factory.user()
    other_tenant = await factory.tenant(other)
    foreign = await create_set(client, other, other_tenant)
    for attempt in ("create", "patch"):
        if attempt == "create":
            r = await client.post(f"/v1/tenants/{tenant}/avatars", json=avatar_body(guideline_set_id=foreign["id"]), headers=owner.headers)
        else:
            avatar = await create_avatar(client, owner, tenant)
            r = await client.patch(f"/v1/tenants/{tenant}/avatars/{avatar['id']}", json={"guideline_set_id": foreign["id"]}, headers=owner.headers)
        assert r.status_code == 404, r.text
        assert fields(r) == ["body.guideline_set_id"] and "guideline_set_id" in r.json()["detail"]
    own = await create_set(client, owner, tenant)
    r = await client.patch(f"/v1/tenants/{tenant}/avatars/{avatar['id']}", json={"guideline_set_id": own["id"]}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["guideline_set_id"] == own["id"]


async def test_roles(client, factory, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant)
    analyst = await factory.member(tenant, owner, "analyst")
    editor = await factory.member(tenant, owner, "editor")
    base = f"/v1/tenants/{tenant}/avatars"
    r = await client.get(f"{base}/{avatar['id']}", headers=analyst.headers)
    assert r.status_code == 200
    writes = [
        ("POST", base, avatar_body()),
        ("PATCH", f"{base}/{avatar['id']}", {"name": "x"}),
        ("POST", f"{base}/{avatar['id']}/archive", None),
        ("POST", f"{base}/{avatar['id']}/publish", None),
        ("PUT", f"{base}/{avatar['id']}/widget", {"allowed_origins": []}),
        ("POST", f"{base}/{avatar['id']}/widget/rotate", None),
        ("POST", f"{base}/{avatar['id']}/preview", {"message": "hi"}),
    ]
    for method, url, body in writes:
        r = await client.request(method, url, json=body, headers=analyst.headers)
        assert r.status_code == 403, (method, url, r.text)
        assert r.json()["permission"] == Permission.AVATARS_WRITE.value and "avatars:write" in r.json()["detail"]
    r = await client.patch(f"{base}/{avatar['id']}", json={"name": "Edited"}, headers=editor.headers)
    assert r.status_code == 200


async def test_another_tenants_avatar_is_not_found(client, factory, owner_tenant):
    owner, tenant = owner_tenant
    theirs = await published_avatar(client, owner, tenant)
    attacker = await factory.user()
    own = await factory.tenant(attacker)
    base = f"/v1/tenants/{own}/avatars/{theirs['id']}"
    for method, url, body in (
        ("GET", base, None),
        ("PATCH", base, {"name": "pwned"}),
        ("POST", base + "/archive", None),
        ("POST", base + "/publish", None),
        ("GET", base + "/versions", None),
        ("GET", base + "/versions/1", None),
        ("POST", base + "/versions/1/rollback", None),
        ("GET", base + "/widget", None),
        ("PUT", base + "/widget", {"allowed_origins": ["https://evil.example"]}),
        ("POST", base + "/widget/rotate", None),
        ("POST", base + "/preview", {"message": "hi"}),
    ):
        r = await client.request(method, url, json=body, headers=attacker.headers)
        assert r.status_code == 404 and r.json()["detail"] == "No such avatar.", (method, url, r.text)
    r = await client.get(f"/v1/tenants/{tenant}/avatars/{theirs['id']}", headers=owner.headers)
    assert r.json()["name"] == "Mia" and r.json()["status"] == "published" and r.json()["widget"]["allowed_origins"] == []


async def test_list_paginates_and_filters(client, factory, owner_tenant):
    owner, tenant = owner_tenant
    mia = await create_avatar(client, owner, tenant)
    max_ = await create_avatar(client, owner, tenant, name="Max", languages=["de"], default_language="de", messages={"de": {"greeting": "Hallo", "fallback": "Nein"}})
    amira = await published_avatar(client, owner, tenant, name="Amira_bot")
    base = f"/v1/tenants/{tenant}/avatars"

    r = await client.get(base, params={"limit": 2}, headers=owner.headers)
    page = r.json()
    assert [a["id"] for a in page["items"]] == [mia["id"], max_["id"]] and page["next_cursor"]
    r = await client.get(base, params={"limit": 2, "cursor": page["next_cursor"]}, headers=owner.headers)
    assert [a["id"] for a in r.json()["items"]] == [amira["id"]] and r.json()["next_cursor"] is None

    async def names(**params: Any) -> list[str]:
        r = await client.get(base, params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        return [a["name"] for a in r.json()["items"]]

    assert await names(status="published") == ["Amira_bot"]
    assert await names(status="draft") == ["Mia", "Max"]
    assert await names(language="en") == ["Mia", "Amira_bot"]
    assert await names(language="DE") == ["Mia", "Max", "Amira_bot"], "the filter's tag is normalised too"
    assert await names(name="MI") == ["Mia", "Amira_bot"]
    assert await names(name="_") == ["Amira_bot"], "LIKE wildcards are literal"
    assert await names(name="a", status="draft", language="de") == ["Mia", "Max"]

    for params, field in (({"status": "deleted"}, "query.status"), ({"language": "xx-!!"}, "query.language"), ({"colour": "red"}, "query.colour")):
        r = await client.get(base, params=params, headers=owner.headers)
        assert r.status_code == 422 and field in fields(r), r.text

    # A cursor is bound to its tenant and its query.
    r = await client.get(base, params={"limit": 2, "status": "draft"}, headers=owner.headers)
    assert r.json()["next_cursor"] is None
    r = await client.get(base, params={"limit": 2, "status": "published", "cursor": page["next_cursor"]}, headers=owner.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")
    other = await factory.user()
    other_tenant = await factory.tenant(other)
    r = await client.get(f"/v1/tenants/{other_tenant}/avatars", params={"limit": 2, "cursor": page["next_cursor"]}, headers=other.headers)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")
    r = await client.get(base, params={"cursor": "garbage"}, headers=owner.headers)
    assert r.status_code == 400


async def test_publish_edit_publish_rollback(client, app, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant)
    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    r = await client.post(url + "/publish", headers=owner.headers)
    assert r.status_code == 409 and "guideline_set_id" in r.json()["detail"], "no publishing without guidelines"

    gset = await create_set(client, owner, tenant)
    await client.patch(url, json={"guideline_set_id": gset["id"]}, headers=owner.headers)
    await client.post(url + "/knowledge/entries", json={"questions": ["When are you open?"], "answer": "From nine to five.", "language": "en"}, headers=owner.headers)
    r = await client.post(url + "/publish", headers=owner.headers)
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["version"] == 1 and v1["live"] and v1["published_by"] == owner.id and v1["guideline_version_id"] == gset["current_version_id"]
    r = await client.get(url, headers=owner.headers)
    assert r.json()["status"] == "published" and r.json()["live_version"] == 1 and not r.json()["has_unpublished_changes"]

    # Editing a published avatar edits the draft; the live version stays as published.
    r = await client.patch(url, json={"name": "Mia Neu", "persona": {"role_description": "Sales"}}, headers=owner.headers)
    assert r.json()["has_unpublished_changes"] and r.json()["live_version"] == 1 and r.json()["status"] == "published"
    await client.post(url + "/knowledge/entries", json={"questions": ["Prices?"], "answer": "Ask sales.", "language": "en"}, headers=owner.headers)
    await client.put(f"/v1/tenants/{tenant}/guideline-sets/{gset['id']}", json={"name": "v2", "rules": [{"id": "t", "kind": "style", "instruction": "Be brief."}]}, headers=owner.headers)
    async with app.state.sessionmaker() as session:
        live = await get_live_version(session, avatar["id"])
    assert live.version == 1 and live.name == "Mia" and live.guideline.version == 1
    assert [e["answer"] for e in live.knowledge["entries"]] == ["From nine to five."]

    r = await client.post(url + "/publish", headers=owner.headers)
    assert r.json()["version"] == 2
    async with app.state.sessionmaker() as session:
        live = await get_live_version(session, avatar["id"])
        assert live.version == 2 and live.name == "Mia Neu" and live.guideline.version == 2 and len(live.knowledge["entries"]) == 2
        assert live.guideline.spec["rules"][0]["instruction"] == "Be brief."
        assert await get_live_version(session, avatar["id"], tenant_id="ten_other") is None

    r = await client.get(url + "/versions", headers=owner.headers)
    assert [(v["version"], v["live"]) for v in r.json()["items"]] == [(1, False), (2, True)]
    assert "snapshot" not in r.json()["items"][0]
    r = await client.get(url + "/versions/1", headers=owner.headers)
    assert r.json()["snapshot"]["avatar"]["name"] == "Mia" and r.json()["snapshot"]["guideline"]["version"] == 1

    # Roll back: version 1 is live again and the draft (config and knowledge) is a copy of it.
    r = await client.post(url + "/versions/1/rollback", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["live_version"] == 1 and r.json()["name"] == "Mia" and not r.json()["has_unpublished_changes"]
    assert r.json()["persona"] == avatar["persona"]
    r = await client.get(url + "/knowledge/entries", headers=owner.headers)
    assert [e["answer"] for e in r.json()["items"]] == ["From nine to five."]
    async with app.state.sessionmaker() as session:
        live = await get_live_version(session, avatar["id"])
        assert live.version == 1 and live.name == "Mia"
    r = await client.get(url + "/versions", headers=owner.headers)
    assert [(v["version"], v["live"]) for v in r.json()["items"]] == [(1, True), (2, False)], "versions are never removed"
    for missing in ("3", "0", "x", "-1"):
        r = await client.post(url + f"/versions/{missing}/rollback", headers=owner.headers)
        assert r.status_code == 404 and r.json()["detail"] == "No such avatar version."


async def test_widget_keys_origins_and_rotation(client, app, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant)
    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    key = avatar["widget"]["key"]
    async with app.state.sessionmaker() as session:
        assert await resolve_widget_key(session, key) is None, "a draft is not on the air"

    r = await client.put(url + "/widget", json={"allowed_origins": ["https://Shop.Example.com", "https://example.com:8443", "http://localhost:5173", "https://a.example/"]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["allowed_origins"] == ["https://shop.example.com", "https://example.com:8443", "http://localhost:5173", "https://a.example"]
    for bad in ("http://shop.example.com", "https://shop.example.com/path", "https://*.example.com", "ftp://example.com", "example.com", "https://user@example.com", "http://localhost", "https://exa mple.com", "https://example.com?x=1"):
        r = await client.put(url + "/widget", json={"allowed_origins": [bad]}, headers=owner.headers)
        assert r.status_code == 422 and fields(r) == ["body.allowed_origins.0"], (bad, r.text)

    gset = await create_set(client, owner, tenant)
    await client.patch(url, json={"guideline_set_id": gset["id"]}, headers=owner.headers)
    await client.post(url + "/publish", headers=owner.headers)
    async with app.state.sessionmaker() as session:
        assert await resolve_widget_key(session, key) == (tenant, avatar["id"])
        target = await resolve_widget(session, key)
        assert target.allows_origin("https://shop.example.com") and not target.allows_origin("https://evil.example") and not target.allows_origin(None)
        version = await get_version_by_id(session, target.live_version_id, tenant_id=tenant)
        assert version.version == 1 and version.avatar_id == avatar["id"]
        assert await resolve_widget_key(session, "cfw_" + "x" * 32) is None
        assert await resolve_widget_key(session, "") is None

    r = await client.post(url + "/widget/rotate", headers=owner.headers)
    new_key = r.json()["key"]
    assert new_key != key and new_key.startswith("cfw_") and r.json()["allowed_origins"][0] == "https://shop.example.com"
    async with app.state.sessionmaker() as session:
        assert await resolve_widget_key(session, key) is None, "the old key stops working"
        assert await resolve_widget_key(session, new_key) == (tenant, avatar["id"])
    r = await client.get(url + "/widget", headers=owner.headers)
    assert r.json()["key"] == new_key

    await client.post(url + "/archive", headers=owner.headers)
    async with app.state.sessionmaker() as session:
        assert await resolve_widget_key(session, new_key) is None, "archived avatars are off the air"
        assert await get_live_version(session, avatar["id"]) is None
    await client.post(url + "/publish", headers=owner.headers)
    async with app.state.sessionmaker() as session:
        assert await resolve_widget_key(session, new_key) == (tenant, avatar["id"]), "publishing brings it back"


async def test_chat_lookups_are_one_query_each(client, app, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await published_avatar(client, owner, tenant)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if "avatar" in statement:
            statements.append(statement)

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with app.state.sessionmaker() as session:
            target = await resolve_widget(session, avatar["widget"]["key"])
            assert len(statements) == 1
            live = await get_live_version(session, target.avatar_id)
            assert len(statements) == 2
            by_id = await get_version_by_id(session, target.live_version_id, tenant_id=tenant)
            assert len(statements) == 3
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    assert live == by_id
    assert (live.tenant_id, live.avatar_id, live.version, live.name) == (tenant, avatar["id"], 1, "Mia")
    assert live.persona["role_description"] == "Customer service for Example GmbH"
    assert live.languages == ("en", "de") and live.default_language == "en"
    assert live.messages_for("de") == {"greeting": "Hallo, ich bin Mia.", "fallback": "Das weiß ich leider nicht."}
    assert live.messages_for("fr")["greeting"] == "Hello, I am Mia."
    assert live.pick_language("de-CH") == "de" and live.pick_language("fr") == "en" and live.pick_language(None) == "en"
    assert live.responder["engine"] == "builtin" and live.guideline.version == 1 and live.guideline.spec["rules"]
    assert live.knowledge == {"entries": [], "documents": []}


async def test_preview_with_the_builtin_responder(client, owner_tenant):
    owner, tenant = owner_tenant
    gset = await create_set(client, owner, tenant)
    avatar = await create_avatar(client, owner, tenant, guideline_set_id=gset["id"])
    url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}"
    await client.post(url + "/knowledge/entries", json={"questions": ["When are you open?", "opening hours"], "answer": "We are open from nine to five. MegaCorp is not.", "language": "en"}, headers=owner.headers)

    r = await client.post(url + "/preview", json={"message": "When are you open?"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reply"] == "We are open from nine to five. another provider is not."
    assert body["language"] == "en" and body["engine"] == "builtin" and not body["blocked"]
    assert body["input_verdict"]["action"] == "allow"
    assert body["output_verdict"]["action"] == "redact" and body["output_verdict"]["rule_ids"] == ["competitor"]
    assert "AI" in body["disclosure"]
    assert body["outcome"]["knowledge_ids"] and not body["outcome"]["fallback_used"]

    r = await client.post(url + "/preview", json={"message": "I will file a lawsuit", "language": "en"}, headers=owner.headers)
    body = r.json()
    assert body["blocked"] and body["reply"] == "I cannot talk about legal matters." and body["output_verdict"] is None

    r = await client.post(url + "/preview", json={"message": "Wie ist das Wetter auf dem Mars?", "language": "de-AT"}, headers=owner.headers)
    body = r.json()
    assert body["language"] == "de" and body["reply"].startswith("Das weiß ich leider nicht.")
    assert body["outcome"]["fallback_used"]

    r = await client.post(url + "/preview", json={"message": ""}, headers=owner.headers)
    assert r.status_code == 422 and fields(r) == ["body.message"]


async def test_preview_without_guidelines_answers_unchecked(client, owner_tenant):
    owner, tenant = owner_tenant
    avatar = await create_avatar(client, owner, tenant)
    r = await client.post(f"/v1/tenants/{tenant}/avatars/{avatar['id']}/preview", json={"message": "hello"}, headers=owner.headers)
    assert r.status_code == 200
    assert r.json()["reply"] == "Hello, I am Mia." and r.json()["input_verdict"] is None and r.json()["outcome"]["greeting"]


async def authorise_llm(client, owner, tenant: str) -> None:
    """The tenant's instructions: the LLM provider authorised, the external_llm purpose on, PII redacted first."""
    r = await client.post(
        f"/v1/tenants/{tenant}/privacy/instructions",
        json={"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}, "redact_pii_before_llm": True},
        headers=owner.headers,
    )
    assert r.status_code in (200, 201), r.text


async def test_preview_with_the_openai_engine(backend, fake_llm):
    app = create_app(backend.settings(openai_base_url=fake_llm.base_url, openai_api_key="test", openai_allowed_models="m-1, m-2"))
    async with running(app), client_for(app) as client:
        factory = Factory(client, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
        owner = await factory.user()
        tenant = await factory.tenant(owner)
        gset = await create_set(client, owner, tenant)
        avatar = await create_avatar(client, owner, tenant, guideline_set_id=gset["id"], responder={"engine": "openai", "model": "m-1", "temperature": 0.5, "max_tokens": 99})
        url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}/preview"

        # The tenant has not authorised the LLM provider (its default instructions): the preview answers from the
        # knowledge, as a chat would, and nothing reaches the LLM (it used to, a privacy review found).
        r = await client.post(url, json={"message": "Are you faster? Mail me at erika@example.com"}, headers=owner.headers)
        assert r.status_code == 200, r.text
        assert r.json()["outcome"]["engine"] == "builtin" and r.json()["outcome"]["error"] == "not_instructed", r.json()
        assert fake_llm.chat_requests == []
        await authorise_llm(client, owner, tenant)

        fake_llm.script("Sure! MegaCorp is slower than us. Anything else?")
        r = await client.post(url, json={"message": "Are you faster than the competition? Mail me at erika@example.com"}, headers=owner.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["engine"] == "openai" and body["reply"] == "Sure! another provider is slower than us. Anything else?"
        assert body["outcome"]["engine"] == "openai" and body["outcome"]["error"] is None
        request = fake_llm.chat_requests[-1].body
        assert request["model"] == "m-1" and request["temperature"] == 0.5 and request["max_tokens"] == 99
        system = request["messages"][0]["content"]
        assert "Be friendly and concise." in system and "Mia" in system
        user_text = request["messages"][-1]["content"]
        assert user_text.startswith("Are you faster than the competition? Mail me at ") and "erika@example.com" not in user_text, user_text
        await app.state.purpose_gate.flush()
        r = await client.get(f"/v1/tenants/{tenant}/privacy/processing-log", params={"purpose": "external_llm"}, headers=owner.headers)
        assert r.status_code == 200 and [e["actor"] for e in r.json()["items"]] == [owner.id], r.text

        fake_llm.script("Your refund is approved.")
        r = await client.post(url, json={"message": "Where is my money?"}, headers=owner.headers)
        body = r.json()
        assert body["output_verdict"]["action"] == "handoff" and body["output_verdict"]["handoff_reason"] == "decision_required"
        assert "approved" not in body["reply"], "an announced decision never reaches the visitor"

        calls = len(fake_llm.chat_requests)
        r = await client.post(url, json={"message": "I want a lawsuit"}, headers=owner.headers)
        assert r.json()["blocked"] and len(fake_llm.chat_requests) == calls, "a refused input never reaches the LLM"


async def test_an_avatar_names_only_a_model_and_a_token_budget_the_server_offers(backend, fake_llm):
    """The LLM runs on the deployment's key (security review): tenants choose among the operator's models
    (CONFIDE_OPENAI_MODEL and CONFIDE_OPENAI_ALLOWED_MODELS) within CONFIDE_OPENAI_MAX_TOKENS; a model taken
    off the list since an avatar was saved answers with the default, and previews are rate-limited per tenant."""
    settings = {"openai_base_url": fake_llm.base_url, "openai_api_key": "test", "openai_model": "house-model", "openai_max_tokens": 300, "preview_limit_per_minute": 3}
    app = create_app(backend.settings(**settings, openai_allowed_models="premium-model"))
    async with running(app), client_for(app) as client:
        factory = Factory(client, Outbox(app.state.settings.resolved_outbox_dir), settle=app.state.detached_mails.drain)
        owner = await factory.user()
        tenant = await factory.tenant(owner)
        gset = await create_set(client, owner, tenant)
        body = {"engine": "openai", "model": "o1-pro-attacker-chosen", "temperature": 0.5, "max_tokens": 200}
        r = await client.post(f"/v1/tenants/{tenant}/avatars", json=avatar_body(guideline_set_id=gset["id"], responder=body), headers=owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.responder.model", r.text
        assert "house-model, premium-model" in r.json()["errors"][0]["message"]
        r = await client.post(f"/v1/tenants/{tenant}/avatars", json=avatar_body(guideline_set_id=gset["id"], responder={**body, "model": "premium-model", "max_tokens": 8192}), headers=owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.responder.max_tokens", r.text
        avatar = await create_avatar(client, owner, tenant, guideline_set_id=gset["id"], responder={**body, "model": "premium-model"})
        r = await client.patch(f"/v1/tenants/{tenant}/avatars/{avatar['id']}", json={"responder": body}, headers=owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.responder.model"

        await authorise_llm(client, owner, tenant)
        url = f"/v1/tenants/{tenant}/avatars/{avatar['id']}/preview"
        fake_llm.script("We open at nine.")
        assert (await client.post(url, json={"message": "When do you open?"}, headers=owner.headers)).status_code == 200
        assert fake_llm.chat_requests[-1].body["model"] == "premium-model"
    # the operator takes the model off the list and lowers the budget: the saved avatar answers with the default
    app = create_app(backend.settings(**{**settings, "openai_max_tokens": 50}))
    async with running(app), client_for(app) as client:
        codes = []
        for _ in range(4):
            r = await client.post(url, json={"message": "When do you open?"}, headers=owner.headers)
            codes.append(r.status_code)
        request = fake_llm.chat_requests[-1].body
        assert (request["model"], request["max_tokens"]) == ("house-model", 50)
        # three a minute per tenant (on Redis the first app's preview counts too)
        assert codes[:2] == [200, 200] and codes[-1] == 429 and int(r.headers["retry-after"]) > 0
