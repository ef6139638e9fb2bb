"""The OpenAPI document tells the truth about errors: problem+json everywhere (confide.core.openapi_errors),
the common errors each route can give, and bodies that match what is documented."""

from __future__ import annotations

import ast
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from confide.core import openapi_errors
from confide.core.mail import SmtpMailer
from tests.support.factory import Factory
from tests.support.smtp import smtp_relay

PROBLEM = "application/problem+json"
SCHEMAS = "#/components/schemas/"
JSON_TYPES = {"string": str, "integer": int, "array": list, "object": dict}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _schema_of(response: dict[str, Any]) -> str:
    """The component a documented error response refers to, under application/problem+json only."""
    content = response.get("content") or {}
    assert list(content) == [PROBLEM], content
    ref = content[PROBLEM]["schema"]["$ref"]
    assert ref.startswith(SCHEMAS)
    return ref.removeprefix(SCHEMAS)


def _check(body: Any, schema: dict[str, Any], spec: dict[str, Any]) -> None:
    """Enough of JSON Schema for these components: $ref, object with required keys and typed properties, arrays."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].removeprefix(SCHEMAS)]
    kind = schema.get("type")
    if kind:
        assert isinstance(body, JSON_TYPES[kind]) and not isinstance(body, bool), (body, schema)
    if kind == "object":
        assert set(schema.get("required", ())) <= set(body), (sorted(body), schema.get("required"))
        if schema.get("additionalProperties") is False:
            assert set(body) <= set(schema.get("properties", {})), body
        for key, value in body.items():
            if key in schema.get("properties", {}):
                _check(value, schema["properties"][key], spec)
    if kind == "array":
        for item in body:
            _check(item, schema["items"], spec)


async def test_no_fastapi_validation_schema_anywhere(client):
    spec = await _spec(client)
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text
    assert f'"{SCHEMAS}ValidationError"' not in text
    schemas = spec["components"]["schemas"]
    assert "ValidationError" not in schemas and "HTTPValidationError" not in schemas
    assert {"Problem", "ValidationProblem", "ProblemFieldError"} <= set(schemas)
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert "errors" in schemas["ValidationProblem"]["required"]
    # The API's own description says so.
    assert "problem+json" in spec["info"]["description"]


async def test_every_error_response_is_problem_json(client):
    spec = await _spec(client)
    with_422 = 0
    for path, method, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code == "422":
                with_422 += 1
                assert _schema_of(response) == "ValidationProblem", (method, path)
            elif code[0] in "45":
                assert _schema_of(response) == "Problem", (method, path, code)
    assert with_422 >= 120  # every operation: unknown query parameters are refused app-wide


async def test_token_routes_document_invalid_token(client):
    spec = await _spec(client)
    for path in ("/v1/newsletter/confirm", "/v1/contact/objection", "/v1/accounts/verify", "/v1/invitations/accept"):
        responses = spec["paths"][path]["post"]["responses"]
        assert "invalid-token" in responses["400"]["description"], path
    # Public routes need no token: no 401 for them.
    assert "401" not in spec["paths"]["/v1/newsletter/confirm"]["post"]["responses"]
    # And it is what the route answers.
    r = await client.post("/v1/newsletter/confirm", json={"token": "cfn_" + "x" * 40})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token"), r.text


async def test_list_routes_with_a_cursor_document_invalid_cursor(client, factory: Factory):
    spec = await _spec(client)
    for path, method, operation in _operations(spec):
        has_cursor = any(p["in"] == "query" and p["name"] == "cursor" for p in operation.get("parameters", []))
        if has_cursor:
            assert "400" in operation["responses"], (method, path)
    members = spec["paths"]["/v1/tenants/{tenant_id}/members"]["get"]["responses"]
    assert "invalid-cursor" in members["400"]["description"]
    owner = await factory.user()
    tenant_id = await factory.tenant(owner)
    r = await client.get(f"/v1/tenants/{tenant_id}/members", params={"cursor": "not-a-cursor"}, headers=owner.headers)
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(members["400"])}, spec)


async def test_tenant_routes_document_401_403_and_404(client, factory: Factory):
    spec = await _spec(client)
    tenant_paths = [(p, m, op) for p, m, op in _operations(spec) if p.startswith("/v1/tenants/{tenant_id}")]
    assert len(tenant_paths) > 50
    for path, method, operation in tenant_paths:
        assert {"401", "404", "422"} <= set(operation["responses"]), (method, path)
    read = spec["paths"]["/v1/tenants/{tenant_id}"]["get"]["responses"]
    assert "tenant:read" in read["403"]["description"]
    # A route's own rules add their 403s to those of its dependencies (a review found them missing).
    bulk = spec["paths"]["/v1/tenants/{tenant_id}/conversations/bulk"]["post"]
    assert "`chats:operate`" in bulk["responses"]["403"]["description"] and "`data:erase`" in bulk["responses"]["403"]["description"]
    for method in ("patch", "delete"):
        score = spec["paths"]["/v1/tenants/{tenant_id}/evaluation/scores/{score_id}"][method]
        assert "written by someone else, unless you are an admin" in score["responses"]["403"]["description"], method
    members = spec["paths"]["/v1/tenants/{tenant_id}/members/{member_id}"]
    assert "an owner removed by someone who is not an owner" in members["delete"]["responses"]["403"]["description"]
    assert "the owner role granted by someone who is not an owner" in members["patch"]["responses"]["403"]["description"]
    assert "`person-required`" in spec["paths"]["/v1/tenants/{tenant_id}/api-keys"]["post"]["responses"]["403"]["description"]
    assert not [(p, m) for p, m, op in _operations(spec) if "x-confide-forbidden" in op]
    assert "WWW-Authenticate" in read["401"]["headers"]

    owner, stranger = await factory.user(), await factory.user()
    tenant_id = await factory.tenant(owner)
    r = await client.get(f"/v1/tenants/{tenant_id}")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(read["401"])}, spec)
    r = await client.get(f"/v1/tenants/{tenant_id}", headers=stranger.headers)
    assert r.status_code == 404
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(read["404"])}, spec)


async def test_a_filter_naming_a_tenant_object_documents_its_404(app: FastAPI, client, factory: Factory):
    """A query filter declared with tenancy.owned_filter (`?avatar_id=`, `?definition_id=`) gets the 404 documented from
    the dependency, as a path id does: on exactly the routes that take such a filter, naming each filter, and no route
    declares it by hand. The answer to another tenant's avatar is that documented problem."""
    from tests.test_isolation import FILTERED_ROUTES, _avatar

    spec = await _spec(client)
    documented = set()
    for path, method, operation in _operations(spec):
        description = operation["responses"].get("404", {}).get("description", "")
        named = {name for name in re.findall(r"`([a-z_]+)` names no ", description)}
        documented.update((path, name) for name in named)
        if named:
            assert method == "get" and description.startswith("Nothing found for `") and "(problem type `not-found`)" in description, (method, path)
            assert "another tenant's as much as an unknown one" in description, (method, path)
    assert documented == FILTERED_ROUTES, documented ^ FILTERED_ROUTES
    # Generated, not declared: no route with such a filter declares its 404 by hand.
    filtered = {path for path, _ in FILTERED_ROUTES}
    declared = sorted(
        route.path_format
        for route in openapi_errors._api_routes(app)
        if route.path_format in filtered and (404 in (route.responses or {}) or "404" in (route.responses or {}))
    )
    assert not declared, declared
    scores = spec["paths"]["/v1/tenants/{tenant_id}/evaluation/scores"]["get"]
    assert "`definition_id` names no score definition of this tenant" in scores["responses"]["404"]["description"]
    parameters = {p["name"]: p for p in scores["parameters"]}
    assert "answers 404 (`not-found`)" in parameters["avatar_id"]["description"]
    assert "answers 404 (`not-found`)" in parameters["definition_id"]["description"]

    owner, other = await factory.user(), await factory.user()
    tenant_id, other_tenant = await factory.tenant(owner), await factory.tenant(other)
    theirs = await _avatar(client, factory, other, other_tenant)
    r = await client.get(f"/v1/tenants/{tenant_id}/ratings", params={"avatar_id": theirs}, headers=owner.headers)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, r.text
    assert r.json()["type"].endswith("/not-found") and r.json()["detail"] == "No such avatar."
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(spec["paths"]["/v1/tenants/{tenant_id}/ratings"]["get"]["responses"]["404"])}, spec)


async def test_every_documented_401_is_what_an_anonymous_caller_gets(client):
    """Walks every operation that documents 401 and calls it without credentials: the answer is a documented
    401 (or 403 `operator-access-disabled` where operator routes are off), never something undocumented."""
    spec = await _spec(client)
    checked = 0
    for path, method, operation in _operations(spec):
        if "401" not in operation["responses"]:
            continue
        if path == "/v1/auth/login":  # its 401 is about the email and password in the body: sent with both, below
            r = await client.post(path, json={"email": "nobody@example.com", "password": "not the password 1"})
            assert r.status_code == 401 and r.json()["type"].endswith("/invalid-credentials"), r.text
            checked += 1
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        kwargs: dict[str, Any] = {"json": {}} if "requestBody" in operation else {}
        r = await client.request(method.upper(), url, **kwargs)
        assert str(r.status_code) in operation["responses"], (method, path, r.status_code)
        assert r.status_code in (401, 403) and r.headers["content-type"] == PROBLEM, (method, path, r.status_code)
        if r.status_code == 403:
            assert r.json()["type"].endswith("/operator-access-disabled"), (method, path)
        checked += 1
    assert checked > 100


async def test_a_real_422_matches_the_documented_schema(client):
    spec = await _spec(client)
    documented = spec["paths"]["/v1/auth/login"]["post"]["responses"]["422"]
    schema = {"$ref": SCHEMAS + _schema_of(documented)}
    for r in (
        await client.post("/v1/auth/login", json={"email": "a@example.com", "password": "x", "remember_me": True}),
        await client.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"}, params={"unknown": "1"}),
    ):
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
        body = r.json()
        _check(body, schema, spec)
        assert set(body) == {"type", "title", "status", "detail", "instance", "errors"}
        for error in body["errors"]:
            assert set(error) == set(spec["components"]["schemas"]["ProblemFieldError"]["required"])


async def test_responses_a_route_declares_are_kept(client):
    spec = await _spec(client)
    close = spec["paths"]["/v1/tenants/{tenant_id}"]["delete"]["responses"]
    assert close["409"]["description"].startswith("Legal holds are in force")
    assert close["403"]["description"].startswith("Not an owner of this tenant")
    assert close["422"]["description"].startswith("`confirm_tenant_id` missing")
    assert _schema_of(close["422"]) == "ValidationProblem"
    reset = spec["paths"]["/v1/auth/password-reset/confirm"]["post"]["responses"]
    assert reset["400"]["description"].startswith("The token is unknown, already used or expired")
    assert "Retry-After" in reset["429"]["headers"]
    # Success responses are untouched.
    assert close["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/TenantClosureOut")


async def test_the_schema_is_built_once(app: FastAPI):
    first = app.openapi()
    assert app.openapi() is first is app.openapi_schema
    assert list(first["paths"]["/healthz"]["get"]["responses"]) == ["200", "422"]


# Every route that can answer 429, as the route table's code says (openapi_errors.rate_limited): pinned here so
# that a route losing or gaining a rate limit, or the analysis missing one, shows up.
RATE_LIMITED_ROUTES = {
    ("post", "/v1/accounts"),  # registrations per address and per email address
    ("post", "/v1/accounts/verification"),  # confirmation mails sent again
    ("post", "/v1/auth/login"),
    ("post", "/v1/auth/password-reset"),
    ("post", "/v1/auth/password-reset/confirm"),
    ("patch", "/v1/me"),  # a new email address needs the current password: password checks are limited
    ("post", "/v1/me/password"),  # the same password checks
    ("post", "/v1/me/erasure"),
    ("post", "/v1/contact"),
    ("post", "/v1/tenants/{tenant_id}/webhooks/{webhook_id}/ping"),  # pings per tenant (webhook_pings_per_minute)
    ("post", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/preview"),  # previews per tenant (each may be an LLM call)
    ("get", "/v1/tenants/{tenant_id}/exports/conversations"),  # exports a tenant runs at once (export_concurrency_per_tenant)
    ("get", "/v1/tenants/{tenant_id}/exports/manifest"),
    # every operator route: wrong X-Operator-Token values per address (privacy/operators.py)
    ("get", "/v1/admin/contact-messages"),
    ("get", "/v1/admin/contact-messages/{message_id}"),
    ("get", "/v1/admin/retention"),
    ("get", "/v1/admin/tenant-closures"),
    ("post", "/v1/admin/contact-messages/{message_id}/conclude"),
    ("post", "/v1/admin/contact-messages/objection"),
    ("post", "/v1/admin/contact-messages/export"),
    ("post", "/v1/admin/newsletter/withdrawal"),
    ("post", "/v1/admin/newsletter"),
    ("post", "/v1/admin/retention/run"),
    ("post", "/v1/admin/tenant-closures/{closure_id}/retry"),
    ("post", "/v1/admin/accounts/export"),
    ("post", "/v1/admin/accounts/erasure"),
    ("post", "/v1/admin/accounts/restriction"),
    ("post", "/v1/admin/accounts/rectification"),
    ("delete", "/v1/admin/accounts/restriction"),
    ("post", "/v1/admin/accounts/objection"),
}
OWN_SOURCES = [Path(__file__).parent.parent / d for d in ("platform/confide", "avatars", "guidelines")]


def _rate_limited_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.lower(), route.path_format)
        for route in openapi_errors._api_routes(app)
        if openapi_errors.rate_limited([route.dependant.call, *openapi_errors._calls(route.dependant)])
        for method in route.methods
    }


async def test_every_route_that_can_answer_429_documents_it(app: FastAPI, client):
    assert _rate_limited_routes(app) == RATE_LIMITED_ROUTES
    spec = await _spec(client)
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert ("429" in responses) == ((method, path) in RATE_LIMITED_ROUTES), (method, path)  # and no 429 where none can come
        if "429" in responses:
            assert _schema_of(responses["429"]) == "Problem", (method, path)
            assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}, (method, path)
    # A route that declares its 429 keeps its words; the others get the general description.
    assert spec["paths"]["/v1/auth/login"]["post"]["responses"]["429"]["description"].startswith("Too many sign-in attempts")
    for path, method in (("/v1/me", "patch"), ("/v1/me/password", "post")):
        assert spec["paths"][path][method]["responses"]["429"]["description"] == openapi_errors.TOO_MANY_REQUESTS


def _functions_of(module: types.ModuleType):
    for value in list(vars(module).values()):
        if getattr(value, "__module__", None) != module.__name__:
            continue  # imported from elsewhere: seen in its own module
        if isinstance(value, types.FunctionType):
            yield value
        elif isinstance(value, type):
            for member in vars(value).values():
                function = openapi_errors._function(member)
                if function is not None:
                    yield function


def test_every_rate_limit_is_found_from_a_route(app: FastAPI):
    """The analysis follows only the calls the code names. Every function that checks a rate limit must be
    reached from some route that way, and RateLimited is raised nowhere but in the Services methods the analysis
    looks for (openapi_errors.RATE_LIMITS) and the export slots' claim, so a rate limit added where the analysis cannot see it fails here
    instead of going undocumented."""
    reached = {
        function
        for route in openapi_errors._api_routes(app)
        for function in openapi_errors.reachable([route.dependant.call, *openapi_errors._calls(route.dependant)])
    }
    counting = {
        function
        for name, module in list(sys.modules.items())
        if module is not None and name.partition(".")[0] in openapi_errors.OWN_PACKAGES
        for function in _functions_of(module)
        if openapi_errors._read(function)[0]
    }
    # login, the mail requests, password checks (account erasure's too), reset confirmation, contact
    assert len(counting) >= 5
    missed = sorted(f"{f.__module__}.{f.__qualname__}" for f in counting - reached)
    assert not missed, f"rate limits no route was found to reach; their routes' 429 would go undocumented: {missed}"

    raised = []  # (file, the function around the call) of every RateLimited(...)
    for root in OWN_SOURCES:
        for source in root.rglob("*.py"):
            for function in ast.walk(ast.parse(source.read_text())):
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for node in ast.walk(function):
                        if isinstance(node, ast.Call) and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "RateLimited":
                            raised.append((str(source.relative_to(root.parent)), function.name))
    checks = sorted([*(("confide/core/services.py", method.__name__) for method in openapi_errors.RATE_LIMITS), ("confide/privacy/export.py", openapi_errors.EXPORT_SLOT_CLAIM)])
    assert sorted(raised) == checks, raised


async def test_a_real_429_matches_the_documented_response(client, factory: Factory):
    """POST /v1/me/password declares no 429 itself: the analysis documents it, and it is what a client gets."""
    spec = await _spec(client)
    documented = spec["paths"]["/v1/me/password"]["post"]["responses"]
    user = await factory.user()
    body = {"current_password": "not the password 1", "new_password": "a new good password 7"}
    codes = [(await client.post("/v1/me/password", json=body, headers=user.headers)).status_code for _ in range(10)]
    assert codes == [401] * 10
    r = await client.post("/v1/me/password", json=body, headers=user.headers)
    assert r.status_code == 429 and r.headers["content-type"] == PROBLEM, r.text
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(documented["429"])}, spec)
    assert r.json()["type"].endswith("/rate-limited")
    assert int(r.headers["retry-after"]) == r.json()["retry_after"] > 0


# Every route of the app whose code can answer 409 (Conflict or a subclass: `conflict`, `conversation-erased`,
# `invalid-transition`, `legal-holds-active`, `sole-owner`, ...), as its code says: pinned, so that a route gaining a
# 409 without documenting it, or the analysis missing one, shows up.
CONFLICT_ROUTES = {
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/tags"),  # conversation-erased
    ("delete", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/tags/{tag}"),
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/assign"),
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/unassign"),
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/close"),  # invalid-transition
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/reopen"),
    ("delete", "/v1/tenants/{tenant_id}/conversations/{conversation_id}"),  # conversation-erased
    ("delete", "/v1/tenants/{tenant_id}"),  # legal-holds-active
    ("patch", "/v1/tenants/{tenant_id}/members/{member_id}"),  # demoting the sole owner
    ("delete", "/v1/tenants/{tenant_id}/members/{member_id}"),  # removing the sole owner
    ("post", "/v1/tenants/{tenant_id}/invitations"),  # already a member, or a pending invitation
    ("post", "/v1/invitations/accept"),  # already a member
    ("post", "/v1/tenants/{tenant_id}/evaluation/score-definitions"),  # the name is taken
    ("patch", "/v1/tenants/{tenant_id}/evaluation/score-definitions/{definition_id}"),
    ("post", "/v1/tenants/{tenant_id}/webhooks"),  # the tenant's endpoints at their cap
    ("put", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/resolution"),  # conversation-erased
    ("post", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"),
    ("patch", "/v1/tenants/{tenant_id}/evaluation/scores/{score_id}"),
    ("post", "/v1/accounts/verify"),  # the changed-to address belongs to another account by now
    ("patch", "/v1/me"),  # the address changed meanwhile
    ("post", "/v1/me/erasure"),  # sole-owner
    ("post", "/v1/tenants/{tenant_id}/privacy/instructions"),  # a version added at the same moment
    ("post", "/v1/tenants/{tenant_id}/erasure-requests"),  # conversation-erased
    ("post", "/v1/tenants/{tenant_id}/legal-holds"),  # tenant-closing
    ("delete", "/v1/tenants/{tenant_id}/legal-holds/{hold_id}"),  # released already
    ("post", "/v1/admin/retention/run"),  # running on another node
    ("post", "/v1/admin/tenant-closures/{closure_id}/retry"),  # closure-not-failed, legal-holds-active
    ("post", "/v1/admin/accounts/erasure"),  # sole-owner
    ("post", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish"),  # no guideline set
    ("post", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries"),  # the limits of entries and documents
    ("post", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/documents"),
    ("post", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/import"),
}
# Routes whose code names a conflict but answers none: bulk actions report one per conversation (outcome `conflict`).
NO_409 = {("post", "/v1/tenants/{tenant_id}/conversations/bulk")}


def _conflict_names() -> set[str]:
    from confide.core.errors import Conflict

    names, stack = {Conflict.__name__}, [Conflict]
    while stack:
        for sub in stack.pop().__subclasses__():
            names.add(sub.__name__)
            stack.append(sub)
    return names


def _conflict_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Routes whose code (followed as for 429, openapi_errors.reachable) names a Conflict class."""
    names = _conflict_names()
    found = set()
    for route in openapi_errors._api_routes(app):
        functions = openapi_errors.reachable([route.dependant.call, *openapi_errors._calls(route.dependant)])
        if any(names & openapi_errors._names(function) for function in functions):
            found.update((method.lower(), route.path_format) for method in route.methods)
    return found - NO_409


async def test_every_route_that_can_answer_409_documents_it(app: FastAPI, client, factory: Factory):
    assert _conflict_routes(app) == CONFLICT_ROUTES
    spec = await _spec(client)
    for method, path in sorted(CONFLICT_ROUTES):
        responses = spec["paths"][path][method]["responses"]
        assert "409" in responses, (method, path)
        assert _schema_of(responses["409"]) == "Problem", (method, path)
        assert "`" in responses["409"]["description"], (method, path)  # names its problem type
    for method, path in NO_409:
        assert "409" not in spec["paths"][path][method]["responses"], (method, path)
    # And no route documents a 409 its code cannot answer.
    documented = {(method, path) for path, method, operation in _operations(spec) if "409" in operation["responses"]}
    assert documented == CONFLICT_ROUTES, documented ^ CONFLICT_ROUTES

    # And it is what the routes answer: the sole owner demoted, a member invited again.
    owner = await factory.user()
    tenant_id = await factory.tenant(owner)
    members = (await client.get(f"/v1/tenants/{tenant_id}/members", headers=owner.headers)).json()["items"]
    r = await client.patch(f"/v1/tenants/{tenant_id}/members/{members[0]['id']}", json={"role": "admin"}, headers=owner.headers)
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM, r.text
    documented = spec["paths"]["/v1/tenants/{tenant_id}/members/{member_id}"]["patch"]["responses"]["409"]
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(documented)}, spec)
    assert r.json()["type"].endswith("/conflict")
    r = await client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": owner.email, "role": "analyst"}, headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conflict"), r.text

    # An avatar published before it has a guideline set: the documented 409 `conflict`, naming the field.
    avatar = {"name": "Draft", "persona": {"role_description": "Support"}, "languages": ["en"], "default_language": "en"}
    avatar["messages"] = {"en": {"greeting": "Hi", "fallback": "Sorry"}}
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars", json=avatar, headers=owner.headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/tenants/{tenant_id}/avatars/{r.json()['id']}/publish", headers=owner.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/conflict") and r.json()["field"] == "guideline_set_id", r.text
    documented = spec["paths"]["/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish"]["post"]["responses"]["409"]
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(documented)}, spec)


# Every route that mails while it answers, so can answer 503 `service-unavailable` when the mail cannot be delivered
# (Mailer.send raises it; openapi_errors.sends_mail): pinned, so that a route gaining or losing a mail, or the analysis
# missing one, shows up.
MAIL_ROUTES = {
    ("post", "/v1/tenants/{tenant_id}/invitations"),  # the invitation
    ("post", "/v1/contact"),  # the acknowledgement with its objection token
    ("post", "/v1/me/newsletter"),  # the double opt-in's confirmation request
    ("patch", "/v1/me"),  # a new address: its confirmation, or the notice that it has an account
    ("post", "/v1/admin/newsletter"),  # an issue to every subscriber
}
# Routes that mail after answering (accounts/detached_mails.py): 202 whatever happens, so that neither the answer nor a
# mail failure tells whether an address has an account. No 503 for them.
DETACHED_MAIL_ROUTES = {("post", "/v1/accounts"), ("post", "/v1/auth/password-reset"), ("post", "/v1/accounts/verification")}
# Routes that declare a 503 of their own: exports at their capacity (with Retry-After), readiness.
DECLARED_503 = {
    ("get", "/readyz"),
    ("get", "/v1/tenants/{tenant_id}/exports/conversations"),
    ("get", "/v1/tenants/{tenant_id}/exports/manifest"),
}
# Functions whose code uses the mailer but cannot fail the request: a best-effort notice that swallows the error.
BEST_EFFORT_MAILS = {("confide/accounts/service.py", "tell_former_address")}
# Functions that send mail only after the answer, from the detached runner: no route reaches them by name.
DETACHED_SENDERS = {"confide.accounts.detached_mails.DetachedMails._send"}


def _mail_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.lower(), route.path_format)
        for route in openapi_errors._api_routes(app)
        if openapi_errors.sends_mail([route.dependant.call, *openapi_errors._calls(route.dependant)])
        for method in route.methods
    }


OWN_MAIL_503 = {
    ("post", "/v1/admin/newsletter"): "The mail server took none of the issue's mails (problem type `service-unavailable`): nobody got it; send it again later.",
}


async def test_every_route_that_mails_while_it_answers_documents_503(app: FastAPI, client):
    assert _mail_routes(app) == MAIL_ROUTES
    assert not MAIL_ROUTES & DETACHED_MAIL_ROUTES
    spec = await _spec(client)
    documented = {(method, path) for path, method, operation in _operations(spec) if "503" in operation["responses"]}
    assert documented == MAIL_ROUTES | DECLARED_503, documented ^ (MAIL_ROUTES | DECLARED_503)
    for method, path in MAIL_ROUTES:
        response = spec["paths"][path][method]["responses"]["503"]
        # A route that sends many mails says what a 503 means for it (the newsletter: nobody got the issue).
        assert response["description"] == OWN_MAIL_503.get((method, path), openapi_errors.MAIL_NOT_SENT), (method, path)
        assert "service-unavailable" in response["description"] and "headers" not in response, (method, path)  # no Retry-After
        assert _schema_of(response) == "Problem", (method, path)
    # The exports keep their own 503, with its Retry-After.
    export = spec["paths"]["/v1/tenants/{tenant_id}/exports/conversations"]["get"]["responses"]["503"]
    assert export["description"] != openapi_errors.MAIL_NOT_SENT and "Retry-After" in export["headers"]


def test_every_mail_send_is_found_from_a_route(app: FastAPI):
    """The analysis reads `….mailer.send(…)` calls. Every function that uses the mailer must be one it reads as
    mailing (or a pinned best-effort one that swallows the error), and every mailing function must be reached from
    some route (or be the detached runner's), so a mail sent where the analysis cannot see it fails here instead of
    its route's 503 going undocumented."""
    mailing = {
        function
        for name, module in list(sys.modules.items())
        if module is not None and name.partition(".")[0] in openapi_errors.OWN_PACKAGES
        for function in _functions_of(module)
        if openapi_errors.mails(function)
    }
    assert len(mailing) >= 6  # invitation, contact, newsletter request and issue, email change, the detached runner
    reached = {
        function
        for route in openapi_errors._api_routes(app)
        for function in openapi_errors.reachable([route.dependant.call, *openapi_errors._calls(route.dependant)])
    }
    unreached = {f"{f.__module__}.{f.__qualname__}" for f in mailing - reached}
    assert unreached == DETACHED_SENDERS, f"mail no route was found to send; their routes' 503 would go undocumented: {unreached}"

    read = {(str(Path(f.__code__.co_filename).resolve()), f.__name__) for f in mailing}
    unread = set()  # (file, function) of every function whose code names `.mailer` but is not read as mailing
    for root in OWN_SOURCES:
        for source in root.rglob("*.py"):
            for function in ast.walk(ast.parse(source.read_text())):
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and (str(source.resolve()), function.name) not in read:
                    if any(isinstance(node, ast.Attribute) and node.attr == "mailer" for node in ast.walk(function)):
                        unread.add((str(source.relative_to(root.parent)), function.name))
    assert unread == BEST_EFFORT_MAILS, unread


async def test_a_mail_that_cannot_be_sent_answers_the_documented_503(app: FastAPI, client, factory: Factory, monkeypatch):
    """A real SMTP relay refuses: a route that mails while it answers gives the documented 503 and changes nothing;
    one that mails after answering (a password reset) still answers 202."""
    spec = await _spec(client)
    user = await factory.user()
    with smtp_relay() as relay:
        relay.refuse_all = True
        monkeypatch.setattr(app.state.services, "mailer", SmtpMailer(app.state.settings.mail_from, "127.0.0.1", relay.port, None, None, False))
        r = await client.post("/v1/me/newsletter", headers=user.headers)
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, r.text
        assert r.json()["type"].endswith("/service-unavailable") and "retry-after" not in r.headers
        _check(r.json(), {"$ref": SCHEMAS + _schema_of(spec["paths"]["/v1/me/newsletter"]["post"]["responses"]["503"])}, spec)
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"  # nothing was changed
        r = await client.post("/v1/auth/password-reset", json={"email": user.email})
        assert r.status_code == 202, r.text
        await app.state.detached_mails.drain()
        assert relay.messages == [], "the relay took nothing"


async def test_every_route_with_a_body_documents_413(app: FastAPI, client):
    """The body-size middleware (CONFIDE_MAX_BODY_BYTES) can refuse any request body: every operation that takes one
    documents 413, those without one do not, and a route's own 413 (the document upload) keeps its words."""
    spec = await _spec(client)
    with_body = {
        (method.lower(), route.path_format)
        for route in openapi_errors._api_routes(app)
        if route.dependant.body_params or "requestBody" in (route.openapi_extra or {})
        for method in route.methods
    }
    assert len(with_body) > 40
    documented = {(method, path) for path, method, operation in _operations(spec) if "413" in operation["responses"]}
    assert documented == with_body, documented ^ with_body
    for method, path in documented:
        response = spec["paths"][path][method]["responses"]["413"]
        assert _schema_of(response) == "Problem", (method, path)
    assert spec["paths"]["/v1/contact"]["post"]["responses"]["413"]["description"] == openapi_errors.TOO_LARGE
    upload = spec["paths"]["/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/documents"]["post"]["responses"]["413"]
    assert upload["description"] != openapi_errors.TOO_LARGE

    limit = app.state.services.settings.max_body_bytes
    r = await client.post("/v1/contact", content=b'{"message": "' + b"x" * limit + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM, r.text
    assert r.json()["type"].endswith("/payload-too-large")
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(spec["paths"]["/v1/contact"]["post"]["responses"]["413"])}, spec)


async def test_the_everyday_refusals_of_sign_in_and_my_rights_are_documented(client, factory: Factory):
    """Found by fuzzing the spec: these answers were described in prose only, so generated clients had no type for
    them (sign-in's most common error among them)."""
    spec = await _spec(client)
    user = await factory.user()
    calls = [
        ("post", "/v1/auth/login", {"json": {"email": user.email, "password": "not the password 1"}}, 401, "invalid-credentials"),
        ("delete", "/v1/me/newsletter", {"headers": user.headers}, 404, "not-subscribed"),
        ("delete", "/v1/me/restriction", {"headers": user.headers}, 404, "not-restricted"),
    ]
    for method, path, kwargs, status, slug in calls:
        r = await client.request(method.upper(), path, **kwargs)
        assert r.status_code == status and r.json()["type"].endswith(f"/{slug}"), (path, r.text)
        assert str(status) in spec["paths"][path][method]["responses"], (method, path)
    assert "403" in spec["paths"]["/v1/auth/login"]["post"]["responses"], "email-not-verified"
