"""Password reset: request by mail, confirm with the token; no enumeration, single use, short life, rate limits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from sqlalchemy import event, select, update

from confide.accounts import service
from confide.accounts.models import EmailToken
from confide.accounts.detached_mails import TASK_NAME, DetachedMails
from confide.app import create_app
from confide.core.clock import utcnow
from confide.core.identity import User
from tests.conftest import client_for, random_email, running
from tests.support.factory import PASSWORD, registration
from tests.support.outbox import Outbox

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


async def settled(app) -> None:
    """Wait for the reset requests answered so far to be carried out (they run after the answer)."""
    await app.state.detached_mails.drain()


async def reset_token(app, anon: httpx.AsyncClient, outbox, email: str) -> str:
    """Ask for a reset as typed; the mail goes to the address as the account stores it (lower case)."""
    stored = email.lower()
    before = len(outbox.messages_to(stored))
    r = await anon.post(RESET, json={"email": email})
    assert r.status_code == 202, r.text
    await settled(app)
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
    token = await reset_token(app, anon, outbox, user.email.upper())  # the address is matched as registration stores it
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


async def test_unknown_address_gets_the_same_answer_and_no_mail(app, anon, factory, outbox):
    user = await factory.user()
    known = await anon.post(RESET, json={"email": user.email})
    nobody = random_email()
    unknown = await anon.post(RESET, json={"email": nobody})
    await settled(app)
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() and known.headers.keys() == unknown.headers.keys()
    assert outbox.messages_to(nobody) == []


async def test_token_is_single_use_and_only_for_resets(app, client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    # a reset token does not confirm an email address, and a confirmation token does not reset a password
    r = await client.post("/v1/accounts/verify", json={"token": token})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    unverified = registration()
    await client.post("/v1/accounts", json=unverified)
    await settled(app)
    assert_invalid_token(await anon.post(CONFIRM, json={"token": outbox.last_token_for(unverified["email"]), "new_password": NEW_PASSWORD}))

    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": "yet another one 55"}))
    assert_invalid_token(await anon.post(CONFIRM, json={"token": "cft_" + "x" * 40, "new_password": NEW_PASSWORD}))
    assert await login(client, user.email, NEW_PASSWORD) == 200


async def test_expired_token_is_refused(app, client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    async with app.state.sessionmaker() as session:
        await session.execute(update(EmailToken).where(EmailToken.user_id == user.id, EmailToken.purpose == "password_reset").values(expires_at=utcnow()))
        await session.commit()
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}))
    assert await login(client, user.email, PASSWORD) == 200


async def test_a_newer_request_or_a_password_change_voids_the_token(app, client, anon, factory, outbox):
    user = await factory.user()
    first = await reset_token(app, anon, outbox, user.email)
    second = await reset_token(app, anon, outbox, user.email)
    assert first != second
    assert_invalid_token(await anon.post(CONFIRM, json={"token": first, "new_password": NEW_PASSWORD}))
    r = await client.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=user.headers)
    assert r.status_code == 204
    assert_invalid_token(await anon.post(CONFIRM, json={"token": second, "new_password": "yet another one 55"}))
    assert await login(client, user.email, NEW_PASSWORD) == 200


@pytest.mark.parametrize("weak", ["short1", "aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "1234567890123"])
async def test_weak_password_is_422_and_keeps_the_token(app, client, anon, factory, outbox, weak):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    r = await anon.post(CONFIRM, json={"token": token, "new_password": weak})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["body.new_password"]
    assert await login(client, user.email, PASSWORD) == 200  # nothing changed, nobody signed out
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200
    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204


async def test_reset_confirms_an_unconfirmed_address(app, client, anon, outbox):
    body = registration()
    await client.post("/v1/accounts", json=body)
    await settled(app)
    assert await login(client, body["email"], PASSWORD) == 403
    token = await reset_token(app, anon, outbox, body["email"])
    assert (await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code == 204
    r = await client.post("/v1/auth/login", json={"email": body["email"], "password": NEW_PASSWORD})
    assert r.status_code == 200
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["email_verified"] is True


async def test_token_mailed_to_a_former_address_is_void(app, client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    new = random_email()
    await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    assert_invalid_token(await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}))


async def test_restricted_account_changes_no_password(app, client, anon, factory, outbox):
    user = await factory.user()
    early = await reset_token(app, anon, outbox, user.email)  # issued before the restriction
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await anon.post(RESET, json={"email": user.email})
    assert r.status_code == 202 and r.json() == (await anon.post(RESET, json={"email": random_email()})).json()
    await settled(app)
    notice = outbox.messages_to(user.email)[-1]
    assert "restricted" in body_of(notice) and "cft_" not in body_of(notice)
    r = await anon.post(CONFIRM, json={"token": early, "new_password": NEW_PASSWORD})
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted")
    assert await login(client, user.email, PASSWORD) == 200
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200  # no session was revoked
    # once the restriction is lifted, a new reset works
    assert (await client.delete("/v1/me/restriction", headers=user.headers)).status_code == 200
    token = await reset_token(app, anon, outbox, user.email)
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
            await settled(app)  # the mail is tried after the answer
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


async def test_two_racing_confirmations_change_the_password_once(app, client, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    passwords = ["first racer pass 11", "second racer pass 22"]
    results = await asyncio.gather(*(anon.post(CONFIRM, json={"token": token, "new_password": p}) for p in passwords))
    assert sorted(r.status_code for r in results) == [204, 400]
    winner = passwords[[r.status_code for r in results].index(204)]
    assert await login(client, user.email, winner) == 200
    assert await login(client, user.email, (set(passwords) - {winner}).pop()) == 401


# ---- nothing before the answer depends on the account existing -------------------------------------


@contextlib.contextmanager
def statements_by_task(app) -> Iterator[list[tuple[asyncio.Task | None, str]]]:
    """Every SQL statement the app's engine runs meanwhile, with the asyncio task that ran it."""
    seen: list[tuple[asyncio.Task | None, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append((asyncio.current_task(), statement))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def assert_no_database_work_before_the_answer(  # noqa: ANN001
    app, anon, route: str, known: str, *, body: Callable[[str], dict] = lambda email: {"email": email}, writes_for: str = "known"
) -> None:
    """httpx's ASGI transport runs the app in the caller's task, so the statements run in this task are
    the request's, up to its answer; the detached work runs in a task of its own. For a known and an
    unknown address alike the request itself runs none; the detached task writes only for the case
    `writes_for` (a reset writes for a known address, a registration for an unknown one)."""
    await settled(app)
    here = asyncio.current_task()
    in_request: dict[str, list[str]] = {}
    detached: dict[str, list[str]] = {}
    for case, email in (("known", known), ("unknown", random_email())):
        with statements_by_task(app) as seen:
            r = await anon.post(route, json=body(email))
            answered = len(seen)
            await settled(app)
        assert r.status_code == 202, r.text
        in_request[case] = [sql for task, sql in seen[:answered] if task is here]
        detached[case] = [sql for task, sql in seen if task is not None and task.get_name() == TASK_NAME]
    assert in_request["known"] == in_request["unknown"] == []
    reads_only = "unknown" if writes_for == "known" else "known"
    assert any(sql.lstrip().upper().startswith("INSERT") for sql in detached[writes_for])
    assert detached[reads_only] and not any(sql.lstrip().upper().startswith(("INSERT", "UPDATE")) for sql in detached[reads_only])


async def test_known_and_unknown_addresses_do_the_same_database_work_before_the_answer(app, anon, factory, outbox):
    user = await factory.user()
    await assert_no_database_work_before_the_answer(app, anon, RESET, user.email)
    assert outbox.last_token_for(user.email)

    # the method sees a request's own database work: a sign-in looks the account up before answering
    with statements_by_task(app) as seen:
        await anon.post("/v1/auth/login", json={"email": random_email(), "password": "wrong password 1"})
    assert [sql for task, sql in seen if task is asyncio.current_task()]


async def test_sending_the_confirmation_again_does_the_same_database_work_before_the_answer(app, anon, outbox):
    """The resend route looked the address up, issued a token and mailed it before answering: its time
    (and a 503 when the mailer failed) told which addresses have an unverified account."""
    email = random_email()
    assert (await anon.post("/v1/accounts", json=registration(email))).status_code == 202
    await assert_no_database_work_before_the_answer(app, anon, "/v1/accounts/verification", email)
    assert len(outbox.messages_to(email)) == 2  # the registration's mail and the one sent again


def reset_latency_count(app) -> float:
    value = app.state.metrics.registry.get_sample_value("confide_http_request_duration_seconds_count", {"method": "POST", "route": RESET})
    return value or 0.0


async def test_reset_route_latency_in_metrics_is_recorded_before_the_reset_runs(app, anon, factory, monkeypatch):
    """The latency /metrics shows for the route is taken when the answer is complete: the detached reset
    (lookup, token, mail) has not begun by then, so its time cannot show."""
    user = await factory.user()
    await settled(app)
    seen_at_start: list[float] = []
    prepare = service.prepare_password_reset

    async def observed(session, services, *, email):  # noqa: ANN001, ANN202
        seen_at_start.append(reset_latency_count(app))  # what the histogram held when the detached work began
        return await prepare(session, services, email=email)

    monkeypatch.setattr(service, "prepare_password_reset", observed)
    before = reset_latency_count(app)
    assert (await anon.post(RESET, json={"email": user.email})).status_code == 202
    await settled(app)
    assert seen_at_start == [before + 1]


async def test_reset_tasks_are_awaited_at_shutdown(backend):
    app = create_app(backend.settings())
    body = registration()
    async with running(app), client_for(app, random_address()) as client:
        assert (await client.post("/v1/accounts", json=body)).status_code == 202
        await app.state.detached_mails.drain()  # the account is created after the answer: a reset asked for before finds none
        assert (await client.post(RESET, json={"email": body["email"]})).status_code == 202
    # the lifespan's end let the reset finish before the engine went: its mail is out
    mails = Outbox(app.state.settings.resolved_outbox_dir).messages_to(body["email"])
    assert mails[-1]["Subject"] == "Reset your Confide password"


async def test_a_reset_stuck_at_shutdown_is_cancelled(app, monkeypatch):
    """Shutdown waits for resets in flight a while (stop_wait), then cancels them: it never hangs."""
    calls: list[str] = []
    cancelled = asyncio.Event()

    async def stuck(session, services, *, email):  # noqa: ANN001, ANN202
        calls.append(email)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    resets = DetachedMails(app.state.sessionmaker, app.state.services, stop_wait=0.05)
    resets.submit(random_email(), stuck)
    await asyncio.sleep(0.01)
    assert len(calls) == 1
    async with asyncio.timeout(5):
        await resets.stop()
    assert cancelled.is_set()
    resets.submit(random_email(), stuck)  # after stop: dropped, never started
    await resets.drain()
    await asyncio.sleep(0.01)
    assert len(calls) == 1


async def test_a_failing_reset_is_logged_by_its_type_only(app, anon, monkeypatch, caplog):
    email = random_email()

    async def failing(session, services, *, email):  # noqa: ANN001, ANN202
        raise RuntimeError(f"could not reset {email}")

    monkeypatch.setattr(service, "prepare_password_reset", failing)
    with caplog.at_level(logging.INFO):
        assert (await anon.post(RESET, json={"email": email})).status_code == 202
        await settled(app)
    failed = [r for r in caplog.records if r.getMessage() == "account mail failed"]
    assert len(failed) == 1 and failed[0].error_type == "RuntimeError"
    assert not [r for r in caplog.records if email in r.getMessage() or email in str(vars(r))]


async def test_mailed_links_carry_the_token_after_a_fragment_only(app, anon, factory, outbox):
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    text = body_of(outbox.messages_to(user.email)[-1])
    links = re.findall(r"https?://\S+", text)
    assert links and all("?" not in link for link in links)
    assert f"{app.state.settings.public_base_url}/account/reset-password#token={token}" in links
    assert "POST /v1/auth/password-reset/confirm" in text


async def test_confirmation_mails_sent_again_are_rate_limited(backend):
    """The resend route had no limit: it could flood a mailbox, and keep minting tokens for an address."""
    app = create_app(backend.settings(verification_resend_limit_per_account=2, verification_resend_limit_per_address=3, password_reset_window_seconds=60))
    email = random_email()
    async with running(app), client_for(app, random_address()) as client:
        assert (await client.post("/v1/accounts", json=registration(email))).status_code == 202
        await app.state.detached_mails.drain()  # the account first, then the resends that look it up
        codes = [(await client.post("/v1/accounts/verification", json={"email": email})).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        await app.state.detached_mails.drain()  # the lookup, the token and the mail come after the answer
        outbox = Outbox(app.state.settings.resolved_outbox_dir)
        assert len(outbox.messages_to(email)) == 3  # the registration's mail and two more, not a third
        # the client's own budget (3) is spent now, whatever address it asks for
        r = await client.post("/v1/accounts/verification", json={"email": random_email()})
        assert r.status_code == 429 and r.json()["type"].endswith("/rate-limited")


async def test_a_password_change_racing_a_reset_does_not_undo_it(app, client, anon, factory, outbox, monkeypatch):
    """The change checked the current password, then hashed the new one and wrote it without looking
    again: a reset confirmed meanwhile (its owner locking out whoever knew the old password and held a
    session) was silently overwritten, and the change's own session, signed out by the reset, went on."""
    user = await factory.user()
    token = await reset_token(app, anon, outbox, user.email)
    passwords = app.state.services.passwords
    original = passwords.hash
    calls = 0

    async def hash_while_a_reset_lands(password: str) -> str:
        nonlocal calls
        calls += 1
        hashed = await original(password)
        if calls == 1:  # the change's new password: the owner's reset commits before the change writes
            r = await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
            assert r.status_code == 204, r.text
        return hashed

    monkeypatch.setattr(passwords, "hash", hash_while_a_reset_lands)
    r = await client.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": "a racing pass 42"}, headers=user.headers)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert "changed meanwhile" in r.json()["detail"]
    assert await login(anon, user.email, NEW_PASSWORD) == 200
    assert await login(anon, user.email, "a racing pass 42") == 401
