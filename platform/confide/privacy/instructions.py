"""Tenants' processing instructions (Art. 28(3)(a) GDPR): versioned, append-only, with author and time.

A tenant without a stored version runs on the defaults, reported as version 0, so nothing has to be
written when a tenant is created. Changes never update a row: each one adds version n + 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.errors import Conflict, InvalidInput
from confide.core.ids import new_id
from confide.core.tenancy import TenantContext
from confide.privacy.models import ProcessingInstructions
from confide.privacy.subprocessors import LLM, SubprocessorRegister

DEFAULT_RETENTION_DAYS = 30
PURPOSE_FLAGS = ("answer_chats", "store_transcripts", "evaluate", "operator_review", "external_llm")


class ContradictoryInstructions(InvalidInput):
    """Instructions that cannot all be followed at once; `field` names the one to change."""

    slug, title = "contradictory-instructions", "Contradictory processing instructions"


@dataclass(frozen=True, slots=True)
class Instructions:
    """The instructions in force for one tenant. `version` 0 means the defaults (nothing stored yet)."""

    tenant_id: str
    version: int
    answer_chats: bool
    store_transcripts: bool
    evaluate: bool
    operator_review: bool
    external_llm: bool
    redact_pii_before_llm: bool
    retention_days: int
    subprocessors: tuple[str, ...]
    # The register's entry for OPENAI_BASE_URL when resolved; None also when the tenant authorised `llm` while
    # another provider stood behind it (`llm_provider_changed`): that authorisation does not carry over.
    llm_provider_id: str | None = field(default=None, compare=False)
    llm_provider: dict[str, str] | None = field(default=None, compare=False)  # the LLM entry as authorised ({} if not)
    llm_provider_changed: bool = field(default=False, compare=False)
    author_user_id: str | None = None
    author_api_key_id: str | None = None
    created_at: datetime | None = None

    def allows(self, flag: str) -> bool:
        return bool(getattr(self, flag))


def llm_provider_authorised(instructions: Instructions) -> bool:
    """True when the tenant authorised the configured LLM provider as a sub-processor, as it stands now (a
    change of provider since needs a new authorisation). The openai responder refuses to run otherwise (and
    the gate refuses Purpose.EXTERNAL_LLM)."""
    return instructions.llm_provider_id is not None and instructions.llm_provider_id in instructions.subprocessors


def default_instructions(tenant_id: str, register: SubprocessorRegister) -> Instructions:
    """Transcripts stored for 30 days, evaluation and operator review on, PII redacted, no external LLM."""
    return Instructions(
        tenant_id=tenant_id,
        version=0,
        answer_chats=True,
        store_transcripts=True,
        evaluate=True,
        operator_review=True,
        external_llm=False,
        redact_pii_before_llm=True,
        retention_days=DEFAULT_RETENTION_DAYS,
        subprocessors=register.required_ids,
        llm_provider_id=_llm_id(register),
    )


def _llm_id(register: SubprocessorRegister) -> str | None:
    provider = register.llm_provider
    return provider.id if provider else None


def _authorised_llm_id(register: SubprocessorRegister) -> str:
    """The id a tenant names to authorise the LLM provider: the register's entry of kind `llm` (which
    CONFIDE_SUBPROCESSORS_JSON may name otherwise), or `llm` while no provider is configured."""
    return _llm_id(register) or LLM


def provider_record(register: SubprocessorRegister) -> dict[str, str]:
    """What a tenant authorises when it authorises `llm`: the provider as the register describes it now."""
    provider = register.llm_provider
    if provider is None:
        return {}
    return {"name": provider.name, "location": provider.location, "transfer_safeguard": provider.transfer_safeguard}


def recorded_provider(subprocessors: tuple[str, ...] | list[str], register: SubprocessorRegister, *, kept: dict[str, str] | None = None) -> dict[str, str]:
    """The LLM entry a version records: {} without `llm` among its sub-processors; else the one it keeps
    from the version before (a change that did not name the sub-processors again), or the current one."""
    if _authorised_llm_id(register) not in subprocessors:
        return {}
    return kept if kept is not None else provider_record(register)  # {} kept: authorised with no provider known, confirmed for none


def from_row(row: ProcessingInstructions, register: SubprocessorRegister) -> Instructions:
    llm_id = _llm_id(register)
    recorded = row.llm_provider
    # {} recorded with `llm` authorised: no provider was configured then, so any configured later is a change.
    changed = recorded is not None and _authorised_llm_id(register) in row.subprocessors and recorded != provider_record(register)
    return Instructions(
        tenant_id=row.tenant_id,
        version=row.version,
        answer_chats=row.answer_chats,
        store_transcripts=row.store_transcripts,
        evaluate=row.evaluate,
        operator_review=row.operator_review,
        external_llm=row.external_llm,
        redact_pii_before_llm=row.redact_pii_before_llm,
        retention_days=row.retention_days,
        subprocessors=tuple(row.subprocessors),
        llm_provider_id=None if changed else llm_id,
        llm_provider=recorded,
        llm_provider_changed=changed,
        author_user_id=row.author_user_id,
        author_api_key_id=row.author_api_key_id,
        created_at=row.created_at,
    )


async def current_instructions(session: AsyncSession, *, tenant_id: str, register: SubprocessorRegister) -> Instructions:
    """The latest stored version, or the defaults. One indexed query; the gate caches the answer."""
    row = await session.scalar(
        select(ProcessingInstructions)
        .where(ProcessingInstructions.tenant_id == tenant_id)
        .order_by(ProcessingInstructions.version.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    return from_row(row, register) if row is not None else default_instructions(tenant_id, register)


def check_consistent(instructions: Instructions, register: SubprocessorRegister) -> None:
    """Refuse instructions that contradict themselves or the register, saying why."""
    unknown = register.unknown(instructions.subprocessors)
    if unknown:
        known = ", ".join(e.id for e in register.entries)
        raise InvalidInput("body.authorised_subprocessors", f"Unknown sub-processor(s): {', '.join(unknown)}. The register lists: {known}.")
    missing = [i for i in register.required_ids if i not in instructions.subprocessors]
    if missing:
        raise ContradictoryInstructions(
            "body.authorised_subprocessors",
            f"{', '.join(missing)} deliver(s) the service itself and cannot be left out; "
            "without them nothing can be processed (end the contract instead).",
        )
    if instructions.external_llm:
        provider = register.llm_provider
        if provider is None:
            raise ContradictoryInstructions(
                "body.purposes.external_llm", "external_llm is allowed, but this platform has no external LLM provider configured."
            )
        if provider.id not in instructions.subprocessors:
            raise ContradictoryInstructions(
                "body.purposes.external_llm",
                f"external_llm is allowed, but the LLM provider '{provider.id}' ({provider.name}) is not among authorised_subprocessors. "
                f"Authorise it, or keep external_llm off.",
            )


def apply_change(current: Instructions, change: dict[str, Any]) -> Instructions:
    """The next version: the current one with the given fields replaced (omitted or null fields are kept)."""
    values: dict[str, Any] = {}
    for name, value in (change.get("purposes") or {}).items():
        if value is not None:
            values[name] = value
    for name in ("redact_pii_before_llm", "retention_days"):
        if change.get(name) is not None:
            values[name] = change[name]
    if change.get("authorised_subprocessors") is not None:
        values["subprocessors"] = tuple(dict.fromkeys(change["authorised_subprocessors"]))
    return replace(current, **values)


async def add_version(
    session: AsyncSession, ctx: TenantContext, *, change: dict[str, Any], register: SubprocessorRegister
) -> Instructions:
    """Store version n + 1. Two concurrent changes cannot both win: the (tenant, version) key refuses one."""
    current = await current_instructions(session, tenant_id=ctx.tenant_id, register=register)
    proposed = apply_change(current, change)
    check_consistent(proposed, register)
    principal = ctx.principal
    row = ProcessingInstructions(
        id=new_id("pin"),
        tenant_id=ctx.tenant_id,
        version=current.version + 1,
        answer_chats=proposed.answer_chats,
        store_transcripts=proposed.store_transcripts,
        evaluate=proposed.evaluate,
        operator_review=proposed.operator_review,
        external_llm=proposed.external_llm,
        redact_pii_before_llm=proposed.redact_pii_before_llm,
        retention_days=proposed.retention_days,
        subprocessors=list(proposed.subprocessors),
        # Naming the sub-processors (again) authorises the provider as it stands; any other change keeps what was authorised.
        llm_provider=recorded_provider(proposed.subprocessors, register, kept=None if change.get("authorised_subprocessors") is not None else current.llm_provider),
        author_user_id=principal.user_id if principal.kind == "user" else None,
        author_api_key_id=principal.id if principal.kind == "api_key" else None,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        taken = await session.scalar(
            select(ProcessingInstructions.id).where(ProcessingInstructions.tenant_id == ctx.tenant_id, ProcessingInstructions.version == row.version)
        )
        if taken is None:  # no other change took the version: the author's account was erased meanwhile (core.errors: 401)
            raise
        raise Conflict("The instructions were changed at the same moment by someone else; read them again and retry.") from exc
    return from_row(row, register)


async def record_legacy_providers(session: AsyncSession, register: SubprocessorRegister) -> int:
    """Versions from before migration p0003 record no LLM provider: those that authorise `llm` get the one
    configured now (the one the tenant saw when it authorised it, unless the operator changed it during the
    upgrade), the others {}. Run at start-up; returns how many rows it filled in."""
    t = ProcessingInstructions
    rows = (await session.execute(select(t.id, t.subprocessors).where(t.llm_provider.is_(None)))).all()  # type: ignore[union-attr]
    if rows:  # one executemany (ORM bulk update by primary key), not a statement per row
        await session.execute(update(t), [{"id": row_id, "llm_provider": recorded_provider(subprocessors or [], register)} for row_id, subprocessors in rows])
    return len(rows)


async def count_changed_providers(session: AsyncSession, register: SubprocessorRegister) -> int:
    """How many tenants' current instructions authorise `llm` for another provider than the configured one."""
    t = ProcessingInstructions
    latest = select(t.tenant_id, func.max(t.version).label("version")).group_by(t.tenant_id).subquery()
    rows = (await session.scalars(select(t).join(latest, (t.tenant_id == latest.c.tenant_id) & (t.version == latest.c.version)))).all()
    return sum(from_row(row, register).llm_provider_changed for row in rows)


def history_query(ctx: TenantContext) -> Any:
    return select(ProcessingInstructions).where(ProcessingInstructions.tenant_id == ctx.tenant_id)


class InstructionsCache:
    """Per-node cache of each tenant's current instructions, so the gate costs no query per chat message.

    A change made on this node is seen at once; one made on another node within `ttl` seconds."""

    MAX_TENANTS = 20_000

    def __init__(self, register: SubprocessorRegister, ttl: float) -> None:
        self.register = register
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Instructions]] = {}

    def fresh(self, tenant_id: str) -> Instructions | None:
        """The cached instructions while they are fresh, without touching the database."""
        hit = self._entries.get(tenant_id)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl else None

    async def get(self, session: AsyncSession, tenant_id: str) -> Instructions:
        now = time.monotonic()
        cached = self.fresh(tenant_id)
        if cached is not None:
            return cached
        instructions = await current_instructions(session, tenant_id=tenant_id, register=self.register)
        if len(self._entries) >= self.MAX_TENANTS:
            self._entries.pop(next(iter(self._entries)))
        self._entries[tenant_id] = (now, instructions)
        return instructions

    def invalidate(self, tenant_id: str) -> None:
        self._entries.pop(tenant_id, None)
