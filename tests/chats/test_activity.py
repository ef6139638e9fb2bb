"""A conversation's activity time (updated_at): in a live conversation a message moves it once it is
ACTIVITY_RESOLUTION behind, a status change always does, and so does anything written to a closed one;
on PostgreSQL a message's counter update stays on its page (HOT)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import text, update

from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.core.clock import utcnow
from tests.chats.conftest import make_conversation


async def _activity(app, conversation_id: str):  # noqa: ANN001, ANN202
    async with app.state.sessionmaker() as session:
        return (await session.get(Conversation, conversation_id)).updated_at


async def _append(app, tenant_id: str, conversation_id: str, **kwargs):  # noqa: ANN001, ANN003, ANN202
    async with app.state.sessionmaker() as session:
        message, status = await chats.append(session, tenant_id=tenant_id, conversation_id=conversation_id, **kwargs)
        await session.commit()
    return message, status


async def test_messages_move_the_activity_time_once_it_is_behind_by_the_resolution(app, shop):  # noqa: ANN001
    tenant_id = shop["tenant_id"]
    conversation_id = await make_conversation(app, tenant_id, shop["avatar_id"])
    long_ago = utcnow() - timedelta(minutes=5)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=long_ago))
        await session.commit()

    first, _ = await _append(app, tenant_id, conversation_id, author="visitor", text="Hello?")
    moved = await _activity(app, conversation_id)
    assert moved == first.created_at, "a message after a quiet spell is the new activity time"

    second, _ = await _append(app, tenant_id, conversation_id, author="avatar", text="Hi!")
    assert second.created_at - moved < chats.ACTIVITY_RESOLUTION
    assert await _activity(app, conversation_id) == moved, "within the resolution the activity time stays"

    closing, status = await _append(app, tenant_id, conversation_id, author="system", kind="event", event="closed", status="closed")
    assert status == "closed"
    assert await _activity(app, conversation_id) == closing.created_at, "a status change always moves it"

    late, _ = await _append(app, tenant_id, conversation_id, author="visitor", kind="event", event="rating", rating=5)
    assert late.created_at - closing.created_at < chats.ACTIVITY_RESOLUTION
    assert await _activity(app, conversation_id) == late.created_at, "in a closed conversation anything written moves it at once"


async def test_the_loaded_conversation_sees_the_stored_activity_time(app, shop):  # noqa: ANN001
    tenant_id = shop["tenant_id"]
    conversation_id = await make_conversation(app, tenant_id, shop["avatar_id"])
    async with app.state.sessionmaker() as session:
        loaded = await session.get(Conversation, conversation_id)
        before, seq = loaded.updated_at, loaded.last_seq
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text="again")
        await session.commit()
        assert loaded.updated_at == before == await _activity(app, conversation_id)
        assert loaded.last_seq == seq + 1


async def test_a_message_updates_its_conversation_on_the_page_on_postgresql(app, shop, backend):  # noqa: ANN001
    if backend.name != "postgres":
        pytest.skip("HOT updates are PostgreSQL's")
    tenant_id = shop["tenant_id"]
    conversation_id = await make_conversation(app, tenant_id, shop["avatar_id"])
    counts = text("SELECT pg_stat_get_xact_tuples_updated('conversation'::regclass), pg_stat_get_xact_tuples_hot_updated('conversation'::regclass)")
    async with app.state.sessionmaker() as session:
        # The backend's unflushed counts from earlier transactions are included: compare within one.
        updated_before, hot_before = (await session.execute(counts)).one()
        for n in range(5):
            await chats.append(session, tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text=f"m{n}")
        updated_after, hot_after = (await session.execute(counts)).one()
        await session.commit()
    assert (updated_after - updated_before, hot_after - hot_before) == (5, 5), "no index entry written: each counter update stayed on its page"


async def test_idle_selections_allow_for_the_lag_of_a_live_conversation(app, shop):  # noqa: ANN001
    """'Last active before T' (erasure scope `before`, retention): a live conversation whose recorded
    activity is within the resolution of T may have had a message after T, so it is not selected."""
    from confide.privacy.purge import Selection, count_conversations

    tenant_id = shop["tenant_id"]
    live = await make_conversation(app, tenant_id, shop["avatar_id"])
    closed = await make_conversation(app, tenant_id, shop["avatar_id"], status="closed")
    cutoff = utcnow() + timedelta(minutes=5)
    lagging = cutoff - chats.ACTIVITY_RESOLUTION / 2
    async with app.state.sessionmaker() as session:
        await session.execute(update(Conversation).where(Conversation.id.in_([live, closed])).values(updated_at=lagging))
        await session.commit()
        selected = await count_conversations(session, Selection(tenant_id, conversation_ids=(live, closed), idle_before=cutoff))
        assert selected == 1, "only the closed one is idle for sure"
        assert await count_conversations(session, Selection(tenant_id, conversation_ids=(live,), idle_before=cutoff + chats.ACTIVITY_RESOLUTION)) == 1


async def test_the_chat_writer_keeps_the_activity_time_like_the_session_path(app, shop):  # noqa: ANN001
    """The writer's precompiled statement (asyncpg on PostgreSQL) follows the same rules."""
    tenant_id = shop["tenant_id"]
    conversation_id = await make_conversation(app, tenant_id, shop["avatar_id"])
    writer = app.state.chat.writer
    first, status = await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text="one")
    recorded = await _activity(app, conversation_id)
    second, _ = await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="avatar", text="two")
    assert status == "avatar" and second.seq == first.seq + 1
    assert await _activity(app, conversation_id) == recorded, "live, within the resolution: unchanged"
    async with app.state.sessionmaker() as session:
        await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    third, _ = await writer.append(tenant_id=tenant_id, conversation_id=conversation_id, author="visitor", text="three")
    assert await _activity(app, conversation_id) == third.created_at, "behind by more: moved"
