"""A request whose sender erases their account while it runs: every tenant write route, in a forced order.

The request is let through authentication and its role check, then waits (tests.support.turns) until the same
person's account erasure has committed, and goes on. Whatever it answers, it is no 500: ten routes that store the
sender's id (an author, a publisher, who asked for a closure, an erasure or a hold) failed the row's foreign key to
the erased account, on both backends; they now answer 401 as the same request sent after the erasure does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.support.factory import PASSWORD, Factory, User
from tests.support.turns import second_waits
from tests.test_isolation import PARAM, PATH_PARAM_FACTORIES, VALID_BODIES, _body, _conversation, _score_definition, tenant_routes

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def after_role_check() -> Callable[[str], bool]:
    """The waiting request's first statement after tenant_context read its role: the route's own work begins."""
    seen = False

    def at(statement: str) -> bool:
        nonlocal seen
        if statement.startswith("SELECT MEMBERSHIP.ROLE FROM MEMBERSHIP"):
            seen = True
            return False
        return seen

    return at


Body = Callable[[httpx.AsyncClient, Factory, User, str], Awaitable[dict[str, Any]]]


async def _hold(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> dict[str, Any]:
    return {"conversation_id": await _conversation(client, factory, owner, tenant_id), "reason": "Litigation"}


async def _erasure(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> dict[str, Any]:
    return {"scope": "conversation", "conversation_id": await _conversation(client, factory, owner, tenant_id)}


async def _score(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> dict[str, Any]:
    return {"definition_id": await _score_definition(client, factory, owner, tenant_id), "value": 3}


async def _release(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> dict[str, Any]:
    return {"reason": "Settled"}


# Bodies that get past validation to the write, where the isolation test's (which stop at the tenant filter) do not.
WRITE_BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/v1/tenants/{tenant_id}/legal-holds"): _hold,
    ("DELETE", "/v1/tenants/{tenant_id}/legal-holds/{hold_id}"): _release,
    ("POST", "/v1/tenants/{tenant_id}/erasure-requests"): _erasure,
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"): _score,
}
CLOSURE = ("DELETE", "/v1/tenants/{tenant_id}")
# Routes that store their sender's id where it must name an account (a foreign key): after the erasure they answer
# 401, as the same request sent after it does (they answered 500; the instructions a 409 "changed by someone else").
WRITES_SENDER = {
    CLOSURE,
    ("DELETE", "/v1/tenants/{tenant_id}/conversations/{conversation_id}"),
    ("DELETE", "/v1/tenants/{tenant_id}/legal-holds/{hold_id}"),
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish"),
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/close"),
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/scores"),
    ("POST", "/v1/tenants/{tenant_id}/erasure-requests"),
    ("POST", "/v1/tenants/{tenant_id}/guideline-sets"),
    ("POST", "/v1/tenants/{tenant_id}/legal-holds"),
    ("POST", "/v1/tenants/{tenant_id}/privacy/instructions"),
    ("PUT", "/v1/tenants/{tenant_id}/guideline-sets/{set_id}"),
}


async def co_owner(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> User:
    return await factory.member(tenant_id, owner, "owner")


async def test_no_tenant_route_fails_when_its_sender_was_erased_meanwhile(app, client, factory):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Erased Senders GmbH")
    # The tenant's closure last: it ends the tenant the other routes run in.
    routes = sorted((r for r in tenant_routes(app) if r[0] in WRITES), key=lambda r: r == CLOSURE)
    failures, forced = [], 0
    for method, path in routes:
        if (method, path) == CLOSURE:  # a tenant of its own: the holds made above keep this one from closing
            tenant_id = await factory.tenant(owner, "Erased Closer GmbH")
        ids = {p: await PATH_PARAM_FACTORIES[p](client, factory, owner, tenant_id) for p in PARAM.findall(path) if p != "tenant_id"}
        leaving = await co_owner(client, factory, owner, tenant_id)
        make = WRITE_BODIES.get((method, path))
        body = await make(client, factory, owner, tenant_id) if make else VALID_BODIES.get((method, path), {})
        sends_body = method in {"POST", "PUT", "PATCH"} or (method, path) in VALID_BODIES or make is not None
        request = client.request(method, path.format(tenant_id=tenant_id, **ids), headers=leaving.headers, **_body(sends_body, body, tenant_id))
        erasure = client.post("/v1/me/erasure", json={"password": PASSWORD}, headers=leaving.headers)
        try:
            answer, erased = await second_waits(app, waiting=request, first=erasure, at=after_role_check(), after=lambda s: s.startswith("DELETE FROM USER_ACCOUNT"))
            forced += 1
        except AssertionError as error:  # the route ran no statement of its own (a validation error): no forced order
            failures.append(f"{method} {path}: {error}")
            continue
        assert erased.status_code == 200, (method, path, erased.text)
        if answer.status_code >= 500 or ((method, path) in WRITES_SENDER and answer.status_code != 401):
            failures.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert not failures, "\n".join(failures)
    assert forced == len(routes)
