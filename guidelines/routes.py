"""Guideline-set routes under /v1/tenants/{tenant_id}/guideline-sets…: create, read, update (a new
version each time), list, versions, and evaluating any text against a set for the dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from confide.core.db import SessionDep
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from guidelines import service
from guidelines.models import GuidelineSet, GuidelineSetVersion
from guidelines.schemas import EvaluateOut, EvaluateRequest, GuidelineSetBody, GuidelineSetOut, GuidelineVersionDetail, GuidelineVersionOut

router = APIRouter(prefix="/v1/tenants/{tenant_id}/guideline-sets", tags=["guidelines"])

Reader = Annotated[TenantContext, require(Permission.AVATARS_READ)]
Writer = Annotated[TenantContext, require(Permission.AVATARS_WRITE)]


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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=GuidelineSetOut,
    summary="Create a guideline set (version 1)",
    description="Owners, admins and editors (`avatars:write`). Saves the name and rules as version 1; an avatar follows the set once its "
    "`guideline_set_id` names it. The rules are checked when saved: a set without rules, or one whose instructions would have the avatar decide "
    "about a person itself (Art. 22), answers 422. Every later change is a new version (`PUT`): a version is never edited.",
)
async def create_set(body: GuidelineSetBody, ctx: Writer, session: SessionDep) -> GuidelineSetOut:
    gset, version = await service.create_set(session, ctx, body=body)
    await session.commit()
    return _set_out(gset, version)


@router.get(
    "",
    response_model=Page[GuidelineSetOut],
    summary="List guideline sets with their current rules",
    description="Every role (`avatars:read`). Each set with its current version's number, id and rules (`spec`), in the order the sets "
    "were created, cursor-paged; `name` keeps sets whose name contains it, in any case.",
)
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


@router.get(
    "/{set_id}",
    response_model=GuidelineSetOut,
    summary="Read a guideline set and its current rules",
    description="Every role (`avatars:read`). The set's name and its current version's number, id and rules. A published avatar may "
    "follow an older version: each avatar version pins the one it was published with (`guideline_version_id`).",
)
async def read_set(set_id: str, ctx: Reader, session: SessionDep) -> GuidelineSetOut:
    return _set_out(*await service.current_version(session, ctx, set_id))


@router.put(
    "/{set_id}",
    response_model=GuidelineSetOut,
    summary="Replace the rules: saves a new version and makes it current",
    description="Owners, admins and editors (`avatars:write`). Send the whole set, name and every rule, checked as on creation: it is saved as the "
    "next version and made current, and earlier versions stay as they were. Drafts and previews use the new rules at once; published avatars keep "
    "the version they were published with until they are published again.",
)
async def update_set(set_id: str, body: GuidelineSetBody, ctx: Writer, session: SessionDep) -> GuidelineSetOut:
    gset, version = await service.update_set(session, ctx, set_id=set_id, body=body)
    await session.commit()
    return _set_out(gset, version)


@router.get(
    "/{set_id}/versions",
    response_model=Page[GuidelineVersionOut],
    summary="List a set's versions, oldest first",
    description="Every role (`avatars:read`). Every saved version of the set, cursor-paged: its number, author and time, "
    "and which one is `current`; without the rules (read one version for them).",
)
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


@router.get(
    "/{set_id}/versions/{version}",
    response_model=GuidelineVersionDetail,
    summary="Read one version of a set, with its rules",
    description="Every role (`avatars:read`). The rules exactly as saved in that version, which never change afterwards. `version` is "
    "the number (1, 2, …); anything else answers 404.",
)
async def read_version(set_id: str, version: str, ctx: Reader, session: SessionDep) -> GuidelineVersionOut:
    gset = await service.get_set(session, ctx, set_id)
    row = await service.get_version(session, ctx, set_id=gset.id, version=version)
    return _version_out(row, gset.current_version, detail=True)


@router.post(
    "/{set_id}/evaluate",
    response_model=EvaluateOut,
    summary="Check any text against the set's current version",
    description="Every role (`avatars:read`). Checks `text` as a chat would, `direction` `input` as a visitor's message or `output` as "
    "an avatar's reply, in `language` or the set's default language, and answers the verdict: `action` (allow, redact, refuse or handoff), the rules "
    "that fired, and any redacted text or message. The text is not stored.",
)
async def evaluate(set_id: str, body: EvaluateRequest, ctx: Reader, session: SessionDep) -> EvaluateOut:
    gset, version = await service.current_version(session, ctx, set_id)
    language, verdict = await service.evaluate(version, text=body.text, direction=body.direction, language=body.language)
    return EvaluateOut(set_id=gset.id, version=version.version, direction=body.direction, language=language, verdict=verdict.as_dict())
