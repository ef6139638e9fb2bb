"""Guideline-set routes under /v1/tenants/{tenant_id}/guideline-sets…: create, read, update (a new
version each time), list, versions, and evaluating any text against a set for the dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from confide.core.db import SessionDep
from confide.core.schemas import Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from guidelines import service
from guidelines.models import GuidelineSet, GuidelineSetVersion
from guidelines.schemas import EvaluateOut, EvaluateRequest, GuidelineSetBody, GuidelineSetOut, GuidelineVersionDetail, GuidelineVersionOut

router = APIRouter(prefix="/v1/tenants/{tenant_id}/guideline-sets", tags=["guidelines"])

Reader = Annotated[TenantContext, require(Permission.AVATARS_READ)]
Writer = Annotated[TenantContext, require(Permission.AVATARS_WRITE)]
Cursor = Annotated[str | None, Query(description="The `next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


def _set_out(gset: GuidelineSet, version: GuidelineSetVersion) -> GuidelineSetOut:
    return GuidelineSetOut(
        id=gset.id,
        name=gset.name,
        current_version=gset.current_version,
        current_version_id=version.id,
        spec=version.spec,
        created_at=gset.created_at,
        updated_at=gset.updated_at,
    )


def _version_out(version: GuidelineSetVersion, current: int, detail: bool = False) -> GuidelineVersionOut:
    values = {
        "id": version.id,
        "set_id": version.set_id,
        "version": version.version,
        "author": version.author_user_id or version.author_key_id,
        "created_at": version.created_at,
        "current": version.version == current,
    }
    return GuidelineVersionDetail(**values, spec=version.spec) if detail else GuidelineVersionOut(**values)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GuidelineSetOut, summary="Create a guideline set (version 1)")
async def create_set(body: GuidelineSetBody, ctx: Writer, session: SessionDep) -> GuidelineSetOut:
    gset, version = await service.create_set(session, ctx, body=body)
    await session.commit()
    return _set_out(gset, version)


@router.get("", response_model=Page[GuidelineSetOut], summary="List guideline sets with their current rules")
async def list_sets(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    name: Annotated[str | None, Query(max_length=200, description="Only sets whose name contains this.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[GuidelineSetOut]:
    stmt = service.sets_query(ctx, name=name)
    scope = f"guideline-sets:{ctx.tenant_id}:{name or ''}"
    if cursor:
        stmt = stmt.where(GuidelineSet.id > services.cursors.decode(scope, cursor)["after"])
    rows = (await session.execute(stmt.order_by(GuidelineSet.id).limit(limit + 1))).all()
    next_cursor = services.cursors.encode(scope, {"after": rows[limit - 1][0].id}) if len(rows) > limit else None
    return Page(items=[_set_out(gset, version) for gset, version in rows[:limit]], next_cursor=next_cursor)


@router.get("/{set_id}", response_model=GuidelineSetOut, summary="Read a guideline set and its current rules")
async def read_set(set_id: str, ctx: Reader, session: SessionDep) -> GuidelineSetOut:
    return _set_out(*await service.current_version(session, ctx, set_id))


@router.put("/{set_id}", response_model=GuidelineSetOut, summary="Replace the rules: saves a new version and makes it current")
async def update_set(set_id: str, body: GuidelineSetBody, ctx: Writer, session: SessionDep) -> GuidelineSetOut:
    gset, version = await service.update_set(session, ctx, set_id=set_id, body=body)
    await session.commit()
    return _set_out(gset, version)


@router.get("/{set_id}/versions", response_model=Page[GuidelineVersionOut], summary="List a set's versions, oldest first")
async def list_versions(set_id: str, ctx: Reader, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[GuidelineVersionOut]:
    gset = await service.get_set(session, ctx, set_id)
    rows, next_cursor = await paginate(
        session,
        service.versions_query(ctx, gset.id),
        GuidelineSetVersion.id,
        cursors=services.cursors,
        scope=f"guideline-versions:{ctx.tenant_id}:{gset.id}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[_version_out(v, gset.current_version) for v in rows], next_cursor=next_cursor)


@router.get("/{set_id}/versions/{version}", response_model=GuidelineVersionDetail, summary="Read one version of a set, with its rules")
async def read_version(set_id: str, version: str, ctx: Reader, session: SessionDep) -> GuidelineVersionOut:
    gset = await service.get_set(session, ctx, set_id)
    row = await service.get_version(session, ctx, set_id=gset.id, version=version)
    return _version_out(row, gset.current_version, detail=True)


@router.post("/{set_id}/evaluate", response_model=EvaluateOut, summary="Check any text against the set's current version")
async def evaluate(set_id: str, body: EvaluateRequest, ctx: Reader, session: SessionDep) -> EvaluateOut:
    gset, version = await service.current_version(session, ctx, set_id)
    language, verdict = await service.evaluate(version, text=body.text, direction=body.direction, language=body.language)
    return EvaluateOut(set_id=gset.id, version=version.version, direction=body.direction, language=language, verdict=verdict.as_dict())
