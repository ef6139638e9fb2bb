"""Response bodies of the chat routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from confide.core.schemas import ResponseBody


class CustomerTokenSecretOut(ResponseBody):
    id: str
    secret: str = Field(description="Sign customer tokens (HS256 JWT with `sub` = your customer id and `exp`) with it. Shown only now.")
    created_at: datetime


class MessageOut(ResponseBody):
    id: str
    seq: int | None = Field(description="Position in the conversation; null for private notes.")
    kind: str = Field(description="message, event or note (notes are for staff only).")
    author: str
    event: str | None
    text: str
    redacted: bool
    verdict: dict[str, Any] | None = Field(description="Guideline rules that fired, handoff reason or rating.")
    created_at: datetime


class TranscriptOut(ResponseBody):
    conversation_id: str
    status: str
    avatar_id: str
    avatar_version_id: str | None
    language: str
    handoff_reason: str | None
    messages: list[MessageOut]
