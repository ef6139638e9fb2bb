"""A request whose sender loses their place in the tenant while it runs: every tenant write route, in a forced order.

The request is let through authentication and its role check, then waits (tests.support.turns) until the sender's
removal, their account's erasure or the tenant's closure has committed, and goes on. It must then be refused as the
same request sent after that change is (404 no member, 401 account erased), never store its change, and never fail
with a 500. Before `check_sender_before_writing` such requests stored their change after the removal (an avatar
created, a webhook added in a closing tenant, a removed owner closing the tenant), and ten routes that store the
sender's id (an author, a publisher, who asked for a closure, an erasure or a hold) failed the row's foreign key to
an erased account (500), on both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.factory import Factory, User
from tests.support.turns import second_waits, starts
from tests.tenants.test_membership_races import ending
from tests.test_isolation import PARAM, PATH_PARAM_FACTORIES, VALID_BODIES, _body, _conversation, _score_definition, tenant_routes

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def after_role_check() -> Callable[[str], bool]:
    """The waiting request's first statement after tenant_context read its role: the route's own work begins."""
    seen = False

    def at(statement: str) -> bool:
        nonlocal seen
        if seen:
            return True
        seen = statement.startswith("SELECT MEMBERSHIP.ROLE FROM MEMBERSHIP")
        return False

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
# Routes that answer a late request 2xx because they change nothing: a rule evaluation (a computation); an unassign
# of a conversation nobody holds; and after a closure, what it did already. (A preview's LLM call and a webhook ping
# change nothing stored either, but they reach outside on the tenant's behalf: refused like writes.)
WRITES_NOTHING = {
    ("POST", "/v1/tenants/{tenant_id}/guideline-sets/{set_id}/evaluate"),
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/unassign"),
}
CLOSED_ALREADY = {
    ("DELETE", "/v1/tenants/{tenant_id}/invitations/{invitation_id}"),  # revoked by the closure
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/archive"),  # archived by the closure
}
# What a closing tenant would keep alive or make anew: the routes walked after a closure (each needs a tenant of its own).
AFTER_CLOSURE = {
    ("PATCH", "/v1/tenants/{tenant_id}"),
    ("POST", "/v1/tenants/{tenant_id}/avatars"),
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/publish"),
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/archive"),
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/widget/rotate"),
    ("POST", "/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge/entries"),
    ("POST", "/v1/tenants/{tenant_id}/webhooks"),
    ("POST", "/v1/tenants/{tenant_id}/customer-token-secret"),
    ("POST", "/v1/tenants/{tenant_id}/privacy/instructions"),
    ("POST", "/v1/tenants/{tenant_id}/guideline-sets"),
    ("POST", "/v1/tenants/{tenant_id}/api-keys"),
    ("POST", "/v1/tenants/{tenant_id}/invitations"),
    ("DELETE", "/v1/tenants/{tenant_id}/invitations/{invitation_id}"),
    ("POST", "/v1/tenants/{tenant_id}/conversations/{conversation_id}/close"),
}


async def co_owner(client: httpx.AsyncClient, factory: Factory, owner: User, tenant_id: str) -> User:
    return await factory.member(tenant_id, owner, "owner")


def about_sender(answer: httpx.Response) -> bool:
    """A refusal of the sender, not of the route's own object (a knowledge entry of another avatar: 404 as well)."""
    return answer.status_code != 404 or answer.json()["detail"] == "No such tenant."


# The statement each ending commits that takes the sender's place: their membership, or their account.
ENDS_WITH = {"removal": "DELETE FROM MEMBERSHIP", "erasure": "DELETE FROM USER_ACCOUNT", "closure": "DELETE FROM MEMBERSHIP"}
REFUSED_AS_AFTER = {"removal": 404, "erasure": 401, "closure": 404}


@pytest.mark.parametrize("end", ["removal", "erasure", "closure"])
async def test_a_request_whose_sender_left_meanwhile_changes_nothing(app, client, factory, end):
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, f"Late {end} GmbH")
    writes = [r for r in tenant_routes(app) if r[0] in WRITES]
    # After a closure, the routes that would keep the tenant's things alive; the tenant's own closure last, in a tenant
    # of its own (the legal holds made above keep this one from closing).
    routes = sorted(AFTER_CLOSURE, key=str) if end == "closure" else sorted(writes, key=lambda r: r == CLOSURE)
    assert AFTER_CLOSURE <= set(writes)
    failures = []
    for method, path in routes:
        if end == "closure" or (method, path) == CLOSURE:
            tenant_id = await factory.tenant(owner, f"Late {end} {method} GmbH")
        ids = {p: await PATH_PARAM_FACTORIES[p](client, factory, owner, tenant_id) for p in PARAM.findall(path) if p != "tenant_id"}
        leaving = await co_owner(client, factory, owner, tenant_id)
        r = await client.get(f"/v1/tenants/{tenant_id}/members", params={"limit": 200}, headers=owner.headers)
        member_id = next(m["id"] for m in r.json()["items"] if m["user_id"] == leaving.id)
        make = WRITE_BODIES.get((method, path))
        body = await make(client, factory, owner, tenant_id) if make else VALID_BODIES.get((method, path), {})
        sends_body = method in {"POST", "PUT", "PATCH"} or (method, path) in VALID_BODIES or make is not None
        request = client.request(method, path.format(tenant_id=tenant_id, **ids), headers=leaving.headers, **_body(sends_body, body, tenant_id))
        ended_by = ending(client, end, tenant_id, owner, leaving, member_id)
        answer, ended = await second_waits(app, waiting=request, first=ended_by, at=after_role_check(), after=starts(ENDS_WITH[end]))
        assert ended.status_code in (200, 202, 204), (method, path, ended.text)
        expected = REFUSED_AS_AFTER[end]
        if answer.status_code >= 500:
            failures.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        elif answer.status_code < 400 and (method, path) not in WRITES_NOTHING | (CLOSED_ALREADY if end == "closure" else set()):
            failures.append(f"{method} {path}: {answer.status_code}, its change stored after the {end} (expected {expected})")
        elif answer.status_code in (401, 403, 404) and answer.status_code != expected and about_sender(answer):
            failures.append(f"{method} {path}: {answer.status_code}, not the {expected} of a request sent after the {end}: {answer.text[:200]}")
    assert not failures, "\n".join(failures)
