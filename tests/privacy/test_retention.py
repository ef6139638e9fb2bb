"""The retention job deletes what is past its period, keeps the rest, runs on one node at a time,
and leaves a record platform operators can read."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from confide.accounts.models import EmailToken
from confide.app import create_app
from confide.core.access_log import AccessLog
from confide.core.clock import utcnow
from confide.core.identity import AuthSession, User
from confide.core.ids import new_id
from confide.core.mail import KIND_HEADER, MailKind
from confide.privacy.models import ConsentRecord, ContactMessage, NewsletterSubscription, ProcessingLogEntry, RetentionRun
from confide.privacy.retention import (
    STEPS,
    RetentionJob,
    RetentionStep,
    add_step,
    expire_outbox,
    expire_unverified_accounts,
    first_run_delay,
    run_retention,
    single_runner,
)
from confide.settings import Settings
from confide.tenants.models import Invitation
from tests.conftest import random_email, running
from tests.privacy.conftest import OPERATOR
from tests.support.factory import registration


def token_hash() -> str:
    return secrets.token_hex(32)


async def exists(app, model, object_id: str) -> bool:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        return await session.get(model, object_id) is not None


async def test_one_run_removes_what_is_due_and_keeps_the_rest(app, client, factory):
    user = await factory.user()
    tenant = await factory.tenant(user)
    now = utcnow()
    day = timedelta(days=1)
    due = {
        AccessLog: AccessLog(id=new_id("acc"), at=now - 8 * day, ip="198.51.100.1", method="GET", route="/healthz", status=200),
        AuthSession: AuthSession(id=new_id("ses"), user_id=user.id, token_hash=token_hash(), expires_at=now - day),
        EmailToken: EmailToken(
            id=new_id("etk"), user_id=user.id, purpose="verify", token_hash=token_hash(), email=user.email, expires_at=now + day, used_at=now
        ),
        Invitation: Invitation(id=new_id("inv"), tenant_id=tenant, email="late@example.com", role="analyst", token_hash=token_hash(), expires_at=now - day),
        NewsletterSubscription: NewsletterSubscription(
            id=new_id("nls"), user_id=user.id, status="pending", confirm_token_hash=token_hash(), confirm_expires_at=now - day
        ),
        ProcessingLogEntry: ProcessingLogEntry(
            id=new_id("plg"), tenant_id=tenant, at=now - 366 * day, purpose="answer_chat", actor="system", counts={}, instructions_version=0
        ),
        RetentionRun: RetentionRun(id=new_id("ret"), started_at=now - 91 * day, status="done", node="old", removed={}, failed_steps=[]),
    }
    revoked = AuthSession(id=new_id("ses"), user_id=user.id, token_hash=token_hash(), expires_at=now + day, revoked_at=now)
    accepted = Invitation(
        id=new_id("inv"), tenant_id=tenant, email="in@example.com", role="analyst", token_hash=token_hash(), expires_at=now + day, accepted_at=now
    )
    kept = [
        AccessLog(id=new_id("acc"), at=now - 6 * day, ip="198.51.100.2", method="GET", route="/healthz", status=200),
        AuthSession(id=new_id("ses"), user_id=user.id, token_hash=token_hash(), expires_at=now + day),
        EmailToken(id=new_id("etk"), user_id=user.id, purpose="verify", token_hash=token_hash(), email=user.email, expires_at=now + day),
        Invitation(id=new_id("inv"), tenant_id=tenant, email="soon@example.com", role="analyst", token_hash=token_hash(), expires_at=now + day),
        ProcessingLogEntry(id=new_id("plg"), tenant_id=tenant, at=now - 364 * day, purpose="answer_chat", actor="system", counts={}, instructions_version=0),
    ]
    async with app.state.sessionmaker() as session:
        session.add_all([*due.values(), revoked, accepted, *kept])
        await session.commit()

    run = await run_retention(app.state.engine, app.state.settings, now=now)
    assert run is not None and run.status == "done" and run.failed_steps == []
    for model, row in [*due.items(), (AuthSession, revoked), (Invitation, accepted)]:
        assert not await exists(app, model, row.id), f"{model.__tablename__} {row.id} should be gone"
    for row in kept:
        assert await exists(app, type(row), row.id), f"{type(row).__tablename__} {row.id} should be kept"
    for table in ("access_log", "auth_session", "email_token", "invitation", "newsletter_subscription", "processing_log", "retention_run"):
        assert run.removed[table] >= 1, table
    assert run.removed["auth_session"] >= 2 and run.removed["invitation"] >= 2
    assert (await client.get("/v1/me", headers=user.headers)).status_code == 200, "live sessions survive"

    r = await client.get("/v1/admin/retention", headers=OPERATOR)
    assert r.status_code == 200
    latest = r.json()["items"][0]
    assert latest["id"] == run.id and latest["removed"] == run.removed and latest["node"]


async def test_retention_runs_page_newest_first(app, client):
    runs = [await run_retention(app.state.engine, app.state.settings) for _ in range(3)]
    newest_first = [run.id for run in reversed(runs)]
    seen, cursor = [], None
    while len(seen) < 3:
        r = await client.get("/v1/admin/retention", params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        assert cursor, "older runs follow"
    assert seen == newest_first
    r = await client.get("/v1/admin/retention", params={"cursor": "garbage"}, headers=OPERATOR)
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")


async def test_only_one_node_runs_at_a_time(app):
    async with single_runner(app.state.engine) as alone:
        assert alone
        assert await run_retention(app.state.engine, app.state.settings) is None
        r = await _post_run(app)
        assert r.status_code == 409 and "another node" in r.json()["detail"]
    run = await run_retention(app.state.engine, app.state.settings)
    assert run is not None and run.status == "done"


async def _post_run(app):  # noqa: ANN202
    from tests.privacy.conftest import hooked_client

    async with hooked_client(app) as c:
        return await c.post("/v1/admin/retention/run", headers=OPERATOR)


async def test_a_failing_step_is_recorded_and_the_others_still_run(app):
    async def broken(session, now, settings):  # noqa: ANN001, ANN202
        raise RuntimeError("boom")

    step = RetentionStep("a step that fails", broken)
    add_step(step)
    try:
        run = await run_retention(app.state.engine, app.state.settings)
    finally:
        STEPS.remove(step)
    assert run.status == "failed" and run.failed_steps == ["a step that fails"]
    assert "access_log" in run.removed, "the other steps ran"


async def test_the_job_runs_in_the_lifespan_every_interval(backend):
    settings = backend.settings(retention_job_enabled=True, retention_interval_seconds=0.01)
    async with running(create_app(settings)) as started:
        await asyncio.wait_for(started.state.retention_job.ran.wait(), timeout=10)
        async with started.state.sessionmaker() as session:
            latest = await session.scalar(select(RetentionRun).order_by(RetentionRun.finished_at.desc()).limit(1))
        assert latest is not None and latest.status == "done"


async def test_disabled_job_does_not_start(backend):
    async with running(create_app(backend.settings(retention_job_enabled=False, retention_interval_seconds=0.01))) as started:
        assert started.state.retention_job._task is None


async def test_cli_runs_and_shows_status(backend):
    env = {
        **os.environ,
        "CONFIDE_DATABASE_URL": backend.database_url,
        "CONFIDE_DATA_DIR": str(backend.data_dir),
        "CONFIDE_SECRET_KEY": "cli-test-secret-key-0123456789abcdef",
        "CONFIDE_LOG_LEVEL": "WARNING",
    }

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "confide.cli", *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ran = json.loads(await asyncio.to_thread(cli, "retention", "run"))
    assert ran["status"] == "done" and "access_log" in ran["removed"]
    status = json.loads(await asyncio.to_thread(cli, "retention", "status", "--limit", "50"))
    assert ran["id"] in [r["id"] for r in status]


def test_the_cli_runs_every_step_the_server_runs():
    """Other domains add steps when imported; the CLI, in a process of its own, must run them all too."""
    import confide.app  # noqa: F401 - as the server: every domain imported

    script = "import json; from confide.privacy import cli, retention; cli.register_every_step(); print(json.dumps([s.name for s in retention.STEPS]))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)) == sorted(step.name for step in STEPS)
    assert "webhook delivery log past its period" in json.loads(done.stdout)


async def rows_of(app, model, *where) -> int:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def unverified_account(app, client, outbox, **extra) -> str:  # noqa: ANN001
    """Registered through the API, never verified: the account and the mails sent to it."""
    email = random_email()
    r = await client.post("/v1/accounts", json=registration(email, phone="+49 221 715975 75", newsletter_opt_in=True, **extra))
    assert r.status_code == 202, r.text
    await app.state.detached_mails.drain()  # the account and its mails come after the answer
    assert outbox.messages_to(email)
    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == email))
    assert user is not None and user.email_verified_at is None and user.registration_ip and user.phone
    return email


async def expire_unverified_as_of(app, later: timedelta) -> dict[str, int]:  # noqa: ANN001
    """The step alone, `later` from now (a whole run would also expire the suite's live sessions)."""
    async with app.state.sessionmaker() as session, session.begin():
        return await expire_unverified_accounts(session, utcnow() + later, app.state.settings)


async def test_unverified_accounts_go_after_the_verification_period(app, client, factory, outbox):
    settings = app.state.settings
    period = timedelta(hours=settings.verification_ttl_hours + settings.unverified_account_grace_hours)
    assert settings.unverified_account_grace_hours > 0
    assert expire_unverified_accounts in [step.run for step in STEPS]
    email = await unverified_account(app, client, outbox)
    verified = await factory.user()

    await expire_unverified_as_of(app, period - timedelta(hours=1))
    assert await rows_of(app, User, User.email == email) == 1, "kept while the token may still be used, and a grace period after"

    removed = await expire_unverified_as_of(app, timedelta(days=10 * 365))
    assert removed["user_account"] >= 1 and removed["email_token"] >= 1 and removed["consent_record"] >= 1 and removed["outbox_files"] >= 1
    assert await rows_of(app, User, User.email == email) == 0, "name, phone and registration IP are gone"
    assert await rows_of(app, EmailToken, EmailToken.email == email) == 0
    assert outbox.messages_to(email) == [], "and the copies of the mails sent to it"
    assert await rows_of(app, User, User.email == verified.email) == 1, "verified accounts stay"
    assert (await client.get("/v1/me", headers=verified.headers)).status_code == 200
    r = await client.post("/v1/accounts", json=registration(email))
    await app.state.detached_mails.drain()
    assert r.status_code == 202 and await rows_of(app, User, User.email == email) == 1, "the address can register again"


async def test_a_token_mailed_later_does_not_keep_an_unverified_account(app, client, outbox):
    """POST /v1/accounts/verification needs only the address: were a fresh token to keep the account, anyone
    could keep one registered with someone else's address (and their own name, phone and IP) for ever."""
    settings = app.state.settings
    period = timedelta(hours=settings.verification_ttl_hours + settings.unverified_account_grace_hours)
    squatted = await unverified_account(app, client, outbox)
    r = await client.post("/v1/accounts/verification", json={"email": squatted})
    assert r.status_code in (200, 202, 204), r.text
    await app.state.detached_mails.drain()  # the token is issued after the answer
    async with app.state.sessionmaker() as session:
        user_id = await session.scalar(select(User.id).where(User.email == squatted))
        # As if resent just before each run for years: a token still valid whenever the job looks.
        session.add(EmailToken(id=new_id("etk"), user_id=user_id, purpose="verify", token_hash=token_hash(), email=squatted, expires_at=utcnow() + 20 * 365 * timedelta(days=1)))
        await session.commit()

    await expire_unverified_as_of(app, period - timedelta(minutes=5))
    assert await rows_of(app, User, User.id == user_id) == 1, "kept until the limit counted from registration"
    removed = await expire_unverified_as_of(app, period + timedelta(minutes=5))
    assert removed["user_account"] >= 1 and await rows_of(app, User, User.id == user_id) == 0, "gone at the limit, valid token or not"
    assert await rows_of(app, EmailToken, EmailToken.user_id == user_id) == 0 and outbox.messages_to(squatted) == []
    assert await rows_of(app, ConsentRecord, ConsentRecord.user_id == user_id) == 0


async def test_an_unverified_account_takes_only_the_mails_about_it(app, client, factory, outbox):
    """The account need not be the address owner's: a tenant's invitation to the address and the acknowledgement
    of a contact message from it belong to rows the step keeps, so their mails stay with them."""
    email = await unverified_account(app, client, outbox)
    about_account = len(outbox.messages_to(email))
    inviter = await factory.user()
    # long enough that the stored subject is folded over two lines (it was then taken for a mail about the account)
    name = "Invites Maschinenbau und Handels Compagnie Kommanditgesellschaft auf Aktien"
    tenant = await factory.tenant(inviter, name)
    r = await client.post(f"/v1/tenants/{tenant}/invitations", json={"email": email, "role": "analyst"}, headers=inviter.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/v1/contact", json={"name": "Grace", "email": email, "message": "Hi", "consent": True})
    assert r.status_code == 202, r.text
    assert len(outbox.messages_to(email)) == about_account + 2

    removed = await expire_unverified_as_of(app, timedelta(days=10 * 365))
    assert await rows_of(app, User, User.email == email) == 0
    assert removed["outbox_files"] >= about_account
    left = sorted(" ".join(str(m["Subject"]).split()) for m in outbox.messages_to(email))
    assert left == ["We received your message", f"You are invited to {name} on Confide"], "someone else's business stays"
    assert await rows_of(app, Invitation, Invitation.email == email) == 1 and await rows_of(app, ContactMessage, ContactMessage.email == email) == 1


async def test_a_failed_step_keeps_the_mails_of_the_accounts_it_kept(app, client, outbox):
    """The outbox copies are deleted after the step's commit: when the step fails, the accounts and their mails stay."""
    settings = app.state.settings
    email = await unverified_account(app, client, outbox)
    mails = len(outbox.messages_to(email))

    async def deletes_then_fails(session, now, settings):  # noqa: ANN001, ANN202
        removed = await expire_unverified_accounts(session, now + timedelta(days=10 * 365), settings)
        assert removed["user_account"] >= 1 and removed["outbox_files"] >= 1
        raise RuntimeError("after the accounts went")

    step = RetentionStep("unverified accounts, then a failure", deletes_then_fails)
    add_step(step)
    try:
        run = await run_retention(app.state.engine, settings)
    finally:
        STEPS.remove(step)
    assert run is not None and run.failed_steps == [step.name]
    assert await rows_of(app, User, User.email == email) == 1, "rolled back"
    assert len(outbox.messages_to(email)) == mails, "and the mails are still there, with the rows that name them"

    await expire_unverified_as_of(app, timedelta(days=10 * 365))
    assert await rows_of(app, User, User.email == email) == 0 and outbox.messages_to(email) == [], "committed: both go"


def old_mail(folder: Path, to: str, age: timedelta) -> Path:
    msg = EmailMessage()
    msg["To"], msg["Subject"] = to, "A copy"
    msg.set_content("Hello")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"test-{secrets.token_hex(6)}.eml"
    path.write_bytes(bytes(msg))
    when = (utcnow() - age).timestamp()
    os.utime(path, (when, when))
    return path


async def test_outbox_mails_go_after_their_period(app, backend, tmp_path):
    settings = app.state.settings
    assert expire_outbox in [step.run for step in STEPS] and settings.outbox_retention_days == 30
    folder = settings.resolved_outbox_dir
    old = old_mail(folder, random_email(), timedelta(days=31))
    recent = old_mail(folder, random_email(), timedelta(days=29))
    async with app.state.sessionmaker() as session:
        assert (await expire_outbox(session, utcnow(), settings))["outbox_files"] >= 1
        assert not old.exists() and recent.exists()
        assert await expire_outbox(session, utcnow(), backend.settings(outbox_dir=tmp_path / "none")) == {"outbox_files": 0}, "no folder: nothing to do"
    recent.unlink()


async def test_access_logs_never_outlive_seven_days_between_runs(app):
    settings = app.state.settings
    now = utcnow()
    # Seven days old an hour from now, when the next run comes: this run takes it.
    due = AccessLog(id=new_id("acc"), at=now - timedelta(days=7) + timedelta(seconds=settings.retention_interval_seconds / 2), ip="198.51.100.3", method="GET", route="/healthz", status=200)
    async with app.state.sessionmaker() as session:
        session.add(due)
        await session.commit()
    run = await run_retention(app.state.engine, settings, now=now)
    assert run is not None and not await exists(app, AccessLog, due.id)
    with pytest.raises(ValidationError, match="retention_interval_seconds"):
        Settings(retention_interval_seconds=86401)


async def test_a_pending_email_change_lapses_with_its_token(app, client, factory, outbox):
    """The address someone asked for is kept while its token works, then dropped with it."""
    user, other = await factory.user(), await factory.user()
    asked = random_email()
    await client.patch("/v1/me", json={"email": asked, "current_password": user.password}, headers=user.headers)
    token = outbox.last_token_for(asked)
    await client.patch("/v1/me", json={"email": random_email(), "current_password": other.password}, headers=other.headers)
    await client.patch("/v1/me", json={"email": other.email, "current_password": other.password}, headers=other.headers)  # withdrawn: nothing left to drop
    soon = utcnow() + timedelta(hours=app.state.settings.verification_ttl_hours - 1)
    await run_retention(app.state.engine, app.state.settings, now=soon)
    assert (await client.get("/v1/me", headers=user.headers)).json()["pending_email"] == asked, "kept while the token works"
    later = utcnow() + timedelta(hours=app.state.settings.verification_ttl_hours, minutes=1)
    run = await run_retention(app.state.engine, app.state.settings, now=later)
    assert run is not None and run.removed["user_account.pending_email"] >= 1
    me = (await client.get("/v1/me", headers=user.headers)).json()
    assert me["pending_email"] is None and me["email"] == user.email
    assert outbox.messages_to(asked) == [], "the change's mail goes with its token: erasure could not find it later"
    r = await client.post("/v1/accounts/verify", json={"token": token})
    assert r.status_code == 400


async def test_the_notice_to_a_former_address_outlives_the_token_purge_and_goes_with_erasure(app, client, factory, outbox):
    """The notice is the owner's warning of a takeover: the next purge of spent tokens must neither delete its
    copy nor lose the confirmed change's token, by which erasure finds it (the address is no longer the
    account's); once the outbox would have dropped the notice anyway, the token goes too."""
    user = await factory.user()
    former, new = user.email, random_email()
    await client.patch("/v1/me", json={"email": new, "current_password": user.password}, headers=user.headers)
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(new)})).status_code == 200

    def notices() -> int:
        return [m[KIND_HEADER] for m in outbox.messages_to(former)].count(MailKind.EMAIL_CHANGED)

    async def change_tokens() -> int:
        async with app.state.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(EmailToken).where(EmailToken.user_id == user.id))

    assert notices() == 1
    assert await run_retention(app.state.engine, app.state.settings, now=utcnow()) is not None
    assert notices() == 1 and await change_tokens() == 1, "kept: the notice is days old at most"
    later = utcnow() + timedelta(days=app.state.settings.outbox_retention_days, minutes=1)
    assert await run_retention(app.state.engine, app.state.settings, now=later) is not None
    assert await change_tokens() == 0

    other = await factory.user()
    other_former, other_new = other.email, random_email()
    await client.patch("/v1/me", json={"email": other_new, "current_password": other.password}, headers=other.headers)
    assert (await client.post("/v1/accounts/verify", json={"token": outbox.last_token_for(other_new)})).status_code == 200
    await run_retention(app.state.engine, app.state.settings, now=utcnow())
    r = await client.post("/v1/me/erasure", json={"password": other.password}, headers=other.headers)
    assert r.status_code == 200, r.text
    assert [m[KIND_HEADER] for m in outbox.messages_to(other_former)].count(MailKind.EMAIL_CHANGED) == 0


async def test_a_withdrawn_newsletter_subscription_goes_and_its_consent_records_stay(app, client, factory, outbox):
    user = await factory.user(newsletter_opt_in=True)
    confirm = next(m for m in outbox.messages_to(user.email) if "newsletter" in m["Subject"])
    token = "cfn_" + confirm.get_payload(decode=True).decode().split("cfn_", 1)[1].split()[0]
    assert (await client.post("/v1/newsletter/confirm", json={"token": token})).json()["status"] == "active"
    assert (await client.delete("/v1/me/newsletter", headers=user.headers)).status_code in (200, 204)
    run = await run_retention(app.state.engine, app.state.settings)
    assert run is not None and run.removed["newsletter_subscription"] >= 1
    async with app.state.sessionmaker() as session:
        left = await session.scalar(select(func.count()).select_from(NewsletterSubscription).where(NewsletterSubscription.user_id == user.id))
        proof = (await session.scalars(select(ConsentRecord.action).where(ConsentRecord.user_id == user.id).order_by(ConsentRecord.at))).all()
    assert left == 0
    assert list(proof) == ["requested", "confirmed", "withdrawn"]
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"


def test_the_first_run_comes_an_interval_after_the_last_one_not_after_start():
    now = utcnow()
    assert first_run_delay(None, now, 3600) == 60, "no run recorded: a minute after start, never straight at boot"
    assert first_run_delay(now - timedelta(hours=2), now, 3600) == 60, "overdue after a restart: a minute after start"
    assert first_run_delay(now - timedelta(minutes=10), now, 3600) == pytest.approx(3000)
    assert first_run_delay(now + timedelta(hours=1), now, 3600) == 3600, "a clock that moved back waits one interval at most"
    assert first_run_delay(now - timedelta(hours=2), now, 10) == 10, "an interval shorter than the grace is the wait"


async def test_a_node_started_soon_after_a_run_waits_for_the_rest_of_the_interval(app, backend):
    await run_retention(app.state.engine, app.state.settings)
    job = RetentionJob(app.state.engine, backend.settings(retention_interval_seconds=3600))
    assert 3500 < await job._first_delay() <= 3600
