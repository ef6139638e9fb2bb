"""An avatar's knowledge: Q&A entries and documents (kept whole and split into chunks), import and
export, and the frozen form a published version carries. Every change marks the draft as changed."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import Select, Text, cast, delete, func
from sqlalchemy.ext.asyncio import AsyncSession

from avatars.models import Avatar, KnowledgeDocument, KnowledgeEntry
from avatars.responders.knowledge import Hit, split_document
from avatars.schemas import DocumentImport, EntryCreate, EntryUpdate, KnowledgeExport
from avatars.snapshot import build_knowledge_index
from confide.core.clock import utcnow
from confide.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext, get_for_tenant, tenant_select

MAX_DOCUMENT_BYTES = 1_000_000
MAX_ENTRIES = 5000
MAX_DOCUMENTS = 100
MAX_DOCUMENTS_TOTAL_BYTES = 20_000_000  # every published version carries the documents: keep snapshots sane
CHUNK_CHARS = 800
TEXT_MEDIA_TYPES = {"text/plain": "text/plain", "text/markdown": "text/markdown", "text/x-markdown": "text/markdown"}
TEXT_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}


async def get_avatar(session: AsyncSession, ctx: TenantContext, avatar_id: str) -> Avatar:
    return await get_for_tenant(session, ctx, Avatar, avatar_id, "avatar")


async def _count(session: AsyncSession, ctx: TenantContext, model: Any, avatar_id: str) -> int:
    return int(await session.scalar(tenant_select(ctx, model, func.count()).where(model.avatar_id == avatar_id)) or 0)


async def _check_total_bytes(session: AsyncSession, ctx: TenantContext, avatar_id: str, adding: int) -> None:
    stored = int(await session.scalar(tenant_select(ctx, KnowledgeDocument, func.coalesce(func.sum(KnowledgeDocument.size_bytes), 0)).where(KnowledgeDocument.avatar_id == avatar_id)) or 0)
    if stored + adding > MAX_DOCUMENTS_TOTAL_BYTES:
        raise PayloadTooLarge(f"An avatar's documents may total at most {MAX_DOCUMENTS_TOTAL_BYTES} bytes; {stored} are stored.")


# ---- Q&A entries -------------------------------------------------------------------------------


def entries_query(ctx: TenantContext, avatar_id: str, *, language: str | None = None, tag: str | None = None) -> Select[Any]:
    stmt = tenant_select(ctx, KnowledgeEntry).where(KnowledgeEntry.avatar_id == avatar_id)
    if language:
        stmt = stmt.where(KnowledgeEntry.language == language)
    if tag:  # tags are a JSON list; match the quoted element in its text form, portable across backends
        stmt = stmt.where(cast(KnowledgeEntry.tags, Text).contains(json.dumps(tag.strip().lower()), autoescape=True))
    return stmt


async def create_entry(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, body: EntryCreate) -> KnowledgeEntry:
    avatar = await get_avatar(session, ctx, avatar_id)
    if await _count(session, ctx, KnowledgeEntry, avatar.id) >= MAX_ENTRIES:
        raise Conflict(f"An avatar holds at most {MAX_ENTRIES} Q&A entries.")
    entry = _entry(ctx, avatar.id, body)
    session.add(entry)
    avatar.mark_changed()
    await session.flush()
    return entry


def _entry(ctx: TenantContext, avatar_id: str, body: EntryCreate, entry_id: str | None = None) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=entry_id or new_id("kqa"),
        tenant_id=ctx.tenant_id,
        avatar_id=avatar_id,
        questions=list(body.questions),
        answer=body.answer,
        language=body.language,
        tags=sorted(set(body.tags)),
    )


async def _entry_of(session: AsyncSession, ctx: TenantContext, avatar_id: str, entry_id: str) -> tuple[Avatar, KnowledgeEntry]:
    avatar = await get_avatar(session, ctx, avatar_id)
    entry = await session.scalar(entries_query(ctx, avatar.id).where(KnowledgeEntry.id == entry_id))
    if entry is None:
        raise NotFound("No such knowledge entry.")
    return avatar, entry


async def get_entry(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, entry_id: str) -> KnowledgeEntry:
    return (await _entry_of(session, ctx, avatar_id, entry_id))[1]


async def update_entry(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, entry_id: str, body: EntryUpdate) -> KnowledgeEntry:
    avatar, entry = await _entry_of(session, ctx, avatar_id, entry_id)
    sent = body.model_fields_set
    if "questions" in sent:
        entry.questions = list(body.questions)
    if "answer" in sent:
        entry.answer = body.answer
    if "language" in sent:
        entry.language = body.language
    if "tags" in sent:
        entry.tags = sorted(set(body.tags))
    if sent:
        entry.updated_at = utcnow()
        avatar.mark_changed()
    await session.flush()
    return entry


async def delete_entry(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, entry_id: str) -> None:
    avatar, entry = await _entry_of(session, ctx, avatar_id, entry_id)
    await session.delete(entry)
    avatar.mark_changed()
    await session.flush()


# ---- Documents ---------------------------------------------------------------------------------


def text_media_type(content_type: str | None, filename: str | None = None) -> str:
    """text/plain or text/markdown from a Content-Type (or, for a generic one, the file name); else 415."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base in TEXT_MEDIA_TYPES:
        return TEXT_MEDIA_TYPES[base]
    if base in ("", "application/octet-stream") and filename:
        suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if suffix in TEXT_SUFFIXES:
            return TEXT_SUFFIXES[suffix]
    raise UnsupportedMediaType(f"Upload plain text or Markdown (text/plain or text/markdown), not {base or 'an untyped body'}.")


def decode_text(data: bytes) -> str:
    """UTF-8 text without NUL bytes; anything else is not a text document (415)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"A document may be at most {MAX_DOCUMENT_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedMediaType("The document is not UTF-8 text.") from None
    if "\x00" in text:
        raise UnsupportedMediaType("The document contains binary data, not text.")
    return text


def _document(ctx: TenantContext, avatar_id: str, *, title: str, media_type: str, language: str | None, text: str, field: str, document_id: str | None = None) -> KnowledgeDocument:
    if not text.strip():
        raise InvalidInput(field, "The document is empty.")
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"{field}: a document may be at most {MAX_DOCUMENT_BYTES} bytes.")
    return KnowledgeDocument(
        id=document_id or new_id("kdoc"),
        tenant_id=ctx.tenant_id,
        avatar_id=avatar_id,
        title=title,
        media_type=media_type,
        language=language,
        content=text,
        chunks=list(split_document(text, CHUNK_CHARS)),
        size_bytes=size,
    )


async def add_document(
    session: AsyncSession, ctx: TenantContext, *, avatar_id: str, title: str, media_type: str, language: str | None, text: str
) -> KnowledgeDocument:
    avatar = await get_avatar(session, ctx, avatar_id)
    if await _count(session, ctx, KnowledgeDocument, avatar.id) >= MAX_DOCUMENTS:
        raise Conflict(f"An avatar holds at most {MAX_DOCUMENTS} documents.")
    document = _document(ctx, avatar.id, title=title, media_type=media_type, language=language, text=text, field="body")
    await _check_total_bytes(session, ctx, avatar.id, document.size_bytes)
    session.add(document)
    avatar.mark_changed()
    await session.flush()
    return document


def documents_query(ctx: TenantContext, avatar_id: str) -> Select[Any]:
    return tenant_select(ctx, KnowledgeDocument).where(KnowledgeDocument.avatar_id == avatar_id)


async def _document_of(session: AsyncSession, ctx: TenantContext, avatar_id: str, document_id: str) -> tuple[Avatar, KnowledgeDocument]:
    avatar = await get_avatar(session, ctx, avatar_id)
    document = await session.scalar(documents_query(ctx, avatar.id).where(KnowledgeDocument.id == document_id))
    if document is None:
        raise NotFound("No such knowledge document.")
    return avatar, document


async def get_document(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, document_id: str) -> KnowledgeDocument:
    return (await _document_of(session, ctx, avatar_id, document_id))[1]


async def delete_document(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, document_id: str) -> None:
    avatar, document = await _document_of(session, ctx, avatar_id, document_id)
    await session.delete(document)
    avatar.mark_changed()
    await session.flush()


# ---- Import, export, snapshot ------------------------------------------------------------------


async def export_knowledge(session: AsyncSession, ctx: TenantContext, *, avatar_id: str) -> KnowledgeExport:
    avatar = await get_avatar(session, ctx, avatar_id)
    entries = (await session.scalars(entries_query(ctx, avatar.id).order_by(KnowledgeEntry.id))).all()
    documents = (await session.scalars(documents_query(ctx, avatar.id).order_by(KnowledgeDocument.id))).all()
    return KnowledgeExport(
        entries=[EntryCreate(questions=e.questions, answer=e.answer, language=e.language, tags=e.tags) for e in entries],
        documents=[DocumentImport(title=d.title, media_type=d.media_type, language=d.language, content=d.content) for d in documents],  # type: ignore[arg-type]
    )


async def import_knowledge(
    session: AsyncSession, ctx: TenantContext, *, avatar_id: str, body: KnowledgeExport, mode: Literal["append", "replace"]
) -> tuple[int, int]:
    """All or nothing: every document is checked and split before anything is written, and the caller
    commits once. `replace` drops the current knowledge first."""
    avatar = await get_avatar(session, ctx, avatar_id)
    documents = [
        _document(ctx, avatar.id, title=d.title, media_type=d.media_type, language=d.language, text=d.content, field=f"body.documents.{i}.content")
        for i, d in enumerate(body.documents)
    ]
    entries = [_entry(ctx, avatar.id, e) for e in body.entries]
    if mode == "replace":
        await _drop_all(session, ctx, avatar.id)
        have_entries = have_documents = 0
    else:
        have_entries = await _count(session, ctx, KnowledgeEntry, avatar.id)
        have_documents = await _count(session, ctx, KnowledgeDocument, avatar.id)
    if have_entries + len(entries) > MAX_ENTRIES:
        raise Conflict(f"An avatar holds at most {MAX_ENTRIES} Q&A entries; it has {have_entries}.")
    if have_documents + len(documents) > MAX_DOCUMENTS:
        raise Conflict(f"An avatar holds at most {MAX_DOCUMENTS} documents; it has {have_documents}.")
    await _check_total_bytes(session, ctx, avatar.id, sum(d.size_bytes for d in documents))
    session.add_all([*entries, *documents])
    avatar.mark_changed()
    await session.flush()
    return len(entries), len(documents)


async def _drop_all(session: AsyncSession, ctx: TenantContext, avatar_id: str) -> None:
    for model in (KnowledgeEntry, KnowledgeDocument):
        await session.execute(delete(model).where(model.tenant_id == ctx.tenant_id, model.avatar_id == avatar_id))


async def knowledge_snapshot(session: AsyncSession, ctx: TenantContext, *, avatar_id: str) -> dict[str, Any]:
    """The knowledge as plain data, with ids, for a version snapshot (and for preview)."""
    entries = (await session.scalars(entries_query(ctx, avatar_id).order_by(KnowledgeEntry.id))).all()
    documents = (await session.scalars(documents_query(ctx, avatar_id).order_by(KnowledgeDocument.id))).all()
    return {
        "entries": [{"id": e.id, "questions": e.questions, "answer": e.answer, "language": e.language, "tags": e.tags} for e in entries],
        "documents": [
            {"id": d.id, "title": d.title, "media_type": d.media_type, "language": d.language, "content": d.content, "chunks": d.chunks} for d in documents
        ],
    }


async def restore_snapshot(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, knowledge: dict[str, Any]) -> None:
    """Replace the draft's knowledge with a version's copy (rollback), keeping the ids it had."""
    await _drop_all(session, ctx, avatar_id)
    session.add_all(
        [
            KnowledgeEntry(
                id=e["id"], tenant_id=ctx.tenant_id, avatar_id=avatar_id, questions=e["questions"], answer=e["answer"], language=e["language"], tags=e["tags"]
            )
            for e in knowledge.get("entries", [])
        ]
        + [
            KnowledgeDocument(
                id=d["id"],
                tenant_id=ctx.tenant_id,
                avatar_id=avatar_id,
                title=d["title"],
                media_type=d["media_type"],
                language=d["language"],
                content=d["content"],
                chunks=d["chunks"],
                size_bytes=len(d["content"].encode("utf-8")),
            )
            for d in knowledge.get("documents", [])
        ]
    )


async def search(session: AsyncSession, ctx: TenantContext, *, avatar_id: str, query: str, language: str | None, limit: int) -> list[Hit]:
    """Search the draft's knowledge the way the avatar would (the index is built per call: dashboard use)."""
    avatar = await get_avatar(session, ctx, avatar_id)
    knowledge = await knowledge_snapshot(session, ctx, avatar_id=avatar.id)
    return build_knowledge_index(knowledge, default_language=avatar.default_language).search(query, language=language, limit=limit)
