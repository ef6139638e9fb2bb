"""Helpers: a whole chat over the real websocket, and conversations written straight to storage with
chosen timestamps (for reports over many days), evaluated by the real evaluator."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update

from confide.chats import service as chats
from confide.chats.models import Conversation, Message
from tests.support.chat import visitor


async def drain(app: FastAPI) -> None:
    await app.state.services.events.drain()


async def settled(app: FastAPI, tenant_id: str, timeout: float = 10.0) -> None:
    """The events handled and every webhook delivery of the tenant delivered or given up."""
    await drain(app)
    await asyncio.wait_for(app.state.webhooks.worker.settled(tenant_id=tenant_id), timeout)


async def next_of(chat: Any, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def chat_session(base: str, widget_key: str, messages: list[str], *, rating: dict[str, Any] | None = None, end: bool = True) -> str:
    """A visitor says each message and waits for the answer (or the handoff), ends, and rates. Returns the conversation id."""
    async with visitor(base, widget_key) as (chat, welcome):
        await chat.expect("message")  # disclosure and greeting
        handed_off = False
        for i, text in enumerate(messages):
            await chat.say(text, f"m{i}")
            if not handed_off:
                frame = await chat.expect("message", "handoff")
                handed_off = frame["type"] == "handoff"
        if end:
            await chat.send({"type": "end"})
            await next_of(chat, "closed")
            if rating is not None:
                await next_of(chat, "rating_request")
                await chat.send({"type": "rating", **rating})
                await next_of(chat, "rating")
    return welcome["conversation_id"]


async def stored_conversation(
    app: FastAPI,
    *,
    tenant_id: str,
    avatar_id: str,
    started: datetime,
    turns: list[tuple[str, str, dict[str, Any] | None, float]],
    handoff: str | None = None,
    rating: int | None = None,
    resolved: bool | None = None,
    rule_ids: tuple[str, ...] = (),
    language: str = "en",
) -> str:
    """A closed conversation written through the chat service, with (author, text, verdict, seconds after start) turns;
    then evaluated as the close event would, and rated as the rating event would."""
    async with app.state.sessionmaker() as session:
        conversation = await chats.create_conversation(
            session, tenant_id=tenant_id, avatar_id=avatar_id, avatar_version_id=None, visitor_id="vis_stored", customer_ref=None, language=language
        )
        last = 0.0
        for author, text, verdict, at in turns:
            kind, event = ("event", "handoff") if author == "handoff" else ("message", None)
            message, _ = await chats.append(
                session, tenant_id=tenant_id, conversation_id=conversation.id, author="system" if author == "handoff" else author, text=text,
                kind=kind, event=event, verdict=verdict, status="waiting" if author == "handoff" else None,
                handoff_reason=(verdict or {}).get("reason") if author == "handoff" else None,
                rule_ids=rule_ids if author == "visitor" else (),
            )
            await session.execute(update(Message).where(Message.id == message.id).values(created_at=started + timedelta(seconds=at)))
            last = max(last, at)
        await chats.append(session, tenant_id=tenant_id, conversation_id=conversation.id, author="visitor", kind="event", event="closed", status="closed")
        await session.execute(
            update(Conversation).where(Conversation.id == conversation.id).values(created_at=started, closed_at=started + timedelta(seconds=last + 60))
        )
        await session.commit()
    await app.state.evaluation.evaluate_closed(tenant_id=tenant_id, conversation_id=conversation.id)
    if rating is not None or resolved is not None:
        await app.state.evaluation.record_outcome(
            tenant_id=tenant_id, conversation_id=conversation.id, score=rating, resolved=resolved, resolved_source="visitor" if resolved is not None else None
        )
    return conversation.id


async def set_instructions(client: Any, app: FastAPI, owner: Any, tenant_id: str, **purposes: bool) -> None:
    r = await client.post(f"/v1/tenants/{tenant_id}/privacy/instructions", json={"purposes": purposes}, headers=owner.headers)
    assert r.status_code == 201, r.text
    app.state.purpose_gate.invalidate(tenant_id)
