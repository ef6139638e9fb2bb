"""Tables of the tenants' erasure machinery: tracked erasure requests (with their receipts), legal holds,
and the erasure ledger that remembers, pseudonymously, whose data was erased so that it is erased again
should it ever come back (an import, a restored backup)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


class ErasureRequest(SQLModel, table=True):
    """One erasure a tenant asked for (or the ledger repeated): its scope, progress and receipt.

    `target` names the subject in clear (a visitor id, the tenant's customer reference or a conversation
    id) only while work remains; it is cleared when the request is done, leaving the pseudonymous
    `subject_ref`. `active_key` is set while the request is pending or running, so the same scope cannot
    be queued twice (the unique key refuses the second one)."""

    __tablename__ = "erasure_request"
    __table_args__ = (UniqueConstraint("tenant_id", "active_key"), Index("ix_erasure_request_status", "status"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)  # the (tenant_id, active_key) key indexes it
    scope: str = Field(max_length=20)  # visitor | customer | conversation | before | tenant | ledger
    origin: str = Field(default="tenant", max_length=20)  # tenant (asked for) | ledger (repeated by the ledger sweep)
    subject_ref: str | None = Field(default=None, max_length=100)
    target: str | None = Field(default=None, max_length=200)
    before: datetime | None = utc_field(nullable=True)
    status: str = Field(default="pending", max_length=20)  # pending | running | done | failed
    active_key: str | None = Field(default=None, max_length=160)
    requested_by_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    requested_by_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    requested_at: datetime = utc_field(default_now=True)
    started_at: datetime | None = utc_field(nullable=True)
    heartbeat_at: datetime | None = utc_field(nullable=True)
    finished_at: datetime | None = utc_field(nullable=True)
    attempts: int = 0
    conversations_total: int | None = None
    conversations_done: int = 0
    held_count: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    held_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=200)


classify(
    ErasureRequest,
    holder=Holder.PROCESSOR,
    purpose="Carrying out and proving tenants' erasure instructions (Art. 28(3)(e), (g) GDPR); the receipt holds counts, never content",
    legal_basis="Art. 28(3) GDPR; the tenant's instructions",
    retention="With the tenant; the subject is named in clear only until the request is done",
    data_subjects="tenants' end customers (pseudonymous) and tenant staff",
    personal={
        "subject_ref": Category.PSEUDONYMOUS_ID,
        "target": Category.PSEUDONYMOUS_ID,
        "active_key": Category.PSEUDONYMOUS_ID,
    },
    not_personal=("origin", "before", "attempts", "conversations_total", "conversations_done", "counts", "held_by", "error"),
)


class LegalHold(SQLModel, table=True):
    """Data kept despite erasure and retention because the law requires it (e.g. litigation): one
    conversation, or everything of one end customer (by visitor id or the tenant's customer reference)."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_tenant_target", "tenant_id", "target"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)  # the (tenant_id, target) index covers it
    scope: str = Field(max_length=20)  # conversation | visitor | customer
    target: str = Field(max_length=200)
    reason: str = Field(max_length=500)
    created_by_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    created_by_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = utc_field(default_now=True)
    released_at: datetime | None = utc_field(nullable=True)
    released_by_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    released_by_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    release_reason: str | None = Field(default=None, max_length=500)


classify(
    LegalHold,
    holder=Holder.PROCESSOR,
    purpose="Keeping data the law requires to be kept (Art. 17(3)(b), (e) GDPR), on the tenant's instruction",
    legal_basis="Art. 28(3) GDPR; Art. 17(3) GDPR",
    retention="With the tenant; a released hold stays as the record of why data was kept, naming its subject only by pseudonym and without its reasons once the subject is erased",
    data_subjects="tenants' end customers (pseudonymous)",
    personal={"target": Category.PSEUDONYMOUS_ID, "reason": Category.COMMUNICATION, "release_reason": Category.COMMUNICATION},
)


class ErasureLedgerEntry(SQLModel, table=True):
    """Whose data was erased, as a keyed hash (HMAC with a key derived from the secret key, so the ledger
    alone identifies no one), or up to which time (scopes `before` and `tenant`)."""

    __tablename__ = "erasure_ledger"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "subject_hash"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)  # the unique key indexes it
    kind: str = Field(max_length=20)  # visitor | customer | conversation | before | tenant
    subject_hash: str | None = Field(default=None, max_length=64)
    before: datetime | None = utc_field(nullable=True)
    request_id: str | None = fk("erasure_request.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = utc_field(default_now=True)


classify(
    ErasureLedgerEntry,
    holder=Holder.PROCESSOR,
    purpose="Erasing an erased subject's data again if it ever reappears (imports, restored backups)",
    legal_basis="Art. 17 GDPR; Art. 28(3)(g)",
    retention="With the tenant",
    data_subjects="tenants' end customers (keyed hashes only)",
    personal={"subject_hash": Category.PSEUDONYMOUS_ID},
    not_personal=("before",),
)
