"""Evaluation tables: outcomes (CSAT and resolution), per-conversation metrics, daily aggregates,
unanswered questions, staff score definitions and scores, webhook endpoints, their outbox (deliveries
waiting to be sent) and their delivery log (one row per attempt).

What outlives a conversation and what does not is decided here, by the foreign keys:

- statistics (metrics, daily aggregates and counts) keep no foreign key to the conversation that
  could cascade: metrics keep `conversation_id` with ON DELETE SET NULL, aggregates none at all, so
  erasing a conversation or its text leaves its contribution to the reports;
- the end customer's words (unanswered questions) and per-conversation outcomes go with their
  conversation (ON DELETE CASCADE), and questions also with the message they quote.

Nothing here is keyed by visitor or customer: evaluation measures avatars and conversations, never people.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, Float, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


def _plain(*, index: bool = False, nullable: bool = False) -> str:
    """An id column without a foreign key (the statistic outlives what it names)."""
    return Field(default=None if nullable else ..., sa_column=Column(String, nullable=nullable, index=index))  # type: ignore[return-value]


class ConversationOutcome(SQLModel, table=True):
    """The visitor's CSAT (1–5) and the resolution flag, set by the visitor's confirmation or an operator."""

    __tablename__ = "evaluation_outcome"
    __table_args__ = (UniqueConstraint("conversation_id"), Index("ix_evaluation_outcome_tenant_rated", "tenant_id", "rated_at"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    conversation_id: str = fk("conversation.id", index=False)
    avatar_id: str = _plain()
    score: int | None = None
    rating_message_id: str | None = fk("chat_message.id", ondelete="SET NULL", nullable=True)  # the comment lives there; indexed for the SET NULL on erasure
    rated_at: datetime | None = utc_field(nullable=True)
    resolved: bool | None = None
    resolved_source: str | None = Field(default=None, max_length=20)  # visitor | operator
    resolved_by: str | None = Field(default=None, max_length=100)  # the operator's user or API key id
    resolved_at: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    ConversationOutcome,
    holder=Holder.PROCESSOR,
    purpose="CSAT and resolution of a conversation, for evaluating avatars (on the tenant's instructions)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="With its conversation",
    data_subjects="tenants' end customers (the rating they gave) and tenant staff (who marked resolution)",
    personal={"resolved_by": Category.PSEUDONYMOUS_ID},
    not_personal=("score", "resolved", "resolved_source"),
)


class ConversationMetrics(SQLModel, table=True):
    """The measures of one closed conversation. Outlives it: `conversation_id` is set null when it goes."""

    __tablename__ = "evaluation_conversation_metrics"
    __table_args__ = (
        UniqueConstraint("conversation_id"),
        Index("ix_evaluation_conversation_metrics_tenant_day", "tenant_id", "day"),
    )

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    conversation_id: str | None = fk("conversation.id", ondelete="SET NULL", nullable=True, index=False)
    avatar_id: str = _plain(index=True)
    avatar_version_id: str | None = _plain(nullable=True)
    language: str = Field(max_length=35)
    day: date = Field(sa_column=Column(Date, nullable=False))  # UTC day the conversation started
    started_at: datetime = utc_field()
    closed_at: datetime | None = utc_field(nullable=True)
    transcript_available: bool = True  # False: the text was gone at close (transcripts not stored)
    turns: int = 0  # visitor messages
    avatar_messages: int = 0
    operator_messages: int = 0
    duration_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    first_response_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    mean_response_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    response_count: int = 0
    response_seconds_sum: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    handed_off: bool = False
    handoff_reason: str | None = Field(default=None, max_length=40)  # the category, see metrics.HANDOFF_CATEGORIES
    human_involved: bool = False
    fallback_answers: int = 0
    rule_hits: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # rule id -> hits
    rating: int | None = None
    resolved: bool | None = None
    resolved_source: str | None = Field(default=None, max_length=20)
    contained: bool = False
    sentiment_lexicon: str | None = Field(default=None, max_length=20)
    sentiment_messages: int = 0
    sentiment_start: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    sentiment_end: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    sentiment_trend: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    covered_seq: int | None = None  # the conversation's last seq these measures include (a reopen's later close adds only what came after)
    computed_at: datetime = utc_field(default_now=True)


classify(
    ConversationMetrics,
    holder=Holder.PROCESSOR,
    purpose="Measures of a conversation for evaluating avatars; never about the person who chatted",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="Kept as statistics; the link to the conversation is removed when the conversation is deleted",
    data_subjects="tenants' end customers (pseudonymous link to the conversation while it exists)",
    not_personal=(
        "language", "day", "transcript_available", "turns", "avatar_messages", "operator_messages", "duration_seconds",
        "first_response_seconds", "mean_response_seconds", "response_count", "response_seconds_sum", "handed_off",
        "handoff_reason", "human_involved", "fallback_answers", "rule_hits", "rating", "resolved", "resolved_source",
        "contained", "sentiment_lexicon", "sentiment_messages", "sentiment_start", "sentiment_end", "sentiment_trend",
        "covered_seq",
    ),
)


class DailyAggregate(SQLModel, table=True):
    """Sums of the metrics of one avatar's conversations that started on one UTC day. No link to any conversation."""

    __tablename__ = "evaluation_daily_aggregate"
    __table_args__ = (UniqueConstraint("tenant_id", "avatar_id", "day"), Index("ix_evaluation_daily_aggregate_tenant_day", "tenant_id", "day"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    avatar_id: str = _plain()
    day: date = Field(sa_column=Column(Date, nullable=False))
    conversations: int = 0
    turns: int = 0
    duration_seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    duration_count: int = 0
    handed_off: int = 0
    human_involved: int = 0
    contained: int = 0
    resolved: int = 0
    unresolved: int = 0
    rated: int = 0
    rating_sum: int = 0
    first_response_count: int = 0
    first_response_seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    response_count: int = 0
    response_seconds: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    fallback_answers: int = 0
    with_fallback: int = 0
    rule_hits: int = 0
    sentiment_count: int = 0
    sentiment_start_sum: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    sentiment_end_sum: float = Field(default=0.0, sa_column=Column(Float, nullable=False))


classify(
    DailyAggregate,
    holder=Holder.NONE,
    purpose="Daily statistics per avatar for the tenant's reports (counts and sums, no link to any conversation or person)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant; anonymous statistics",
    retention="For the contract's lifetime",
    not_personal=tuple(
        "conversations turns duration_seconds duration_count handed_off human_involved contained resolved unresolved rated rating_sum "
        "first_response_count first_response_seconds response_count response_seconds fallback_answers with_fallback rule_hits "
        "sentiment_count sentiment_start_sum sentiment_end_sum day".split()
    ),
)


class DailyCount(SQLModel, table=True):
    """Counts by a dimension (handoff reason, guideline rule, CSAT score, first-response latency bucket) per avatar and day."""

    __tablename__ = "evaluation_daily_count"
    __table_args__ = (
        UniqueConstraint("tenant_id", "avatar_id", "day", "dimension", "key"),
        Index("ix_evaluation_daily_count_tenant_day", "tenant_id", "day"),
    )

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    avatar_id: str = _plain()
    day: date = Field(sa_column=Column(Date, nullable=False))
    dimension: str = Field(max_length=20)  # handoff | rule | csat | frt
    key: str = Field(max_length=100)
    count: int = 0


classify(
    DailyCount,
    holder=Holder.NONE,
    purpose="Daily counts per avatar by handoff reason, guideline rule, CSAT score and latency bucket, for reports",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant; anonymous statistics",
    retention="For the contract's lifetime",
    not_personal=("day", "dimension", "key"),
)


class UnansweredQuestion(SQLModel, table=True):
    """A visitor's question the avatar answered with its fallback: redacted text, normalised for grouping."""

    __tablename__ = "evaluation_unanswered_question"
    __table_args__ = (Index("ix_evaluation_unanswered_question_tenant_day", "tenant_id", "day"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    avatar_id: str = _plain()
    conversation_id: str = fk("conversation.id")
    message_id: str | None = fk("chat_message.id", nullable=True)  # the visitor's message: erasing it erases this copy
    language: str = Field(max_length=35)
    day: date = Field(sa_column=Column(Date, nullable=False))
    text: str = Field(max_length=500)
    normalized: str = Field(max_length=500)
    created_at: datetime = utc_field(default_now=True)


classify(
    UnansweredQuestion,
    holder=Holder.PROCESSOR,
    purpose="Questions the avatar could not answer, grouped in reports so the tenant can add knowledge (PII redacted)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="The tenant's instructed retention period, and never longer than the conversation; only kept when transcripts are stored",
    data_subjects="tenants' end customers",
    personal={"text": Category.COMMUNICATION, "normalized": Category.COMMUNICATION},
    not_personal=("language", "day"),
)


class ScoreDefinition(SQLModel, table=True):
    """A score staff (or an automatic evaluator) put on conversations: numeric with a range, categorical with labels, or boolean."""

    __tablename__ = "evaluation_score_definition"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    name: str = Field(max_length=100)
    name_key: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    kind: str = Field(max_length=20)  # numeric | categorical | boolean
    min_value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    max_value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    ScoreDefinition,
    holder=Holder.NONE,
    purpose="The tenant's quality criteria for conversations",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until deleted by the tenant",
    not_personal=("name", "description", "min_value", "max_value", "labels"),
)


class ConversationScore(SQLModel, table=True):
    """A score on a conversation. Outlives it as a statistic per avatar: `conversation_id` is set null when it goes."""

    __tablename__ = "evaluation_score"
    __table_args__ = (Index("ix_evaluation_score_tenant_definition", "tenant_id", "definition_id"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    definition_id: str = fk("evaluation_score_definition.id", index=False)
    conversation_id: str | None = fk("conversation.id", ondelete="SET NULL", nullable=True)
    avatar_id: str = _plain()
    source: str = Field(max_length=20)  # staff | automatic
    value_number: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    value_label: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=2000)
    author_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    author_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    ConversationScore,
    holder=Holder.PROCESSOR,
    purpose="Staff annotations and automatic evaluation scores on conversations (about avatars' answers, never about the person)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="Kept as statistics; the comment is removed by the retention job once the conversation is gone",
    data_subjects="tenant staff (authors); the conversation's end customer through the link while it exists",
    personal={"comment": Category.COMMUNICATION},
    not_personal=("source", "value_number", "value_label"),
)


class WebhookEndpoint(SQLModel, table=True):
    """A tenant's own system (CRM, ticketing) that receives signed conversation events: a recipient in its records.

    `revision` goes up whenever the URL or include_text changes, what a delivery's recipient and body were built
    for: each delivery stored names the revision it was built from (webhook_outbox.endpoint_revision, a foreign
    key), so the database refuses one built from the endpoint as it was before a change committed."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index("uq_webhook_endpoint_id_revision", "id", "revision", unique=True),)  # the outbox's foreign key points at it

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    name: str = Field(max_length=100)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=100)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    include_text: bool = False
    active: bool = True
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    WebhookEndpoint,
    holder=Holder.NONE,
    purpose="Delivering conversation events to systems the tenant names",
    legal_basis="Art. 28 GDPR: the tenant's instruction",
    retention="Until deleted by the tenant",
    not_personal=("name", "url", "secret", "events", "include_text", "active", "revision"),
)


class WebhookDelivery(SQLModel, table=True):
    """One delivery attempt: endpoint, event, attempt, status code, time. Never the payload."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint_at", "endpoint_id", "at"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    endpoint_id: str = fk("webhook_endpoint.id", index=False)
    event_id: str = Field(max_length=40)
    event: str = Field(max_length=60)
    attempt: int
    status_code: int | None = None
    outcome: str = Field(max_length=20)  # delivered | retrying | failed
    error: str | None = Field(default=None, max_length=40)  # timeout | connection_error | http_status | refused_address
    duration_ms: int | None = None
    at: datetime = utc_field(default_now=True)


classify(
    WebhookDelivery,
    holder=Holder.NONE,
    purpose="Showing the tenant whether its webhook deliveries arrived",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="webhook_delivery_log_days (default 30 days), then deleted",
    not_personal=("event", "attempt", "status_code", "outcome", "error", "duration_ms", "at"),
)


class WebhookOutbox(SQLModel, table=True):
    """One event's delivery to one endpoint, kept in the database until it is delivered or given up, so a
    restart or a crash loses none. The node in `node` sends it when `next_attempt_at` comes (a claim moves
    that to the end of the claim's lease); any node does when `node` is empty (released at shutdown) or
    once it is long overdue (its node died). The body is emptied when the delivery ends."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        Index("ix_webhook_outbox_status_due", "status", "next_attempt_at"),
        # Built from this revision of the endpoint: refused once a change of its URL or include_text has committed
        # (the event read the endpoint before, and stores after, the change: SQLite, whose reads take no lock). The
        # endpoint's later revisions carry the row along (ON UPDATE CASCADE) while it waits. Null: not checked (rows
        # from before, and every row once it ended, so a change rewrites only what still waits: webhook_deliveries.ended).
        ForeignKeyConstraint(
            ["endpoint_id", "endpoint_revision"], ["webhook_endpoint.id", "webhook_endpoint.revision"],
            name="fk_webhook_outbox_endpoint_revision_webhook_endpoint", ondelete="CASCADE", onupdate="CASCADE",
        ),
    )

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    endpoint_id: str = fk("webhook_endpoint.id")  # deleting the endpoint drops what still waits for it
    endpoint_revision: int | None = None
    conversation_id: str | None = fk("conversation.id", nullable=True)  # erasing the conversation reaches the body
    event_id: str = Field(max_length=40)
    event: str = Field(max_length=60)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the signed JSON, byte for byte; null once ended or erased
    status: str = Field(default="pending", max_length=20)  # pending | delivered | failed
    attempts: int = 0  # attempts claimed so far, the one in flight included
    next_attempt_at: datetime = utc_field(default_now=True)
    node: str | None = Field(default=None, max_length=40)  # the worker that sends it on time; null: any
    created_at: datetime = utc_field(default_now=True)
    finished_at: datetime | None = utc_field(nullable=True)


classify(
    WebhookOutbox,
    holder=Holder.PROCESSOR,
    purpose="Webhook deliveries waiting to be sent or retried to systems the tenant names, so none is lost in a restart",
    legal_basis="Art. 28 GDPR: the tenant's instruction",
    retention="The body until the delivery is delivered, given up or its conversation erased; the row webhook_delivery_log_days (default 30 days) after it ended",
    data_subjects="tenants' end customers (their customer reference; message text where the endpoint asks for it and transcripts are stored)",
    personal={"body": Category.COMMUNICATION},
    not_personal=("event", "attempts", "node", "endpoint_revision"),
)
