"""Tenant routes for chats: the customer-token secret, and a conversation's transcript for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from confide.chats import inbox, service
from confide.chats.models import Conversation
from confide.chats.schemas import CustomerTokenSecretOut, CustomerTokenSecretRotate, MessageOut, RuleHitOut, TranscriptOut
from confide.chats.tokens import new_customer_secret
from confide.core.clock import as_utc
from confide.core.db import SessionDep
from confide.core.schemas import Cursor, query_scope
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, get_for_tenant, require
from confide.privacy.gate import Purpose, PurposeGateDep

router = APIRouter(prefix="/v1/tenants/{tenant_id}", tags=["chats"])

TRANSCRIPT_PAGE = 1000  # messages a transcript page holds at most (and by default): nearly every conversation is one page


@router.post(
    "/customer-token-secret",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerTokenSecretOut,
    summary="Create or rotate the secret that signs customer tokens",
    description="Your server signs an HS256 JWT with `sub` (your own customer id) and `exp` (at most 24 hours ahead: a token that "
    "would live longer is refused, as it would be a standing credential in a web page), and the widget passes it in its hello "
    "frame, so one person is recognised across devices. The previous secret stays valid until the next rotation, for overlap; "
    "send `{\"revoke_previous\": true}` to end it at once (a leaked secret). The body is optional.",
)
async def rotate_customer_secret(
    ctx: Annotated[TenantContext, require(Permission.TENANT_MANAGE)], session: SessionDep, body: CustomerTokenSecretRotate | None = None
) -> CustomerTokenSecretOut:
    revoke_previous = body is not None and body.revoke_previous
    row = await service.rotate_customer_secret(session, tenant_id=ctx.tenant_id, secret=new_customer_secret(), revoke_previous=revoke_previous)
    await session.commit()
    return CustomerTokenSecretOut(id=row.id, secret=row.secret, created_at=row.created_at)


@router.get(
    "/conversations/{conversation_id}/transcript",
    response_model=TranscriptOut,
    summary="A conversation's transcript: messages, events, private notes and guideline verdicts in order",
    description="Reading it is operator review: refused (403 purpose-not-instructed) when the tenant's instructions do not allow "
    f"it, and recorded in the processing log. Up to {TRANSCRIPT_PAGE:,} messages a page, in the order they happened; a longer conversation "
    "gives `next_cursor`: pass it as `cursor` for the next page (the conversation's own fields come with every page).",
)
async def transcript(
    conversation_id: str,
    ctx: Annotated[TenantContext, require(Permission.CHATS_READ)],
    session: SessionDep,
    gate: PurposeGateDep,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=TRANSCRIPT_PAGE, description=f"Messages per page (at most {TRANSCRIPT_PAGE}, the default).")] = TRANSCRIPT_PAGE,
) -> TranscriptOut:
    conversation = await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    scope = query_scope("transcript", ctx.tenant_id, conversation.id)
    after = None
    if cursor:
        position = services.cursors.decode(scope, cursor)
        after = (datetime.fromisoformat(position["t"]), position["id"])
    await gate.authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=ctx.actor, subject_ref=conversation.visitor_id)
    messages = list(await service.transcript(session, conversation_id=conversation.id, include_notes=True, after=after, limit=limit + 1))
    next_cursor = None
    if len(messages) > limit:
        messages = messages[:limit]
        next_cursor = services.cursors.encode(scope, {"t": as_utc(messages[-1].created_at).isoformat(), "id": messages[-1].id})
    rules = await inbox.rule_hits_of(session, tenant_id=ctx.tenant_id, conversation_id=conversation.id, message_ids=[m.id for m in messages])
    tags = await inbox.tags_of(session, tenant_id=ctx.tenant_id, conversation_ids=[conversation.id])
    return TranscriptOut(
        conversation_id=conversation.id,
        status=conversation.status,
        avatar_id=conversation.avatar_id,
        avatar_version_id=conversation.avatar_version_id,
        visitor_id=conversation.visitor_id,
        customer_ref=conversation.customer_ref,
        language=conversation.language,
        handoff_reason=conversation.handoff_reason,
        handed_off=conversation.handed_off,
        assignee_id=conversation.assignee_id,
        rating=conversation.rating,
        tags=tags[conversation.id],
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        closed_at=conversation.closed_at,
        messages=[
            MessageOut(
                id=m.id,
                seq=m.seq,
                kind=m.kind,
                author=m.author,
                operator_id=m.operator_id,
                event=m.event,
                text=m.text,
                redacted=m.redacted,
                verdict=m.verdict,
                rules=[RuleHitOut(rule_id=h.rule_id, direction=h.direction) for h in rules.get(m.id, ())],
                created_at=m.created_at,
            )
            for m in messages
        ],
        next_cursor=next_cursor,
    )
