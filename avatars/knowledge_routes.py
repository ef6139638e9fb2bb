"""Knowledge routes under /v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge…: Q&A entries,
documents (plain text or Markdown, uploaded raw or as multipart), search, import and export."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser, parse_options_header  # python-multipart's, by either of its names

from avatars import knowledge_store as store
from avatars.models import KnowledgeDocument, KnowledgeEntry
from avatars.schemas import DocumentDetail, DocumentOut, EntryCreate, EntryOut, EntryUpdate, ImportResult, KnowledgeExport, SearchHit, SearchResults
from confide.core.db import SessionDep
from confide.core.errors import BadRequest, InvalidInput, PayloadTooLarge
from confide.core.http import NulCharacter
from confide.core.patching import patch_rule
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.text import check_name
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require
from guidelines.rules import LanguageTag

router = APIRouter(prefix="/v1/tenants/{tenant_id}/avatars/{avatar_id}/knowledge", tags=["knowledge"])

Reader = Annotated[TenantContext, require(Permission.AVATARS_READ)]
Writer = Annotated[TenantContext, require(Permission.AVATARS_WRITE)]
_language = TypeAdapter(LanguageTag)


# ---- Q&A entries -------------------------------------------------------------------------------


@router.post(
    "/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    summary="Add a Q&A entry",
    description="Owners, admins and editors (`avatars:write`). Adds to the draft's knowledge; the live version keeps its own copy until the next "
    "publish. Tags are stored lower-case and without duplicates; an avatar holds at most 5,000 entries (409 beyond).",
    responses={409: {"description": f"The avatar holds {store.MAX_ENTRIES} Q&A entries already, the most it may (problem type `conflict`)."}},
)
async def create_entry(avatar_id: str, body: EntryCreate, ctx: Writer, session: SessionDep) -> KnowledgeEntry:
    entry = await store.create_entry(session, ctx, avatar_id=avatar_id, body=body)
    await session.commit()
    return entry


@router.get(
    "/entries",
    response_model=Page[EntryOut],
    summary="List Q&A entries",
    description="Every role (`avatars:read`). The draft's Q&A entries in the order they were added, cursor-paged; `language` and `tag` "
    "narrow the list. What a published version answers from is in its snapshot (`GET …/versions/{version}`).",
)
async def list_entries(
    avatar_id: str,
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    language: Annotated[LanguageTag | None, Query(description="Only entries in this language.")] = None,
    tag: Annotated[str | None, Query(max_length=50, description="Only entries with this tag.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Any]:
    avatar = await store.get_avatar(session, ctx, avatar_id)
    rows, next_cursor = await paginate(
        session,
        store.entries_query(ctx, avatar.id, language=language, tag=tag),
        KnowledgeEntry.id,
        cursors=services.cursors,
        scope=f"knowledge-entries:{ctx.tenant_id}:{avatar.id}:{language or ''}:{tag or ''}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=rows, next_cursor=next_cursor)


@router.get(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Read a Q&A entry",
    description="Every role (`avatars:read`). The entry as the draft holds it: its questions, answer, language and tags. An entry of "
    "another avatar, even in the same tenant, answers 404.",
)
async def read_entry(avatar_id: str, entry_id: str, ctx: Reader, session: SessionDep) -> KnowledgeEntry:
    return await store.get_entry(session, ctx, avatar_id=avatar_id, entry_id=entry_id)


@router.patch("/entries/{entry_id}", response_model=EntryOut, summary="Edit a Q&A entry", description=patch_rule() + " `[]` empties `tags`.")
async def update_entry(avatar_id: str, entry_id: str, body: EntryUpdate, ctx: Writer, session: SessionDep) -> KnowledgeEntry:
    entry = await store.update_entry(session, ctx, avatar_id=avatar_id, entry_id=entry_id, body=body)
    await session.commit()
    return entry


@router.delete(
    "/entries/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a Q&A entry",
    description="Owners, admins and editors (`avatars:write`). Removes it from the draft at once; the live version keeps its own copy until the next "
    "publish, so visitors still get its answer until then.",
)
async def delete_entry(avatar_id: str, entry_id: str, ctx: Writer, session: SessionDep) -> None:
    await store.delete_entry(session, ctx, avatar_id=avatar_id, entry_id=entry_id)
    await session.commit()


# ---- Documents ---------------------------------------------------------------------------------

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": f"The document as the raw body (text/plain or text/markdown), or as the `file` part of a "
        f"multipart/form-data upload (with optional `title` and `language` parts). At most {store.MAX_DOCUMENT_BYTES} bytes of UTF-8. "
        "The `title` and `language` parts, and the file's name (the title when no `title` is sent), must be UTF-8 text without the NUL "
        "character: anything else is a 422 naming `body.title`, `body.language` or `body.file`. Any other part is a 422 naming it.",
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string"}, "language": {"type": "string"}},
                }
            },
        },
    }
}


async def _read_limited(request: Request) -> bytes:
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > store.MAX_DOCUMENT_BYTES:
            raise PayloadTooLarge(f"A document may be at most {store.MAX_DOCUMENT_BYTES} bytes.")
    return bytes(data)


_FORM_PARTS = ("file", "title", "language")
_FILE_NAME = object()  # the file part's name in `_StrictMultiPartParser.undecodable`


def _decodes(data: bytes, charset: str) -> bool:
    try:
        data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


class _StrictMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, except that a text part or file name not valid in the body's charset (UTF-8
    unless the Content-Type says otherwise) is noted in `undecodable` (by field name, `_FILE_NAME` for the file's
    name) for the route to refuse, naming the field: Starlette reads such text as Latin-1 instead, and the mojibake
    was stored as the document's title. It reads the parser's private `_current_part` and `_charset`, as Starlette's
    own callbacks do; should a Starlette release rename them, the check is skipped (Starlette's reading stands) rather
    than failing the upload."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.undecodable: set[object] = set()

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        part, charset = getattr(self, "_current_part", None), getattr(self, "_charset", "utf-8")
        if getattr(part, "file", None) is not None:
            _, options = parse_options_header(getattr(part, "content_disposition", None) or b"")
            if not _decodes(options.get(b"filename", b""), charset):
                self.undecodable.add(_FILE_NAME)

    def on_part_end(self) -> None:
        part, charset = getattr(self, "_current_part", None), getattr(self, "_charset", "utf-8")
        data = getattr(part, "data", None)
        if part is not None and getattr(part, "file", None) is None and data is not None and not _decodes(bytes(data), charset):
            self.undecodable.add(getattr(part, "field_name", ""))
        super().on_part_end()


@contextlib.asynccontextmanager
async def _multipart_form(request: Request) -> AsyncIterator[tuple[FormData, set[object]]]:
    """The form (one file, ten fields at most) and what in it could not be decoded; its files closed on leaving.
    A malformed body answers 400, as Starlette's `request.form()` does."""
    async with contextlib.aclosing(request.stream()) as stream:
        parser = _StrictMultiPartParser(request.headers, stream, max_files=1, max_fields=10)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise BadRequest(exc.message) from None
    try:
        yield form, parser.undecodable
    finally:
        await form.close()


def _form_text(form: FormData, undecodable: set[object], name: str) -> str | None:
    """A text part, stripped (None when absent or blank); 422 naming `body.<name>` when it is not valid UTF-8
    (in the body's charset) or holds a NUL character, which no database stores (core/text.py): core/http.py's
    check reads JSON bodies only."""
    if name in undecodable:
        raise InvalidInput(f"body.{name}", "Not valid UTF-8 text.")
    value = form.get(name)
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        raise NulCharacter([f"body.{name}"])
    return value.strip() or None


async def _parse_upload(request: Request, title: str | None, language: str | None) -> tuple[str, str, str | None, str]:
    """(title, media type, language, text) from a raw or multipart upload; 415 or 413 before anything is stored."""
    content_type = request.headers.get("content-type", "")
    title_field = "query.title"  # where the title came from, for the error that names it
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        async with _multipart_form(request) as (form, undecodable):
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("body.file", "Send the document in a multipart part named 'file'.")
            for name in form:  # as a JSON body's unknown fields are refused: a misspelt 'titel' would be lost unnoticed
                if name not in _FORM_PARTS:
                    raise InvalidInput(f"body.{name}", f"Unknown part; send only {', '.join(_FORM_PARTS)}.")
            media_type = store.text_media_type(upload.content_type, upload.filename)
            if upload.size is not None and upload.size > store.MAX_DOCUMENT_BYTES:
                raise PayloadTooLarge(f"A document may be at most {store.MAX_DOCUMENT_BYTES} bytes.")
            data = await upload.read(store.MAX_DOCUMENT_BYTES + 1)
            form_title = _form_text(form, undecodable, "title")
            if form_title:
                title, title_field = form_title, "body.title"
            form_language = _form_text(form, undecodable, "language")
            if title is None:  # the file's name is the title: refused as a title part would be, naming the file part
                if _FILE_NAME in undecodable:
                    raise InvalidInput("body.file", "The file name is not valid UTF-8 text; send a 'title' part, or rename the file.")
                title, title_field = _title_from(upload.filename), "body.file"
                if title is not None and "\x00" in title:
                    raise InvalidInput("body.file", "The file name must not contain the NUL character (%00); send a 'title' part, or rename the file.")
            if form_language is not None:
                try:
                    language = _language.validate_python(form_language)
                except ValidationError as exc:
                    raise InvalidInput("body.language", exc.errors()[0]["msg"]) from None
    else:
        media_type = store.text_media_type(content_type)
        data = await _read_limited(request)
    text = store.decode_text(data)
    if title is not None and len(title) > 200:
        raise InvalidInput(title_field, "At most 200 characters.")
    if title is not None:  # shown in lists as every other name is: no control or bidirectional characters, something visible
        try:
            check_name(title)
        except ValueError as exc:
            raise InvalidInput(title_field, f"The title {str(exc)[0].lower()}{str(exc)[1:]}.") from None
    return title or "Untitled document", media_type, language, text


def _title_from(filename: str | None) -> str | None:
    if not filename:
        return None
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return (stem.rsplit(".", 1)[0] if "." in stem else stem)[:200] or None


def _document_out(document: KnowledgeDocument, detail: bool = False) -> DocumentOut:
    values = {
        "id": document.id,
        "title": document.title,
        "media_type": document.media_type,
        "language": document.language,
        "size_bytes": document.size_bytes,
        "chunk_count": len(document.chunks),
        "created_at": document.created_at,
    }
    return DocumentDetail(**values, content=document.content) if detail else DocumentOut(**values)


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentOut,
    summary="Upload a plain-text or Markdown document; it is split into searchable chunks",
    description="Owners, admins and editors (`avatars:write`). Send the text as the raw body (`text/plain` or `text/markdown`) or as the `file` part "
    "of a multipart upload: UTF-8, at most 1,000,000 bytes (413), anything else 415. It is kept whole and split at headings, paragraphs and "
    "sentences into chunks of at most 800 characters that the avatar searches; an avatar holds at most 100 documents (409) of 20,000,000 bytes in "
    "all (413), and the live version keeps its own copy until the next publish.",
    openapi_extra=_UPLOAD_BODY,
    responses={
        400: {"description": "A multipart body that cannot be read (no or a wrong boundary, more than one file): problem type `bad-request`."},
        409: {"description": f"The avatar holds {store.MAX_DOCUMENTS} documents already, the most it may (problem type `conflict`)."},
        413: {"description": "Too large"},
        415: {"description": "Not plain text or Markdown"},
    },
)
async def upload_document(
    avatar_id: str,
    request: Request,
    ctx: Writer,
    session: SessionDep,
    title: Annotated[str | None, Query(min_length=1, max_length=200, description="Default: the file name, else 'Untitled document'.")] = None,
    language: Annotated[LanguageTag | None, Query(description="The document's language (BCP 47), if it has one.")] = None,
) -> DocumentOut:
    avatar = await store.get_avatar(session, ctx, avatar_id)  # another tenant's avatar is a 404 before the body is looked at
    doc_title, media_type, doc_language, text = await _parse_upload(request, title, language)
    document = await store.add_document(session, ctx, avatar_id=avatar.id, title=doc_title, media_type=media_type, language=doc_language, text=text)
    await session.commit()
    return _document_out(document)


@router.get(
    "/documents",
    response_model=Page[DocumentOut],
    summary="List documents (without their text)",
    description="Every role (`avatars:read`). The draft's documents in the order they were uploaded, cursor-paged, each with its title, "
    "media type, language, size and number of chunks; read one document for its text.",
)
async def list_documents(avatar_id: str, ctx: Reader, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[DocumentOut]:
    avatar = await store.get_avatar(session, ctx, avatar_id)
    rows, next_cursor = await paginate(
        session,
        store.documents_query(ctx, avatar.id),
        KnowledgeDocument.id,
        cursors=services.cursors,
        scope=f"knowledge-documents:{ctx.tenant_id}:{avatar.id}",
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[_document_out(d) for d in rows], next_cursor=next_cursor)


@router.get(
    "/documents/{document_id}",
    response_model=DocumentDetail,
    summary="Read a document with its text",
    description="Every role (`avatars:read`). The text exactly as uploaded (`content`), with its title, media type, language, size and "
    "number of chunks. A document of another avatar, even in the same tenant, answers 404.",
)
async def read_document(avatar_id: str, document_id: str, ctx: Reader, session: SessionDep) -> DocumentOut:
    return _document_out(await store.get_document(session, ctx, avatar_id=avatar_id, document_id=document_id), detail=True)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document and its chunks",
    description="Owners, admins and editors (`avatars:write`). Removes the document, its text and its chunks from the draft at once; the live "
    "version keeps its own copy until the next publish, so visitors still get answers from it until then.",
)
async def delete_document(avatar_id: str, document_id: str, ctx: Writer, session: SessionDep) -> None:
    await store.delete_document(session, ctx, avatar_id=avatar_id, document_id=document_id)
    await session.commit()


# ---- Search, import, export --------------------------------------------------------------------


@router.get(
    "/search",
    response_model=SearchResults,
    summary="Search the draft's knowledge as the avatar would",
    description="Every role (`avatars:read`). Matches `q` against the draft's Q&A entries and document chunks as the avatar matches a "
    "visitor's question, unpublished changes included, and returns the best hits with a score from 0 to 1 (`limit`, 5 by default, at most 50); "
    "`language` keeps knowledge in that language or in none. `q` is required (422 on `query.q`); nothing is stored.",
)
async def search(
    avatar_id: str,
    ctx: Reader,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=1000, description="Required: what a visitor might ask.")] = None,
    language: Annotated[LanguageTag | None, Query(description="Only knowledge in this language (or in none).")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> SearchResults:
    avatar = await store.get_avatar(session, ctx, avatar_id)  # the tenant filter answers before the query is judged
    if not q or not q.strip():
        raise InvalidInput("query.q", "Give the words to search for (q is missing or empty).")
    hits = await store.search(session, ctx, avatar_id=avatar.id, query=q, language=language, limit=limit)
    return SearchResults(
        items=[SearchHit(kind=h.kind, id=h.id, document_id=h.document_id, score=round(h.score, 4), text=h.text, matched=h.matched) for h in hits]
    )


@router.get(
    "/export",
    response_model=KnowledgeExport,
    summary="Export all entries and documents as JSON",
    description="Every role (`avatars:read`). The draft's whole knowledge in one JSON document, not paged: entries and documents in the "
    "order they were added, in the form `POST …/knowledge/import` takes, to copy it to another avatar or keep a backup. Ids and chunks are left out "
    "(an import makes new ones).",
)
async def export_knowledge(avatar_id: str, ctx: Reader, session: SessionDep) -> KnowledgeExport:
    return await store.export_knowledge(session, ctx, avatar_id=avatar_id)


@router.post(
    "/import",
    response_model=ImportResult,
    summary="Import entries and documents from JSON: all or nothing",
    description="Owners, admins and editors (`avatars:write`). Takes the body `GET …/knowledge/export` gives: `mode=append` (the default) adds to "
    "the draft's knowledge, `mode=replace` deletes it first. Every entry and document is checked before anything is kept, so an error (422 naming "
    "the item, 409 past 5,000 entries or 100 documents, 413 past 20,000,000 bytes of documents) leaves the knowledge as it was. Imported items get "
    "new ids; the live version keeps its own copy until the next publish.",
    responses={
        409: {
            "description": f"The avatar would hold more than {store.MAX_ENTRIES} Q&A entries or {store.MAX_DOCUMENTS} documents "
            "(problem type `conflict`): nothing was imported."
        }
    },
)
async def import_knowledge(
    avatar_id: str,
    body: KnowledgeExport,
    ctx: Writer,
    session: SessionDep,
    mode: Annotated[Literal["append", "replace"], Query(description="append to the knowledge, or replace it.")] = "append",
) -> ImportResult:
    entries, documents = await store.import_knowledge(session, ctx, avatar_id=avatar_id, body=body, mode=mode)
    await session.commit()
    return ImportResult(mode=mode, entries=entries, documents=documents)

