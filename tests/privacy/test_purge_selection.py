"""A purge batch checks its selection again at each step: a conversation selected as idle past retention that
became active before its batch ran (reopened, written to) keeps its messages and its row (review, 2026-12-01:
only the id and the legal hold were checked again, so it was anonymised with the message just written)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from confide.chats.models import Conversation
from confide.core.clock import utcnow
from confide.privacy.purge import Mode, Purger, Selection
from tests.privacy.chat_seed import conversation, make_shop, messages_of, seed_conversation


async def test_a_conversation_that_stopped_matching_the_selection_is_left_alone(app, client, factory):
    shop = await make_shop(client, factory)
    for mode in (Mode.PURGE, Mode.DELETE):
        idle = await seed_conversation(app, shop, visitor_id=f"vis_idle_{mode.value}", at=utcnow() - timedelta(days=40))
        busy = await seed_conversation(app, shop, visitor_id=f"vis_busy_{mode.value}", at=utcnow())  # as one written to since the selection
        written = [m.text for m in await messages_of(app, busy)]
        selection = Selection(tenant_id=shop.tenant_id, idle_before=utcnow() - timedelta(days=30))
        async with app.state.sessionmaker() as session:
            rows = (await session.execute(select(Conversation.id, Conversation.visitor_id, Conversation.customer_ref).where(Conversation.id.in_((idle, busy))))).all()
        counts = await Purger(app.state.sessionmaker)._batch(selection, rows, mode, None, None)  # noqa: SLF001 - the batch as selected before
        assert counts.get("chat_message"), (mode, counts)
        kept = await conversation(app, busy)
        assert kept is not None and kept.status != "erased" and [m.text for m in await messages_of(app, busy)] == written, mode
        assert await messages_of(app, idle) == []
        gone = await conversation(app, idle)
        assert (gone is None) if mode == Mode.DELETE else (gone.status == "erased"), mode
