"""Tenant routes for chats: the customer-token secret, and a conversation's transcript for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from confide.chats import service
from confide.chats.models import Conversation
from confide.chats.schemas import CustomerTokenSecretOut, MessageOut, TranscriptOut
from confide.chats.tokens import new_customer_secret
from confide.core.db import SessionDep
from confide.core.tenancy import Permission, TenantContext, get_for_tenant, require

router = APIRouter(prefix="/v1/tenants/{tenant_id}", tags=["chats"])


@router.post(
    "/customer-token-secret",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerTokenSecretOut,
    summary="Create or rotate the secret that signs customer tokens",
    description="Your server signs an HS256 JWT with `sub` (your own customer id) and `exp`, and the widget passes it in its hello "
    "frame, so one person is recognised across devices. The previous secret stays valid until the next rotation.",
)
async def rotate_customer_secret(ctx: Annotated[TenantContext, require(Permission.TENANT_MANAGE)], session: SessionDep) -> CustomerTokenSecretOut:
    row = await service.rotate_customer_secret(session, tenant_id=ctx.tenant_id, secret=new_customer_secret())
    await session.commit()
    return CustomerTokenSecretOut(id=row.id, secret=row.secret, created_at=row.created_at)


@router.get(
    "/conversations/{conversation_id}/transcript",
    response_model=TranscriptOut,
    summary="A conversation's transcript: messages, events and private notes in order",
)
async def transcript(conversation_id: str, ctx: Annotated[TenantContext, require(Permission.CHATS_READ)], session: SessionDep) -> TranscriptOut:
    conversation = await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    messages = await service.transcript(session, conversation_id=conversation.id, include_notes=True)
    return TranscriptOut(
        conversation_id=conversation.id,
        status=conversation.status,
        avatar_id=conversation.avatar_id,
        avatar_version_id=conversation.avatar_version_id,
        language=conversation.language,
        handoff_reason=conversation.handoff_reason,
        messages=[MessageOut.model_validate(m) for m in messages],
    )
