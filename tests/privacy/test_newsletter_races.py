"""Newsletter requests and confirmations at the same moment (an API review): three subscription requests at once
each opened a subscription, every token confirmed one, a withdrawal ended only one of them, and issues kept
coming, two per issue. Now a withdrawal ends every open subscription, an issue goes once per person, and one
token confirms once (one consent record)."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from confide.privacy.models import ConsentRecord
from tests.privacy.conftest import OPERATOR

CONFIRM = re.compile(r"\b(cfn_[A-Za-z0-9_-]{20,})")


def tokens_mailed(outbox, address: str) -> list[str]:
    found = (CONFIRM.search(m.get_payload(decode=True).decode()) for m in outbox.messages_to(address))
    return list(dict.fromkeys(f.group(1) for f in found if f))


def issues_to(outbox, address: str, subject: str) -> int:
    return len([m for m in outbox.messages_to(address) if m["Subject"] == subject])


async def test_requests_at_once_then_a_withdrawal_leave_no_newsletter(client, factory, outbox):
    user = await factory.user()
    answers = await asyncio.gather(*(client.post("/v1/me/newsletter", headers=user.headers) for _ in range(3)))
    assert {r.status_code for r in answers} == {202}, [r.text for r in answers]
    for token in tokens_mailed(outbox, user.email):
        await client.post("/v1/newsletter/confirm", json={"token": token})
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "active"
    r = await client.post("/v1/admin/newsletter", json={"subject": "Once each", "body": "News."}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert issues_to(outbox, user.email, "Once each") == 1, "one issue per person, however many subscriptions"

    r = await client.delete("/v1/me/newsletter", headers=user.headers)
    assert r.status_code == 200 and r.json()["status"] == "none", r.text
    assert (await client.get("/v1/me/newsletter", headers=user.headers)).json()["status"] == "none"
    r = await client.post("/v1/admin/newsletter", json={"subject": "After withdrawing", "body": "News."}, headers=OPERATOR)
    assert issues_to(outbox, user.email, "After withdrawing") == 0


async def test_one_token_confirmed_three_times_at_once_confirms_once(app, client, factory, outbox):
    user = await factory.user()
    assert (await client.post("/v1/me/newsletter", headers=user.headers)).status_code == 202
    (token,) = tokens_mailed(outbox, user.email)
    answers = await asyncio.gather(*(client.post("/v1/newsletter/confirm", json={"token": token}) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 400, 400], [r.text for r in answers]
    async with app.state.sessionmaker() as session:
        actions = (await session.scalars(select(ConsentRecord.action).where(ConsentRecord.user_id == user.id))).all()
    assert sorted(actions) == ["confirmed", "requested"], actions
