"""Registration answers before anything that depends on the address is done: the same 202, the same work,
for a new and a known address. The account, its mail or the notice to the owner come after the answer."""

from __future__ import annotations

import asyncio
import re
import logging

import pytest
from sqlalchemy import func, select

from confide.accounts import service
from confide.accounts.detached_mails import TASK_NAME, DetachedMails
from confide.app import create_app
from confide.core.identity import User
from confide.core.errors import ServiceUnavailable
from confide.core.mail import KIND_HEADER, MailKind
from tests.accounts.test_password_reset import anon, assert_no_database_work_before_the_answer, random_address, settled  # noqa: F401  (anon: a fixture)
from tests.conftest import client_for, random_email, running
from tests.support.factory import PASSWORD, registration
from tests.support.outbox import Outbox

REGISTER = "/v1/accounts"


async def accounts_with(app, email: str) -> int:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0)


def kinds(outbox: Outbox, email: str) -> list[str]:
    return sorted(m[KIND_HEADER] for m in outbox.messages_to(email))


async def test_a_new_and_a_known_address_do_the_same_database_work_before_the_answer(app, anon, factory, outbox):
    """Registration looked the address up, inserted the account and its token and mailed before answering,
    or only mailed the owner of a known address: its time (and /metrics) told which addresses have one."""
    user = await factory.user()
    await assert_no_database_work_before_the_answer(app, anon, REGISTER, user.email, body=registration, writes_for="unknown")
    assert kinds(outbox, user.email) == ["registration-attempt", "verification"]  # the owner is told, after the answer


async def test_the_password_is_hashed_after_the_answer(app, anon, factory, monkeypatch):
    """argon2 is the expensive part: were it hashed before the answer only for one kind of address, or
    not at all for some, the time would tell. It runs in the detached task for both."""
    user = await factory.user()
    await settled(app)
    passwords = app.state.services.passwords
    hash_password = passwords.hash
    hashed_in: list[str | None] = []

    async def observed(password: str) -> str:
        task = asyncio.current_task()
        hashed_in.append(task.get_name() if task else None)
        return await hash_password(password)

    monkeypatch.setattr(passwords, "hash", observed)
    for email in (user.email, random_email()):
        assert (await anon.post(REGISTER, json=registration(email))).status_code == 202
        assert hashed_in == [], "nothing hashed before the answer"
        await settled(app)
        assert hashed_in == [TASK_NAME]
        hashed_in.clear()


async def test_registration_end_to_end(app, outbox):
    """The account appears after the answer with its IP and time, its confirmation mail arrives (waited for
    as a person does, by the outbox), the token confirms the address, and the password signs in."""
    body = registration(newsletter_opt_in=True)
    address = random_address()
    async with client_for(app, address) as client:
        assert (await client.post(REGISTER, json=body)).status_code == 202
        await outbox.wait_for(body["email"], MailKind.VERIFICATION)
        async with app.state.sessionmaker() as session:
            user = await session.scalar(select(User).where(User.email == body["email"]))
        assert user is not None and user.registration_ip == address and user.registered_at is not None
        assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash
        await outbox.wait_for(body["email"], MailKind.NEWSLETTER_CONFIRMATION)
        assert [m[KIND_HEADER] for m in outbox.messages_to(body["email"])] == ["verification", "newsletter-confirmation"]
        r = await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(body["email"])})
        assert r.status_code == 200 and r.json()["email_verified"] is True
        assert (await client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})).status_code == 200


async def test_two_registrations_of_one_new_address_at_once_make_one_account(app, anon, outbox, monkeypatch, caplog):
    """Both looked the address up before either inserted it: the second insert fails on the unique
    address. That one mails the owner the notice, and nobody sees an error."""
    prepare = service.prepare_registration
    together = asyncio.Barrier(2)

    async def at_once(session, services, *, pending, password_hash):  # noqa: ANN001, ANN202
        await session.connection()  # a connection each first: opening one would stagger the racers
        await together.wait()
        return await prepare(session, services, pending=pending, password_hash=password_hash)

    monkeypatch.setattr(service, "prepare_registration", at_once)
    email = random_email()
    with caplog.at_level(logging.INFO):
        answers = await asyncio.gather(*(anon.post(REGISTER, json=registration(email, first_name=name)) for name in ("Ada", "Grace")))
        await settled(app)
    assert [r.status_code for r in answers] == [202, 202] and answers[0].json() == answers[1].json()
    assert await accounts_with(app, email) == 1
    assert kinds(outbox, email) == ["registration-attempt", "verification"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("confide")]
    r = await anon.post("/v1/accounts/verify", json={"token": outbox.last_token_for(email)})
    assert r.status_code == 200


async def test_the_password_is_only_held_until_it_is_hashed(app, anon, monkeypatch, caplog):
    """The job carries the password to the hash and no further; its repr names neither it nor the address."""
    runner = app.state.detached_mails
    submitted: list[service.PendingRegistration] = []
    submit = runner.submit_registration

    def keep(registration: service.PendingRegistration) -> None:
        submitted.append(registration)
        submit(registration)

    monkeypatch.setattr(runner, "submit_registration", keep)
    body = registration(password="a very secret pass 9")
    with caplog.at_level(logging.DEBUG):
        assert (await anon.post(REGISTER, json=body)).status_code == 202
        (pending,) = submitted
        assert body["password"] not in repr(pending) and body["email"] not in repr(pending)
        assert not any(body["password"] in repr(task) for task in asyncio.all_tasks())
        await settled(app)
    assert pending._password is None  # handed to the hash, then forgotten
    assert not [r for r in caplog.records if body["password"] in r.getMessage() or body["password"] in str(vars(r))]


async def test_a_failing_registration_is_logged_by_its_type_only(app, anon, monkeypatch, caplog):
    email = random_email()

    async def failing(session, services, *, pending, password_hash):  # noqa: ANN001, ANN202
        raise RuntimeError(f"could not register {pending.email}")

    monkeypatch.setattr(service, "prepare_registration", failing)
    with caplog.at_level(logging.INFO):
        assert (await anon.post(REGISTER, json=registration(email))).status_code == 202
        await settled(app)
    failed = [r for r in caplog.records if r.getMessage() == "account mail failed"]
    assert len(failed) == 1 and failed[0].error_type == "RuntimeError"
    assert not [r for r in caplog.records if email in r.getMessage() or email in str(vars(r))]


async def test_a_full_runner_changes_nothing_in_the_answer(backend, caplog, monkeypatch):
    """At most `concurrency` registrations run at once (each hashes with argon2), `backlog` more wait; beyond
    that one is dropped, logged without its address and counted in /metrics. The answer stays the same 202, at once. Mails by
    address have a lane of their own: a password reset still goes out while registrations are held up."""
    app = create_app(backend.settings())
    async with running(app), client_for(app, random_address()) as client:
        owner = random_email()
        assert (await client.post(REGISTER, json=registration(owner))).status_code == 202
        await app.state.detached_mails.stop()
        runner = app.state.detached_mails = DetachedMails(app.state.sessionmaker, app.state.services, concurrency=1, backlog=1)
        passwords = app.state.services.passwords
        hash_password = passwords.hash
        release, started = asyncio.Event(), asyncio.Event()

        async def held(password: str) -> str:
            started.set()
            await release.wait()
            return await hash_password(password)

        monkeypatch.setattr(passwords, "hash", held)
        first, waiting, dropped = random_email(), random_email(), random_email()
        with caplog.at_level(logging.INFO):
            answers = [await client.post(REGISTER, json=registration(email)) for email in (first, waiting, dropped)]
            assert [r.status_code for r in answers] == [202] * 3 and answers[0].json() == answers[1].json() == answers[2].json()
            await started.wait()  # the one slot is taken
            assert (await client.post("/v1/auth/password-reset", json={"email": owner})).status_code == 202
            await Outbox(app.state.settings.resolved_outbox_dir).wait_for(owner, MailKind.PASSWORD_RESET)
            assert await accounts_with(app, waiting) == 0, "waits its turn"
            release.set()
            await runner.drain()
        assert (await accounts_with(app, first), await accounts_with(app, waiting), await accounts_with(app, dropped)) == (1, 1, 0)
        assert [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()] == ["account mail dropped: too many waiting"]
        scraped = (await client.get("/metrics")).text  # the operator's only sign: the route answered 202 to all three
        assert 'confide_account_mails_dropped_total{lane="registration"} 1.0' in scraped
        assert 'confide_account_mails_dropped_total{lane="mail_by_address"} 0.0' in scraped
        assert not [r for r in caplog.records if dropped in r.getMessage() or dropped in str(vars(r))]
        await runner.stop()


async def test_registration_is_rate_limited_per_address_asked_for_and_per_client(backend):
    """Registration mails the address asked for (a confirmation, or a notice to its owner) and costs a hash:
    without limits it could flood a mailbox and burn CPU. Counted before anything about the address is known."""
    app = create_app(backend.settings(registration_limit_per_account=2, registration_limit_per_address=4, password_reset_window_seconds=60))
    email = random_email()
    async with running(app), client_for(app, random_address()) as client:
        codes = [(await client.post(REGISTER, json=registration(email))).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        assert (await client.post(REGISTER, json=registration())).status_code == 202  # another address: the client has budget left
        r = await client.post(REGISTER, json=registration())
        assert r.status_code == 429 and r.json()["type"].endswith("/rate-limited") and int(r.headers["retry-after"]) > 0
        assert r.headers["content-type"].startswith("application/problem+json")
        await settled(app)
        assert await accounts_with(app, email) == 1


async def test_a_newsletter_request_whose_mail_fails_leaves_no_consent(app, anon, outbox, monkeypatch):
    """The account's confirmation went out, the newsletter's could not: the account stands, with no
    subscription, no consent record and its box unticked, and the person can subscribe in the settings."""
    mailer = app.state.services.mailer
    send = mailer.send

    async def newsletter_mail_fails(to, subject, body, *, kind, **kwargs):  # noqa: ANN001, ANN202
        if kind == MailKind.NEWSLETTER_CONFIRMATION:
            raise ServiceUnavailable("mail server away")
        return await send(to, subject, body, kind=kind, **kwargs)

    monkeypatch.setattr(mailer, "send", newsletter_mail_fails)
    body = registration(newsletter_opt_in=True)
    assert (await anon.post(REGISTER, json=body)).status_code == 202
    await settled(app)
    assert kinds(outbox, body["email"]) == ["verification"]
    r = await anon.post("/v1/accounts/verify", json={"token": outbox.last_token_for(body["email"])})
    assert r.status_code == 200 and r.json()["newsletter_opt_in"] is False
    login = await anon.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert (await anon.get("/v1/me/newsletter", headers=headers)).json()["status"] == "none"
    monkeypatch.setattr(mailer, "send", send)
    r = await anon.post("/v1/me/newsletter", headers=headers)
    assert r.status_code == 202 and r.json()["status"] == "pending"


async def test_a_subscription_made_while_the_registration_newsletter_mail_hangs_stands(app, backend, anon, outbox, monkeypatch):
    """The registration's newsletter mail hangs on a mail server's timeout and then fails; meanwhile the
    person confirmed their address and subscribed from their account. Their subscription and box stay."""
    if backend.name != "postgres":
        pytest.skip("the registration's pending request holds SQLite's one write lock while its mail hangs")
    mailer = app.state.services.mailer
    send = mailer.send
    hanging, give_up = asyncio.Event(), asyncio.Event()

    async def first_newsletter_mail_hangs_then_fails(to, subject, body, *, kind, **kwargs):  # noqa: ANN001, ANN202
        if kind == MailKind.NEWSLETTER_CONFIRMATION and not hanging.is_set():
            hanging.set()
            await give_up.wait()
            raise ServiceUnavailable("mail server timed out")
        return await send(to, subject, body, kind=kind, **kwargs)

    monkeypatch.setattr(mailer, "send", first_newsletter_mail_hangs_then_fails)
    body = registration(newsletter_opt_in=True)
    assert (await anon.post(REGISTER, json=body)).status_code == 202
    await hanging.wait()
    assert (await anon.post("/v1/accounts/verify", json={"token": outbox.last_token_for(body["email"])})).status_code == 200
    login = await anon.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert (await anon.post("/v1/me/newsletter", headers=headers)).json()["status"] == "pending"
    mail = await outbox.wait_for(body["email"], MailKind.NEWSLETTER_CONFIRMATION)
    token = re.search(r"\b(cfn_[A-Za-z0-9_-]{20,})", mail.get_payload(decode=True).decode()).group(1)
    assert (await anon.post("/v1/newsletter/confirm", json={"token": token})).status_code == 200
    give_up.set()
    await settled(app)
    assert (await anon.get("/v1/me/newsletter", headers=headers)).json()["status"] == "active"
    assert (await anon.get("/v1/me", headers=headers)).json()["newsletter_opt_in"] is True


async def test_a_confirmation_sent_again_needs_an_email_address(anon):
    """Validated as every other email field: the string is a rate-limit key and a lookup, not free text."""
    for bad in ("not-an-address", "x" * 5000 + "@example.com", ""):
        r = await anon.post("/v1/accounts/verification", json={"email": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.email", r.text
