"""The frozen form of an avatar: what a published version stores and what a chat (or the preview)
runs on. Plain data, read from the version row's JSON, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avatars.models import AvatarVersion
from avatars.responders.knowledge import Chunk, KnowledgeIndex, QAEntry


def build_knowledge_index(knowledge: dict[str, Any], *, default_language: str | None) -> KnowledgeIndex:
    """The search index over a snapshot's entries and stored chunks (chunk ids `<document id>:<position>`)."""
    entries = [
        QAEntry(id=e["id"], questions=tuple(e["questions"]), answer=e["answer"], language=e["language"], tags=tuple(e["tags"]))
        for e in knowledge.get("entries", [])
    ]
    chunks = [
        Chunk(id=f"{d['id']}:{position}", document_id=d["id"], text=text, title=d["title"], language=d["language"], position=position)
        for d in knowledge.get("documents", [])
        for position, text in enumerate(d["chunks"])
    ]
    return KnowledgeIndex.build(entries, chunks, language=default_language)


@dataclass(frozen=True, slots=True)
class GuidelineRef:
    """The guideline set version an avatar version pinned; `version_key` keys compiled-guideline caches."""

    set_id: str
    name: str
    version: int
    version_key: str
    spec: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AvatarSnapshot:
    tenant_id: str
    avatar_id: str
    version_id: str | None  # None for the unpublished draft (preview)
    version: int | None
    name: str
    persona: dict[str, Any]  # role_description, tone_notes
    appearance: dict[str, Any]  # image_url, asset_ref, accent_color
    voice_id: str | None
    languages: tuple[str, ...]
    default_language: str
    messages: dict[str, dict[str, str]]  # language -> {greeting, fallback}
    responder: dict[str, Any]  # engine, model, temperature, max_tokens
    guideline: GuidelineRef | None
    knowledge: dict[str, Any] = field(default_factory=dict)  # {"entries": [...], "documents": [...]}

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any], *, tenant_id: str, avatar_id: str, version_id: str | None, version: int | None) -> AvatarSnapshot:
        config = snapshot["avatar"]
        guideline = snapshot.get("guideline")
        return cls(
            tenant_id=tenant_id,
            avatar_id=avatar_id,
            version_id=version_id,
            version=version,
            name=config["name"],
            persona=dict(config["persona"]),
            appearance=dict(config["appearance"]),
            voice_id=config.get("voice_id"),
            languages=tuple(config["languages"]),
            default_language=config["default_language"],
            messages={k: dict(v) for k, v in config["messages"].items()},
            responder=dict(config["responder"]),
            guideline=GuidelineRef(**{k: guideline[k] for k in ("set_id", "name", "version", "version_key", "spec")}) if guideline else None,
            knowledge=snapshot.get("knowledge") or {"entries": [], "documents": []},
        )

    @classmethod
    def from_version(cls, row: AvatarVersion) -> AvatarSnapshot:
        return cls.from_snapshot(row.snapshot, tenant_id=row.tenant_id, avatar_id=row.avatar_id, version_id=row.id, version=row.version)

    def pick_language(self, requested: str | None) -> str:
        """The requested language if the avatar speaks it (exactly or by its primary subtag), else the default."""
        if requested:
            if requested in self.languages:
                return requested
            primary = requested.split("-")[0].lower()
            for language in self.languages:
                if language.split("-")[0].lower() == primary:
                    return language
        return self.default_language

    def knowledge_index(self) -> KnowledgeIndex:
        return build_knowledge_index(self.knowledge, default_language=self.default_language)

    def messages_for(self, language: str) -> dict[str, str]:
        """Greeting and fallback in `language`, or the default language's where it has none."""
        return self.messages.get(language) or self.messages[self.default_language]
