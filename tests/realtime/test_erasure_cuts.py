"""Erasure notices meeting live sockets (fixes of 90db9b9).

An operator joining a conversation whose erasure notice lands while the join subscribes, or right after the
subscription and before `joined`, gets an `invalid-transition` error frame and keeps a usable connection (a
CancelledError used to escape and end it; or `joined` came for a conversation no longer watched). The
missed-erasure catch-up (`erased_among`) asks in batches and counts only erased stubs, never an id without a
row (a new conversation not committed yet). A tenant-scope erasure (rows deleted, not stubbed) closes the
tenant's open widgets with 4410 at once, as any other erasure does (they used to stay open)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event

from confide.chats import service as chats
from confide.core.broker import Subscription
from confide.core.db import create_engine, create_sessionmaker
from confide.privacy.purge import Mode, Purger, Selection
from confide.realtime import channels
from confide.realtime import operator as operator_module
from confide.realtime.live import erased_among
from confide.tenants.closure import CLOSED_AMONG_BATCH
from tests.realtime.test_access_cut import assert_cut, frames_until_close, still_open, watching
from tests.realtime.test_tenant_closure import make_tenant
from tests.support.chat import ChatClient, operator, visitor

FRAME_WAIT = 5.0  # seconds: each awaited frame; the notices act at once, so this is only a bound on a hang


def run_once_inside_subscribe(monkeypatch: pytest.MonkeyPatch, broker: Any, channel: str, hook: Callable[[], Awaitable[None]]) -> None:
    """The broker's subscribe to `channel` runs `hook` once, after the real subscription is made and before the
    subscriber gets it: the moment an operator's join has subscribed but not yet said `joined`. Every other
    subscription (and every later one to `channel`) is the broker's own."""
    real = broker.subscribe
    pending = [hook]

    @asynccontextmanager
    async def subscribe(name: str) -> AsyncIterator[Subscription]:
        async with real(name) as subscription:
            if name == channel and pending:
                await pending.pop()()
            yield subscription

    monkeypatch.setattr(broker, "subscribe", subscribe)


async def join_answer_and_left(ops: ChatClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer to a pending join (`joined` or an `error`) and the `left` the erasure sends, in either order."""
    answer: dict[str, Any] | None = None
    left: dict[str, Any] | None = None
    while answer is None or left is None:
        frame = await ops.recv(FRAME_WAIT)
        if frame["type"] in ("joined", "error"):
            assert answer is None, ("a second answer to one join", answer, frame)
            answer = frame
        elif frame["type"] == "left":
            left = frame
    return answer, left


def assert_erased_while_joining(answer: dict[str, Any]) -> None:
    assert answer["type"] == "error", f"the join of an erased conversation was answered with {answer['type']}: {answer}"
    problem = answer["problem"]
    assert problem["type"].endswith("/invalid-transition") and "close_code" not in problem, problem
    assert problem["detail"] == operator_module.ERASED_WHILE_JOINING


async def erase(app: Any, client: Any, tenant_id: str, owner: Any, body: dict[str, Any]) -> dict[str, Any]:
    """An erasure request as the tenant's owner makes it, carried out by the app's erasure worker."""
    url = f"/v1/tenants/{tenant_id}/erasure-requests"
    r = await client.post(url, json=body, headers=owner.headers)
    assert r.status_code == 202, r.text
    await app.state.erasure_worker.drain()
    r = await client.get(f"{url}/{r.json()['id']}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


# ---- an operator's join meeting an erasure --------------------------------------------------------------


async def test_an_erasure_while_the_join_subscribes_answers_the_join_and_keeps_the_connection(app, base, client, factory, monkeypatch):
    """The erasure stops the join's subscribing (its watch task is cancelled): that cancellation used to escape
    the join and end the operator's connection; now the join is answered with `invalid-transition`."""
    shop = await make_tenant(client, factory, "Joining Erasure GmbH")
    subscribing, release = asyncio.Event(), asyncio.Event()

    async def hold_the_join() -> None:
        subscribing.set()
        await release.wait()  # until the erasure's notice cancels the join's watch task

    async with (
        visitor(base, shop["widget_key"]) as (chat, welcome),
        visitor(base, shop["widget_key"]) as (other_chat, other_welcome),
        operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _),
    ):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await other_chat.expect("message")
        run_once_inside_subscribe(monkeypatch, app.state.chat.broker, channels.conversation_staff(conversation_id), hold_the_join)
        try:
            await ops.send({"type": "join", "conversation_id": conversation_id})
            await asyncio.wait_for(subscribing.wait(), FRAME_WAIT)

            done = await erase(app, client, shop["tenant_id"], shop["owner"], {"scope": "conversation", "conversation_id": conversation_id})
            assert done["status"] == "done", done

            answer, left = await join_answer_and_left(ops)
            assert_erased_while_joining(answer)
            assert left == {"type": "left", "conversation_id": conversation_id, "reason": "erased"}
        finally:
            release.set()  # never holds a watch task past the test, even when it fails

        await still_open(ops)  # the connection goes on, and can join another conversation
        await watching(ops, other_welcome["conversation_id"])


async def test_an_erasure_after_the_subscription_and_before_joined_answers_the_join(app, base, client, factory, monkeypatch):
    """The notice stops the watching once the join's subscription is made but before the join carried on: the
    join used to send `joined` all the same, for a conversation nobody watched any more (after `left`). Now the
    join is answered with `invalid-transition`, and the next join of it subscribes afresh."""
    shop = await make_tenant(client, factory, "Late Notice GmbH")
    moments: list[str] = []

    async with visitor(base, shop["widget_key"]) as (chat, welcome), operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")

        async def notice_as_the_subscription_completes() -> None:
            # The node hears the notice (what its broker listener calls for another node's erasure); the notice's
            # task stops the join's watching at its first step, which must come after the subscribing finished
            # and before the join resumes: one turn of the loop lets it start, then the subscription is handed over.
            app.state.chat.live.conversations_erased(shop["tenant_id"], [conversation_id])
            await asyncio.sleep(0)  # one turn of the event loop, no waiting: the interleaving, not a delay
            moments.append("subscribed")  # not reached when the cancellation came while still subscribing

        run_once_inside_subscribe(monkeypatch, app.state.chat.broker, channels.conversation_staff(conversation_id), notice_as_the_subscription_completes)
        await ops.send({"type": "join", "conversation_id": conversation_id})
        answer, left = await join_answer_and_left(ops)
        assert moments == ["subscribed"], "the notice landed while subscribing: this test is meant for the moment after"
        assert_erased_while_joining(answer)
        assert left == {"type": "left", "conversation_id": conversation_id, "reason": "erased"}

        await still_open(ops)
        await watching(ops, conversation_id)  # nothing was left behind: joining again subscribes and says `joined`


# ---- the missed-erasure catch-up query -----------------------------------------------------------------


async def test_erased_among_asks_in_batches_and_counts_only_erased_stubs(app, backend, shop):
    """12,000 ids (three batches): erased stubs spread over the batches, live conversations, a conversation
    flushed but not committed, and ids without a row. Only the stubs count, in the order asked; an id without
    a row used to count as erased (a new conversation was cut as erased by a node catching up)."""
    tenant_id, avatar_id = shop["tenant_id"], shop["avatar_id"]

    async def new_conversations(n: int) -> list[str]:
        async with app.state.sessionmaker() as session:
            made = [
                await chats.create_conversation(
                    session, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id=f"vis_batch{i}", customer_ref=None, language="en"
                )
                for i in range(n)
            ]
            await session.commit()
        return [c.id for c in made]

    stubs = await new_conversations(4)
    live = await new_conversations(4)
    await Purger(app.state.sessionmaker).run(Selection(tenant_id, conversation_ids=tuple(stubs)), Mode.PURGE)  # as an erasure leaves them

    total = 12_000
    wanted = [f"cnv_norow{i:05d}" for i in range(total)]
    stub_places = (7, 5_001, 9_999, 10_000)  # in the first, second (twice: its last id) and third batch
    for place, stub in zip(stub_places, sorted(stubs, reverse=True), strict=True):  # asked out of id order
        wanted[place] = stub
    for place, conversation_id in zip((0, 4_999, 5_000, 11_999), live, strict=True):
        wanted[place] = conversation_id

    async with AsyncExitStack() as stack:
        engine = create_engine(backend.database_url)  # an engine of its own: only this test's queries are counted
        stack.push_async_callback(engine.dispose)
        ids_per_query: list[int] = []

        def count_ids(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            ids_per_query.append(sum(1 for p in parameters if isinstance(p, str) and p.startswith("cnv_")))

        event.listen(engine.sync_engine, "before_cursor_execute", count_ids)
        writing = await stack.enter_async_context(app.state.sessionmaker())
        unborn = await chats.create_conversation(
            writing, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id="vis_unborn", customer_ref=None, language="en"
        )
        await writing.flush()  # named and written, not committed: invisible to the catch-up's session
        wanted[6_000] = unborn.id
        try:
            async with create_sessionmaker(engine)() as session:
                found = await erased_among(session, wanted)
        finally:
            await writing.rollback()

    assert found == [wanted[place] for place in stub_places]
    assert ids_per_query == [CLOSED_AMONG_BATCH, CLOSED_AMONG_BATCH, total - 2 * CLOSED_AMONG_BATCH]


# ---- a tenant-scope erasure ------------------------------------------------------------------------------


async def test_a_tenant_erasure_closes_its_open_widgets_with_4410_at_once(app, base, client, factory):
    """The tenant's rows are deleted rather than stubbed, and the deleted conversations were not announced: the
    widget stayed open on a conversation that no longer existed. Now it closes with 4410 as the erasure
    commits, the operator watching it gets `left`, and another tenant's widget stays open."""
    shop = await make_tenant(client, factory, "Contract Ended GmbH")
    other = await make_tenant(client, factory, "Contract Goes On AG")
    async with (
        visitor(base, shop["widget_key"]) as (chat, welcome),
        visitor(base, other["widget_key"]) as (bystander, _),
        operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _),
    ):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await bystander.expect("message")
        await watching(ops, conversation_id)

        done = await erase(app, client, shop["tenant_id"], shop["owner"], {"scope": "tenant", "confirm_tenant_id": shop["tenant_id"]})
        assert done["status"] == "done" and done["receipt"]["erased"]["database"]["conversation"] >= 1, done

        frames, closed = await frames_until_close(chat, timeout=FRAME_WAIT)
        assert_cut(frames, closed, 4410, "conversation-erased")
        while (frame := await ops.recv(FRAME_WAIT))["type"] != "left":
            pass
        assert frame == {"type": "left", "conversation_id": conversation_id, "reason": "erased"}
        await still_open(bystander)


async def test_the_join_of_a_conversation_erased_already_is_refused_as_every_other_action_on_it(app, base, client, factory):
    """It was answered `joined` with status erased, and watched (probe, 2026-12-02), while a join that met the
    erasure half-way, and any other action on an erased conversation, is refused with `invalid-transition`."""
    shop = await make_tenant(client, factory, "Erased Before GmbH")
    async with visitor(base, shop["widget_key"]) as (chat, welcome), visitor(base, shop["widget_key"]) as (other_chat, other_welcome):
        conversation_id = welcome["conversation_id"]
        await chat.expect("message")
        await other_chat.expect("message")
        done = await erase(app, client, shop["tenant_id"], shop["owner"], {"scope": "conversation", "conversation_id": conversation_id})
        assert done["status"] == "done", done
    async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
        for _ in range(2):  # not watched after the first one either
            await ops.send({"type": "join", "conversation_id": conversation_id})
            answer = await ops.expect("joined", "error", timeout=FRAME_WAIT)
            assert answer["type"] == "error", answer
            problem = answer["problem"]
            assert problem["type"].endswith("/invalid-transition") and "close_code" not in problem, problem
            assert problem["detail"] == operator_module.ERASED_NOTHING_TO_WATCH
        await still_open(ops)
        await watching(ops, other_welcome["conversation_id"])
    assert not [f for f in ops.frames if f["type"] == "joined" and f["conversation"]["id"] == conversation_id], ops.frames
