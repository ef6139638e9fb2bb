"""Avatars, their published versions and their knowledge.

The avatar row is the editable draft; publishing freezes the draft, the guideline set version it
follows and its knowledge into an immutable `AvatarVersion` snapshot, and `live_version` says which
snapshot visitors talk to. Knowledge is the tenant's business content, not personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Holder, classify
from confide.core.clock import utcnow
from confide.core.identity import fk, utc_field

_TENANT_CONTENT = dict(
    holder=Holder.NONE,
    legal_basis="Art. 6(1)(b) GDPR (the tenant's contract)",
    retention="Until the tenant deletes it or the contract ends",
)


class Avatar(SQLModel, table=True):
    __tablename__ = "avatar"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    name: str = Field(max_length=100)
    status: str = Field(default="draft", max_length=20, index=True)
    persona: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    appearance: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    voice_id: str | None = Field(default=None, max_length=100)
    languages: list[str] = Field(sa_column=Column(JSON, nullable=False))
    language_tags: str = Field(max_length=1000, description="',en,de-CH,': the languages again, for a portable LIKE filter")
    default_language: str = Field(max_length=35)
    messages: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    responder: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    guideline_set_id: str | None = fk("guideline_set.id", ondelete="SET NULL", nullable=True)
    widget_key: str = Field(unique=True, max_length=64)
    allowed_origins: list[str] = Field(sa_column=Column(JSON, nullable=False))
    live_version: int | None = Field(default=None)
    has_unpublished_changes: bool = Field(default=True)
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)
    published_at: datetime | None = utc_field(nullable=True)
    archived_at: datetime | None = utc_field(nullable=True)

    def mark_changed(self) -> None:
        """The draft now differs from the live version (edits of the avatar and of its knowledge)."""
        self.has_unpublished_changes = True
        self.updated_at = utcnow()


classify(
    Avatar,
    **_TENANT_CONTENT,
    purpose="The tenant's avatars: persona, appearance, languages, responder settings, widget key",
    not_personal=(
        "name",
        "persona",
        "appearance",
        "languages",
        "language_tags",
        "default_language",
        "messages",
        "responder",
        "widget_key",
        "allowed_origins",
        "live_version",
        "has_unpublished_changes",
    ),
)


class AvatarVersion(SQLModel, table=True):
    """An immutable published state: everything a conversation needs, in one row."""

    __tablename__ = "avatar_version"
    __table_args__ = (UniqueConstraint("avatar_id", "version"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    avatar_id: str = fk("avatar.id")
    version: int
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    guideline_version_id: str | None = fk("guideline_set_version.id", ondelete="SET NULL", nullable=True, index=False)
    published_by_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    published_by_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = utc_field(default_now=True)


classify(
    AvatarVersion,
    **_TENANT_CONTENT,
    purpose="Published avatar versions, so each conversation can name the exact avatar it ran on",
    not_personal=("snapshot",),
)


class KnowledgeEntry(SQLModel, table=True):
    """A question-and-answer pair: several phrasings of a question, one answer."""

    __tablename__ = "knowledge_entry"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    avatar_id: str = fk("avatar.id")
    questions: list[str] = Field(sa_column=Column(JSON, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=35)
    tags: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    KnowledgeEntry,
    **_TENANT_CONTENT,
    purpose="The tenant's Q&A knowledge its avatars answer from",
    not_personal=("questions", "answer", "language", "tags"),
)


class KnowledgeDocument(SQLModel, table=True):
    """An uploaded text or Markdown document, kept whole (for export) and split into chunks (for search)."""

    __tablename__ = "knowledge_document"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    avatar_id: str = fk("avatar.id")
    title: str = Field(max_length=200)
    media_type: str = Field(max_length=50)
    language: str | None = Field(default=None, max_length=35)
    content: str = Field(sa_column=Column(Text, nullable=False))
    chunks: list[str] = Field(sa_column=Column(JSON, nullable=False))
    size_bytes: int
    created_at: datetime = utc_field(default_now=True)


classify(
    KnowledgeDocument,
    **_TENANT_CONTENT,
    purpose="The tenant's documents its avatars answer from",
    not_personal=("title", "media_type", "language", "content", "chunks", "size_bytes"),
)
