"""Two accounts confirming a change to the same new address at the same moment (API review): each found the
address free and took it, and on PostgreSQL the second one's write failed on the unique address, a 500. Now the
second gets the documented 409 `conflict` on both backends, its token is not used up and it keeps its address.
Real concurrent requests on the session's backend (SQLite, and PostgreSQL)."""

from __future__ import annotations

import asyncio

from confide.accounts import service
from tests.conftest import random_email
from tests.support.factory import PASSWORD
from tests.support.outbox import TOKEN

VERIFY = "/v1/accounts/verify"


async def test_two_accounts_confirming_the_same_new_address_at_once_one_gets_it_the_other_409(backend, client, factory, outbox, monkeypatch):
    first, second = await factory.user(), await factory.user()
    target = random_email()
    for user in (first, second):
        r = await client.patch("/v1/me", json={"email": target, "current_password": user.password}, headers=user.headers)
        assert r.status_code == 200 and r.json()["pending_email"] == target, r.text
    tokens = [TOKEN.search(m.get_payload(decode=True).decode()).group(1) for m in outbox.messages_to(target)]
    assert len(tokens) == 2

    if backend.name == "postgres":  # SQLite runs the two one after the other (the first write takes its one lock)
        # Both confirmations find the address free before either takes it, as they do now and then on their own.
        lookup, both_looked, looked = service.find_user_by_email, asyncio.Event(), []

        async def looked_up_together(session, email):  # noqa: ANN001, ANN202
            found = await lookup(session, email)
            if email == target and len(looked) < 2:
                looked.append(email)
                if len(looked) == 2:
                    both_looked.set()
                await asyncio.wait_for(both_looked.wait(), 10)  # never a hang: a missing racer fails the test
            return found

        monkeypatch.setattr(service, "find_user_by_email", looked_up_together)
    answers = await asyncio.gather(*(client.post(VERIFY, json={"token": token}) for token in tokens))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    lost = next(r for r in answers if r.status_code == 409)
    assert lost.json()["type"].endswith("/conflict") and "another account" in lost.json()["detail"]
    won = next(r for r in answers if r.status_code == 200)
    assert won.json()["email"] == target

    winner, loser = (first, second) if won.json()["id"] == first.id else (second, first)
    assert (await client.get("/v1/me", headers=loser.headers)).json()["email"] == loser.email, "the other account keeps its address"
    assert (await client.post("/v1/auth/login", json={"email": target, "password": PASSWORD})).status_code == 200
    assert (await client.post("/v1/auth/login", json={"email": loser.email, "password": PASSWORD})).status_code == 200
    again = await client.post(VERIFY, json={"token": tokens[answers.index(lost)]})
    assert again.status_code == 409, "the losing token is not used up: it gets the same answer"
    assert winner.id != loser.id
