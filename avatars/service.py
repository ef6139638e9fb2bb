"""Avatar logic: the editable draft, publishing immutable versions, rollback, widget keys, and the two
lookups the chat path needs (`resolve_widget`, `get_live_version`), each one query."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from avatars import knowledge_store
from avatars.models import Avatar, AvatarVersion
from avatars.schemas import AvatarCreate, AvatarUpdate, ResponderConfig
from avatars.snapshot import AvatarSnapshot
from confide.core.clock import utcnow
from confide.core.db import take_sqlite_write_lock
from confide.core.errors import Conflict, InvalidInput, NotFound
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext, get_for_tenant, tenant_select
from confide.realtime.access import avatar_access_changed_after_commit
from guidelines import service as guidelines
from guidelines.models import GuidelineSet

WIDGET_KEY_PREFIX = "cfw_"
SNAPSHOT_SCHEMA = 1


def new_widget_key() -> str:
    """Public but unguessable: 192 random bits."""
    return WIDGET_KEY_PREFIX + secrets.token_urlsafe(24)


def _language_tags(languages: list[str]) -> str:
    return "," + ",".join(languages) + ","


def _check_languages(languages: list[str], default_language: str, messages: dict[str, Any]) -> None:
    if default_language not in languages:
        raise InvalidInput("body.default_language", f"'{default_language}' is not among the languages {languages}.")
    stray = [language for language in messages if language not in languages]
    if stray:
        raise InvalidInput(f"body.messages.{stray[0]}", f"'{stray[0]}' is not among the languages {languages}.")
    if default_language not in messages:
        raise InvalidInput("body.messages", f"A greeting and a fallback message are required for the default language '{default_language}'.")


async def _check_guideline_set(session: AsyncSession, ctx: TenantContext, set_id: str | None) -> None:
    if set_id is None:
        return
    try:
        await guidelines.get_set(session, ctx, set_id)
    except NotFound:
        field = "body.guideline_set_id"
        raise NotFound(
            f"{field}: no such guideline set in this tenant.", errors=[{"field": field, "message": "No such guideline set.", "type": "not_found"}]
        ) from None


def check_responder(responder: ResponderConfig | None, *, models: tuple[str, ...], max_tokens: int) -> None:
    """An avatar names only a model this deployment offers and asks for no more tokens than it allows: the LLM
    runs on the deployment's key (settings.openai_models, openai_max_tokens). 422 naming the field otherwise."""
    if responder is None:
        return
    if responder.model and responder.model not in models:
        raise InvalidInput("body.responder.model", f"This server offers the models {', '.join(models)}; leave it empty for its default ({models[0]}).")
    if responder.max_tokens > max_tokens:
        raise InvalidInput("body.responder.max_tokens", f"At most {max_tokens} on this server.")


async def create_avatar(session: AsyncSession, ctx: TenantContext, *, body: AvatarCreate) -> Avatar:
    messages = {language: m.model_dump() for language, m in body.messages.items()}
    _check_languages(body.languages, body.default_language, messages)
    await _check_guideline_set(session, ctx, body.guideline_set_id)
    avatar = Avatar(
        id=new_id("avt"),
        tenant_id=ctx.tenant_id,
        name=body.name,
        persona=body.persona.model_dump(mode="json"),
        appearance=body.appearance.model_dump(mode="json"),
        voice_id=body.voice_id,
        languages=list(body.languages),
        language_tags=_language_tags(body.languages),
        default_language=body.default_language,
        messages=messages,
        responder=body.responder.model_dump(mode="json"),
        guideline_set_id=body.guideline_set_id,
        widget_key=new_widget_key(),
        allowed_origins=[],
    )
    session.add(avatar)
    await session.flush()
    return avatar


async def get_avatar(session: AsyncSession, ctx: TenantContext, avatar_id: str) -> Avatar:
    return await get_for_tenant(session, ctx, Avatar, avatar_id, "avatar")


async def _lock_avatar(session: AsyncSession, ctx: TenantContext, avatar_id: str) -> Avatar:
    """The avatar, locked until the transaction ends, so publishes, rollbacks and archivings of one avatar run one
    after another and each reads what the one before it wrote: FOR UPDATE on PostgreSQL, the one write lock on
    SQLite (without it two publishes at once both read the same latest version, and the second insert was a 500)."""
    await take_sqlite_write_lock(session, Avatar.live_version, Avatar.tenant_id == ctx.tenant_id, Avatar.id == avatar_id)
    stmt = tenant_select(ctx, Avatar).where(Avatar.id == avatar_id).with_for_update().execution_options(populate_existing=True)
    avatar = await session.scalar(stmt)
    if avatar is None:
        raise NotFound("No such avatar.")
    return avatar


def avatars_query(ctx: TenantContext, *, status: str | None = None, language: str | None = None, name: str | None = None) -> Select[Any]:
    stmt = tenant_select(ctx, Avatar)
    if status:
        stmt = stmt.where(Avatar.status == status)
    if language:
        stmt = stmt.where(Avatar.language_tags.contains(f",{language},", autoescape=True))  # type: ignore[attr-defined]
    if name:
        stmt = stmt.where(func.lower(Avatar.name).contains(name.lower(), autoescape=True))
    return stmt


async def update_avatar(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, body: AvatarUpdate) -> Avatar:
    """Edits the draft only; visitors keep talking to the live version until the next publish."""
    avatar = await get_avatar(session, ctx, avatar_id)
    sent = body.model_fields_set
    if not sent:
        return avatar
    languages = list(body.languages) if "languages" in sent else list(avatar.languages)
    default_language = body.default_language if "default_language" in sent else avatar.default_language
    if "messages" in sent:
        messages = {language: m.model_dump() for language, m in body.messages.items()}
    else:  # languages dropped from the list take their messages with them
        messages = {language: m for language, m in avatar.messages.items() if language in languages}
    _check_languages(languages, default_language, messages)
    if "guideline_set_id" in sent:
        await _check_guideline_set(session, ctx, body.guideline_set_id)
        avatar.guideline_set_id = body.guideline_set_id
    if "name" in sent:
        avatar.name = body.name
    for field in ("persona", "appearance", "responder"):
        if field in sent:
            setattr(avatar, field, getattr(body, field).model_dump(mode="json"))
    if "voice_id" in sent:
        avatar.voice_id = body.voice_id
    avatar.languages = languages
    avatar.language_tags = _language_tags(languages)
    avatar.default_language = default_language
    avatar.messages = messages
    avatar.mark_changed()
    await session.flush()
    return avatar


async def archive_avatar(session: AsyncSession, ctx: TenantContext, *, avatar_id: str) -> Avatar:
    """Takes the avatar off the air (its widget key stops resolving); publishing again brings it back. Locked as a
    publish is, so one running at the same moment comes wholly before or after it (and the answer shows the result)."""
    avatar = await _lock_avatar(session, ctx, avatar_id)
    if avatar.status != "archived":
        avatar.status = "archived"
        avatar.archived_at = utcnow()
        avatar.updated_at = avatar.archived_at
        await session.flush()
        avatar_access_changed_after_commit(session, avatar_id=avatar.id)  # its open chats close as a new connection would be refused
    return avatar


# ---- Versions ----------------------------------------------------------------------------------


def _draft_config(avatar: Avatar) -> dict[str, Any]:
    return {
        "name": avatar.name,
        "persona": avatar.persona,
        "appearance": avatar.appearance,
        "voice_id": avatar.voice_id,
        "languages": avatar.languages,
        "default_language": avatar.default_language,
        "messages": avatar.messages,
        "responder": avatar.responder,
        "guideline_set_id": avatar.guideline_set_id,
    }


async def draft_snapshot(session: AsyncSession, ctx: TenantContext, avatar: Avatar) -> tuple[dict[str, Any], str | None]:
    """The draft as a snapshot (what publish would freeze), and the guideline version id it pins."""
    guideline = None
    if avatar.guideline_set_id is not None:
        gset, gversion = await guidelines.current_version(session, ctx, avatar.guideline_set_id)
        guideline = {"set_id": gset.id, "name": gset.name, "version": gversion.version, "version_key": gversion.id, "spec": gversion.spec}
    knowledge = await knowledge_store.knowledge_snapshot(session, ctx, avatar_id=avatar.id)
    snapshot = {"schema": SNAPSHOT_SCHEMA, "avatar": _draft_config(avatar), "guideline": guideline, "knowledge": knowledge}
    return snapshot, guideline["version_key"] if guideline else None


async def publish_avatar(session: AsyncSession, ctx: TenantContext, *, avatar_id: str) -> AvatarVersion:
    avatar = await _lock_avatar(session, ctx, avatar_id)
    if avatar.guideline_set_id is None:
        raise Conflict("guideline_set_id: choose a guideline set for the avatar before publishing it.", field="guideline_set_id")
    snapshot, guideline_version_id = await draft_snapshot(session, ctx, avatar)
    latest = await session.scalar(tenant_select(ctx, AvatarVersion, func.max(AvatarVersion.version)).where(AvatarVersion.avatar_id == avatar.id))
    now = utcnow()
    version = AvatarVersion(
        id=new_id("avv"),
        tenant_id=ctx.tenant_id,
        avatar_id=avatar.id,
        version=(latest or 0) + 1,
        snapshot=snapshot,
        guideline_version_id=guideline_version_id,
        published_by_user_id=ctx.principal.user_id if ctx.principal.kind == "user" else None,
        published_by_key_id=ctx.principal.id if ctx.principal.kind == "api_key" else None,
        created_at=now,
    )
    session.add(version)
    _go_live(avatar, version.version, now)
    await session.flush()
    return version


def _go_live(avatar: Avatar, version: int, now: Any) -> None:
    avatar.live_version = version
    avatar.status = "published"
    avatar.has_unpublished_changes = False
    avatar.published_at = now
    avatar.archived_at = None
    avatar.updated_at = now


def versions_query(ctx: TenantContext, avatar_id: str) -> Select[Any]:
    return tenant_select(ctx, AvatarVersion).where(AvatarVersion.avatar_id == avatar_id)


async def get_version(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, version: str) -> tuple[Avatar, AvatarVersion]:
    """`version` is the number as the path carries it; anything else is simply not found."""
    avatar = await get_avatar(session, ctx, avatar_id)
    number = int(version) if re.fullmatch(r"[0-9]{1,9}", version) else None
    row = await session.scalar(versions_query(ctx, avatar.id).where(AvatarVersion.version == number)) if number else None
    if row is None:
        raise NotFound("No such avatar version.")
    return avatar, row


async def rollback(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, version: str) -> Avatar:
    """Make an earlier snapshot live again and reset the draft (config and knowledge) to a copy of it."""
    _, target = await get_version(session, ctx, avatar_id=avatar_id, version=version)
    avatar = await _lock_avatar(session, ctx, avatar_id)
    config = target.snapshot["avatar"]
    for field in ("name", "persona", "appearance", "voice_id", "languages", "default_language", "messages", "responder"):
        setattr(avatar, field, config[field])
    avatar.language_tags = _language_tags(config["languages"])
    guideline = target.snapshot.get("guideline")
    set_id = guideline["set_id"] if guideline else None
    if set_id is not None and await session.scalar(tenant_select(ctx, GuidelineSet, GuidelineSet.id).where(GuidelineSet.id == set_id)) is None:
        set_id = None
    avatar.guideline_set_id = set_id
    await knowledge_store.restore_snapshot(session, ctx, avatar_id=avatar.id, knowledge=target.snapshot["knowledge"])
    _go_live(avatar, target.version, utcnow())
    await session.flush()
    return avatar


# ---- Widget keys -------------------------------------------------------------------------------


async def set_allowed_origins(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, origins: list[str]) -> Avatar:
    """Origins apply at once (they are not part of a version): they guard where the widget runs. Once
    committed, open chats from an origin taken off the list close on every node (realtime/access.py)."""
    avatar = await get_avatar(session, ctx, avatar_id)
    if set(avatar.allowed_origins) - set(origins):
        avatar_access_changed_after_commit(session, avatar_id=avatar.id)
    avatar.allowed_origins = list(origins)
    avatar.updated_at = utcnow()
    await session.flush()
    return avatar


async def rotate_widget_key(session: AsyncSession, ctx: TenantContext, *, avatar_id: str) -> Avatar:
    """A fresh key; the old one stops resolving with this transaction's commit, and the chats opened on it
    close on every node (4404 `unknown-widget`, realtime/access.py). Their visitor tokens stay valid: a
    client given the new key says hello with its token and resumes."""
    avatar = await get_avatar(session, ctx, avatar_id)
    avatar.widget_key = new_widget_key()
    avatar_access_changed_after_commit(session, avatar_id=avatar.id)
    avatar.updated_at = utcnow()
    await session.flush()
    return avatar


@dataclass(frozen=True, slots=True)
class WidgetTarget:
    tenant_id: str
    avatar_id: str
    allowed_origins: tuple[str, ...]
    live_version: int
    live_version_id: str

    def allows_origin(self, origin: str | None) -> bool:
        return origin_allowed(self.allowed_origins, origin)


def origin_allowed(allowed_origins: tuple[str, ...] | list[str], origin: str | None) -> bool:
    """Whether a page's Origin header is on the avatar's list (stored lower-case, without a trailing slash)."""
    return origin is not None and origin.lower().rstrip("/") in allowed_origins


@dataclass(frozen=True, slots=True)
class WidgetAccess:
    """What an open chat's right to stay open rests on: the avatar's widget key now and its allowed origins."""

    widget_key: str
    allowed_origins: tuple[str, ...]


async def widget_access(session: AsyncSession, avatar_ids: list[str] | tuple[str, ...]) -> dict[str, WidgetAccess]:
    """The current key and origins of these avatars, in one query (per 1,000 ids); an avatar deleted or no
    longer published (archived) is absent, as resolve_widget finds none for a new connection."""
    found: dict[str, WidgetAccess] = {}
    wanted = list(dict.fromkeys(avatar_ids))
    for start in range(0, len(wanted), 1000):
        rows = await session.execute(select(Avatar.id, Avatar.widget_key, Avatar.allowed_origins).where(Avatar.id.in_(wanted[start : start + 1000]), Avatar.status == "published"))  # type: ignore[attr-defined]
        for row in rows:
            found[row.id] = WidgetAccess(row.widget_key, tuple(row.allowed_origins))
    return found


async def resolve_widget(session: AsyncSession, key: str) -> WidgetTarget | None:
    """The published avatar a widget key opens, with its allowed origins and live version id (for
    `get_version_by_id`), in one query; None for unknown, rotated, unpublished or archived keys."""
    if not key.startswith(WIDGET_KEY_PREFIX) or len(key) > 64:
        return None
    row = (
        await session.execute(
            select(Avatar.tenant_id, Avatar.id, Avatar.allowed_origins, Avatar.live_version, AvatarVersion.id.label("version_id"))
            .join(AvatarVersion, (AvatarVersion.avatar_id == Avatar.id) & (AvatarVersion.version == Avatar.live_version))
            .where(Avatar.widget_key == key, Avatar.status == "published")
        )
    ).first()
    if row is None:
        return None
    return WidgetTarget(row.tenant_id, row.id, tuple(row.allowed_origins), row.live_version, row.version_id)


async def resolve_widget_key(session: AsyncSession, key: str) -> tuple[str, str] | None:
    """(tenant_id, avatar_id) of the published avatar behind a widget key, or None."""
    target = await resolve_widget(session, key)
    return (target.tenant_id, target.avatar_id) if target else None


# ---- What a chat loads -------------------------------------------------------------------------


async def get_live_version(session: AsyncSession, avatar_id: str, *, tenant_id: str | None = None) -> AvatarSnapshot | None:
    """The live version of a published avatar, everything a chat needs, in one query; None when not on air."""
    stmt = (
        select(AvatarVersion)
        .join(Avatar, (Avatar.id == AvatarVersion.avatar_id) & (Avatar.live_version == AvatarVersion.version))
        .where(Avatar.id == avatar_id, Avatar.status == "published")
    )
    if tenant_id is not None:
        stmt = stmt.where(Avatar.tenant_id == tenant_id)
    row = await session.scalar(stmt)
    return AvatarSnapshot.from_version(row) if row else None


async def get_version_by_id(session: AsyncSession, version_id: str, *, tenant_id: str | None = None) -> AvatarSnapshot | None:
    """A version by the id a conversation recorded, live or not (to replay or evaluate that conversation)."""
    stmt = select(AvatarVersion).where(AvatarVersion.id == version_id)
    if tenant_id is not None:
        stmt = stmt.where(AvatarVersion.tenant_id == tenant_id)
    row = await session.scalar(stmt)
    return AvatarSnapshot.from_version(row) if row else None
