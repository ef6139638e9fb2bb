"""Tenant isolation, proven by walking the route table: every /v1/tenants/{tenant_id}/… route is called
by a member (and an API key) of another tenant, with real ids of the victim's objects, and must answer
404, exactly as for something that does not exist. A new route whose path parameter has no factory
below fails this test, so nothing escapes the mechanism unnoticed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.support.factory import Factory, User

Maker = Callable[[httpx.AsyncClient, Factory, User, str], Awaitable[str]]


async def _member(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    member = await factory.member(tenant_id, owner, "analyst")
    r = await client.get(f"/v1/tenants/{tenant_id}/members", params={"limit": 200}, headers=owner.headers)
    return next(m["id"] for m in r.json()["items"] if m["user_id"] == member.id)


async def _invitation(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    r = await client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": "victim-invite@example.com", "role": "editor"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _api_key(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    r = await client.post(f"/v1/tenants/{tenant_id}/api-keys", json={"name": "victim", "role": "analyst"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _guideline_set(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    body = {"name": "Victim rules", "rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."}]}
    r = await client.post(f"/v1/tenants/{tenant_id}/guideline-sets", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _avatar(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    """A published avatar (so it has version 1, a live widget key and a guideline set)."""
    body = {
        "name": "Victim avatar",
        "persona": {"role_description": "Support"},
        "languages": ["en"],
        "default_language": "en",
        "messages": {"en": {"greeting": "Hi", "fallback": "Sorry"}},
        "guideline_set_id": await _guideline_set(client, factory, owner, tenant_id),
    }
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    avatar_id = r.json()["id"]
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish", headers=owner.headers)
    assert r.status_code == 201, r.text
    return avatar_id


async def _version(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    """Version numbers of avatars and guideline sets: every published avatar and every set has a version 1."""
    return "1"


async def _knowledge_entry(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    avatar_id = await _avatar(client, factory, owner, tenant_id)
    body = {"questions": ["When are you open?"], "answer": "From nine to five.", "language": "en"}
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _knowledge_document(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    avatar_id = await _avatar(client, factory, owner, tenant_id)
    r = await client.post(
        f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/documents",
        content=b"# Returns\n\nWithin 30 days.",
        headers={**owner.headers, "Content-Type": "text/markdown"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _conversation(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    from confide.chats import service as chats
    from tests.support.chat import published_avatar

    avatar = await published_avatar(client, owner, tenant_id)
    app = client._transport.app  # type: ignore[attr-defined]  # the ASGI app behind the test client
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar["avatar_id"], avatar_version_id=None, visitor_id="vis_victim", customer_ref=None, language="en"
        )
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", text="victim's secret")
        await session.commit()
    return conversation.id


async def _tag(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    """A tag on one of the victim's conversations (tags are names, not objects of their own)."""
    conversation_id = await _conversation(client, factory, owner, tenant_id)
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/tags", json={"tags": ["vip"]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    return "vip"


async def _score_definition(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    import secrets

    body = {"name": f"Victim score {secrets.token_hex(4)}", "kind": "numeric", "min_value": 1, "max_value": 5}
    r = await client.post(f"/v1/tenants/{tenant_id}/evaluation/score-definitions", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _score(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    conversation_id = await _conversation(client, factory, owner, tenant_id)
    definition_id = await _score_definition(client, factory, owner, tenant_id)
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores", json={"definition_id": definition_id, "value": 3}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _webhook(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    body = {"name": "Victim CRM", "url": "https://crm.example.com/confide", "events": ["conversation.closed"]}
    r = await client.post(f"/v1/tenants/{tenant_id}/webhooks", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _erasure_request(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    conversation_id = await _conversation(client, factory, owner, tenant_id)
    r = await client.post(f"/v1/tenants/{tenant_id}/erasure-requests", json={"scope": "conversation", "conversation_id": conversation_id}, headers=owner.headers)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def _legal_hold(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    conversation_id = await _conversation(client, factory, owner, tenant_id)
    r = await client.post(f"/v1/tenants/{tenant_id}/legal-holds", json={"conversation_id": conversation_id, "reason": "Victim's litigation"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# Path parameter name -> how to create such an object in the victim's tenant. Every domain adds its own.
PATH_PARAM_FACTORIES: dict[str, Maker] = {
    "member_id": _member,
    "invitation_id": _invitation,
    "key_id": _api_key,
    "avatar_id": _avatar,
    "version": _version,
    "entry_id": _knowledge_entry,
    "document_id": _knowledge_document,
    "set_id": _guideline_set,
    "conversation_id": _conversation,
    "definition_id": _score_definition,
    "score_id": _score,
    "webhook_id": _webhook,
    "tag": _tag,
    "request_id": _erasure_request,
    "hold_id": _legal_hold,
}

# Valid bodies for write routes, so the attack reaches the tenant filter instead of stopping at validation.
VALID_BODIES: dict[tuple[str, str], dict] = {
    ("PATCH", "/v1/tenants/{tenant_id}"): {"name": "Renamed"},
    ("PATCH", "/v1/tenants/{tenant_id}/members/{member_id}"): {"role": "analyst"},
    ("POST", "/v1/tenants/{tenant_id}/invitations"): {"email": "someone@example.com", "role": "analyst"},
    ("POST", "/v1/tenants/{tenant_id}/api-keys"): {"name": "k", "role": "analyst"},
    ("POST", "/v1/tenants/{tenant_id}/avatars"): {"name": "A", "persona": {"role_description": "x"}, "languages": ["en"], "default_language": "en", "messages": {"en": {"greeting": "Hi", "fallback": "No"}}},
    ("PATCH", "/v1/tenants/{tenant_id}/avatars/{avatar_id}"): {"name": "Renamed"},
    ("PUT", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/widget"): {"allowed_origins": ["https://example.com"]},
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/preview"): {"message": "hello"},
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries"): {"questions": ["q?"], "answer": "a", "language": "en"},
    ("PATCH", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries/{entry_id}"): {"answer": "changed"},
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/import"): {"entries": [{"questions": ["q?"], "answer": "a", "language": "en"}]},
    ("POST", "/v1/tenants/{tenant_id}/guideline-sets"): {"name": "Rules", "rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."}]},
    ("PUT", "/v1/tenants/{tenant_id}/guideline-sets/{set_id}"): {"name": "Rules", "rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."}]},
    ("POST", "/v1/tenants/{tenant_id}/guideline-sets/{set_id}/evaluate"): {"text": "hello", "direction": "input"},
    ("PUT", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/resolution"): {"resolved": True},
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"): {"definition_id": "sdef_x", "value": 3},
    ("POST", "/v1/tenants/{tenant_id}/evaluation/score-definitions"): {"name": "Attack", "kind": "boolean"},
    ("PATCH", "/v1/tenants/{tenant_id}/evaluation/score-definitions/{definition_id}"): {"name": "Renamed"},
    ("PATCH", "/v1/tenants/{tenant_id}/evaluation/scores/{score_id}"): {"value": 2},
    ("POST", "/v1/tenants/{tenant_id}/webhooks"): {"name": "Attack", "url": "https://attacker.example.com/x", "events": ["conversation.closed"]},
    ("PATCH", "/v1/tenants/{tenant_id}/webhooks/{webhook_id}"): {"name": "Renamed"},
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/tags"): {"tags": ["vip"]},
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/assign"): {"assignee_id": "me"},
    ("POST", "/v1/tenants/{tenant_id}/conversations/bulk"): {"action": "close", "conversation_ids": ["cnv_x"]},
    ("POST", "/v1/tenants/{tenant_id}/erasure-requests"): {"scope": "before", "before": "2000-01-01T00:00:00Z"},
    ("POST", "/v1/tenants/{tenant_id}/legal-holds"): {"customer_ref": "crm-1", "reason": "Litigation"},
    # Closing a tenant takes its id again in a DELETE body: the attacker confirms the id it attacks.
    ("DELETE", "/v1/tenants/{tenant_id}"): {"confirm_tenant_id": "{tenant_id}"},
}

PARAM = re.compile(r"{([a-z_]+)}")


def comparable(response: httpx.Response) -> tuple:
    body = response.json() if response.headers.get("content-type", "").endswith("json") else response.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "instance"}
    return response.status_code, response.headers.get("content-type"), body


def _body(sends: bool, body: dict, tenant_id: str) -> dict:
    """The request's JSON body, with "{tenant_id}" in a value replaced by the tenant the request names."""
    if not sends:
        return {}
    return {"json": {k: v.replace("{tenant_id}", tenant_id) if isinstance(v, str) else v for k, v in body.items()}}


def tenant_routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/v1/tenants/{tenant_id}"):
            routes.extend((method.upper(), path) for method in operations if method in {"get", "post", "put", "patch", "delete"})
    return sorted(routes)


async def victim_and_attacker(client: httpx.AsyncClient, factory: Factory) -> tuple[User, str, User, str, dict[str, str]]:
    """Two tenants, each with its owner, and the attacker tenant's admin API key (as headers)."""
    victim = await factory.user()
    victim_tenant = await factory.tenant(victim, "Victim AG")
    attacker = await factory.user()
    attacker_tenant = await factory.tenant(attacker, "Attacker AG")
    r = await client.post(f"/v1/tenants/{attacker_tenant}/api-keys", json={"name": "attacker", "role": "admin"}, headers=attacker.headers)
    return victim, victim_tenant, attacker, attacker_tenant, {"Authorization": f"Bearer {r.json()['key']}"}


async def test_every_tenant_route_refuses_other_tenants(app, client, factory):
    victim, victim_tenant, attacker, attacker_tenant, attacker_key = await victim_and_attacker(client, factory)

    routes = tenant_routes(app)
    assert len(routes) >= 10, routes
    missing = sorted({p for _, path in routes for p in PARAM.findall(path) if p != "tenant_id" and p not in PATH_PARAM_FACTORIES})
    assert not missing, f"add PATH_PARAM_FACTORIES entries for: {missing}"

    failures = []
    for method, path in routes:
        ids = {p: await PATH_PARAM_FACTORIES[p](client, factory, victim, victim_tenant) for p in PARAM.findall(path) if p != "tenant_id"}
        attempts = [("their tenant", victim_tenant, attacker.headers), ("their tenant, API key", victim_tenant, attacker_key)]
        if ids:
            attempts.append(("own tenant, their ids", attacker_tenant, attacker.headers))
            attempts.append(("own tenant, their ids, API key", attacker_tenant, attacker_key))
        body = VALID_BODIES.get((method, path), {})
        sends_body = method in {"POST", "PUT", "PATCH"} or (method, path) in VALID_BODIES
        for label, tenant_id, headers in attempts:
            url = path.format(tenant_id=tenant_id, **ids)
            response = await client.request(method, url, headers=headers, **_body(sends_body, body, tenant_id))
            # The same request for ids that exist nowhere: the two answers must be indistinguishable.
            missing_tenant = tenant_id if tenant_id == attacker_tenant else "ten_missing"
            missing_url = path.format(tenant_id=missing_tenant, **{k: k[:3] + "_missing" for k in ids})
            baseline = await client.request(method, missing_url, headers=headers, **_body(sends_body, body, missing_tenant))
            if response.status_code != 404 or response.headers["content-type"] != "application/problem+json":
                hint = " (add a VALID_BODIES entry)" if response.status_code == 422 else ""
                failures.append(f"{method} {path} ({label}): {response.status_code}{hint} {response.text[:200]}")
            elif comparable(response) != comparable(baseline):
                failures.append(f"{method} {path} ({label}): answers differently than for a missing id: {response.text[:200]} vs {baseline.text[:200]}")
    assert not failures, "\n".join(failures)

    # And the victim's data is intact and still theirs.
    r = await client.get(f"/v1/tenants/{victim_tenant}", headers=victim.headers)
    assert r.status_code == 200 and r.json()["name"] == "Victim AG"


@pytest.mark.parametrize("tenant_id", ["ten_doesnotexist", "x" * 300, "../../etc"])
async def test_unknown_tenant_answers_like_a_foreign_one(client, factory, tenant_id):
    user = await factory.user()
    r = await client.get(f"/v1/tenants/{tenant_id}/members", headers=user.headers)
    assert r.status_code == 404
    assert r.json()["type"].endswith("/not-found")


async def _archived_avatar(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> str:
    avatar_id = await _avatar(client, factory, owner, tenant_id)
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{avatar_id}/archive", headers=owner.headers)
    assert r.status_code == 200, r.text
    return avatar_id


# Query parameter naming one of the tenant's objects (a filter of a list or report) -> how to create such an object,
# and further objects of the tenant's own that the filter must accept (an archived avatar still has its figures).
QUERY_FILTER_FACTORIES: dict[str, Maker] = {"avatar_id": _avatar, "definition_id": _score_definition}
QUERY_FILTER_ALSO_OWN: dict[str, list[Maker]] = {"avatar_id": [_archived_avatar]}
# Query parameters of tenant routes that end in `_id` but name no object of the tenant, so there is nothing to check
# them against: the route answers as for any value.
NOT_OBJECT_FILTERS = {
    "rule_id": "a guideline rule's id, chosen in the tenant's own rule sets (`tone`): a name, not an object",
    "visitor_id": "an end customer's pseudonymous id (or subject ref) on exports: no table of visitors; an unknown one exports nothing",
}
# Every (route, filter) pair, pinned: a filter gained or lost shows up here.
FILTERED_ROUTES = {
    ("/v1/tenants/{tenant_id}/conversations", "avatar_id"),
    ("/v1/tenants/{tenant_id}/reports", "avatar_id"),
    ("/v1/tenants/{tenant_id}/ratings", "avatar_id"),
    ("/v1/tenants/{tenant_id}/evaluation/conversations", "avatar_id"),
    ("/v1/tenants/{tenant_id}/evaluation/scores", "avatar_id"),
    ("/v1/tenants/{tenant_id}/evaluation/scores", "definition_id"),
    ("/v1/tenants/{tenant_id}/evaluation/score-definitions/{definition_id}/summary", "avatar_id"),
}


def owned_filter_routes(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """(path, query parameter) of every GET tenant route whose filter is checked against the tenant's objects by the
    one mechanism (confide.core.tenancy.owned_filter), as the route's dependencies say."""
    from confide.core import openapi_errors
    from confide.core.tenancy import owned_filter_of

    found = set()
    for route in openapi_errors._api_routes(app):
        if route.path_format.startswith("/v1/tenants/{tenant_id}"):
            calls = [d.call for d in route.dependant.dependencies]
            for position, call in enumerate(calls):
                owned = owned_filter_of(call)
                if owned is not None:
                    assert route.methods == {"GET"}, (route.path_format, route.methods)
                    # The route's permission is checked first: its require(...) is declared before the filter.
                    assert any(openapi_errors._is_require(c) for c in calls[:position]), (route.path_format, owned.name)
                    found.add((route.path_format, owned.name))
            nested = [c for d in route.dependant.dependencies for c in openapi_errors._calls(d) if owned_filter_of(c)]
            assert not nested, (route.path_format, nested)  # a filter is a parameter of the route itself
    return found


def id_query_params(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """(path, query parameter) of every tenant route's query parameter whose name ends in `_id`, as documented."""
    found = set()
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/v1/tenants/{tenant_id}"):
            for operation in operations.values():
                found.update((path, p["name"]) for p in operation.get("parameters", ()) if p["in"] == "query" and p["name"].endswith("_id"))
    return found


def test_every_id_filter_names_a_tenant_object_through_the_one_mechanism(app):
    """Every query parameter of a tenant route ending in `_id` is either checked by `owned_filter` or, named in
    NOT_OBJECT_FILTERS with the reason, no object of the tenant at all; and every checked one has a factory below."""
    owned = owned_filter_routes(app)
    assert owned == FILTERED_ROUTES, owned ^ FILTERED_ROUTES
    unchecked = sorted(pair for pair in id_query_params(app) - owned if pair[1] not in NOT_OBJECT_FILTERS)
    assert not unchecked, f"declare these filters with tenancy.owned_filter (or say in NOT_OBJECT_FILTERS why not): {unchecked}"
    assert {name for _, name in owned} <= set(QUERY_FILTER_FACTORIES)


async def test_a_filter_naming_another_tenants_object_answers_as_an_unknown_one(app, client, factory):
    """A filter is no path parameter, but the same holds: another tenant's avatar or score definition id answers 404,
    exactly as an id that exists nowhere, never a 200 with zero figures (which would pass for "no data") or anything
    telling the two apart. The tenant's own objects (archived avatars too) are accepted; and in a tenant the caller is
    not in, the filter changes nothing: the answer is the unknown tenant's."""
    victim, victim_tenant, attacker, attacker_tenant, attacker_key = await victim_and_attacker(client, factory)
    theirs = {name: await make(client, factory, victim, victim_tenant) for name, make in QUERY_FILTER_FACTORIES.items()}
    mine = {
        name: [await make(client, factory, attacker, attacker_tenant) for make in [QUERY_FILTER_FACTORIES[name], *QUERY_FILTER_ALSO_OWN.get(name, [])]]
        for name in QUERY_FILTER_FACTORIES
    }

    routes = sorted(owned_filter_routes(app))
    assert set(routes) == FILTERED_ROUTES
    failures = []
    for path, name in routes:
        ids = {p: await PATH_PARAM_FACTORIES[p](client, factory, attacker, attacker_tenant) for p in PARAM.findall(path) if p != "tenant_id"}
        url = path.format(tenant_id=attacker_tenant, **ids)
        unknown = name[:3] + "_missing"
        for label, headers in (("user", attacker.headers), ("API key", attacker_key)):
            for own_id in mine[name]:
                own = await client.get(url, params={name: own_id}, headers=headers)
                if own.status_code != 200:
                    failures.append(f"{path}?{name} ({label}): {own.status_code} for the tenant's own {own_id}: {own.text[:200]}")
            response = await client.get(url, params={name: theirs[name]}, headers=headers)
            baseline = await client.get(url, params={name: unknown}, headers=headers)
            if response.status_code != 404 or response.headers["content-type"] != "application/problem+json":
                failures.append(f"{path}?{name} ({label}): {response.status_code} {response.text[:200]}")
            elif comparable(response) != comparable(baseline):
                failures.append(f"{path}?{name} ({label}): answers differently than for an unknown id: {response.text[:200]} vs {baseline.text[:200]}")
            elif not response.json()["type"].endswith("/not-found") or not response.json()["detail"].startswith("No such "):
                failures.append(f"{path}?{name} ({label}): not the path ids' not-found: {response.text[:200]}")
        # The victim's own tenant, with the victim's id in the filter: the tenant answers first, as an unknown one.
        victim_ids = {p: await PATH_PARAM_FACTORIES[p](client, factory, victim, victim_tenant) for p in PARAM.findall(path) if p != "tenant_id"}
        response = await client.get(path.format(tenant_id=victim_tenant, **victim_ids), params={name: theirs[name]}, headers=attacker.headers)
        baseline = await client.get(path.format(tenant_id="ten_missing", **{k: k[:3] + "_missing" for k in victim_ids}), params={name: unknown}, headers=attacker.headers)
        if response.status_code != 404 or comparable(response) != comparable(baseline):
            failures.append(f"{path}?{name} (their tenant): {response.status_code} {response.text[:200]} vs {baseline.text[:200]}")
    assert not failures, "\n".join(failures)
