"""Every error is RFC 9457 problem+json with a stable type, names the field, and leaks nothing."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from confide.app import create_app
from tests.conftest import client_for, running

PROBLEM = "application/problem+json"


def assert_problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == f"https://confide.dev/problems/{slug}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


async def test_validation_error_names_the_field(client):
    r = await client.post("/v1/accounts", json={"email": "not-an-email", "first_name": "A"})
    body = assert_problem(r, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert {"body.email", "body.surname", "body.password", "body.privacy_policy_version"} <= fields


async def test_unknown_json_field_is_rejected(client):
    r = await client.post("/v1/auth/login", json={"email": "a@example.com", "password": "x", "remember_me": True})
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"] == [{"field": "body.remember_me", "message": "Unknown field", "type": "extra_forbidden"}]


async def test_unknown_query_parameter_is_rejected(client, factory):
    user = await factory.user()
    r = await client.get("/v1/tenants", params={"limitt": 5}, headers=user.headers)
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"][0]["field"] == "query.limitt"


async def test_invalid_json_is_a_problem(client):
    r = await client.post("/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    body = assert_problem(r, 422, "validation-error")
    # The field is the body and the offset is in the words, not a field called "body.1".
    [error] = body["errors"]
    assert error["field"] == "body" and error["type"] == "json_invalid"
    assert error["message"].startswith("The body is not valid JSON at character 1")


@pytest.mark.parametrize(
    ("content", "reason"), [(b'{"email": "\xff"}', "it is not UTF-8 text"), (b"[" * 5000 + b"]" * 5000, "it is nested too deeply")]
)
async def test_a_json_body_that_cannot_be_decoded_is_invalid_json_too(client, content, reason):
    """Not UTF-8, or nested past the decoder's depth: the same 422 on `body` as any other invalid JSON, not
    the framework's bare 400 "error parsing the body" that no route documents."""
    r = await client.post("/v1/auth/login", content=content, headers={"content-type": "application/json"})
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"] == [{"field": "body", "message": f"The body is not valid JSON: {reason}", "type": "json_invalid"}]


async def test_a_validators_own_message_is_passed_on_as_written(client, factory):
    user = await factory.user()
    r = await client.patch("/v1/me", json={"phone": "not a phone"}, headers=user.headers)
    body = assert_problem(r, 422, "validation-error")
    [error] = body["errors"]
    assert error["field"] == "body.phone" and not error["message"].startswith("Value error"), error
    assert error["message"][0].isupper()


async def test_unknown_route_and_method(client):
    assert_problem(await client.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_a_405_names_every_method_the_address_takes(client, factory):
    """Each method of a path is a route of its own: Starlette's 405 named only the first one's (`PUT /v1/me` said
    `Allow: GET`, though PATCH works too). Found by fuzzing the spec."""
    user = await factory.user()
    tenant_id = await factory.tenant(user, "Allow GmbH")
    cases = [
        ("PUT", "/v1/me", "GET, PATCH"),
        ("PUT", f"/v1/tenants/{tenant_id}", "DELETE, GET, PATCH"),
        ("PUT", "/v1/me/restriction", "DELETE, POST"),
        ("DELETE", "/v1/tenants", "GET, POST"),
    ]
    for method, path, allow in cases:
        r = await client.request(method, path, headers=user.headers)
        body = assert_problem(r, 405, "method-not-allowed")
        assert r.headers["allow"] == allow, (path, r.headers["allow"])
        assert allow in body["detail"] and method in body["detail"], body


async def test_oversized_body_is_refused(client):
    r = await client.post("/v1/auth/login", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert_problem(r, 413, "payload-too-large")


async def test_bad_cursor_is_400(client, factory):
    user = await factory.user()
    r = await client.get("/v1/tenants", params={"cursor": "garbage"}, headers=user.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_cursor_from_another_query_is_400(client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user)
    for _ in range(3):
        await client.post(f"/v1/tenants/{tenant}/api-keys", json={"name": "k", "role": "analyst"}, headers=user.headers)
    page = (await client.get(f"/v1/tenants/{tenant}/api-keys", params={"limit": 1}, headers=user.headers)).json()
    assert page["next_cursor"]
    r = await client.get(f"/v1/tenants/{tenant}/invitations", params={"cursor": page["next_cursor"]}, headers=user.headers)
    assert_problem(r, 400, "invalid-cursor")
    other = await factory.tenant(user, "Other")
    r = await client.get(f"/v1/tenants/{other}/api-keys", params={"cursor": page["next_cursor"]}, headers=user.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_internal_error_carries_no_internals(backend, caplog):
    app = create_app(backend.settings())
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail alice@example.com")

    app.include_router(router)
    async with running(app), client_for(app) as client:
        r = await client.get("/boom")
    body = assert_problem(r, 500, "internal-error")
    assert "secret" not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
    assert body["detail"] == "Internal error"
    assert "alice@example.com" not in caplog.text


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer cfs_forged-token-value", "Bearer cfk_forged", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 5000],
)
async def test_bad_tokens_are_401(client, header):
    headers = {"Authorization": header} if header else {}
    r = await client.get("/v1/me", headers=headers)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"


def test_only_services_out_of_reach_count_as_an_outage():
    """A chat connection that fails on one of these is told to come back later (1013); on anything else (a bug)
    it is not, so a bug does not pass for an outage and send clients reconnecting in a loop."""
    import asyncpg
    import redis.exceptions
    import sqlalchemy.exc

    from confide.core.errors import is_outage

    outages = [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        redis.exceptions.ConnectionError("Error 111 connecting"),
        redis.exceptions.TimeoutError(),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("gone")),
        sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        asyncpg.exceptions.ConnectionDoesNotExistError(),
        asyncpg.InterfaceError("pool is closing"),
    ]
    for cause in (asyncpg.CannotConnectNowError("the database system is starting up"), asyncpg.AdminShutdownError("terminating connection")):
        adapted = Exception("adapted")  # what SQLAlchemy's asyncpg layer wraps an error it has no mapping for in
        adapted.__cause__ = cause
        outages.append(sqlalchemy.exc.DBAPIError("SELECT 1", {}, adapted))
    duplicate = Exception("adapted")
    duplicate.__cause__ = asyncpg.UniqueViolationError("duplicate key")
    bugs = [ValueError(), KeyError("x"), AssertionError(), TypeError(), sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("dup")), redis.exceptions.ResponseError("WRONGTYPE"),
            sqlalchemy.exc.DBAPIError("INSERT", {}, duplicate)]
    assert [is_outage(e) for e in outages] == [True] * len(outages)
    assert [is_outage(e) for e in bugs] == [False] * len(bugs)


async def test_no_content_is_sent_without_a_content_type(client, factory):
    user = await factory.user()
    r = await client.post("/v1/auth/logout", headers=user.headers)
    assert r.status_code == 204 and r.content == b"" and "content-type" not in r.headers


async def test_a_change_to_a_row_deleted_meanwhile_is_a_404_problem(backend):
    """A PATCH whose row a DELETE removed between its read and its write raised StaleDataError: a 500 (API review).
    It is the 404 a PATCH after the DELETE gets."""
    from sqlalchemy.orm.exc import StaleDataError

    from confide.app import create_app
    from tests.conftest import client_for, running

    app = create_app(backend.settings())

    @app.patch("/v1/test-stale")
    async def stale() -> None:
        raise StaleDataError("UPDATE statement on table 'x' expected to update 1 row(s); 0 were matched.")

    async with running(app), client_for(app, "10.0.0.9") as client:
        r = await client.patch("/v1/test-stale")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["type"].endswith("/not-found") and r.json()["detail"] == "It was deleted meanwhile." and "UPDATE" not in r.text


async def test_changes_racing_the_deletion_of_their_object_never_answer_500(client, factory):
    import asyncio

    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Stale Race GmbH")
    base = f"/v1/tenants/{tenant_id}/evaluation/score-definitions"
    for n in range(10):
        r = await client.post(base, json={"name": f"Helpful {n}", "kind": "boolean"}, headers=owner.headers)
        assert r.status_code == 201, r.text
        url = f"{base}/{r.json()['id']}"
        answers = await asyncio.gather(
            client.patch(url, json={"description": "changed"}, headers=owner.headers), client.delete(url, headers=owner.headers)
        )
        assert all(a.status_code in (200, 204, 404) for a in answers), [a.text for a in answers]


async def test_a_trailing_slash_is_an_unknown_path_not_a_redirect(client, factory):
    owner = await factory.user()
    for method in ("GET", "POST"):
        r = await client.request(method, "/v1/tenants/", headers={**owner.headers, "Host": "evil.example"})
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", (method, r.status_code, r.headers)
        assert "location" not in r.headers
