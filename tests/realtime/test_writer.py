"""The chat writer under concurrency: many messages at once (batched into one commit on PostgreSQL)
get gap-free seqs in the database, a resent client_message_id inside a batch is refused for that
message only, and an unknown conversation fails only its own writer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from confide.chats.models import Message
from confide.chats.writer import DuplicateClientMessage
from tests.support.chat import visitor


async def new_conversations(base: str, shop: dict, count: int) -> list[str]:
    """Conversations with their greeting (seq 1) stored, as a visitor's hello leaves them."""
    ids = []
    for _ in range(count):
        async with visitor(base, shop["widget_key"]) as (chat, welcome):
            await chat.expect("message")
            ids.append(welcome["conversation_id"])
    return ids


@contextlib.asynccontextmanager
async def row_locked(dsn: str, conversation_id: str) -> AsyncIterator[Any]:
    """The conversation's row locked by a transaction elsewhere; roll back the yielded transaction to free it."""
    import asyncpg

    holder = await asyncpg.connect(dsn)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT 1 FROM conversation WHERE id = $1 FOR UPDATE", conversation_id)
        yield transaction
    finally:
        await holder.close()


async def test_concurrent_appends_are_gap_free_and_a_duplicate_fails_alone(app, base, shop):
    writer = app.state.chat.writer
    conversations = await new_conversations(base, shop, 3)
    tenant_id = shop["tenant_id"]

    async def one(n: int) -> object:
        visitor_turn = n % 2 == 1
        return await writer.append(
            tenant_id=tenant_id, conversation_id=conversations[n % 3], author="visitor" if visitor_turn else "avatar",
            text=f"text {n}", client_message_id=f"c{n}" if visitor_turn else None,
        )  # fmt: skip

    stored = [message for message, _ in await asyncio.gather(*(one(n) for n in range(60)))]
    assert len({m.id for m in stored}) == 60

    async with app.state.sessionmaker() as session:
        for conversation_id in conversations:
            seqs = list((await session.scalars(select(Message.seq).where(Message.conversation_id == conversation_id).order_by(Message.seq))).all())
            assert seqs == list(range(1, len(seqs) + 1)), "every seq once, no gap"
            returned = sorted(m.seq for m in stored if m.conversation_id == conversation_id)
            assert returned == seqs[1:], "each writer got back the seq the database holds (seq 1 is the greeting)"


async def test_a_duplicate_inside_a_batch_is_refused_and_the_rest_are_stored(app, base, shop):
    writer = app.state.chat.writer
    [conversation_id] = await new_conversations(base, shop, 1)
    tenant_id = shop["tenant_id"]
    await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text="original", client_message_id="again")

    async def say(n: int, client_id: str) -> object:
        try:
            return await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text=f"m{n}", client_message_id=client_id)
        except DuplicateClientMessage as exc:
            return exc

    # Submitted together, so on PostgreSQL they queue behind one another and go as batches.
    results = await asyncio.gather(*(say(n, "again" if n == 5 else f"x{n}") for n in range(12)))
    assert [isinstance(r, DuplicateClientMessage) for r in results] == [n == 5 for n in range(12)]
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Message.seq, Message.text).where(Message.conversation_id == conversation_id).order_by(Message.seq))).all()
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    assert sorted(text for _, text in rows if text.startswith("m")) == sorted(f"m{n}" for n in range(12) if n != 5)


async def test_an_unknown_conversation_fails_only_its_own_write(app, base, shop):
    writer = app.state.chat.writer
    [conversation_id] = await new_conversations(base, shop, 1)

    async def write(target: str) -> object:
        try:
            return await writer.append(tenant_id=shop["tenant_id"], conversation_id=target, author="avatar", text="hello")
        except NoResultFound as exc:
            return exc

    results = await asyncio.gather(*(write("cnv_missing" if n == 3 else conversation_id) for n in range(8)))
    assert [isinstance(r, NoResultFound) for r in results] == [n == 3 for n in range(8)]
    with pytest.raises(NoResultFound):
        await writer.append(tenant_id="tnt_other", conversation_id=conversation_id, author="avatar", text="not yours")


async def test_a_locked_conversation_does_not_hold_up_the_others(app, base, shop, backend):
    """Batches go in parallel on PostgreSQL: while one conversation's row is locked (a slow
    transaction elsewhere), messages to another conversation are still stored and acknowledged."""
    if backend.name != "postgres":
        pytest.skip("SQLite writes one transaction at a time by design")
    writer = app.state.chat.writer
    blocked, free = await new_conversations(base, shop, 2)
    tenant_id = shop["tenant_id"]
    async with row_locked(writer.dsn, blocked) as transaction:
        waiting = asyncio.create_task(writer.append(tenant_id=tenant_id, conversation_id=blocked, author="visitor", text="behind a lock", client_message_id="b1"))
        await asyncio.sleep(0)  # its batch is in flight, waiting on the lock
        for n in range(5):
            message, _ = await asyncio.wait_for(
                writer.append(tenant_id=tenant_id, conversation_id=free, author="visitor", text=f"free {n}", client_message_id=f"f{n}"), 10
            )
            assert message.seq == n + 2  # after the greeting
        assert not waiting.done()
        await transaction.rollback()
        message, _ = await asyncio.wait_for(waiting, 10)
        assert message.seq == 2


async def test_back_to_back_appends_from_one_task_never_wait_for_a_flusher(app, base, shop, backend):
    """A caller resumed by a batch that appends again at once (the avatar's reply right after the
    visitor's message) finds a free flusher slot even with one batch allowed."""
    if backend.name != "postgres":
        pytest.skip("the session path has no flushers")
    from confide.chats.writer import MessageWriter

    [conversation_id] = await new_conversations(base, shop, 1)
    writer = MessageWriter(app.state.chat.writer.engine, app.state.sessionmaker, pool_size=1)
    await writer.start()
    try:
        seqs = []
        for n in range(5):
            async with asyncio.timeout(10):  # not wait_for: its extra task would hide the bug this guards against
                message, _ = await writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="avatar", text=f"r{n}")
            seqs.append(message.seq)
        assert seqs == [2, 3, 4, 5, 6]
    finally:
        await writer.close()


async def test_a_message_queued_behind_a_callers_own_write_is_written_when_it_ends(app, base, shop, backend):
    """A caller that finds the writer idle writes its message from its own task and holds the one
    flusher slot meanwhile; a message queued behind it (here behind a row lock) is written as soon
    as it ends, not left waiting for a flusher nobody starts."""
    if backend.name != "postgres":
        pytest.skip("the session path has no flushers")
    from confide.chats.writer import MessageWriter

    blocked, other = await new_conversations(base, shop, 2)
    writer = MessageWriter(app.state.chat.writer.engine, app.state.sessionmaker, pool_size=1)
    await writer.start()
    try:
        async with row_locked(writer.dsn, blocked) as transaction:
            first = asyncio.create_task(writer.append(tenant_id=shop["tenant_id"], conversation_id=blocked, author="avatar", text="behind a lock"))
            async with asyncio.timeout(10):
                while not writer._inline:  # noqa: SLF001 - the state this test is about
                    await asyncio.sleep(0)
            second = asyncio.create_task(writer.append(tenant_id=shop["tenant_id"], conversation_id=other, author="avatar", text="queued"))
            async with asyncio.timeout(10):
                while not writer._waiting:  # noqa: SLF001
                    await asyncio.sleep(0)
            assert not writer._flushers, "the one slot is the first caller's: the second waits"  # noqa: SLF001
            await transaction.rollback()
            async with asyncio.timeout(10):
                (one, _), (two, _) = await first, await second
        assert (one.seq, one.text, two.seq, two.text) == (2, "behind a lock", 2, "queued")
    finally:
        await writer.close()


async def test_only_a_resent_client_message_id_counts_as_a_duplicate(app, base, shop):
    """Any other integrity error on a message with a client id (here a rule hit without a rule id)
    reaches the caller as itself, not as a resend it would then look for and not find."""
    from sqlalchemy.exc import IntegrityError

    writer = app.state.chat.writer
    [conversation_id] = await new_conversations(base, shop, 1)
    with pytest.raises(IntegrityError):
        await writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text="hi", client_message_id="i1", rule_ids=[None])
    await writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text="hi", client_message_id="i1", rule_ids=["greeting"])
    with pytest.raises(DuplicateClientMessage):
        await writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text="hi", client_message_id="i1", rule_ids=["greeting"])
    with pytest.raises(DuplicateClientMessage):
        await writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="visitor", text="hi", client_message_id="i1")


async def test_the_idle_paths_connection_dropped_by_the_database_is_replaced_before_the_next_write(app, base, shop, backend):
    """The inline path keeps one connection between messages. When the database drops it (a restart,
    an administrator), the next write goes on a new connection, as it would from the pool."""
    if backend.name != "postgres":
        pytest.skip("the session path keeps no connection")
    import asyncpg

    from confide.chats.writer import MessageWriter, usable

    [conversation_id] = await new_conversations(base, shop, 1)
    writer = MessageWriter(app.state.chat.writer.engine, app.state.sessionmaker, pool_size=1)
    await writer.start()
    tenant_id = shop["tenant_id"]
    try:
        first, _ = await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="avatar", text="one")
        kept = writer._held.connection  # noqa: SLF001 - the connection this test is about
        pid = kept.get_server_pid()
        admin = await asyncpg.connect(writer.dsn)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        async with asyncio.timeout(10):
            while usable(kept):  # asyncpg reads the server's goodbye; there is no event to await
                await asyncio.sleep(0.01)
        second, _ = await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="avatar", text="two")
        assert (first.seq, second.seq) == (2, 3)
        assert writer._held.connection.get_server_pid() != pid  # noqa: SLF001
    finally:
        async with asyncio.timeout(10):
            await writer.close()


async def test_closing_the_writer_during_an_inline_write_waits_for_it_and_returns(app, base, shop, backend):
    """close() while the inline path's write is in flight (here behind a row lock): the write ends,
    hands its connection back to the pool, and close() returns rather than waiting forever."""
    if backend.name != "postgres":
        pytest.skip("the session path keeps no connection")
    from confide.chats.writer import MessageWriter

    [conversation_id] = await new_conversations(base, shop, 1)
    writer = MessageWriter(app.state.chat.writer.engine, app.state.sessionmaker, pool_size=1)
    await writer.start()
    async with row_locked(writer.dsn, conversation_id) as transaction:
        write = asyncio.create_task(writer.append(tenant_id=shop["tenant_id"], conversation_id=conversation_id, author="avatar", text="in flight"))
        async with asyncio.timeout(10):
            while writer._held is None:  # noqa: SLF001 - the write has its connection and waits on the lock
                await asyncio.sleep(0.01)
        closing = asyncio.create_task(writer.close())
        await asyncio.sleep(0.05)
        assert not closing.done()
        await transaction.rollback()
        async with asyncio.timeout(10):
            message, _ = await write
            await closing
    assert message.seq == 2 and writer._held is None  # noqa: SLF001
