"""Password reset: request by mail, confirm with the token; no enumeration, single use, short life, rate limits."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update

from confide.accounts.models import EmailToken
from confide.app import create_app
from confide.core.clock import utcnow
from confide.core.identity import User
from tests.conftest import client_for, random_email, running
from tests.support.factory import PASSWORD, registration

NEW_PASSWORD = "a brand new pass 77"
RESET = "/v1/auth/password-reset"
CONFIRM = "/v1/auth/password-reset/confirm"


def random_address() -> str:
    return "10.%d.%d.%d" % tuple(secrets.randbelow(250) + 1 for _ in range(3))


@pytest.fixture
async def anon(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client from an address of its own, so the per-address reset budget of the shared app is this test's."""
    async with client_for(app, random_address()) as c:
        yield c


def body_of(msg) -> str:
    return msg.get_payload(decode=True).decode()


async def login(client: httpx.AsyncClient, email: str, password: str) -> int:
    return (await client.post("/v1/auth/login", json={"email": email, "password": password})).status_code


async def reset_token(anon: httpx.AsyncClient, outbox, email: str) -> str:
    """Ask for a reset as typed; the mail goes to the address as the account stores it (lower case)."""
    stored = email.lower()
    before = len(outbox.messages_to(stored))
    r = await anon.post(RESET, json={"email": email})
    assert r.status_code == 202, r.text
    mails = outbox.messages_to(stored)
    assert len(mails) == before + 1 and mails[-1]["Subject"] == "Reset your Confide password"
    return outbox.last_token_for(stored)


def assert_invalid_token(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/invalid-token") and "POST /v1/auth/password-reset" in r.json()["detail"]


async def test_full_reset_flow_revokes_every_session(app, client, anon, factory, outbox):
    user = await factory.user()
    second = (await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).json()["token"]
    token = await reset_token(anon, outbox, user.email.upper())  # the address is matched as registration stores it
    async with app.state.sessionmaker() as session:
        stored = (await session.scalars(select(EmailToken).where(EmailToken.user_id == user.id, EmailToken.purpose == "password_reset"))).all()
    assert len(stored) == 1 and stored[0].token_hash != token and len(stored[0].token_hash) == 64
    assert (stored[0].expires_at - utcnow()).total_seconds() <= app.state.settings.password_reset_ttl_minutes * 60

    r = await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    for bearer in (user.token, second):
        assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {bearer}"})).status_code == 401
    assert await login(client, user.email, PASSWORD) == 401
    assert await login(client, user.email, NEW_PASSWORD) == 200
    async with app.state.sessionmaker() as session:
        password_hash = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert password_hash.startswith("$argon2") and NEW_PASSWORD not in password_hash


async def test_unknown_address_gets_the_same_answer_and_no_mail(anon, factory, outbox):
    user = await factory.user()
    known = await anon.post(RESET, json={"email": user.email})
    nobody = random_email()
    unknown = await anon.post(RESET, json={"email": nobody})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() and known.headers.keys() == unknown.headers.keys()
    assert outbox.messages_to(nobody) == []


async def test_token_is_single_use_and_only_for_resets(client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(anon, outbox, user.email)
    # a reset token does not confirm an email address, and a confirmation token does not reset a password
    r = await client.post("/v1/accounts/verify", json={"token": token})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    unverified = registration()
    await client.post("/v1/accounts", json=unverified)
    assert_invalid_token(await anon.post(CONFIRM, json={"token": outbox.last_token_for(unverified["email"]), "new_password": NEW_PASSWORD}))

    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": "yet another one 55"}))
    assert_invalid_token(await anon.post(CONFIRM, json={"token": "cft_" + "x" * 40, "new_password": NEW_PASSWORD}))
    assert await login(client, user.email, NEW_PASSWORD) == 200


async def test_expired_token_is_refused(app, client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(anon, outbox, user.email)
    async with app.state.sessionmaker() as session:
        await session.execute(update(EmailToken).where(EmailToken.user_id == user.id, EmailToken.purpose == "password_reset").values(expires_at=utcnow()))
        await session.commit()
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}))
    assert await login(client, user.email, PASSWORD) == 200


async def test_a_newer_request_or_a_password_change_voids_the_token(client, anon, factory, outbox):
    user = await factory.user()
    first = await reset_token(anon, outbox, user.email)
    second = await reset_token(anon, outbox, user.email)
    assert first != second
    assert_invalid_token(await anon.post(CONFIRM, json={"token": first, "new_password": NEW_PASSWORD}))
    r = await client.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=user.headers)
    assert r.status_code == 204
    assert_invalid_token(await anon.post(CONFIRM, json={"token": second, "new_password": "yet another one 55"}))
    assert await login(client, user.email, NEW_PASSWORD) == 200


@pytest.mark.parametrize("weak", ["short1", "aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "1234567890123"])
async def test_weak_password_is_422_and_keeps_the_token(client, anon, factory, outbox, weak):
    user = await factory.user()
    token = await reset_token(anon, outbox, user.email)
    r = await anon.post(CONFIRM, json={"token": token, "new_password": weak})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["body.new_password"]
    assert await login(client, user.email, PASSWORD) == 200  # nothing changed, nobody signed out
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200
    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204


async def test_reset_confirms_an_unconfirmed_address(client, anon, outbox):
    body = registration()
    await client.post("/v1/accounts", json=body)
    assert await login(client, body["email"], PASSWORD) == 403
    token = await reset_token(anon, outbox, body["email"])
    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    r = await client.post("/v1/auth/login", json={"email": body["email"], "password": NEW_PASSWORD})
    assert r.status_code == 200
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["email_verified"] is True


async def test_token_mailed_to_a_former_address_is_void(client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(anon, outbox, user.email)
    new = random_email()
    await client.patch("/v1/me", json={"email": new}, headers=user.headers)
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}))


async def test_restricted_account_changes_no_password(client, anon, factory, outbox):
    user = await factory.user()
    early = await reset_token(anon, outbox, user.email)  # issued before the restriction
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await anon.post(RESET, json={"email": user.email})
    assert r.status_code == 202 and r.json() == (await anon.post(RESET, json={"email": random_email()})).json()
    notice = outbox.messages_to(user.email)[-1]
    assert "restricted" in body_of(notice) and "cft_" not in body_of(notice)
    r = await anon.post(CONFIRM, json={"token": early, "new_password": NEW_PASSWORD})
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted")
    assert await login(client, user.email, PASSWORD) == 200
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200  # no session was revoked
    # once the restriction is lifted, a new reset works
    assert (await client.delete("/v1/me/restriction", headers=user.headers)).status_code == 200
    token = await reset_token(anon, outbox, user.email)
    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204


async def test_reset_is_rate_limited_per_account_and_per_address(backend):
    app = create_app(backend.settings(password_reset_limit_per_account=2, password_reset_limit_per_address=4, password_reset_window_seconds=60))
    address = random_address()
    async with running(app), client_for(app, address) as client:
        email = random_email()  # no account: the limit counts the address asked for, known or not
        codes = [(await client.post(RESET, json={"email": email})).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        r = await client.post(RESET, json={"email": email.upper()})
        assert r.json()["type"].endswith("/rate-limited") and int(r.headers["retry-after"]) > 0
        # another address from the same client: the client's budget (4) is spent by now
        assert (await client.post(RESET, json={"email": random_email()})).status_code == 429
        # confirmations have a budget of their own per client address
        codes = [(await client.post(CONFIRM, json={"token": "cft_" + "x" * 40, "new_password": NEW_PASSWORD})).status_code for _ in range(5)]
        assert codes == [400, 400, 400, 400, 429]
    async with running(app), client_for(app, random_address()) as other:
        assert (await other.post(RESET, json={"email": random_email()})).status_code == 202


async def test_mail_failure_looks_the_same_and_logs_nothing_personal(backend, caplog):
    app = create_app(backend.settings(smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False))
    body = registration()
    async with running(app), client_for(app, random_address()) as client:
        # an unconfirmed account, created while mail is down: registration fails loudly, so make it directly
        async with app.state.sessionmaker() as session:
            now = utcnow()
            session.add(User(id="usr_" + secrets.token_hex(8), email=body["email"], first_name="Ada", surname="Lovelace", pseudonym="ada",
                             password_hash="x", privacy_policy_version=body["privacy_policy_version"], registered_at=now, updated_at=now))
            await session.commit()
        with caplog.at_level(logging.INFO):  # the default log level (aiosqlite alone logs SQL parameters at DEBUG)
            known = await client.post(RESET, json={"email": body["email"]})
            unknown = await client.post(RESET, json={"email": random_email()})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    assert any("mail delivery failed" in r.getMessage() for r in caplog.records)  # the failure is seen by operators ...
    assert not [r for r in caplog.records if body["email"] in r.getMessage() or "cft_" in r.getMessage()]  # ... without the address


async def test_both_routes_are_documented(client):
    spec = (await client.get("/openapi.json")).json()
    request, confirm = spec["paths"][RESET]["post"], spec["paths"][CONFIRM]["post"]
    for op in (request, confirm):
        assert op["summary"] and op["description"] and "auth" in op["tags"]
    assert {"202", "422", "429"} <= request["responses"].keys()
    assert {"204", "400", "403", "422", "429"} <= confirm["responses"].keys()


async def test_two_racing_confirmations_change_the_password_once(client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(anon, outbox, user.email)
    passwords = ["first racer pass 11", "second racer pass 22"]
    results = await asyncio.gather(*(anon.post(CONFIRM, json={"token": token, "new_password": p}) for p in passwords))
    assert sorted(r.status_code for r in results) == [204, 400]
    winner = passwords[[r.status_code for r in results].index(204)]
    assert await login(client, user.email, winner) == 200
    assert await login(client, user.email, (set(passwords) - {winner}).pop()) == 401
