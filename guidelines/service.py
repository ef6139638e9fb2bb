"""Guideline sets: storage and versions. Every write appends an immutable version and moves the set's
pointer; nothing is ever edited in place, so a published avatar keeps the exact rules it shipped with."""

from __future__ import annotations

import re
from typing import Any

import anyio
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.clock import utcnow
from confide.core.db import take_sqlite_write_lock
from confide.core.errors import NotFound
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext, get_for_tenant, tenant_select
from guidelines.checker import CompiledGuidelines, Verdict, compile_guidelines
from guidelines.models import GuidelineSet, GuidelineSetVersion
from guidelines.schemas import GuidelineSetBody


def _authors(ctx: TenantContext) -> dict[str, str | None]:
    user = ctx.principal.user_id if ctx.principal.kind == "user" else None
    key = ctx.principal.id if ctx.principal.kind == "api_key" else None
    return {"author_user_id": user, "author_key_id": key}


def _spec_json(body: GuidelineSetBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"name"})


async def create_set(session: AsyncSession, ctx: TenantContext, *, body: GuidelineSetBody) -> tuple[GuidelineSet, GuidelineSetVersion]:
    gset = GuidelineSet(id=new_id("gls"), tenant_id=ctx.tenant_id, name=body.name, current_version=1)
    session.add(gset)
    await session.flush()
    version = GuidelineSetVersion(id=new_id("glv"), tenant_id=ctx.tenant_id, set_id=gset.id, version=1, spec=_spec_json(body), **_authors(ctx))
    session.add(version)
    await session.flush()
    return gset, version


async def get_set(session: AsyncSession, ctx: TenantContext, set_id: str) -> GuidelineSet:
    return await get_for_tenant(session, ctx, GuidelineSet, set_id, "guideline set")


async def current_version(session: AsyncSession, ctx: TenantContext, set_id: str) -> tuple[GuidelineSet, GuidelineSetVersion]:
    """The set and the version it points at, in one query."""
    row = (
        await session.execute(
            tenant_select(ctx, GuidelineSet, GuidelineSet, GuidelineSetVersion)
            .join(GuidelineSetVersion, (GuidelineSetVersion.set_id == GuidelineSet.id) & (GuidelineSetVersion.version == GuidelineSet.current_version))
            .where(GuidelineSet.id == set_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such guideline set.")
    return row[0], row[1]


async def update_set(session: AsyncSession, ctx: TenantContext, *, set_id: str, body: GuidelineSetBody) -> tuple[GuidelineSet, GuidelineSetVersion]:
    """Append version n+1 and point the set at it. The set's row is locked first, so concurrent updates run one after
    another and each appends the next number: FOR UPDATE on PostgreSQL, the one write lock on SQLite (without it two
    saves at once both appended the same number: a 500)."""
    await take_sqlite_write_lock(session, GuidelineSet.current_version, GuidelineSet.tenant_id == ctx.tenant_id, GuidelineSet.id == set_id)
    stmt = tenant_select(ctx, GuidelineSet).where(GuidelineSet.id == set_id).with_for_update().execution_options(populate_existing=True)
    gset = await session.scalar(stmt)
    if gset is None:
        raise NotFound("No such guideline set.")
    number = gset.current_version + 1
    version = GuidelineSetVersion(id=new_id("glv"), tenant_id=ctx.tenant_id, set_id=gset.id, version=number, spec=_spec_json(body), **_authors(ctx))
    session.add(version)
    gset.current_version = number
    gset.name = body.name
    gset.updated_at = utcnow()
    await session.flush()
    return gset, version


def sets_query(ctx: TenantContext, *, name: str | None = None) -> Select[Any]:
    stmt = tenant_select(ctx, GuidelineSet, GuidelineSet, GuidelineSetVersion).join(
        GuidelineSetVersion, (GuidelineSetVersion.set_id == GuidelineSet.id) & (GuidelineSetVersion.version == GuidelineSet.current_version)
    )
    if name:
        stmt = stmt.where(GuidelineSet.name.ilike(f"%{_escape_like(name)}%", escape="\\"))  # type: ignore[attr-defined]
    return stmt


def versions_query(ctx: TenantContext, set_id: str) -> Select[Any]:
    return tenant_select(ctx, GuidelineSetVersion).where(GuidelineSetVersion.set_id == set_id)


async def get_version(session: AsyncSession, ctx: TenantContext, *, set_id: str, version: str) -> GuidelineSetVersion:
    await get_set(session, ctx, set_id)
    number = int(version) if re.fullmatch(r"[0-9]{1,9}", version) else None
    row = await session.scalar(versions_query(ctx, set_id).where(GuidelineSetVersion.version == number)) if number else None
    if row is None:
        raise NotFound("No such guideline set version.")
    return row


def compiled(version_key: str, spec: dict[str, Any]) -> CompiledGuidelines:
    """Compiled guidelines for an immutable version; the checker caches them by the version key (the row id)."""
    return compile_guidelines(spec, version_key)


async def evaluate(version: GuidelineSetVersion, *, text: str, direction: str, language: str | None) -> tuple[str, Verdict]:
    """Check any text as the chat would: a visitor's message (input) or an avatar's reply (output).
    Input checks may run PII detection, which is CPU work: it runs in a worker thread."""
    guidelines = compiled(version.id, version.spec)
    resolved = guidelines.resolve_language(language)
    if direction == "input":
        verdict = await anyio.to_thread.run_sync(guidelines.check_input, text, resolved)
    else:
        verdict = guidelines.check_output(text, resolved)
    return resolved, verdict


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
