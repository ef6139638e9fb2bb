"""Privacy tables: tenants' processing instructions and processing log, platform users' consent
records and objections, contact messages, and the retention job's runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


class ProcessingInstructions(SQLModel, table=True):
    """One version of a tenant's documented instructions (Art. 28(3)(a)); rows are only ever added."""

    __tablename__ = "processing_instructions"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)  # the (tenant_id, version) key indexes it
    version: int
    answer_chats: bool
    store_transcripts: bool
    evaluate: bool
    operator_review: bool
    external_llm: bool
    redact_pii_before_llm: bool
    retention_days: int
    subprocessors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # The register's LLM entry as the tenant authorised it ({} when `llm` is not authorised; None only in rows
    # from before migration p0003 until start-up fills them in): a change of provider needs a new authorisation.
    llm_provider: dict[str, str] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    author_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
    author_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = utc_field(default_now=True)


classify(
    ProcessingInstructions,
    holder=Holder.CONTROLLER,
    purpose="Documenting each tenant's processing instructions and who gave them (Art. 28(3)(a), Art. 5(2) GDPR)",
    legal_basis="Art. 6(1)(c) GDPR (documentation duty); Art. 6(1)(b)",
    retention="For the contract's lifetime; the author is unlinked when their account is erased",
    data_subjects="platform users who set instructions",
    not_personal=(
        "answer_chats",
        "store_transcripts",
        "evaluate",
        "operator_review",
        "external_llm",
        "redact_pii_before_llm",
        "retention_days",
        "subprocessors",
        "llm_provider",
    ),
)


class ProcessingLogEntry(SQLModel, table=True):
    """One allowed operation on a tenant's data: purpose, who, about which pseudonymous subject, how much. Never content."""

    __tablename__ = "processing_log"
    # (tenant_id, subject_ref): the tenant's filter by subject, and erasure unlinking a subject's entries
    __table_args__ = (Index("ix_processing_log_tenant_at", "tenant_id", "at"), Index("ix_processing_log_tenant_subject", "tenant_id", "subject_ref"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    at: datetime = utc_field()
    purpose: str = Field(max_length=32)
    actor: str = Field(max_length=100, index=True)
    subject_ref: str | None = Field(default=None, max_length=100)
    counts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    instructions_version: int


classify(
    ProcessingLogEntry,
    holder=Holder.PROCESSOR,
    purpose="Showing each tenant which operations ran on its data, under which instruction (Art. 28(3)(h) GDPR)",
    legal_basis="Art. 28(3) GDPR; the tenant's instructions",
    retention="processing_log_retention_days (default 365 days), then deleted",
    retention_days=365,
    data_subjects="tenants' end customers (pseudonymous) and tenant staff",
    personal={"subject_ref": Category.PSEUDONYMOUS_ID, "actor": Category.PSEUDONYMOUS_ID, "at": Category.ACTIVITY},
    not_personal=("counts", "instructions_version"),
)


class NewsletterSubscription(SQLModel, table=True):
    """A newsletter subscription; active only once its mailed confirmation token is used (double opt-in)."""

    __tablename__ = "newsletter_subscription"

    id: str = Field(primary_key=True)
    user_id: str = fk("user_account.id")
    status: str = Field(max_length=20)  # pending, active, withdrawn
    confirm_token_hash: str | None = Field(default=None, unique=True, max_length=64)
    confirm_expires_at: datetime | None = utc_field(nullable=True)
    requested_at: datetime = utc_field(default_now=True)
    confirmed_at: datetime | None = utc_field(nullable=True)
    withdrawn_at: datetime | None = utc_field(nullable=True)


classify(
    NewsletterSubscription,
    holder=Holder.CONTROLLER,
    purpose="Sending the newsletter to people who confirmed their subscription (policy IX)",
    legal_basis="Art. 6(1)(a) GDPR",
    retention="Until withdrawn (removed by the next retention run; the consent records keep the proof) or the account is deleted; unconfirmed requests are removed when their token expires",
    data_subjects="platform users who subscribed",
    personal={"confirm_token_hash": Category.CREDENTIALS},
)


class ConsentRecord(SQLModel, table=True):
    """Proof of consent (Art. 7(1)): what was agreed or withdrawn, which text version, when, from which network (truncated)."""

    __tablename__ = "consent_record"

    id: str = Field(primary_key=True)
    user_id: str = fk("user_account.id")
    topic: str = Field(max_length=40)
    action: str = Field(max_length=20)  # requested, confirmed, withdrawn
    text_version: str = Field(max_length=40)
    channel: str = Field(max_length=40)
    ip_prefix: str | None = Field(default=None, max_length=50)
    at: datetime = utc_field(default_now=True)


classify(
    ConsentRecord,
    holder=Holder.CONTROLLER,
    purpose="Proving consent and its withdrawal (Art. 7(1) GDPR)",
    legal_basis="Art. 6(1)(c) GDPR",
    retention="Until the account is deleted",
    data_subjects="platform users",
    personal={
        "topic": Category.CONSENT,
        "action": Category.CONSENT,
        "text_version": Category.CONSENT,
        "channel": Category.CONSENT,
        "ip_prefix": Category.NETWORK,
        "at": Category.ACTIVITY,
    },
)


class Objection(SQLModel, table=True):
    """An objection (Art. 21) and what it stopped."""

    __tablename__ = "objection"

    id: str = Field(primary_key=True)
    user_id: str = fk("user_account.id")
    grounds: str | None = Field(default=None, max_length=2000)
    effects: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_field(default_now=True)


classify(
    Objection,
    holder=Holder.CONTROLLER,
    purpose="Honouring objections to processing based on legitimate interest and to direct marketing (Art. 21 GDPR)",
    legal_basis="Art. 6(1)(c) GDPR",
    retention="Until the account is deleted",
    data_subjects="platform users",
    personal={"grounds": Category.COMMUNICATION},
    not_personal=("effects",),
)


class ContactMessage(SQLModel, table=True):
    """A message sent to us through the contact form (policy VIII)."""

    __tablename__ = "contact_message"

    id: str = Field(primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, index=True)
    message: str = Field(max_length=10_000)
    consent_version: str = Field(max_length=40)
    objection_token_hash: str = Field(unique=True, max_length=64)
    received_at: datetime = utc_field(default_now=True)
    concluded_at: datetime | None = utc_field(nullable=True, index=True)


classify(
    ContactMessage,
    holder=Holder.CONTROLLER,
    purpose="Answering people who contact us (policy VIII)",
    legal_basis="Art. 6(1)(a) GDPR; Art. 6(1)(f); Art. 6(1)(b) when it aims at a contract",
    retention="Until the conversation is concluded, plus contact_retention_days (default 0: the next retention run); "
    "contact_max_open_days (default 180) after receipt when no one concludes it; at once on objection",
    data_subjects="people who contact us",
    personal={
        "name": Category.IDENTITY,
        "email": Category.CONTACT,
        "message": Category.COMMUNICATION,
        "consent_version": Category.CONSENT,
        "objection_token_hash": Category.CREDENTIALS,
    },
)


class RetentionRun(SQLModel, table=True):
    """One run of the retention job: when, on which node, what it removed per table."""

    __tablename__ = "retention_run"

    id: str = Field(primary_key=True)
    started_at: datetime = utc_field(index=True)
    finished_at: datetime | None = utc_field(nullable=True)
    status: str = Field(max_length=20)  # done, failed (some step failed), skipped (another node held the lock)
    node: str = Field(max_length=100)
    removed: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    failed_steps: list[str] = Field(sa_column=Column(JSON, nullable=False))


classify(
    RetentionRun,
    holder=Holder.NONE,
    purpose="Showing platform operators that retention rules are enforced",
    legal_basis="Art. 5(1)(e) and 5(2) GDPR",
    retention="90 days",
    retention_days=90,
    not_personal=("node", "removed", "failed_steps"),
)
