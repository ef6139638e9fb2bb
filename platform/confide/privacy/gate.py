"""The purpose gate: every operation on a tenant's (processor) data names its purpose and passes here.

Not instructed: `PurposeNotInstructed` (403) is raised and the caller processes nothing.
Instructed: one entry goes to the tenant's processing log (purpose, actor, pseudonymous subject,
counts, time; never content) and the instructions in force are returned.

It runs on every chat message, so it is cheap: instructions come from a per-node cache and log
entries are buffered and written in batches (flushed every interval, on demand and on shutdown).

    from confide.privacy.gate import Purpose, authorize
    instructions = await authorize(session, tenant_id=t, purpose=Purpose.STORE_TRANSCRIPT,
                                   actor=f"visitor:{visitor_id}", subject_ref=visitor_id, counts={"messages": 1})
"""

from __future__ import annotations

import logging
import re
import weakref
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.core.clock import utcnow
from confide.core.errors import ProblemError
from confide.core.ids import new_id
from confide.privacy.instructions import Instructions, InstructionsCache, llm_provider_authorised
from confide.privacy.models import ProcessingLogEntry
from confide.privacy.processing_log import ProcessingLogWriter
from confide.privacy.subprocessors import SubprocessorRegister, register_from_settings
from confide.settings import Settings

log = logging.getLogger("confide.privacy.gate")


class Purpose(StrEnum):
    ANSWER_CHAT = "answer_chat"
    STORE_TRANSCRIPT = "store_transcript"
    EVALUATE = "evaluate"
    OPERATOR_REVIEW = "operator_review"
    EXTERNAL_LLM = "external_llm"
    EXPORT = "export"
    ERASE = "erase"


# Which instruction flag allows which purpose. Export and erasure are the tenant's own requests as
# controller (Art. 28(3)(e), (g)): the request is the instruction, so they are always allowed, and logged.
PURPOSE_FLAG: dict[Purpose, str | None] = {
    Purpose.ANSWER_CHAT: "answer_chats",
    Purpose.STORE_TRANSCRIPT: "store_transcripts",
    Purpose.EVALUATE: "evaluate",
    Purpose.OPERATOR_REVIEW: "operator_review",
    Purpose.EXTERNAL_LLM: "external_llm",
    Purpose.EXPORT: None,
    Purpose.ERASE: None,
}

SUBJECT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


class PurposeNotInstructed(ProblemError):
    status, slug, title = 403, "purpose-not-instructed", "Purpose not instructed"

    def __init__(self, purpose: Purpose, instructions: Instructions, reason: str) -> None:
        super().__init__(
            f"The tenant's processing instructions (version {instructions.version}) do not allow the purpose '{purpose.value}': {reason}",
            purpose=purpose.value,
            instructions_version=instructions.version,
        )


def refusal(instructions: Instructions, purpose: Purpose) -> str | None:
    """Why `purpose` is not instructed, or None when it is."""
    flag = PURPOSE_FLAG[purpose]
    if flag is None:
        return None
    if not instructions.allows(flag):
        return f"'{flag}' is off."
    if purpose == Purpose.EXTERNAL_LLM and not llm_provider_authorised(instructions):
        return "the configured LLM provider is not an authorised sub-processor."
    return None


def _check_reference(kind: str, value: str | None, pattern: re.Pattern[str]) -> None:
    # A guard against content slipping into the log: references are ids, never text or addresses.
    if value is not None and not pattern.match(value):
        raise ValueError(f"{kind} must be a pseudonymous id (letters, digits, _ . : -), not content")


class PurposeGate:
    def __init__(self, *, register: SubprocessorRegister, cache: InstructionsCache, writer: ProcessingLogWriter | None) -> None:
        self.register = register
        self.cache = cache
        self.writer = writer  # None: entries are added to the caller's session and commit with it

    @classmethod
    def for_app(cls, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> PurposeGate:
        register = register_from_settings(settings)
        writer = ProcessingLogWriter(sessionmaker, settings.processing_log_flush_seconds)
        return cls(register=register, cache=InstructionsCache(register, settings.instructions_cache_seconds), writer=writer)

    async def instructions(self, session: AsyncSession, tenant_id: str) -> Instructions:
        return await self.cache.get(session, tenant_id)

    async def authorize(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        purpose: Purpose,
        actor: str,
        subject_ref: str | None = None,
        counts: dict[str, int] | None = None,
    ) -> Instructions:
        self._check(actor, subject_ref, counts)
        instructions = await self.cache.get(session, tenant_id)
        entry = self._admit(instructions, tenant_id=tenant_id, purpose=purpose, actor=actor, subject_ref=subject_ref, counts=counts)
        if self.writer is not None:
            self.writer.record(entry)
        else:
            session.add(ProcessingLogEntry(**entry))
        return instructions

    async def authorize_chat(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        tenant_id: str,
        purpose: Purpose,
        actor: str,
        subject_ref: str | None = None,
    ) -> Instructions:
        """authorize() for the chat's hot path, which holds no session: one is opened only when the
        instructions are not cached (or entries are not buffered), so a cached answer costs no
        session set-up and no yield to the event loop (closing a session schedules a task)."""
        self._check(actor, subject_ref, None)
        instructions = self.cache.fresh(tenant_id)
        if instructions is None or self.writer is None:
            async with sessionmaker() as session:
                instructions = await self.authorize(session, tenant_id=tenant_id, purpose=purpose, actor=actor, subject_ref=subject_ref)
                await session.commit()
            return instructions
        self.writer.record(self._admit(instructions, tenant_id=tenant_id, purpose=purpose, actor=actor, subject_ref=subject_ref, counts=None))
        return instructions

    async def allows(self, sessionmaker: async_sessionmaker[AsyncSession], *, tenant_id: str, purpose: Purpose) -> bool:
        """Whether the instructions allow `purpose` now, with no processing-log entry: for deciding whether to show
        what another, logged, step processed (an operator's queue update). No session while they are cached."""
        instructions = self.cache.fresh(tenant_id)
        if instructions is None:
            async with sessionmaker() as session:
                instructions = await self.cache.get(session, tenant_id)
        return refusal(instructions, purpose) is None

    @staticmethod
    def _check(actor: str, subject_ref: str | None, counts: dict[str, int] | None) -> None:
        _check_reference("actor", actor, ACTOR)
        _check_reference("subject_ref", subject_ref, SUBJECT_REF)
        if counts and not all(isinstance(k, str) and len(k) <= 40 and isinstance(v, int) for k, v in counts.items()):
            raise ValueError("counts maps short names to integers")

    @staticmethod
    def _admit(
        instructions: Instructions, *, tenant_id: str, purpose: Purpose, actor: str, subject_ref: str | None, counts: dict[str, int] | None
    ) -> dict[str, Any]:
        """The processing-log entry of an instructed purpose; PurposeNotInstructed otherwise."""
        purpose = Purpose(purpose)
        reason = refusal(instructions, purpose)
        if reason is not None:
            raise PurposeNotInstructed(purpose, instructions, reason)
        return {
            "id": new_id("plg"),
            "tenant_id": tenant_id,
            "at": utcnow(),
            "purpose": purpose.value,
            "actor": actor,
            "subject_ref": subject_ref,
            "counts": dict(counts or {}),
            "instructions_version": instructions.version,
        }

    def invalidate(self, tenant_id: str) -> None:
        """Call after committing new instructions, so this node applies them at once."""
        self.cache.invalidate(tenant_id)

    async def flush(self) -> int:
        return await self.writer.flush() if self.writer else 0

    def start(self) -> None:
        if self.writer:
            self.writer.start()

    async def stop(self) -> None:
        if self.writer:
            await self.writer.stop()


# The gate of each running app, by engine, so `authorize(session, …)` finds it from any session the
# app's sessionmaker made: in a route, a websocket frame or a background job alike.
_GATES: weakref.WeakKeyDictionary[Any, PurposeGate] = weakref.WeakKeyDictionary()
_FALLBACK: dict[str, PurposeGate] = {}


def register_gate(engine: Any, gate: PurposeGate) -> None:
    _GATES[engine.sync_engine] = gate


def gate_for(session: AsyncSession) -> PurposeGate:
    """The gate of the app that owns the session's engine; elsewhere (scripts, a bare session) an
    unbuffered gate that writes log entries into the caller's session, to commit with its work."""
    bind = session.bind
    gate = _GATES.get(getattr(bind, "sync_engine", None)) if bind is not None else None
    if gate is not None:
        return gate
    if "default" not in _FALLBACK:
        register = register_from_settings(Settings())
        _FALLBACK["default"] = PurposeGate(register=register, cache=InstructionsCache(register, 0), writer=None)
    return _FALLBACK["default"]


async def authorize(
    session: AsyncSession,
    *,
    tenant_id: str,
    purpose: Purpose,
    actor: str,
    subject_ref: str | None = None,
    counts: dict[str, int] | None = None,
) -> Instructions:
    """The one gate for processor data. Raises PurposeNotInstructed, else logs and returns the instructions."""
    return await gate_for(session).authorize(session, tenant_id=tenant_id, purpose=purpose, actor=actor, subject_ref=subject_ref, counts=counts)


def get_gate(request: Request) -> PurposeGate:
    return request.app.state.purpose_gate


PurposeGateDep = Annotated[PurposeGate, Depends(get_gate)]
