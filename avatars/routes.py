"""Avatar routes under /v1/tenants/{tenant_id}/avatars…: the draft (create, read, edit, archive, list),
publishing and versions, the widget key and its origins, and the preview of the draft's replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy.orm import defer

from avatars import runtime, service
from avatars.models import Avatar, AvatarVersion
from avatars.schemas import (
    AvatarCreate,
    AvatarOut,
    AvatarStatus,
    AvatarUpdate,
    AvatarVersionDetail,
    AvatarVersionOut,
    PreviewOut,
    PreviewRequest,
    ResponderConfig,
    WidgetOut,
    WidgetUpdate,
)
from confide.core.db import SessionDep
from confide.core.patching import patch_rule
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import Services, ServicesDep
from confide.core.tenancy import Permission, TenantContext, check_sender_now, require
from confide.privacy.gate import PurposeGateDep
from guidelines.rules import LanguageTag

router = APIRouter(prefix="/v1/tenants/{tenant_id}/avatars", tags=["avatars"])

Reader = Annotated[TenantContext, require(Permission.AVATARS_READ)]
Writer = Annotated[TenantContext, require(Permission.AVATARS_WRITE)]


def check_responder(responder: ResponderConfig | None, services: Services) -> None:
    settings = services.settings
    service.check_responder(responder, models=settings.openai_models, max_tokens=settings.openai_max_tokens)


def avatar_out(avatar: Avatar) -> AvatarOut:
    return AvatarOut.model_validate(
        {
            **{field: getattr(avatar, field) for field in AvatarOut.model_fields if field != "widget"},
            "widget": WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins),
        }
    )


def version_out(avatar: Avatar, version: AvatarVersion, *, detail: bool = False) -> AvatarVersionOut:
    values = {
        "id": version.id,
        "version": version.version,
        "guideline_version_id": version.guideline_version_id,
        "published_by": version.published_by_user_id or version.published_by_key_id,
        "created_at": version.created_at,
        "live": version.version == avatar.live_version,
    }
    return AvatarVersionDetail(**values, snapshot=version.snapshot) if detail else AvatarVersionOut(**values)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AvatarOut,
    summary="Create an avatar (a draft)",
    description="Owners, admins and editors (`avatars:write`). The avatar starts as a `draft` with a new widget key and no allowed origins: visitors "
    "reach it once it is published and its origins are set (`PUT …/widget`). `default_language` must be among `languages`, with a greeting and a "
    "fallback for it in `messages`; `guideline_set_id` (needed to publish) must name one of this tenant's sets, and a `responder` model or "
    "`max_tokens` this server does not offer answers 422 naming the field.",
)
async def create_avatar(body: AvatarCreate, ctx: Writer, session: SessionDep, services: ServicesDep) -> AvatarOut:
    check_responder(body.responder, services)
    avatar = await service.create_avatar(session, ctx, body=body)
    await session.commit()
    return avatar_out(avatar)


@router.get(
    "",
    response_model=Page[AvatarOut],
    summary="List avatars",
    description="Every role (`avatars:read`). Drafts, published and archived avatars, each with its draft, widget key and "
    "`live_version`, in the order they were created, cursor-paged; `status`, `language` and `name` (a part of it, any case) combine.",
)
async def list_avatars(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    status_: Annotated[AvatarStatus | None, Query(alias="status", description="Only avatars in this status.")] = None,
    language: Annotated[LanguageTag | None, Query(description="Only avatars that speak this language (BCP 47).")] = None,
    name: Annotated[str | None, Query(max_length=100, description="Only avatars whose name contains this (any case).")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[AvatarOut]:
    rows, next_cursor = await paginate(
        session,
        service.avatars_query(ctx, status=status_, language=language, name=name),
        Avatar.id,
        cursors=services.cursors,
        scope=f"avatars:{ctx.tenant_id}:{status_ or ''}:{language or ''}:{name or ''}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[avatar_out(a) for a in rows], next_cursor=next_cursor)


@router.get(
    "/{avatar_id}",
    response_model=AvatarOut,
    summary="Read an avatar's draft and status",
    description="Every role (`avatars:read`). The draft as it is being edited, which the next publish freezes, with `status`, "
    "`live_version` (what visitors talk to), `has_unpublished_changes`, and the widget key and allowed origins. The live version's own configuration "
    "is in `GET …/versions/{version}`.",
)
async def read_avatar(avatar_id: str, ctx: Reader, session: SessionDep) -> AvatarOut:
    return avatar_out(await service.get_avatar(session, ctx, avatar_id))


@router.patch(
    "/{avatar_id}",
    response_model=AvatarOut,
    summary="Edit the draft (published avatars keep their live version until the next publish)",
    description="Nested objects (persona, appearance, messages, responder) are replaced whole. " + patch_rule(["voice_id", "guideline_set_id"]),
)
async def update_avatar(avatar_id: str, body: AvatarUpdate, ctx: Writer, session: SessionDep, services: ServicesDep) -> AvatarOut:
    check_responder(body.responder, services)
    avatar = await service.update_avatar(session, ctx, avatar_id=avatar_id, body=body)
    await session.commit()
    return avatar_out(avatar)


@router.post(
    "/{avatar_id}/archive",
    response_model=AvatarOut,
    summary="Archive: take the avatar off the air (publishing brings it back)",
    description="Owners, admins and editors (`avatars:write`). The widget key stops resolving at once, so no chat starts, and chats open on it are "
    "closed on every node; the draft, versions, knowledge and conversations are kept. Archiving an archived avatar changes nothing; publishing, or a "
    "rollback, puts it back on the air.",
)
async def archive_avatar(avatar_id: str, ctx: Writer, session: SessionDep) -> AvatarOut:
    avatar = await service.archive_avatar(session, ctx, avatar_id=avatar_id)
    await session.commit()
    return avatar_out(avatar)


@router.post(
    "/{avatar_id}/publish",
    status_code=status.HTTP_201_CREATED,
    response_model=AvatarVersionOut,
    summary="Publish the draft: freeze it, its guideline version and its knowledge into a new live version",
    description="Owners, admins and editors (`avatars:write`). Freezes the draft's configuration, the current version of its guideline set and its "
    "knowledge into the next version number, which goes live at once (an archived avatar is back on the air). Conversations already under way keep "
    "the version they started with; new ones get this one. Versions never change afterwards; allowed origins are not part of one.",
    responses={409: {"description": "The avatar has no guideline set yet (problem type `conflict`, with `field`: `guideline_set_id`)."}},
)
async def publish_avatar(avatar_id: str, ctx: Writer, session: SessionDep) -> AvatarVersionOut:
    version = await service.publish_avatar(session, ctx, avatar_id=avatar_id)
    await session.commit()
    avatar = await service.get_avatar(session, ctx, avatar_id)
    return version_out(avatar, version)


@router.get(
    "/{avatar_id}/versions",
    response_model=Page[AvatarVersionOut],
    summary="List published versions, oldest first",
    description="Every role (`avatars:read`). Each published version's number, the guideline version it pinned, who published it and "
    "when, and whether it is `live`, without the snapshot (read one version for it), cursor-paged. A version never changes once published, and a "
    "rollback adds none.",
)
async def list_versions(avatar_id: str, ctx: Reader, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[AvatarVersionOut]:
    avatar = await service.get_avatar(session, ctx, avatar_id)
    rows, next_cursor = await paginate(
        session,
        service.versions_query(ctx, avatar.id).options(defer(AvatarVersion.snapshot)),  # type: ignore[arg-type]
        AvatarVersion.id,
        cursors=services.cursors,
        scope=f"avatar-versions:{ctx.tenant_id}:{avatar.id}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[version_out(avatar, v) for v in rows], next_cursor=next_cursor)


@router.get(
    "/{avatar_id}/versions/{version}",
    response_model=AvatarVersionDetail,
    summary="Read a published version with its snapshot",
    description="Every role (`avatars:read`). The `snapshot` is everything that version answers with: the avatar's configuration, the "
    "rules of the guideline version it pinned, and its knowledge (Q&A entries, and documents with their chunks). `version` is the number (1, 2, …); "
    "anything else answers 404.",
)
async def read_version(avatar_id: str, version: str, ctx: Reader, session: SessionDep) -> AvatarVersionOut:
    avatar, row = await service.get_version(session, ctx, avatar_id=avatar_id, version=version)
    return version_out(avatar, row, detail=True)


@router.post(
    "/{avatar_id}/versions/{version}/rollback",
    response_model=AvatarOut,
    summary="Make an earlier version live (and the avatar published) again; the draft becomes a copy of it",
    description="Owners, admins and editors (`avatars:write`). No new version is made: `live_version` points at the one named, and the avatar is "
    "`published` even if it was archived. The draft's configuration and knowledge are replaced by that version's copy, so unpublished edits and "
    "knowledge added since are lost; its guideline set comes back if it still exists (the live version keeps the rules it pinned either way).",
)
async def rollback(avatar_id: str, version: str, ctx: Writer, session: SessionDep) -> AvatarOut:
    avatar = await service.rollback(session, ctx, avatar_id=avatar_id, version=version)
    await session.commit()
    return avatar_out(avatar)


@router.get(
    "/{avatar_id}/widget",
    response_model=WidgetOut,
    summary="The public widget key and the origins allowed to embed it",
    description="Every role (`avatars:read`). The key goes in the embed snippet (`data-widget-key`) and is public by design: it opens a "
    "chat only while the avatar is published, and only from a page whose origin is on this list.",
)
async def read_widget(avatar_id: str, ctx: Reader, session: SessionDep) -> WidgetOut:
    avatar = await service.get_avatar(session, ctx, avatar_id)
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.put(
    "/{avatar_id}/widget",
    response_model=WidgetOut,
    summary="Set the origins allowed to embed the widget",
    description="Owners, admins and editors (`avatars:write`). Replaces the whole list (at most 20 origins, `https://host[:port]`, or "
    "`http://localhost:port` for development, each once); an empty list lets no site embed the widget. It applies at once, without a publish: chats "
    "already open from an origin taken off the list are closed on every node.",
)
async def update_widget(avatar_id: str, body: WidgetUpdate, ctx: Writer, session: SessionDep) -> WidgetOut:
    avatar = await service.set_allowed_origins(session, ctx, avatar_id=avatar_id, origins=body.allowed_origins)
    await session.commit()
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.post(
    "/{avatar_id}/widget/rotate",
    response_model=WidgetOut,
    summary="Replace the widget key; the old one stops working at once",
    description="Owners, admins and editors (`avatars:write`). For a key that leaked, or to move sites to a new one: put the new `key` in the embed "
    "snippet. Chats opened on the old key are closed on every node (`unknown-widget`); their visitors can resume their conversations with the new "
    "key.",
)
async def rotate_widget(avatar_id: str, ctx: Writer, session: SessionDep) -> WidgetOut:
    avatar = await service.rotate_widget_key(session, ctx, avatar_id=avatar_id)
    await session.commit()
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.post(
    "/{avatar_id}/preview",
    response_model=PreviewOut,
    summary="Try a message on the draft: its reply and the guideline verdicts",
    description="Owners, admins and editors (`avatars:write`). Answers one message as a chat would, with the current draft, its guideline set's "
    "current version and its knowledge; no conversation or message is stored. An `openai` responder reaches the LLM only where the tenant's "
    "instructions allow it (PII redacted first if they say so), recorded in the processing log; otherwise it answers from the knowledge (see "
    "`outcome`). At most `CONFIDE_PREVIEW_LIMIT_PER_MINUTE` (60 by default) a minute per tenant and per person or API key: 429 beyond.",
)
async def preview(
    avatar_id: str, body: PreviewRequest, request: Request, ctx: Writer, session: SessionDep, services: ServicesDep, gate: PurposeGateDep
) -> PreviewOut:
    # Each preview may be an LLM call on the deployment's key: a budget of them per minute, per tenant and per
    # person (or key), so neither many members nor one person with many tenants multiplies it.
    await check_sender_now(session)  # a member removed meanwhile makes no LLM call (it stores nothing of its own)
    limit = services.settings.preview_limit_per_minute
    await services.enforce_rate("preview", ctx.tenant_id, limit, 60, "Too many previews in this tenant; wait a moment.")
    await services.enforce_rate("preview:actor", ctx.actor, limit, 60, "Too many previews; wait a moment.")
    return await runtime.preview(
        session,
        ctx,
        responders=runtime.responders_of(request.app, services.settings),
        gate=gate,
        avatar_id=avatar_id,
        message=body.message,
        language=body.language,
    )
