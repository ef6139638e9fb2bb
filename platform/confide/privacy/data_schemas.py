"""Request and response bodies of the tenant's data routes: exports, erasure requests, legal holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from confide.core.dates import RANGE_TEXT, Instant
from confide.core.schemas import RequestBody, ResponseBody
from confide.privacy.erasure import receipt, requested_by
from confide.privacy.erasure_models import ErasureRequest, LegalHold

# What privacy.erasure and the erasure worker write (ErasureRequest.scope/status/origin, LegalHold.scope,
# erasure.requested_by): response fields typed with them show as enums in OpenAPI.
ErasureScope = Literal["visitor", "customer", "conversation", "before", "tenant", "ledger"]
ErasureStatus = Literal["pending", "running", "done", "failed"]
ErasureOrigin = Literal["tenant", "ledger"]
HoldScope = Literal["conversation", "visitor", "customer"]
ActorKind = Literal["user", "api_key", "system", "erased"]

REASON = Field(min_length=3, max_length=500, description="Why: e.g. the legal matter or its reference. Shown to the tenant's admins.")


class ErasureRequestBody(RequestBody):
    """Exactly the field the scope needs."""

    scope: Literal["visitor", "customer", "conversation", "before", "tenant"] = Field(
        description="visitor: one end customer by visitor id; customer: one end customer by your own customer id; conversation: one "
        "conversation; before: every conversation last active before a time; tenant: everything, at the end of the contract."
    )
    visitor_id: str | None = Field(default=None, min_length=1, max_length=64, description="scope visitor")
    customer_ref: str | None = Field(default=None, min_length=1, max_length=200, description="scope customer: the `sub` of your customer tokens")
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64, description="scope conversation")
    before: Instant | None = Field(
        default=None,
        description=f"scope before: ISO 8601 ({RANGE_TEXT}), exclusive; a time without zone is UTC. A live conversation counts as last active before it only "
        "when its recorded activity is ten seconds older (the activity time of a live conversation is kept to ten seconds).",
    )
    confirm_tenant_id: str | None = Field(default=None, max_length=64, description="scope tenant: this tenant's id again, to confirm")


class Actor(ResponseBody):
    kind: ActorKind = Field(description="user, api_key, system (the erasure ledger or retention), or erased (the account or key no longer exists).")
    id: str | None


class ErasureProgress(ResponseBody):
    conversations_total: int | None = Field(description="Conversations in scope that no legal hold covers (counted when work starts).")
    conversations_done: int


class ErasureHeld(ResponseBody):
    conversations: int = Field(description="Conversations in scope kept because a legal hold covers them.")
    legal_holds: list[str] = Field(description="The holds that kept them; releasing one erases what it kept.")


class ErasureRequestOut(ResponseBody):
    id: str
    scope: ErasureScope = Field(description="visitor, customer, conversation, before, tenant; or ledger (data of erased subjects that reappeared).")
    origin: ErasureOrigin = Field(description="tenant (asked for) or ledger (repeated automatically).")
    subject_ref: str | None = Field(description="Pseudonymous reference of the end customer (sub_…), or the conversation id.")
    before: datetime | None
    status: ErasureStatus = Field(
        description="pending (queued; also again after a failed attempt that is retried, or when a released legal hold re-queued it), "
        "running, done (see `receipt`) or failed (given up after the last attempt; see `error`)."
    )
    requested_by: Actor
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    progress: ErasureProgress
    counts: dict[str, int] = Field(description="Rows, keys and files removed so far, per store.")
    held: ErasureHeld
    error: str | None = Field(description="Why the last attempt failed (the error's kind only).")
    receipt: dict[str, Any] | None = Field(description="When done: what was erased per store, by whom, when; counts only, never content.")

    @classmethod
    def of(cls, request: ErasureRequest) -> ErasureRequestOut:
        return cls(
            id=request.id,
            scope=request.scope,
            origin=request.origin,
            subject_ref=request.subject_ref,
            before=request.before,
            status=request.status,
            requested_by=Actor(**requested_by(request)),
            requested_at=request.requested_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            attempts=request.attempts,
            progress=ErasureProgress(conversations_total=request.conversations_total, conversations_done=request.conversations_done),
            counts=dict(request.counts or {}),
            held=ErasureHeld(conversations=request.held_count, legal_holds=list(request.held_by or [])),
            error=request.error,
            receipt=receipt(request),
        )


class LegalHoldBody(RequestBody):
    """Exactly one of conversation_id, visitor_id or customer_ref, and the reason."""

    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)
    visitor_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_ref: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = REASON


class HoldReleaseBody(RequestBody):
    reason: str = REASON


class LegalHoldOut(ResponseBody):
    id: str
    scope: HoldScope = Field(description="conversation, visitor or customer.")
    conversation_id: str | None
    visitor_id: str | None = Field(description="For a visitor hold. Once the hold is released and the visitor erased: their pseudonym (`sub_…`, as on the erasure's receipt).")
    customer_ref: str | None = Field(description="For a customer hold. Once the hold is released and the customer erased: their pseudonym (`sub_…`, as on the erasure's receipt).")
    reason: str = Field(description="Why the data is kept. Once the hold is released and its subject erased: `(erased with the subject's data)`, as is `release_reason`.")
    active: bool
    created_by: Actor
    created_at: datetime
    released_at: datetime | None
    released_by: Actor | None
    release_reason: str | None
    requeued_erasure_requests: list[str] | None = Field(default=None, description="On release: the erasure requests now finishing what the hold kept.")

    @classmethod
    def of(cls, hold: LegalHold, requeued: list[str] | None = None) -> LegalHoldOut:
        def actor(user_id: str | None, key_id: str | None) -> Actor:
            if user_id:
                return Actor(kind="user", id=user_id)
            if key_id:
                return Actor(kind="api_key", id=key_id)
            return Actor(kind="erased", id=None)

        return cls(
            id=hold.id,
            scope=hold.scope,
            conversation_id=hold.target if hold.scope == "conversation" else None,
            visitor_id=hold.target if hold.scope == "visitor" else None,
            customer_ref=hold.target if hold.scope == "customer" else None,
            reason=hold.reason,
            active=hold.released_at is None,
            created_by=actor(hold.created_by_user_id, hold.created_by_api_key_id),
            created_at=hold.created_at,
            released_at=hold.released_at,
            released_by=actor(hold.released_by_user_id, hold.released_by_api_key_id) if hold.released_at else None,
            release_reason=hold.release_reason,
            requeued_erasure_requests=requeued,
        )


class ExportManifestOut(ResponseBody):
    format: str
    counts: dict[str, int] = Field(description="Records per type: conversation, message, event, note, rating, rule_hit, …")
    records: int
    sha256: str = Field(description="SHA-256 of the export's bytes before its manifest record, for these filters and format.")
    sha256_of: str
    generated_at: datetime
    bytes: int = Field(description="Size of the export before its manifest record.")
