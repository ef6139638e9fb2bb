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
from confide.core.schemas import Page, paginate
from confide.core.services import Services, ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from confide.privacy.gate import PurposeGateDep
from guidelines.rules import LanguageTag

router = APIRouter(prefix="/v1/tenants/{tenant_id}/avatars", tags=["avatars"])

Reader = Annotated[TenantContext, require(Permission.AVATARS_READ)]
Writer = Annotated[TenantContext, require(Permission.AVATARS_WRITE)]


def check_responder(responder: ResponderConfig | None, services: Services) -> None:
    settings = services.settings
    service.check_responder(responder, models=settings.openai_models, max_tokens=settings.openai_max_tokens)
Cursor = Annotated[str | None, Query(description="The `next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AvatarOut, summary="Create an avatar (a draft)")
async def create_avatar(body: AvatarCreate, ctx: Writer, session: SessionDep, services: ServicesDep) -> AvatarOut:
    check_responder(body.responder, services)
    avatar = await service.create_avatar(session, ctx, body=body)
    await session.commit()
    return avatar_out(avatar)


@router.get("", response_model=Page[AvatarOut], summary="List avatars")
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


@router.get("/{avatar_id}", response_model=AvatarOut, summary="Read an avatar's draft and status")
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


@router.post("/{avatar_id}/archive", response_model=AvatarOut, summary="Archive: take the avatar off the air (publishing brings it back)")
async def archive_avatar(avatar_id: str, ctx: Writer, session: SessionDep) -> AvatarOut:
    avatar = await service.archive_avatar(session, ctx, avatar_id=avatar_id)
    await session.commit()
    return avatar_out(avatar)


@router.post(
    "/{avatar_id}/publish",
    status_code=status.HTTP_201_CREATED,
    response_model=AvatarVersionOut,
    summary="Publish the draft: freeze it, its guideline version and its knowledge into a new live version",
    responses={409: {"description": "The avatar has no guideline set yet (problem type `conflict`, with `field`: `guideline_set_id`)."}},
)
async def publish_avatar(avatar_id: str, ctx: Writer, session: SessionDep) -> AvatarVersionOut:
    version = await service.publish_avatar(session, ctx, avatar_id=avatar_id)
    await session.commit()
    avatar = await service.get_avatar(session, ctx, avatar_id)
    return version_out(avatar, version)


@router.get("/{avatar_id}/versions", response_model=Page[AvatarVersionOut], summary="List published versions, oldest first")
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


@router.get("/{avatar_id}/versions/{version}", response_model=AvatarVersionDetail, summary="Read a published version with its snapshot")
async def read_version(avatar_id: str, version: str, ctx: Reader, session: SessionDep) -> AvatarVersionOut:
    avatar, row = await service.get_version(session, ctx, avatar_id=avatar_id, version=version)
    return version_out(avatar, row, detail=True)


@router.post("/{avatar_id}/versions/{version}/rollback", response_model=AvatarOut, summary="Make an earlier version live (and the avatar published) again; the draft becomes a copy of it")
async def rollback(avatar_id: str, version: str, ctx: Writer, session: SessionDep) -> AvatarOut:
    avatar = await service.rollback(session, ctx, avatar_id=avatar_id, version=version)
    await session.commit()
    return avatar_out(avatar)


@router.get("/{avatar_id}/widget", response_model=WidgetOut, summary="The public widget key and the origins allowed to embed it")
async def read_widget(avatar_id: str, ctx: Reader, session: SessionDep) -> WidgetOut:
    avatar = await service.get_avatar(session, ctx, avatar_id)
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.put("/{avatar_id}/widget", response_model=WidgetOut, summary="Set the origins allowed to embed the widget")
async def update_widget(avatar_id: str, body: WidgetUpdate, ctx: Writer, session: SessionDep) -> WidgetOut:
    avatar = await service.set_allowed_origins(session, ctx, avatar_id=avatar_id, origins=body.allowed_origins)
    await session.commit()
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.post("/{avatar_id}/widget/rotate", response_model=WidgetOut, summary="Replace the widget key; the old one stops working at once")
async def rotate_widget(avatar_id: str, ctx: Writer, session: SessionDep) -> WidgetOut:
    avatar = await service.rotate_widget_key(session, ctx, avatar_id=avatar_id)
    await session.commit()
    return WidgetOut(key=avatar.widget_key, allowed_origins=avatar.allowed_origins)


@router.post("/{avatar_id}/preview", response_model=PreviewOut, summary="Try a message on the draft: its reply and the guideline verdicts")
async def preview(
    avatar_id: str, body: PreviewRequest, request: Request, ctx: Writer, session: SessionDep, services: ServicesDep, gate: PurposeGateDep
) -> PreviewOut:
    # Each preview may be an LLM call on the deployment's key: a budget of them per minute, per tenant and per
    # person (or key), so neither many members nor one person with many tenants multiplies it.
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
