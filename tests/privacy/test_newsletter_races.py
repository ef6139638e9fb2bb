"""Newsletter consent under concurrency (API review): three subscription requests at once each opened a
subscription, every mailed token confirmed one, a withdrawal ended only one of them and issues kept coming; the
same token sent three times at once confirmed three times, with three consent records. Now requests at the same
moment leave one open subscription, which a withdrawal ends (Art. 7(3)), and a token confirms once. Real
concurrent HTTP requests on the session's backend (SQLite, and PostgreSQL)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from confide.privacy import rights
from confide.privacy.models import NewsletterSubscription
from tests.privacy.test_newsletter import CONFIRM, consent_records, send_issue

RACERS = 3


def mailed_confirmation_tokens(outbox, email: str) -> list[str]:  # noqa: ANN001
    bodies = [m.get_payload(decode=True).decode() for m in outbox.messages_to(email) if m["Subject"] == "Confirm your newsletter subscription"]
    return list(dict.fromkeys(found.group(1) for body in bodies if (found := CONFIRM.search(body))))


async def open_subscriptions(app, user_id: str) -> list[NewsletterSubscription]:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        stmt = select(NewsletterSubscription).where(NewsletterSubscription.user_id == user_id, NewsletterSubscription.status.in_(("pending", "active")))
        return list((await session.scalars(stmt)).all())


def issues_to(outbox, email: str, subject: str) -> int:  # noqa: ANN001
    return len([m for m in outbox.messages_to(email) if m["Subject"] == subject])


async def test_subscribing_several_times_at_once_opens_one_subscription_that_withdrawal_ends(app, client, factory, outbox):
    """Each request looked for an open subscription, found none yet, and opened its own: three pending ones,
    whose three mailed tokens all confirmed; withdrawing then ended one, and the newsletter kept coming."""
    user = await factory.user()
    answers = await asyncio.gather(*(client.post("/v1/me/newsletter", headers=user.headers) for _ in range(RACERS)))
    assert [r.status_code for r in answers] == [202] * RACERS
    assert len(await open_subscriptions(app, user.id)) == 1

    tokens = mailed_confirmation_tokens(outbox, user.email)
    assert tokens
    codes = [(await client.post("/v1/newsletter/confirm", json={"token": token})).status_code for token in tokens]
    assert sorted(codes) == [200] + [400] * (len(tokens) - 1), "one mailed token confirms; the ones it replaced do not"
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"
    await send_issue(client, "Subscribed at once")
    assert issues_to(outbox, user.email, "Subscribed at once") == 1

    r = await client.delete("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 200 and r.json()["status"] == "none"
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
    assert (await client.get("/v1/me", headers=user.headers)).json()["newsletter_opt_in"] is False
    await send_issue(client, "After withdrawing at once")
    assert issues_to(outbox, user.email, "After withdrawing at once") == 0
    assert [c.action for c in await consent_records(app, user.id)].count("confirmed") == 1


async def test_a_token_confirmed_several_times_at_once_confirms_once(app, client, factory, outbox):
    """Each confirmation read the pending subscription and set it active: all answered 200, and each wrote
    a 'confirmed' consent record."""
    user = await factory.user()
    assert (await client.post("/v1/me/newsletter", headers=user.headers)).status_code == 202
    [token] = mailed_confirmation_tokens(outbox, user.email)
    answers = await asyncio.gather(*(client.post("/v1/newsletter/confirm", json={"token": token}) for _ in range(RACERS)))
    assert sorted(r.status_code for r in answers) == [200] + [400] * (RACERS - 1)
    assert all(r.json()["type"].endswith("/invalid-token") for r in answers if r.status_code == 400)
    assert [c.action for c in await consent_records(app, user.id)] == ["requested", "confirmed"]
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"
    await send_issue(client, "Confirmed at once")
    assert issues_to(outbox, user.email, "Confirmed at once") == 1


async def _until_a_request_waits_for_a_lock(app, backend) -> None:  # noqa: ANN001
    """PostgreSQL: until another connection waits for a row lock (the withdrawal, on the erasure's rows). SQLite,
    whose waiting writer cannot be seen: a moment for it to reach the database's write lock."""
    if backend.name != "postgres":
        await asyncio.sleep(0.2)
        return
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    async with asyncio.timeout(10):
        while True:
            async with app.state.engine.connect() as conn:
                if await conn.scalar(waiting):
                    return
            await asyncio.sleep(0.01)


async def test_a_withdrawal_during_the_accounts_erasure_waits_for_it(app, backend, client, factory, monkeypatch):
    """The erasure deleted the subscription first and locked the account only with its final DELETE; a withdrawal in
    between locked the account and waited for the subscription row: a deadlock on PostgreSQL, and a 500 for the
    withdrawal (review). Now the erasure locks the account first and the withdrawal waits for it."""
    user = await factory.user()
    assert (await client.post("/v1/me/newsletter", headers=user.headers)).status_code == 202
    children_deleted, go = asyncio.Event(), asyncio.Event()
    unlink = rights.unlink_staff_id

    async def paused(session, user_id):  # noqa: ANN001, ANN202 - between the child rows' deletion and the account's
        children_deleted.set()
        await asyncio.wait_for(go.wait(), 20)
        return await unlink(session, user_id)

    monkeypatch.setattr(rights, "unlink_staff_id", paused)

    async def withdraw():  # noqa: ANN202
        await asyncio.wait_for(children_deleted.wait(), 20)
        answer = asyncio.create_task(client.delete("/v1/me/newsletter", headers=user.headers))
        await _until_a_request_waits_for_a_lock(app, backend)
        go.set()
        return await answer

    erased, withdrawn = await asyncio.gather(client.post("/v1/me/erasure", json={"password": user.password}, headers=user.headers), withdraw())
    assert erased.status_code == 200, erased.text
    # Signed in when it came, it then finds nothing to withdraw (404 not-subscribed); or the session is gone (401).
    assert withdrawn.status_code in (401, 404) and withdrawn.headers["content-type"] == "application/problem+json", withdrawn.text
