"""An avatar ready to answer: its snapshot with the compiled guidelines and the knowledge index built,
the reply request for a message, and the preview of the draft (the same steps a chat takes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from avatars import service
from avatars.responders import KnowledgeIndex, Persona, ReplyRequest, ResponderSettings, Turn
from avatars.responders.openai_responder import OpenAIConfig
from avatars.responders.registry import Responders
from avatars.schemas import PreviewOut
from avatars.snapshot import AvatarSnapshot
from confide.core.tenancy import TenantContext
from confide.privacy.gate import Purpose, PurposeGate, PurposeNotInstructed
from confide.privacy.instructions import llm_provider_authorised
from confide.settings import Settings
from guidelines.checker import CompiledGuidelines, Verdict
from guidelines.pii import detect_pii, redact
from guidelines.service import compiled

@dataclass(frozen=True, slots=True)
class AvatarRuntime:
    snapshot: AvatarSnapshot
    guidelines: CompiledGuidelines | None
    knowledge: KnowledgeIndex

    @classmethod
    def build(cls, snapshot: AvatarSnapshot) -> AvatarRuntime:
        ref = snapshot.guideline
        return cls(snapshot, compiled(ref.version_key, ref.spec) if ref else None, snapshot.knowledge_index())

    def disclosure(self, language: str) -> str:
        return self.guidelines.disclosure(language) if self.guidelines else ""

    def reply_request(self, message: str, *, language: str, history: Sequence[Turn] = ()) -> ReplyRequest:
        """What a responder needs for one (already checked and redacted) visitor message."""
        snapshot = self.snapshot
        texts = snapshot.messages_for(language)
        responder = snapshot.responder
        return ReplyRequest(
            persona=Persona(name=snapshot.name, role=snapshot.persona.get("role_description", ""), tone=snapshot.persona.get("tone_notes", "")),
            language=language,
            greeting=texts["greeting"],
            fallback=texts["fallback"],
            message=message,
            knowledge=self.knowledge,
            history=tuple(history),
            style=tuple(self.guidelines.style_instructions()) if self.guidelines else (),
            disclosure=self.disclosure(language),
            settings=ResponderSettings(
                engine=responder.get("engine", "builtin"),
                model=responder.get("model", ""),
                temperature=float(responder.get("temperature", 0.3)),
                max_tokens=int(responder.get("max_tokens", 400)),
            ),
        )


def openai_config(settings: Settings) -> OpenAIConfig | None:
    """The deployment's LLM endpoint, with what a reply may ask of it (its models, its token cap); None without one."""
    if not settings.openai_base_url:
        return None
    return OpenAIConfig(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key or "unused",
        default_model=settings.openai_model,
        models=settings.openai_models,
        max_tokens_cap=settings.openai_max_tokens,
    )


def responders_of(app: FastAPI, settings: Settings) -> Responders:
    """The app's responders (one pooled LLM client per endpoint): the chat runtime's, which the lifespan
    builds and closes; failing that, one built on first use and kept on the app."""
    responders = getattr(app.state, "responders", None) or getattr(getattr(app.state, "chat", None), "responders", None)
    if responders is None:
        responders = app.state.responders = Responders(openai_config(settings))
    return responders


async def may_use_llm(session: AsyncSession, ctx: TenantContext, gate: PurposeGate) -> tuple[bool, bool, str | None]:
    """Whether the tenant's instructions let this preview reach the external LLM (the provider authorised as a
    sub-processor and the purpose instructed, as for a chat; logged when they do), whether its text is
    redacted first, and else why not (`not_configured`: the server has no LLM endpoint; `not_instructed`)."""
    instructions = await gate.instructions(session, ctx.tenant_id)
    if gate.register.llm_provider is None:
        return False, False, "not_configured"
    if not llm_provider_authorised(instructions):
        return False, False, "not_instructed"
    try:
        await gate.authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.EXTERNAL_LLM, actor=ctx.actor)
    except PurposeNotInstructed:
        return False, False, "not_instructed"
    return True, instructions.redact_pii_before_llm, None


async def preview(
    session: AsyncSession, ctx: TenantContext, *, responders: Responders, gate: PurposeGate, avatar_id: str, message: str, language: str | None
) -> PreviewOut:
    """Answer one message with the draft as the chat would: input check, responder (the LLM only where the
    tenant's instructions allow it, with PII redacted first where they say so), streamed output guard."""
    avatar = await service.get_avatar(session, ctx, avatar_id)
    data, _ = await service.draft_snapshot(session, ctx, avatar)
    snapshot = AvatarSnapshot.from_snapshot(data, tenant_id=ctx.tenant_id, avatar_id=avatar.id, version_id=None, version=None)
    runtime = AvatarRuntime.build(snapshot)
    spoken = snapshot.pick_language(language)
    engine = snapshot.responder.get("engine", "builtin")
    guidelines = runtime.guidelines

    input_verdict: Verdict | None = None
    if guidelines is not None:
        input_verdict = await anyio.to_thread.run_sync(guidelines.check_input, message, spoken)
        if input_verdict.blocks:
            return PreviewOut(
                reply=input_verdict.message or "",
                language=spoken,
                engine=engine,
                blocked=True,
                disclosure=runtime.disclosure(spoken) or None,
                input_verdict=input_verdict.as_dict(),
                output_verdict=None,
                outcome={"engine": engine, "answered": False},
            )
        message = input_verdict.passed_on(message)

    external, scrub, refused = await may_use_llm(session, ctx, gate) if engine == "openai" else (False, False, None)
    if scrub:
        message = redact(message, detect_pii(message, spoken))
    reply = responders.stream(runtime.reply_request(message, language=spoken), external_llm=external)
    if refused is not None:
        reply.outcome.error = refused  # answered from the knowledge, as a chat would be
    guard = guidelines.output_guard(spoken) if guidelines is not None else None
    sent: list[str] = []
    try:
        async for delta in reply:
            if guard is None:
                sent.append(delta)
                continue
            sent.extend(guard.feed(delta))
            if guard.stopped:
                break
    finally:
        await reply.aclose()
    output_verdict: Verdict | None = None
    if guard is not None:
        released, output_verdict = guard.finish()
        sent.extend(released)
        if output_verdict.blocks and output_verdict.message:
            sent.append(("\n\n" if sent else "") + output_verdict.message)
    return PreviewOut(
        reply="".join(sent),
        language=spoken,
        engine=engine,
        blocked=False,
        disclosure=runtime.disclosure(spoken) or None,
        input_verdict=input_verdict.as_dict() if input_verdict else None,
        output_verdict=output_verdict.as_dict() if output_verdict else None,
        outcome=_outcome(reply.outcome),
    )


def _outcome(outcome: Any) -> dict[str, Any]:
    return {
        "engine": outcome.engine,
        "answered": True,
        "fallback_used": outcome.fallback_used,
        "offered_human": outcome.offered_human,
        "greeting": outcome.greeting,
        "knowledge_ids": list(outcome.knowledge_ids),
        "error": outcome.error,
    }
