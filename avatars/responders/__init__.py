"""Avatar responders: one interface that streams a reply, a built-in knowledge responder and an
OpenAI-compatible one."""

from avatars.responders.base import (
    Author,
    Engine,
    ErrorCategory,
    Persona,
    Reply,
    ReplyOutcome,
    ReplyRequest,
    Responder,
    ResponderSettings,
    Turn,
)
from avatars.responders.knowledge import (
    Chunk,
    Document,
    Hit,
    KnowledgeIndex,
    QAEntry,
    chunk_body,
    chunk_document,
    split_document,
)

__all__ = [
    "Author",
    "Chunk",
    "Document",
    "Engine",
    "ErrorCategory",
    "Hit",
    "KnowledgeIndex",
    "Persona",
    "QAEntry",
    "Reply",
    "ReplyOutcome",
    "ReplyRequest",
    "Responder",
    "ResponderSettings",
    "Turn",
    "chunk_body",
    "chunk_document",
    "split_document",
]
