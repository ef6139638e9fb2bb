"""The OpenAPI document's error responses, told as they are: every error is RFC 9457 problem+json
(confide.core.errors), never FastAPI's default `HTTPValidationError`.

`install_error_docs(app)` wraps `app.openapi` once. The schema FastAPI generates is post-processed in
place and cached as FastAPI caches it (`app.openapi_schema`):

- components gain `Problem`, `ValidationProblem` (a 422, with `errors`) and `ProblemFieldError`;
  FastAPI's `HTTPValidationError` and `ValidationError` go.
- every 422 is a `ValidationProblem` under application/problem+json; every other 4xx/5xx a route
  declares keeps its description and gets the `Problem` schema.
- common errors are added from what each route depends on and the parameters it takes:
  422 where the app-wide `reject_unknown_query_params` runs (any route: an unknown query parameter);
  401 where a bearer token (`current_principal`) or the operator token is needed; 403 for a role
  permission (`require(...)`), a person's sign-in (`current_user`), an unrestricted account
  (`active_user`, `require`) or operator routes switched off; 404 where the path carries ids;
  400 `invalid-cursor` where the route takes a `cursor` query parameter, and `invalid-token` where its
  JSON body carries a `token` (the one-time tokens mailed for confirmations, objections, invitations
  and password resets: every such route refuses an unknown one with it). A status a route declares
  itself is left as declared. 429 is added nowhere: rate limits are enforced inside services, out of
  sight of the route table, so only the routes that declare it document it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from confide.core.auth import active_user, current_principal, current_user
from confide.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from confide.core.http import reject_unknown_query_params
from confide.core.tenancy import Permission, require
from confide.privacy.operators import operator

PROBLEM = "Problem"
VALIDATION_PROBLEM = "ValidationProblem"
FIELD_ERROR = "ProblemFieldError"
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
INVALID_INPUT = "Invalid input (problem type `validation-error`): `errors` names each field; unknown query parameters are refused too."

# The function `require(permission)` wraps in Depends: one code object for every permission.
_REQUIRE_CODE = require(Permission.TENANT_READ).dependency.__code__

_PROBLEM_PROPERTIES: dict[str, Any] = {
    "type": {
        "type": "string",
        "format": "uri",
        "description": f"`{PROBLEM_BASE}<slug>`: what a client keys on. Slugs are stable.",
        "examples": [f"{PROBLEM_BASE}not-found"],
    },
    "title": {"type": "string", "description": "A short summary of the type, the same for every problem of that type."},
    "status": {"type": "integer", "description": "The HTTP status code."},
    "detail": {"type": "string", "description": "What went wrong this time, for people."},
    "instance": {"type": "string", "description": "The path of the request that failed."},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    PROBLEM: {
        "title": PROBLEM,
        "type": "object",
        "description": "An RFC 9457 problem (application/problem+json). Some types add members of their own, "
        "e.g. `retry_after` (`rate-limited`) or `permission` (`permission-denied`).",
        "properties": _PROBLEM_PROPERTIES,
        "required": ["type", "title", "status", "detail"],
        "additionalProperties": True,
    },
    FIELD_ERROR: {
        "title": FIELD_ERROR,
        "type": "object",
        "properties": {
            "field": {"type": "string", "description": "Where: `body.email`, `query.limit`, `path.tenant_id`, `body` for the body as a whole."},
            "message": {"type": "string", "description": "What is wrong with it."},
            "type": {"type": "string", "description": "A machine-readable kind, e.g. `missing`, `extra_forbidden`, `value_error`."},
        },
        "required": ["field", "message", "type"],
    },
    VALIDATION_PROBLEM: {
        "title": VALIDATION_PROBLEM,
        "type": "object",
        "description": f"A 422 problem (type `{PROBLEM_BASE}validation-error`) whose `errors` name each field that is wrong.",
        "properties": {
            **_PROBLEM_PROPERTIES,
            "errors": {"type": "array", "items": {"$ref": f"#/components/schemas/{FIELD_ERROR}"}},
        },
        "required": ["type", "title", "status", "detail", "errors"],
        "additionalProperties": True,
    },
}


def _content(schema_name: str) -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_require(call: Callable[..., Any]) -> bool:
    return getattr(call, "__code__", None) is _REQUIRE_CODE


def _permission(call: Callable[..., Any]) -> str | None:
    """`require(Permission.X)` names its dependency `require_x`."""
    member = call.__name__.removeprefix("require_").upper()
    return Permission[member].value if member in Permission.__members__ else None


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", or " + parts[-1]


def _body_properties(operation: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The top-level properties of the operation's JSON body (its schema resolved when it is a reference)."""
    media = (operation.get("requestBody") or {}).get("content", {}).get("application/json") or {}
    schema = media.get("schema") or {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return set(schema.get("properties") or ())


def _sentence(parts: list[str]) -> str:
    text = _join(parts)
    return text[:1].upper() + text[1:]


def _common_errors(route: Any, operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The error responses a route can give by what it depends on: status code → response object.
    Its parameters are read from the operation, where FastAPI has gathered those of every dependency."""
    calls = list(_calls(route.dependant))
    requires = [c for c in calls if _is_require(c)]
    params = operation.get("parameters", [])
    path_ids = [p["name"] for p in params if p.get("in") == "path"]
    out: dict[str, dict[str, Any]] = {}

    if reject_unknown_query_params in calls:
        out["422"] = {"description": INVALID_INPUT}

    bad_request = []
    if any(p.get("in") == "query" and p["name"] == "cursor" for p in params):
        bad_request.append("the `cursor` is malformed, was not issued by this server or belongs to another query (`invalid-cursor`)")
    if "token" in _body_properties(operation, schemas):  # a mailed one-time token: every such route checks it
        bad_request.append("the `token` is unknown, used or expired (`invalid-token`)")
    if bad_request:
        out["400"] = {"description": _sentence(bad_request) + "."}

    unauthorized = []
    if current_principal in calls:
        unauthorized.append("no bearer token, or one that is unknown, expired or revoked")
    if operator in calls:
        unauthorized.append("no or a wrong `X-Operator-Token`")
    if unauthorized:
        out["401"] = {
            "description": _sentence(unauthorized) + " (problem type `unauthorized`).",
            "headers": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
        }

    forbidden = []
    permissions = sorted({p for p in map(_permission, requires) if p})
    if permissions:
        forbidden.append("your role in the tenant lacks the permission " + " or ".join(f"`{p}`" for p in permissions) + " (`permission-denied`)")
    if current_user in calls:
        forbidden.append("an API key on a route about a person's own account (`person-required`)")
    if active_user in calls or requires:
        forbidden.append("your account is restricted (Art. 18) and makes no changes here (`account-restricted`)")
    if operator in calls:
        forbidden.append("operator routes are off on this server (`operator-access-disabled`)")
    if forbidden:
        out["403"] = {"description": _sentence(forbidden) + "."}

    if path_ids:
        ids = ", ".join(f"`{name}`" for name in path_ids)
        what = " (a tenant you are not a member of answers the same)" if requires else ""
        out["404"] = {"description": f"Nothing found for {ids}{what} (problem type `not-found`)."}
    return out


def _fix_operation(operation: dict[str, Any], route: Any, schemas: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for code, response in (_common_errors(route, operation, schemas) if route is not None else {}).items():
        responses.setdefault(code, response)  # what a route declares itself stays as declared
    for code, response in responses.items():
        if code == "422":
            if response.get("description") == "Validation Error":  # FastAPI's own
                response["description"] = INVALID_INPUT
            response["content"] = _content(VALIDATION_PROBLEM)
        elif code[:1] in ("4", "5"):
            content = response.get("content") or {}
            if not any(media.get("schema") for media in content.values()):  # a declared description only
                response["content"] = _content(PROBLEM)
            if code == "429":
                response.setdefault("headers", {}).setdefault(
                    "Retry-After", {"description": "Whole seconds to wait before trying again.", "schema": {"type": "integer"}}
                )
    # Keep the responses in status-code order, as readers and generators expect.
    operation["responses"] = dict(sorted(responses.items()))


def _references(node: Any, names: set[str]) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in names:
            return True
        return any(_references(v, names) for v in node.values())
    if isinstance(node, list):
        return any(_references(v, names) for v in node)
    return False


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as FastAPI documents it: from FastAPI 0.165 an included router is one entry of
    `app.routes`, and its routes are reached as route contexts (with the app's and routers' dependencies)."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def document_errors(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Post-processes FastAPI's generated schema in place (and returns it)."""
    routes = {(route.path_format, method.lower()): route for route in _api_routes(app) for method in route.methods or ()}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _fix_operation(operation, routes.get((path, method)), components)
    for name in _FASTAPI_SCHEMAS:
        components.pop(name, None)
    if _references(schema, set(_FASTAPI_SCHEMAS)):  # a name Confide itself uses: cannot be dropped after all
        raise RuntimeError(f"OpenAPI still refers to one of {_FASTAPI_SCHEMAS}")
    components.update(copy.deepcopy(SCHEMAS))
    schema["components"]["schemas"] = dict(sorted(components.items()))
    return schema


def install_error_docs(app: FastAPI) -> None:
    """Wraps `app.openapi` once. FastAPI's own method still decides when to build the schema anew (the
    first time, and again after routes were added) and caches it in `app.openapi_schema`; each schema
    it builds is post-processed once, in place, so the cached one is the one served."""
    generate = app.openapi
    done: list[dict[str, Any]] = []  # the schema last post-processed

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not done or done[0] is not schema:
            document_errors(app, schema)
            done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
