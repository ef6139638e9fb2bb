"""The OpenAPI document tells the truth about errors: problem+json everywhere (confide.core.openapi_errors),
the common errors each route can give, and bodies that match what is documented."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.factory import Factory

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
    assert "WWW-Authenticate" in read["401"]["headers"]

    owner, stranger = await factory.user(), await factory.user()
    tenant_id = await factory.tenant(owner)
    r = await client.get(f"/v1/tenants/{tenant_id}")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(read["401"])}, spec)
    r = await client.get(f"/v1/tenants/{tenant_id}", headers=stranger.headers)
    assert r.status_code == 404
    _check(r.json(), {"$ref": SCHEMAS + _schema_of(read["404"])}, spec)


async def test_every_documented_401_is_what_an_anonymous_caller_gets(client):
    """Walks every operation that documents 401 and calls it without credentials: the answer is a documented
    401 (or 403 `operator-access-disabled` where operator routes are off), never something undocumented."""
    spec = await _spec(client)
    checked = 0
    for path, method, operation in _operations(spec):
        if "401" not in operation["responses"]:
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
