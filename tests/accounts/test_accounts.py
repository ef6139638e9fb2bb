"""Accounts: registration, verification, login, profile and password, good paths and bad."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from confide.app import create_app
from confide.core.identity import AuthSession, User
from confide.core.mail import KIND_HEADER
from tests.conftest import client_for, random_email, running
from tests.support.factory import PASSWORD, Factory, registration


async def settled(app) -> None:
    """Wait for the registrations answered so far to be carried out: everything but the checks runs after the answer."""
    await app.state.detached_mails.drain()


async def count_users(app, email: str) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(User).where(User.email == email))


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": True, "broker": True}


async def test_registration_records_ip_time_and_consent(app, client, outbox):
    body = registration(phone="+49 (221) 715975-75", company_name="Acme GmbH", newsletter_opt_in=True)
    r = await client.post("/v1/accounts", json=body)
    assert r.status_code == 202
    await settled(app)
    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == body["email"]))
    assert user.registration_ip == "127.0.0.1" and user.registered_at is not None
    assert user.phone == "+4922171597575"
    # The ticked box is a request (double opt-in): the profile says true once the mailed confirmation is confirmed.
    assert user.privacy_policy_version == "2024-01" and user.newsletter_opt_in is False
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
    assert user.email_verified_at is None
    assert len(outbox.messages_to(body["email"])) >= 1


async def test_duplicate_registration_looks_the_same_and_mails_the_owner(app, client, outbox, factory):
    user = await factory.user()
    first = await client.post("/v1/accounts", json=registration())
    again = await client.post("/v1/accounts", json=registration(email=user.email.upper(), first_name="Mallory"))
    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    await settled(app)
    assert await count_users(app, user.email) == 1
    notice = outbox.messages_to(user.email)[-1]
    assert "already has one" in notice.get_payload(decode=True).decode()
    # the original account is untouched
    r = await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"phone": "12345"}, "body.phone"),
        ({"phone": "+49 123"}, "body.phone"),
        ({"password": "short1"}, "body.password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "body.password"),
        ({"password": "abcdefghijklmnop"}, "body.password"),
        # common, or the account's own details: length alone let these through
        ({"password": "password123"}, "body.password"),
        ({"password": "qwertyuiop1"}, "body.password"),
        ({"email": "grace.hopper@example.com", "password": "grace.hopper@example.com"}, "body.password"),
        ({"first_name": "Grace", "surname": "Hopper", "password": "GraceHopper1"}, "body.password"),
        ({"privacy_policy_version": ""}, "body.privacy_policy_version"),
        ({"first_name": ""}, "body.first_name"),
        ({"is_admin": True}, "body.is_admin"),
    ],
)
async def test_bad_registration_is_422_naming_the_field(app, client, overrides, field):
    body = registration(**overrides)
    r = await client.post("/v1/accounts", json=body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    await settled(app)
    assert await count_users(app, body["email"]) == 0


async def test_a_guessable_password_is_refused_saying_why(client):
    r = await client.post("/v1/accounts", json=registration(password="password123"))
    [error] = [e for e in r.json()["errors"] if e["field"] == "body.password"]
    assert error["message"].startswith("This password is too easy to guess: This is a very common password"), error


async def test_missing_consent_version_is_422(client):
    body = registration()
    del body["privacy_policy_version"]
    r = await client.post("/v1/accounts", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.privacy_policy_version"


async def test_registration_must_acknowledge_the_current_policy_version(app, client):
    current = app.state.settings.privacy_policy_version
    for stale in ("2023-01", current + " ", "latest"):
        body = registration(privacy_policy_version=stale)
        r = await client.post("/v1/accounts", json=body)
        if stale.strip() == current:  # surrounding whitespace is stripped like every request string
            assert r.status_code == 202, r.text
            continue
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/validation-error")
        assert r.json()["errors"][0]["field"] == "body.privacy_policy_version" and current in r.json()["detail"]
        await settled(app)
        assert await count_users(app, body["email"]) == 0
    notice = (await client.get("/v1/privacy/notice")).json()
    body = registration(privacy_policy_version=notice["policy_version"])
    assert (await client.post("/v1/accounts", json=body)).status_code == 202
    await settled(app)
    assert await count_users(app, body["email"]) == 1


async def test_login_requires_verification_and_tokens_are_single_use(app, client, outbox):
    body = registration()
    await client.post("/v1/accounts", json=body)
    await settled(app)
    r = await client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert r.status_code == 403 and r.json()["type"].endswith("/email-not-verified")
    token = outbox.last_token_for(body["email"])
    assert (await client.post("/v1/accounts/verify", json={"token": token})).status_code == 200
    r = await client.post("/v1/accounts/verify", json={"token": token})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token")
    r = await client.post("/v1/accounts/verify", json={"token": "cft_" + "x" * 40})
    assert r.status_code == 400
    assert (await client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})).status_code == 200


async def test_a_spare_confirmation_token_for_a_former_address_is_void(app, client, outbox):
    """A second confirmation token, still unused when the account moves to another address, proves nothing
    about the account any more: it must not confirm, nor show the former mailbox the new address and profile
    (security probe 2026-12-02). Tokens and profiles are never cached."""
    body = registration()
    r = await client.post("/v1/accounts", json=body)
    assert r.headers["cache-control"] == "no-store"
    await settled(app)
    spare = outbox.last_token_for(body["email"])
    assert (await client.post("/v1/accounts/verification", json={"email": body["email"]})).status_code == 202
    await app.state.detached_mails.drain()
    token = outbox.last_token_for(body["email"])
    assert token != spare
    r = await client.post("/v1/accounts/verify", json={"token": token})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    r = await client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    new = random_email()
    assert (await client.patch("/v1/me", json={"email": new, "current_password": PASSWORD}, headers=headers)).status_code == 200
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    r = await client.post("/v1/accounts/verify", json={"token": spare})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token"), r.text
    assert new not in r.text and body["first_name"] not in r.text


async def test_confirmation_link_carries_the_token_after_a_fragment_only(app, client, outbox):
    """Tokens never travel in a URL's path or query (access logs, proxies, browser history): the dashboard
    link puts it after `#`, which no browser sends, and the mail names the POST route that takes it."""
    body = registration()
    await client.post("/v1/accounts", json=body)
    await settled(app)
    text = outbox.messages_to(body["email"])[-1].get_payload(decode=True).decode()
    token = outbox.last_token_for(body["email"])
    links = re.findall(r"https?://\S+", text)
    assert links and all("?" not in link for link in links)
    assert f"{app.state.settings.public_base_url}/account/verify-email#token={token}" in links
    assert "POST /v1/accounts/verify" in text


async def test_bad_credentials_get_one_generic_answer(client, factory):
    user = await factory.user()
    wrong_password = await client.post("/v1/auth/login", json={"email": user.email, "password": "wrong password 1"})
    no_account = await client.post("/v1/auth/login", json={"email": random_email(), "password": "wrong password 1"})
    assert wrong_password.status_code == no_account.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
    assert strip(wrong_password) == strip(no_account)
    assert wrong_password.json()["type"].endswith("/invalid-credentials")


async def test_login_sets_no_cookie_and_logout_revokes(client, factory):
    user = await factory.user()
    r = await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert "set-cookie" not in r.headers
    token = r.json()["token"]
    assert token.startswith("cfs_") and r.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/v1/me", headers=headers)).status_code == 401
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200  # other sessions live on


async def test_token_is_stored_hashed_and_expires(app, client, factory):
    user = await factory.user()
    async with app.state.sessionmaker() as session:
        hashes = (await session.scalars(select(AuthSession.token_hash).where(AuthSession.user_id == user.id))).all()
        assert user.token not in hashes and all(len(h) == 64 for h in hashes)
        await session.execute(AuthSession.__table__.update().where(AuthSession.user_id == user.id).values(expires_at=AuthSession.created_at))
        await session.commit()
    r = await client.get("/v1/me", headers=user.headers)
    assert r.status_code == 401


async def test_profile_rectification(client, factory, outbox):
    user = await factory.user()
    r = await client.patch("/v1/me", json={"surname": "Byron", "phone": "+44 20 7946 0958", "company_name": None}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert r.json()["surname"] == "Byron" and r.json()["phone"] == "+442079460958"
    r = await client.patch("/v1/me", json={"surname": ""}, headers=user.headers)
    assert r.status_code == 422
    r = await client.patch("/v1/me", json={"password_hash": "x"}, headers=user.headers)
    assert r.status_code == 422


async def test_email_change_takes_effect_once_verified(client, factory, outbox):
    user = await factory.user()
    new = random_email()
    r = await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert r.json()["email"] == user.email and r.json()["pending_email"] == new
    r = await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})
    assert r.status_code == 200 and r.json()["email"] == new and r.json()["pending_email"] is None
    assert (await client.post("/v1/auth/login", json={"email": new, "password": PASSWORD})).status_code == 200


async def test_an_email_change_needs_the_password_and_the_former_address_hears_of_it(client, factory, outbox):
    """A signed-in session alone (a stolen token) used to move the account to another mailbox, and with it the
    password reset, without the owner ever hearing of it."""
    user = await factory.user()
    new = random_email()
    r = await client.patch("/v1/me", json={"email": new}, headers=user.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.current_password"
    r = await client.patch("/v1/me", json={"email": new, "current_password": "not the password 1"}, headers=user.headers)
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-credentials")
    assert outbox.messages_to(new) == [] and (await client.get("/v1/me", headers=user.headers)).json()["pending_email"] is None
    # the current address again, or other fields alone, need no password
    assert (await client.patch("/v1/me", json={"email": user.email, "first_name": "Ada"}, headers=user.headers)).status_code == 200

    before = len(outbox.messages_to(user.email))
    r = await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert r.status_code == 200 and r.json()["pending_email"] == new
    assert len(outbox.messages_to(user.email)) == before, "nothing changed yet"
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200
    [notice] = outbox.messages_to(user.email)[before:]
    assert notice[KIND_HEADER] == "email-changed"
    text = notice.get_payload(decode=True).decode()
    assert "changed" in text and new not in text and "Ada" not in text


async def test_an_email_change_checks_the_password_before_it_locks_the_account(app, client, factory, outbox):
    """The password's hash is slow: checked under the account's lock, it held up every other step of the
    account. Checked first, a password changed meanwhile (a reset by the owner) must still stop the move."""
    user = await factory.user()
    other = (await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).json()["token"]
    passwords = app.state.services.passwords
    real_verify = passwords.verify
    changed: list[int] = []

    async def verify_while_the_owner_changes_it(password_hash, password):
        ok = await real_verify(password_hash, password)
        if not changed:  # the owner's change, committed while the move's check ran (it takes the lock itself)
            changed.append(1)
            body = {"current_password": user.password, "new_password": "another good pass 9"}
            async with asyncio.timeout(10):  # checked under the lock, the change would wait for it forever
                r = await client.post("/v1/me/password", json=body, headers={"Authorization": f"Bearer {other}"})
            assert r.status_code == 204, r.text
        return ok

    passwords.verify = verify_while_the_owner_changes_it
    try:
        new = random_email()
        r = await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    finally:
        passwords.verify = real_verify
    assert r.status_code == 401 and r.json()["type"].endswith("/invalid-credentials"), r.text
    assert outbox.messages_to(new) == []
    r = await client.get("/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert r.json()["pending_email"] is None and r.json()["email"] == user.email


async def test_a_restricted_account_keeps_its_address(client, factory, outbox):
    """A change asked for before the restriction (Art. 18) does not complete during it."""
    user = await factory.user()
    new = random_email()
    await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert (await client.post("/v1/me/restriction", headers=user.headers)).status_code == 200
    r = await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})
    assert r.status_code == 403 and r.json()["type"].endswith("/account-restricted")
    assert (await client.get("/v1/me", headers=user.headers)).json()["email"] == user.email


async def test_password_checks_of_a_signed_in_session_are_limited(client, factory):
    """A stolen token must not become unlimited guessing of the password the address change, the
    password change and the account's erasure ask for: ten tries a quarter of an hour, counted together
    (erasure used to have ten of its own)."""
    user = await factory.user()
    for attempt in range(5):
        body = {"email": random_email(), "current_password": f"guess number {attempt}"}
        assert (await client.patch("/v1/me", json=body, headers=user.headers)).status_code == 401
    for attempt in range(5):
        r = await client.post("/v1/me/erasure", json={"password": f"erasure guess {attempt}"}, headers=user.headers)
        assert r.status_code == 401, r.text
    r = await client.post("/v1/me/password", json={"current_password": user.password, "new_password": "a fresh long pass 77"}, headers=user.headers)
    assert r.status_code == 429 and r.json()["type"].endswith("/rate-limited") and "Retry-After" in r.headers
    r = await client.post("/v1/me/erasure", json={"password": user.password}, headers=user.headers)
    assert r.status_code == 429, "the erasure shares the budget"


async def test_a_password_is_measured_against_the_account_and_may_be_long(client, factory):
    user = await factory.user(first_name="Grace", surname="Hopper")
    r = await client.post("/v1/me/password", json={"current_password": user.password, "new_password": user.email}, headers=user.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_password"
    # zxcvbn refuses input over 72 characters; a long passphrase is estimated by its start
    passphrase = "violet harbour lanterns drift past seventeen quiet orchards at dawn " * 2
    r = await client.post("/v1/me/password", json={"current_password": user.password, "new_password": passphrase}, headers=user.headers)
    assert r.status_code == 204, r.text
    # look-alike characters are read as letters, so a common password in disguise is still common
    r = await client.post("/v1/accounts", json=registration(password="P@$$w0rd!1"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password"


async def test_email_change_to_a_taken_address_reveals_nothing(client, factory, outbox):
    """The answer is the same as for a free address (pending until confirmed): PATCH /v1/me must not tell a
    signed-in user which addresses have accounts. The address's owner is told, and nothing changes."""
    user, other = await factory.user(), await factory.user()
    free = random_email()
    r = await client.patch("/v1/me", json={"email": other.email, "current_password": user.password}, headers=user.headers)
    taken_answer = r.json()
    assert r.status_code == 200 and taken_answer["pending_email"] == other.email and taken_answer["email"] == user.email
    assert "already has an account" in outbox.messages_to(other.email)[-1].get_payload(decode=True).decode()
    r = await client.patch("/v1/me", json={"email": free, "current_password": user.password}, headers=user.headers)
    assert r.json().keys() == taken_answer.keys() and r.json()["pending_email"] == free
    assert (await client.get("/v1/me", headers=other.headers)).json()["email"] == other.email


async def test_a_pending_email_change_can_be_withdrawn_and_only_the_newest_confirmed(client, factory, outbox):
    user = await factory.user()
    first, second = random_email(), random_email()
    await client.patch("/v1/me", json={"email": first, "current_password": user.password}, headers=user.headers)
    first_token = outbox.last_token_for(first)
    await client.patch("/v1/me", json={"email": second, "current_password": user.password}, headers=user.headers)
    r = await client.post("/v1/accounts/verify", json={"token": first_token})
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-token"), "an earlier request's token stops working"

    r = await client.patch("/v1/me", json={"email": user.email.upper(), "current_password": user.password}, headers=user.headers)
    assert r.status_code == 200 and r.json()["pending_email"] is None and r.json()["email"] == user.email
    r = await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(second)})
    assert r.status_code == 400, "withdrawn: the change's token no longer confirms it"
    assert (await client.get("/v1/me", headers=user.headers)).json()["email"] == user.email


async def test_password_change_revokes_other_sessions(client, factory):
    user = await factory.user()
    other = (await client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).json()["token"]
    r = await client.post("/v1/me/password", json={"current_password": "wrong one 123", "new_password": "another good pass 9"}, headers=user.headers)
    assert r.status_code == 401
    r = await client.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": "weak"}, headers=user.headers)
    assert r.status_code == 422
    r = await client.post("/v1/me/password", json={"current_password": PASSWORD, "new_password": "another good pass 9"}, headers=user.headers)
    assert r.status_code == 204
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200
    assert (await client.get("/v1/me", headers={"Authorization": f"Bearer {other}"})).status_code == 401
    assert (await client.post("/v1/auth/login", json={"email": user.email, "password": "another good pass 9"})).status_code == 200


async def test_login_is_rate_limited_per_account_and_per_address(backend, outbox):
    app = create_app(backend.settings(login_limit_per_account=3, login_limit_per_address=5, login_window_seconds=60))
    async with running(app), client_for(app, "10.1.1.1") as client:
        body = {"email": random_email(), "password": "wrong password 1"}
        codes = [(await client.post("/v1/auth/login", json=body)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        r = await client.post("/v1/auth/login", json=body)
        assert r.json()["type"].endswith("/rate-limited") and int(r.headers["retry-after"]) > 0
        assert "failed sign-ins for this account" in r.json()["detail"]
        # a different account from the same address: the address budget (5, every attempt) is spent
        r = await client.post("/v1/auth/login", json={**body, "email": random_email()})
        assert r.status_code == 429 and "from your address" in r.json()["detail"]
    async with running(app), client_for(app, "10.2.2.2") as other_address:
        r = await other_address.post("/v1/auth/login", json={"email": random_email(), "password": "wrong password 1"})
        assert r.status_code == 401


async def test_an_ipv6_client_counts_by_its_64_block(backend, outbox):
    """Per-address limits key an IPv6 client on its /64 (security review): a subscriber holds the whole block,
    and rotating through it must not bring a fresh allowance each time."""
    app = create_app(backend.settings(login_limit_per_address=3, login_window_seconds=60))
    codes = []
    async with running(app):
        for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4"):
            async with client_for(app, host) as client:
                r = await client.post("/v1/auth/login", json={"email": random_email(), "password": "wrong password 1"})
                codes.append(r.status_code)
        async with client_for(app, "2001:db8:1:3::1") as next_block:
            codes.append((await next_block.post("/v1/auth/login", json={"email": random_email(), "password": "wrong password 1"})).status_code)
    assert codes == [401, 401, 401, 429, 401]


async def test_rate_limit_keys_cannot_be_traced_back_to_an_address_or_an_email(backend, outbox):
    """The broker's rate-limit keys name a client address and an account by an HMAC under the secret key: a bare
    SHA-256 of an IPv4 address is undone by trying all four billion, and of an email address by a list of them (a
    privacy review)."""
    import hashlib
    import hmac

    import redis.asyncio as redis

    if backend.redis_url is None:
        pytest.skip("the keys are read from Redis")
    settings = backend.settings()
    app = create_app(settings)
    email = random_email()
    async with running(app), client_for(app, "203.0.113.77") as client:
        assert (await client.post("/v1/auth/login", json={"email": email, "password": "wrong password 1"})).status_code == 401
    raw = redis.from_url(backend.redis_url)
    try:
        keys = [k.decode() async for k in raw.scan_iter(match=f"{backend.redis_prefix}*")]
    finally:
        await raw.aclose()
    for subject in ("203.0.113.77", email):
        bare = hashlib.sha256(subject.encode()).hexdigest()[:24]
        keyed = hmac.new(("rate-limit:" + settings.resolved_secret_key).encode(), subject.encode(), hashlib.sha256).hexdigest()[:24]
        assert not [k for k in keys if bare in k], keys
        assert [k for k in keys if keyed in k], (subject, keys)


async def test_guessing_from_elsewhere_does_not_lock_the_owner_out(backend, outbox):
    """Per account only failures count, and per client address: ten wrong passwords from ten addresses
    leave the owner's own sign-in alone; the account-wide ceiling on failures stops guessing spread over
    many addresses, and a correct password from a guessing address is refused with the guesses."""
    app = create_app(backend.settings(login_limit_per_account=2, login_failures_per_account=6, login_limit_per_address=50, login_window_seconds=60))
    async with running(app):
        async with client_for(app, "10.9.9.9") as owner_client:
            user = await Factory(owner_client, outbox, settle=app.state.detached_mails.drain).user()
            for _ in range(3):  # correct sign-ins count for nothing
                assert (await owner_client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).status_code == 200
        for n in range(3):
            async with client_for(app, f"203.0.113.{n}") as attacker:
                wrong = {"email": user.email, "password": f"wrong password {n}"}
                assert [(await attacker.post("/v1/auth/login", json=wrong)).status_code for _ in range(2)] == [401, 401]
                r = await attacker.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
                assert r.status_code == 429, "this address is spent for this account, the right password too"
            if n == 1:  # four failures from elsewhere: the owner's own address still signs in
                async with client_for(app, "10.9.9.9") as owner_client:
                    assert (await owner_client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).status_code == 200
        async with client_for(app, "10.9.9.9") as owner_client:
            # six failures from three addresses reach the account-wide ceiling: nobody signs in until the window ends
            r = await owner_client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
            assert r.status_code == 429 and "reset the password" in r.json()["detail"]
    app = create_app(backend.settings(login_limit_per_account=2, login_failures_per_account=100, login_limit_per_address=50, login_window_seconds=60))
    async with running(app):
        async with client_for(app, "10.9.9.8") as owner_client:
            user = await Factory(owner_client, outbox, settle=app.state.detached_mails.drain).user()
        for n in range(10):
            async with client_for(app, f"198.51.100.{n}") as attacker:
                codes = [(await attacker.post("/v1/auth/login", json={"email": user.email, "password": "wrong password 1"})).status_code for _ in range(3)]
                assert codes == [401, 401, 429]
        async with client_for(app, "10.9.9.8") as owner_client:
            assert (await owner_client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})).status_code == 200


async def test_mail_failure_leaves_nothing_half_created(backend, caplog):
    """The mail goes out after the answer (the answer must not tell a new address from a known one), so a
    mail server that is away no longer shows as a 503: the account is removed again, and the address can
    register once mail works."""
    app = create_app(backend.settings(smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False))
    body = registration(newsletter_opt_in=False)
    async with running(app), client_for(app) as client:
        r = await client.post("/v1/accounts", json=body)
        assert r.status_code == 202
        await settled(app)
        assert await count_users(app, body["email"]) == 0
    assert not [rec for rec in caplog.records if body["email"] in rec.getMessage() or body["email"] in str(vars(rec))]
