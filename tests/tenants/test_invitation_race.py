"""Two invitations to one address sent at the same moment: one invitation, and the other request gets the 409
that names it. On SQLite the service's check reads without a lock, so both requests passed it and both
stored an invitation; the partial unique index on the open invitations refuses the second."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from confide.tenants.models import Invitation
from confide.tenants.service import PENDING_INVITATION
from tests.support.turns import sqlite_sender_lock


def _blocking(statement: str) -> bool:
    """Where a request inviting someone waits for another one that is storing its invitation: the tenant row's
    lock (PostgreSQL), or its first write (SQLite's single writer: the sender's check takes the write lock with a
    write to the tenant row that changes nothing), after it has checked for a pending invitation."""
    s = " ".join(statement.split()).upper()
    pg_lock = s.startswith("SELECT") and "FROM TENANT" in s and "FOR NO KEY UPDATE" in s
    return pg_lock or sqlite_sender_lock(s) or s.startswith(("INSERT INTO INVITATION", "UPDATE INVITATION"))


@contextmanager
def _both_past_the_check(app: Any) -> Iterator[None]:
    """Holds the first request to mail its invitation (its insert flushed, not committed) until the other request
    has reached its blocking statement on a connection of its own, i.e. has made its check for a pending
    invitation while the first one's was not committed."""
    engine = app.state.engine.sync_engine
    connections: set[int] = set()
    both = asyncio.Event()
    mailer = app.state.services.mailer
    send = mailer.send
    first = True

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _blocking(statement):
            connections.add(id(conn.connection.dbapi_connection))
            if len(connections) >= 2:
                both.set()

    async def held_send(*args: Any, **kwargs: Any) -> None:
        nonlocal first
        if first:
            first = False
            await asyncio.wait_for(both.wait(), 20)
        await send(*args, **kwargs)

    event.listen(engine, "before_cursor_execute", seen)
    mailer.send = held_send
    try:
        yield
    finally:
        del mailer.send
        event.remove(engine, "before_cursor_execute", seen)


async def test_two_invitations_to_one_address_at_once_give_one_and_a_409(app, client, factory, outbox):
    owner = await factory.user()
    tenant = await factory.tenant(owner)
    url, h = f"/v1/tenants/{tenant}/invitations", owner.headers
    grace = f"grace-{secrets.token_hex(4)}@example.com"

    with _both_past_the_check(app):
        answers = await asyncio.wait_for(
            asyncio.gather(
                client.post(url, json={"email": grace, "role": "analyst"}, headers=h),
                client.post(url, json={"email": grace.upper(), "role": "editor"}, headers=h),
            ),
            30,
        )

    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
    [won] = [r for r in answers if r.status_code == 201]
    [lost] = [r for r in answers if r.status_code == 409]
    assert lost.headers["content-type"] == "application/problem+json"
    body = lost.json()
    assert body["type"].endswith("/conflict") and body["detail"] == PENDING_INVITATION and body["invitation_id"] == won.json()["id"]
    async with app.state.sessionmaker() as session:
        stored = (await session.scalars(select(Invitation).where(Invitation.tenant_id == tenant, Invitation.email == grace))).all()
    assert [i.id for i in stored] == [won.json()["id"]], "exactly one invitation to the address"
    assert len(outbox.messages_to(grace)) == 1, "one token mailed"
