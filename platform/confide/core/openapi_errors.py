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
  (`active_user`, `require`) or operator routes switched off; 404 where the path carries ids, and where a
  query parameter names one of the tenant's objects (`owned_filter`: `?avatar_id=`, `?definition_id=`);
  400 `invalid-cursor` where the route takes a `cursor` query parameter, and `invalid-token` where its
  JSON body carries a `token` (the one-time tokens mailed for confirmations, objections, invitations
  and password resets: every such route refuses an unknown one with it). A status a route declares
  itself is left as declared.
- 429 `rate-limited`, with its `Retry-After` header, where the route can reach a rate limit. Rate limits
  are no dependency: services check them (`Services.enforce_rate`, or `Services.refuse_if_spent` for a
  limit that counts only failures; both raise `RateLimited`, as does claiming an export slot over the
  tenant's cap) deep inside the route's work. So the route's
  code is read (`rate_limited`): the endpoint and its dependencies, and every function of Confide's own
  packages they name, transitively, are searched for a call of either. A route that declares its 429
  keeps its own description; one that does not gets a general one.
- 503 `service-unavailable` where the route mails while it answers (`sends_mail`): `Mailer.send` raises it
  when delivery fails, and callers send before they commit, so nothing was changed. Found as rate limits
  are, by reading the route's code for a call `….mailer.send(…)` that no `except` swallows. Routes that
  only hand a mail to the detached runner (accounts/detached_mails.py) answer 202 whatever happens, and
  their code names no such call. No Retry-After: nobody knows when the mail server takes mail again.
- 413 `payload-too-large` on every route that takes a request body (the body-size middleware,
  `CONFIDE_MAX_BODY_BYTES`, refuses a larger one before the route runs).
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from confide.core.auth import active_user, current_principal, current_user
from confide.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from confide.core.http import reject_unknown_query_params
from confide.core.mail import Mailer
from confide.core.services import Services
from confide.core.tenancy import Permission, owned_filter_of, require
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


# Every rate limit an HTTP route can run into is checked by one of these methods; they raise RateLimited (429,
# Retry-After). Called on a Services instance, they are found by their names in the calling code.
RATE_LIMITS = (Services.enforce_rate, Services.refuse_if_spent)
# An export over its tenant's own concurrency cap answers 429 too (privacy/export.py, ExportSlots.claim_export_slot,
# called on the app's slots): found by its name, as core names no domain's class.
EXPORT_SLOT_CLAIM = "claim_export_slot"
_RATE_LIMIT_NAMES = frozenset(method.__name__ for method in RATE_LIMITS) | {EXPORT_SLOT_CLAIM}
# The packages whose functions are followed when looking for a rate limit (see rate_limited).
OWN_PACKAGES = frozenset({"confide", "avatars", "guidelines"})
TOO_MANY_REQUESTS = (
    "Too many requests (problem type `rate-limited`): a rate limit of this route was reached. Wait the seconds "
    "`Retry-After` gives (also `retry_after` in the body), then try again."
)
TOO_LARGE = (
    "The request body is larger than this server accepts (`CONFIDE_MAX_BODY_BYTES`, 1 MiB unless configured; problem "
    "type `payload-too-large`), whether sent with a Content-Length or chunked."
)
RETRY_AFTER = {"description": "Whole seconds to wait before trying again.", "schema": {"type": "integer"}}


def _own(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").partition(".")[0] in OWN_PACKAGES


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A code object and those nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _function(obj: Any) -> types.FunctionType | None:
    """The plain function behind a function, method, decorated function or callable instance; None otherwise."""
    if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
        obj = obj.__func__
    elif not isinstance(obj, (types.FunctionType, type)) and _own(type(obj)):  # a dependency that is an instance
        obj = _static(type(obj), "__call__")
    if not isinstance(obj, types.FunctionType):
        return None
    try:
        obj = inspect.unwrap(obj)
    except ValueError:  # a cycle of __wrapped__
        return None
    return obj if isinstance(obj, types.FunctionType) else None


def _static(cls: type, name: str) -> Any:
    """A class's own attribute, without running descriptors (an ORM model's columns answer getattr expensively)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _names(function: types.FunctionType) -> frozenset[str]:
    return frozenset(name for code in _codes(function.__code__) for name in code.co_names)


# function → (whether its own code names the rate limit, the functions it may call): read once per process.
_READ: dict[types.FunctionType, tuple[bool, tuple[types.FunctionType, ...]]] = {}


def _read(function: types.FunctionType) -> tuple[bool, tuple[types.FunctionType, ...]]:
    read = _READ.get(function)
    if read is None:
        names = _names(function)
        read = _READ[function] = (not _RATE_LIMIT_NAMES.isdisjoint(names), tuple(dict.fromkeys(_callees(function, names))))
    return read


def _callees(function: types.FunctionType, names: frozenset[str]) -> Iterator[types.FunctionType]:
    """The functions of Confide's packages `function` may call, as far as its code names them: globals of its
    module, and their attributes (a module's functions, a class's methods and constructor) that the code
    names too. An over-estimate by design: a name is followed wherever it could lead."""
    module_globals = function.__globals__
    for name in names:
        value = module_globals.get(name)
        if value is None:
            continue
        if isinstance(value, types.ModuleType):
            if value.__name__.partition(".")[0] not in OWN_PACKAGES:
                continue
            candidates = [value.__dict__.get(attr) for attr in names]
        elif isinstance(value, type):
            if not _own(value):
                continue
            candidates = [_static(value, attr) for attr in (*names, "__init__")]
        else:
            candidates = [value]
        for candidate in candidates:
            found = _function(candidate) if candidate is not None else None
            if found is not None and _own(found):
                yield found


def reachable(calls: list[Callable[..., Any]]) -> Iterator[types.FunctionType]:
    """The Confide functions running these (a route's endpoint and dependencies) may call, themselves
    first, each once, as far as the code names them (see _callees). Calls it cannot name (a method of an
    object passed in or returned) are not followed."""
    stack = [f for f in map(_function, calls) if f is not None]
    seen: set[types.FunctionType] = set()
    while stack:
        function = stack.pop()
        if function not in seen:
            seen.add(function)
            yield function
            stack.extend(_read(function)[1])


def rate_limited(calls: list[Callable[..., Any]]) -> bool:
    """Whether running these can reach one of `RATE_LIMITS`: a call of `enforce_rate` or `refuse_if_spent` (by name:
    they are called on the request's Services) in their code or in that of a Confide function they may call."""
    return any(_read(function)[0] for function in reachable(calls))


# A route that mails while it answers can answer 503: Mailer.send raises ServiceUnavailable when delivery fails.
# It is called on the request's Services (`services.mailer.send(...)`), so it is found by these names in the code.
MAIL_SEND = Mailer.send
_MAILER, _SEND = "mailer", MAIL_SEND.__name__
MAIL_NOT_SENT = (
    "A mail this request sends could not be delivered just now (problem type `service-unavailable`), so nothing was "
    "changed. Try again shortly."
)
# `except` clauses that catch Mailer.send's ServiceUnavailable (by its name or a base class's).
_CATCHING = frozenset({"ServiceUnavailable", "ProblemError", "Exception", "BaseException"})
_TRY = tuple(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)


def _is_mail_send(node: ast.AST) -> bool:
    """`<…>.mailer.send(…)` or `mailer.send(…)`."""
    func = getattr(node, "func", None) if isinstance(node, ast.Call) else None
    if not (isinstance(func, ast.Attribute) and func.attr == _SEND):
        return False
    owner = func.value
    return (isinstance(owner, ast.Attribute) and owner.attr == _MAILER) or (isinstance(owner, ast.Name) and owner.id == _MAILER)


def _caught(node: ast.expr | None) -> set[str]:
    nodes = node.elts if isinstance(node, ast.Tuple) else [node]
    return {getattr(n, "id", None) or getattr(n, "attr", "") for n in nodes if n is not None}


def _swallows(handler: ast.ExceptHandler) -> bool:
    """An `except` that catches the mailer's error and raises nothing: the route answers as if the mail went out
    (a best-effort notice, e.g. accounts.service.tell_former_address)."""
    catches = handler.type is None or bool(_caught(handler.type) & _CATCHING)
    return catches and not any(isinstance(n, ast.Raise) for statement in handler.body for n in ast.walk(statement))


def _suppresses(node: ast.With | ast.AsyncWith) -> bool:
    """`with contextlib.suppress(ServiceUnavailable, ...)`."""
    return any(
        isinstance(call, ast.Call) and (getattr(call.func, "id", None) or getattr(call.func, "attr", None)) == "suppress"
        and bool(set().union(*map(_caught, call.args)) & _CATCHING)
        for call in (item.context_expr for item in node.items)
    )


def _unguarded_send(node: ast.AST, guarded: bool = False) -> bool:
    if not guarded and _is_mail_send(node):
        return True
    if isinstance(node, _TRY):
        inner = guarded or any(_swallows(h) for h in node.handlers)
        return any(_unguarded_send(n, inner) for n in node.body) or any(
            _unguarded_send(n, guarded) for n in (*node.handlers, *node.orelse, *node.finalbody)
        )
    if isinstance(node, (ast.With, ast.AsyncWith)) and _suppresses(node):
        guarded = True
    return any(_unguarded_send(child, guarded) for child in ast.iter_child_nodes(node))


# function → whether its own code sends mail that can fail the request: read once per process.
_MAILS: dict[types.FunctionType, bool] = {}


def mails(function: types.FunctionType) -> bool:
    """Whether the function's own code (inner functions too) calls `….mailer.send(…)` outside an `except` that
    swallows its ServiceUnavailable. Its names are checked first, so only the few that name both are parsed;
    one whose source cannot be read counts as mailing."""
    found = _MAILS.get(function)
    if found is None:
        names = _names(function)
        found = _MAILER in names and _SEND in names
        if found:
            try:
                found = _unguarded_send(ast.parse(textwrap.dedent(inspect.getsource(function))))
            except (OSError, TypeError, SyntaxError):
                pass
        _MAILS[function] = found
    return found


def sends_mail(calls: list[Callable[..., Any]]) -> bool:
    """Whether running these (a route's endpoint and dependencies) can reach a mail sent while the route answers:
    `Mailer.send` in their code or in that of a Confide function they may call (see reachable), not swallowed."""
    return any(mails(function) for function in reachable(calls))


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


MORE_FORBIDDEN = "x-confide-forbidden"  # openapi_extra key: a route's own 403 reasons, added to those its dependencies give


def more_forbidden(*reasons: str) -> dict[str, Any]:
    """For a route's `openapi_extra`: 403 reasons its service rules add (each a phrase naming its problem type)."""
    return {MORE_FORBIDDEN: list(reasons)}


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
    forbidden.extend(operation.pop(MORE_FORBIDDEN, []))  # what the route's own rules refuse besides
    if forbidden:
        out["403"] = {"description": _sentence(forbidden) + "."}

    not_found = []
    if path_ids:
        ids = ", ".join(f"`{name}`" for name in path_ids)
        what = " (a tenant you are not a member of answers the same)" if requires else ""
        not_found.append(f"nothing found for {ids}{what}")
    owned = list(dict.fromkeys(filter(None, map(owned_filter_of, calls))))  # query filters naming one of the tenant's objects
    not_found.extend(f"`{f.name}` names no {f.what} of this tenant" for f in owned)
    if not_found:
        whose = ", another tenant's as much as an unknown one" if owned else ""
        out["404"] = {"description": f"{_sentence(not_found)}{whose} (problem type `not-found`)."}

    if "requestBody" in operation:  # the body-size middleware refuses a larger body before the route runs
        out["413"] = {"description": TOO_LARGE}
    if rate_limited([route.dependant.call, *calls]):
        out["429"] = {"description": TOO_MANY_REQUESTS, "headers": {"Retry-After": copy.deepcopy(RETRY_AFTER)}}
    if sends_mail([route.dependant.call, *calls]):
        out["503"] = {"description": MAIL_NOT_SENT}
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
                response.setdefault("headers", {}).setdefault("Retry-After", copy.deepcopy(RETRY_AFTER))
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
