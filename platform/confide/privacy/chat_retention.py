"""The retention of chat data: each tenant's conversations last active longer ago than its instructed
`retention_days` lose their messages and their link to the end customer, in batches (privacy/purge.py,
mode PURGE); a visitor left with no conversation also loses its id from the tenant's processing log. What a legal hold covers is kept; the anonymous statistics stay. Without stored transcripts
a conversation idle for a day counts as ended, so its text goes then at the latest.

Runs as one step of the retention job (privacy/retention.py), with its own short transactions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.chats.models import Conversation
from confide.privacy.gate import Purpose, authorize
from confide.privacy.holds import ERASED
from confide.privacy.instructions import current_instructions
from confide.privacy.purge import Mode, Purger, Selection
from confide.privacy.subprocessors import register_from_settings
from confide.settings import Settings

IDLE_END = timedelta(days=1)


async def expire_chat_data(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    sessionmaker = async_sessionmaker(session.bind, expire_on_commit=False)
    register = register_from_settings(settings)
    purger = Purger(sessionmaker, row_batch=settings.erasure_batch_rows, unlink_gone_visitors=True)
    async with sessionmaker() as reader:
        tenants = list((await reader.scalars(select(Conversation.tenant_id).where(Conversation.status != ERASED).distinct())).all())
    removed: dict[str, int] = {}
    for tenant_id in tenants:
        async with sessionmaker() as reader:
            instructions = await current_instructions(reader, tenant_id=tenant_id, register=register)
        cutoff = now - timedelta(days=instructions.retention_days)
        if not instructions.store_transcripts:
            cutoff = max(cutoff, now - IDLE_END)
        counts = await purger.run(Selection(tenant_id, idle_before=cutoff), Mode.PURGE)
        if not counts:
            continue
        async with sessionmaker() as logger:
            await authorize(logger, tenant_id=tenant_id, purpose=Purpose.ERASE, actor="retention", counts={k[:40]: v for k, v in counts.items()})
            await logger.commit()
        for key, value in counts.items():
            removed[key] = removed.get(key, 0) + value
    return removed
