"""Fixes from the privacy review: an erased account's id never reaches a tenant's processing log again
(L2), the profile's newsletter box says true only for confirmed consent (L3), and access logs are gone
before they are seven days old however long a retention run takes (L4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from confide.core.access_log import AccessLog
from confide.core.clock import utcnow
from confide.core.identity import User
from confide.core.ids import new_id
from confide.privacy import retention, rights
from confide.privacy.gate import Purpose
from confide.privacy.processing_log import ProcessingLogWriter
from confide.privacy.retention import STEPS, RetentionJob, RetentionStep, run_retention, single_runner
from tests.privacy.chat_seed import make_shop, seed_conversation
from tests.privacy.test_newsletter import CONFIRM, last_match


async def log_actors(client, shop) -> list[str]:  # noqa: ANN001
    """What the tenant's owner reads in the processing log (the route flushes this node's buffer first)."""
    actors: list[str] = []
    cursor = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/v1/tenants/{shop.tenant_id}/privacy/processing-log", params=params, headers=shop.owner.headers)
        assert r.status_code == 200, r.text
        actors += [e["actor"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return actors


# L2 ------------------------------------------------------------------------------------------------


async def test_an_erased_operators_buffered_log_entries_reach_the_log_unlinked(app, client, factory):
    shop = await make_shop(client, factory)
    cid = await seed_conversation(app, shop, visitor_id="vis_rf1")
    op = await factory.member(shop.tenant_id, shop.owner, "operator")
    await app.state.purpose_gate.flush()
    r = await client.get(f"/v1/tenants/{shop.tenant_id}/conversations/{cid}/transcript", headers=op.headers)
    assert r.status_code == 200, r.text  # an operator_review entry naming the operator, buffered on this node
    r = await client.post("/v1/me/erasure", json={"password": op.password}, headers=op.headers)
    assert r.status_code == 200, r.text
    assert r.json()["unlinked"]["processing_log"] >= 1, "the buffered entry was written before the unlinking, and counted"
    actors = await log_actors(client, shop)
    assert op.id not in actors
    assert rights.ERASED_ACTOR in actors


async def test_entries_another_node_flushes_after_the_erasure_are_unlinked_shortly_after(app, client, factory, monkeypatch):
    """Another node's buffer (or a request of the account still in flight) can write an entry naming the
    account after its erasure committed: the erasure unlinks once more, a flush interval and a margin later."""
    monkeypatch.setattr(rights, "UNLINK_AGAIN_MARGIN_SECONDS", 0.2, raising=False)
    shop = await make_shop(client, factory)
    op = await factory.member(shop.tenant_id, shop.owner, "operator")
    other_node = ProcessingLogWriter(app.state.sessionmaker, 3600)
    other_node.record(
        {"id": new_id("plg"), "tenant_id": shop.tenant_id, "at": utcnow(), "purpose": Purpose.OPERATOR_REVIEW.value,
         "actor": op.id, "subject_ref": "vis_rf2", "counts": {}, "instructions_version": 1}
    )
    r = await client.post("/v1/me/erasure", json={"password": op.password}, headers=op.headers)
    assert r.status_code == 200, r.text
    assert await other_node.flush() == 1  # the other node's periodic flush, after the erasure committed
    deadline = asyncio.get_running_loop().time() + app.state.settings.processing_log_flush_seconds + 10
    while op.id in (actors := await log_actors(client, shop)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert op.id not in actors
    assert actors.count(rights.ERASED_ACTOR) >= 1


# L3 ------------------------------------------------------------------------------------------------


async def test_the_newsletter_box_says_true_only_once_the_subscription_is_confirmed(app, client, factory, outbox):
    user = await factory.user(newsletter_opt_in=True)
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "pending"
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False, "a ticked box is a request, not consent"
    export = (await client.get("/v1/me/export", headers=user.headers)).json()
    assert export["data"]["user_account"][0]["newsletter_opt_in"] is False
    assert [c["action"] for c in export["data"]["consent_record"]] == ["requested"]

    r = await client.post("/v1/newsletter/confirm", json={"token": last_match(outbox, user.email, CONFIRM)})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is True
    export = (await client.get("/v1/me/export", headers=user.headers)).json()
    assert export["data"]["user_account"][0]["newsletter_opt_in"] is True

    await run_retention(app.state.engine, app.state.settings, now=utcnow() + timedelta(days=3))
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is True, "confirmed consent stays"
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"


async def test_an_expired_request_leaves_no_consent_in_the_profile(app, client, factory):
    """Also for accounts registered before the fix, whose box was set with the request: the run that drops
    the unconfirmed request clears it, and one whose request is long gone is cleared too."""
    pending = await factory.user(newsletter_opt_in=True)
    orphan = await factory.user()
    async with app.state.sessionmaker() as session:  # as registration stored it before the fix
        await session.execute(update(User).where(User.id.in_([pending.id, orphan.id])).values(newsletter_opt_in=True))
        await session.commit()
    assert (await client.get("/v1/me", headers=pending.headers)).json()["newsletter_opt_in"] is True

    run = await run_retention(app.state.engine, app.state.settings, now=utcnow() + timedelta(days=3))
    assert run is not None and run.removed["newsletter_subscription"] >= 1
    for user in (pending, orphan):
        assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
        assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False
        export = (await client.get("/v1/me/export", headers=user.headers)).json()
        assert export["data"]["user_account"][0]["newsletter_opt_in"] is False


# L4 ------------------------------------------------------------------------------------------------


async def test_access_logs_go_on_time_while_a_run_takes_several_intervals(app, backend, monkeypatch):
    """A run that takes four intervals (a long purge of chat data) does not hold the access logs up: with
    runs due every second, a row that turns seven days old 1.8 s after a run's access-log step is gone 1.4 s
    after it (with the old loop the next run, and its access-log step, came five seconds later)."""
    monkeypatch.setattr(retention, "STARTUP_GRACE_SECONDS", 1.0)  # the step looks interval + grace = 2 s ahead
    interval, slow_for = 1.0, 4.0
    started = asyncio.Event()

    async def slow(session, now, settings):  # noqa: ANN001, ANN202
        started.set()
        await asyncio.sleep(slow_for)
        return {}

    step = RetentionStep("a step that takes several intervals", slow)
    STEPS.insert(1, step)  # right after the access logs: the run's own access-log step has just run when it starts
    job = RetentionJob(app.state.engine, backend.settings(retention_interval_seconds=interval))
    job.start()
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        row = AccessLog(id=new_id("acc"), at=utcnow() - timedelta(days=7) + timedelta(seconds=1.8), ip="198.51.100.4", method="GET", route="/healthz", status=200)
        async with app.state.sessionmaker() as session:
            session.add(row)
            await session.commit()
        await asyncio.sleep(1.4)  # the row is not yet seven days old
        async with app.state.sessionmaker() as session:
            assert await session.get(AccessLog, row.id) is None, "deleted while the long run went on"
        job.ran.clear()
        await asyncio.wait_for(job.ran.wait(), timeout=slow_for * 3)
    finally:
        await job.stop()
        STEPS.remove(step)


async def test_a_node_that_finds_another_running_takes_the_access_logs_alone(app, backend, monkeypatch):
    """The node running may stop before its next due time (its access-log step with it): every node takes
    the access logs at each of its due times, whether or not its run was skipped."""
    monkeypatch.setattr(retention, "STARTUP_GRACE_SECONDS", 1.0)
    row = AccessLog(id=new_id("acc"), at=utcnow() - timedelta(days=7) + timedelta(seconds=1.5), ip="198.51.100.5", method="GET", route="/healthz", status=200)
    async with app.state.sessionmaker() as session:
        session.add(row)
        await session.commit()
    job = RetentionJob(app.state.engine, backend.settings(retention_interval_seconds=1.0))
    async with single_runner(app.state.engine) as alone:  # another node is running
        assert alone
        job.start()
        try:
            await asyncio.wait_for(job.ran.wait(), timeout=10)
        finally:
            await job.stop()
    async with app.state.sessionmaker() as session:
        assert await session.get(AccessLog, row.id) is None
