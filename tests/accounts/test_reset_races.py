"""Password-reset tokens under concurrency: at most one valid reset token per account, the newest. Real concurrent requests on the session's backend (SQLite, and PostgreSQL)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from confide.accounts import service
from confide.accounts.models import EmailToken
from tests.accounts.test_password_reset import CONFIRM, NEW_PASSWORD, RESET, anon, login, settled  # noqa: F401  (anon: a fixture)
from tests.support.outbox import TOKEN

RACERS = 4  # within the default per-address-asked-for limit (5)


async def reset_tokens(app, user_id: str) -> list[EmailToken]:  # noqa: ANN001
    async with app.state.sessionmaker() as session:
        stmt = select(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == "password_reset")
        return list((await session.scalars(stmt)).all())


def mailed_reset_tokens(outbox, email: str) -> list[str]:  # noqa: ANN001
    bodies = [m.get_payload(decode=True).decode() for m in outbox.messages_to(email) if m["Subject"] == "Reset your Confide password"]
    return [TOKEN.search(body).group(1) for body in bodies]


async def test_racing_reset_requests_leave_one_valid_token_the_newest(app, client, anon, factory, outbox, monkeypatch):
    """Each detached reset voided the account's older tokens, then issued its own: run at the same moment,
    none saw the others' tokens, and every mailed token worked."""
    user = await factory.user()
    prepare = service.prepare_password_reset
    together = asyncio.Barrier(RACERS)

    async def at_once(session, services, *, email):  # noqa: ANN001, ANN202
        await session.connection()  # a connection each first: opening one would stagger the racers
        await together.wait()  # every request answered and its detached reset begun: now they race for real
        return await prepare(session, services, email=email)

    monkeypatch.setattr(service, "prepare_password_reset", at_once)
    answers = await asyncio.gather(*(anon.post(RESET, json={"email": user.email}) for _ in range(RACERS)))
    assert [r.status_code for r in answers] == [202] * RACERS
    await settled(app)

    stored = await reset_tokens(app, user.id)
    valid = [t for t in stored if t.used_at is None]
    assert len(stored) == RACERS and len(valid) == 1
    assert valid[0].created_at == max(t.created_at for t in stored)  # the newest one

    mailed = mailed_reset_tokens(outbox, user.email)
    assert len(mailed) == RACERS
    codes = [(await anon.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})).status_code for token in mailed]
    assert sorted(codes) == [204] + [400] * (RACERS - 1)
    assert await login(client, user.email, NEW_PASSWORD) == 200
