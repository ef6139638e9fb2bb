"""Request and response bodies of the avatar, version, widget, knowledge and preview routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, HttpUrl, StringConstraints

from confide.core.patching import not_clearable
from confide.core.schemas import LongName, RequestBody, ResponseBody
from confide.core.text import check_name
from guidelines.rules import LanguageTag

MAX_LANGUAGES = 20
MAX_ORIGINS = 20
AvatarStatus = Literal["draft", "published", "archived"]
Engine = Literal["builtin", "openai"]


def web_origin(value: str) -> str:
    """An origin a browser sends: https://host[:port], or http://localhost:port for development."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError("not an origin: use https://host[:port]") from exc
    host = (parts.hostname or "").lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password or value.endswith("?"):
        raise ValueError("an origin has no path, query, fragment or credentials: use https://host[:port]")
    if not re.fullmatch(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", host):
        raise ValueError("the host is not a valid host name")
    if parts.scheme == "https":
        return f"https://{host}" + (f":{port}" if port and port != 443 else "")
    if parts.scheme == "http" and host == "localhost" and port:
        return f"http://localhost:{port}"
    raise ValueError("only https origins are allowed (http only for http://localhost:port)")


def _https(url: HttpUrl) -> HttpUrl:
    if url.scheme != "https":
        raise ValueError("use an https URL, so the widget shows it on https sites")
    return url


Origin = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(web_origin)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(check_name)]


def _unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("contains duplicates")
    return values


# ---- Avatars -----------------------------------------------------------------------------------


class Persona(RequestBody):
    role_description: str = Field(min_length=1, max_length=4000, description="Who the avatar is and what it is for.")
    tone_notes: str = Field(default="", max_length=4000, description="How it speaks: e.g. warm, concise, formal address.")


class Appearance(RequestBody):
    image_url: Annotated[HttpUrl, AfterValidator(_https)] | None = Field(default=None, description="An https URL of the avatar's picture.")
    asset_ref: str | None = Field(default=None, max_length=200, description="Or a reference to an uploaded asset.")
    accent_color: str = Field(default="#3b5bdb", pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")


class LanguageMessages(RequestBody):
    greeting: str = Field(min_length=1, max_length=2000)
    fallback: str = Field(min_length=1, max_length=2000, description="Said when the avatar has no answer.")


class ResponderConfig(RequestBody):
    engine: Engine = "builtin"
    model: str = Field(default="", max_length=100, description="LLM model for engine openai; empty: the deployment's default.")
    temperature: float = Field(default=0.3, ge=0, le=2)
    max_tokens: int = Field(default=400, ge=1, le=8192)


Languages = Annotated[list[LanguageTag], Field(min_length=1, max_length=MAX_LANGUAGES), AfterValidator(_unique)]
Messages = Annotated[dict[LanguageTag, LanguageMessages], Field(min_length=1, max_length=MAX_LANGUAGES)]


class AvatarCreate(RequestBody):
    name: ShortText
    persona: Persona
    appearance: Appearance = Field(default_factory=Appearance)
    voice_id: str | None = Field(default=None, max_length=100)
    languages: Languages = Field(description="BCP 47 tags, e.g. [\"de\", \"en\"].")
    default_language: LanguageTag = Field(description="Must be one of `languages`.")
    messages: Messages = Field(description="Greeting and fallback per language; required for the default language.")
    responder: ResponderConfig = Field(default_factory=ResponderConfig)
    guideline_set_id: str | None = Field(default=None, max_length=64, description="A guideline set of this tenant; required to publish.")


class AvatarUpdate(RequestBody):
    """Only the fields sent change; nested objects are replaced whole. Null clears voice_id and guideline_set_id."""

    name: ShortText = None  # type: ignore[assignment]
    persona: Persona = None  # type: ignore[assignment]
    appearance: Appearance = None  # type: ignore[assignment]
    voice_id: str | None = Field(default=None, max_length=100)
    languages: Languages = None  # type: ignore[assignment]
    default_language: LanguageTag = None  # type: ignore[assignment]
    messages: Messages = None  # type: ignore[assignment]
    responder: ResponderConfig = None  # type: ignore[assignment]
    guideline_set_id: str | None = Field(default=None, max_length=64)

    _required = not_clearable("name", "persona", "appearance", "languages", "default_language", "messages", "responder")


class WidgetOut(ResponseBody):
    key: str = Field(description="The public widget key; it works only while the avatar is published.")
    allowed_origins: list[str]


class AvatarOut(ResponseBody):
    id: str
    name: str
    status: AvatarStatus
    persona: Persona
    appearance: Appearance
    voice_id: str | None
    languages: list[str]
    default_language: str
    messages: dict[str, LanguageMessages]
    responder: ResponderConfig
    guideline_set_id: str | None
    widget: WidgetOut
    live_version: int | None = Field(description="The published version visitors talk to; null before the first publish.")
    has_unpublished_changes: bool = Field(description="The draft differs from the live version.")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    archived_at: datetime | None


class WidgetUpdate(RequestBody):
    allowed_origins: Annotated[list[Origin], Field(max_length=MAX_ORIGINS), AfterValidator(_unique)] = Field(
        description="Sites that may embed the widget: https://host[:port], or http://localhost:port for development."
    )


class AvatarVersionOut(ResponseBody):
    id: str
    version: int
    guideline_version_id: str | None
    published_by: str | None = Field(description="The user or API key that published it.")
    created_at: datetime
    live: bool


class AvatarVersionDetail(AvatarVersionOut):
    snapshot: dict[str, Any]


# ---- Knowledge ---------------------------------------------------------------------------------

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]


class EntryCreate(RequestBody):
    questions: Annotated[list[Question], Field(min_length=1, max_length=50)] = Field(description="Ways a visitor may ask it.")
    answer: str = Field(min_length=1, max_length=20_000)
    language: LanguageTag
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)


class EntryUpdate(RequestBody):
    """Only the fields sent change; none can be cleared (tags are emptied with [], not null)."""

    questions: Annotated[list[Question], Field(min_length=1, max_length=50)] = None  # type: ignore[assignment]
    answer: str = Field(default=None, min_length=1, max_length=20_000)  # type: ignore[assignment]
    language: LanguageTag = None  # type: ignore[assignment]
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default=None, description="[] for none.")  # type: ignore[assignment]

    _required = not_clearable("questions", "answer", "language", "tags")


class EntryOut(ResponseBody):
    id: str
    questions: list[str]
    answer: str
    language: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class DocumentOut(ResponseBody):
    id: str
    title: str
    media_type: str
    language: str | None
    size_bytes: int
    chunk_count: int
    created_at: datetime


class DocumentDetail(DocumentOut):
    content: str


class DocumentImport(RequestBody):
    title: LongName
    media_type: Literal["text/plain", "text/markdown"] = "text/plain"
    language: LanguageTag | None = None
    content: Annotated[str, StringConstraints(strip_whitespace=False, min_length=1)] = Field(description="The text, kept exactly as written.")


class KnowledgeExport(RequestBody):
    """The whole knowledge of an avatar; what export gives, import takes."""

    format: Literal["confide.knowledge/1"] = "confide.knowledge/1"
    entries: Annotated[list[EntryCreate], Field(max_length=5000)] = Field(default_factory=list)
    documents: Annotated[list[DocumentImport], Field(max_length=100)] = Field(default_factory=list)


class ImportResult(ResponseBody):
    mode: Literal["append", "replace"]
    entries: int
    documents: int


class SearchHit(ResponseBody):
    kind: Literal["qa", "chunk"]
    id: str = Field(description="The Q&A entry id, or the chunk id (`<document id>:<position>`).")
    document_id: str | None = None
    score: float = Field(description="0..1; 1 means every word of the query matched.")
    text: str = Field(description="The answer of an entry, or the chunk's text.")
    matched: str = Field(description="The question variant that matched best, or the document's title.")


class SearchResults(ResponseBody):
    items: list[SearchHit]


# ---- Preview -----------------------------------------------------------------------------------


class PreviewRequest(RequestBody):
    message: str = Field(min_length=1, max_length=4000)
    language: LanguageTag | None = Field(default=None, description="Default: the avatar's default language.")


class PreviewOut(ResponseBody):
    reply: str = Field(description="What the draft avatar would answer, after the output guard.")
    language: str
    engine: Engine
    blocked: bool = Field(description="The input verdict stopped the message before the responder.")
    disclosure: str | None = Field(description="The AI disclosure the avatar says at the start of a conversation.")
    input_verdict: dict[str, Any] | None
    output_verdict: dict[str, Any] | None
    outcome: dict[str, Any] = Field(
        description="How the reply came about: fallback used, human offered, knowledge used, error. An `openai` avatar answers "
        "from its knowledge, as in a chat, with `error` `not_instructed` while the tenant's processing instructions do not "
        "authorise the LLM provider and the `external_llm` purpose, and `not_configured` when the server has no LLM endpoint. "
        "Where they do, the message reaches the LLM as a chat's would (PII redacted first if `redact_pii_before_llm`), and "
        "the processing log records it."
    )
