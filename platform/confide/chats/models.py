"""Conversations, their messages and the tenant secrets that sign customer tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (
        Index("ix_conversation_tenant_status", "tenant_id", "status"),
        Index("ix_conversation_tenant_visitor", "tenant_id", "visitor_id"),
        # The inbox: keyset pages on each sort key (with the id as tie-breaker), per tenant.
        Index("ix_conversation_tenant_updated", "tenant_id", "updated_at", "id"),
        Index("ix_conversation_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_conversation_tenant_rating", "tenant_id", "rating", "id"),
        Index("ix_conversation_tenant_status_updated", "tenant_id", "status", "updated_at", "id"),
    )

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    avatar_id: str = fk("avatar.id")
    avatar_version_id: str | None = fk("avatar_version.id", ondelete="SET NULL", nullable=True, index=False)
    visitor_id: str = Field(max_length=64)
    customer_ref: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=35)
    status: str = Field(default="avatar", max_length=20)  # avatar | waiting | operator | closed
    handoff_reason: str | None = Field(default=None, max_length=40)
    assignee_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
    handed_off: bool = False
    rating: int | None = None
    last_seq: int = 0
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)
    closed_at: datetime | None = utc_field(nullable=True)


classify(
    Conversation,
    holder=Holder.PROCESSOR,
    purpose="Chats between a tenant's end customers and its avatars or staff (on the tenant's instructions)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="The tenant's instructed retention period (default 30 days)",
    data_subjects="tenants' end customers",
    personal={"visitor_id": Category.PSEUDONYMOUS_ID, "customer_ref": Category.PSEUDONYMOUS_ID},
    not_personal=("language", "handoff_reason", "last_seq", "handed_off", "rating"),
)


class Message(SQLModel, table=True):
    """A visitor, avatar or operator message, a visible event (seq set), or a private staff note (no seq)."""

    __tablename__ = "chat_message"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"), UniqueConstraint("conversation_id", "client_message_id"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    conversation_id: str = fk("conversation.id", index=False)
    seq: int | None = None
    kind: str = Field(default="message", max_length=10)  # message | event | note
    author: str = Field(max_length=10)  # visitor | avatar | operator | system
    operator_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    client_message_id: str | None = Field(default=None, max_length=64)
    text: str = ""
    event: str | None = Field(default=None, max_length=30)
    redacted: bool = False
    verdict: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = utc_field(default_now=True)


classify(
    Message,
    holder=Holder.PROCESSOR,
    purpose="Transcripts of chats (on the tenant's instructions; PII redacted as it instructs)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="The tenant's instructed retention period; without stored transcripts, until the conversation ends",
    data_subjects="tenants' end customers",
    personal={"text": Category.COMMUNICATION},
    not_personal=("seq", "author", "client_message_id", "event", "redacted", "verdict", "operator_id"),
)


class RuleHit(SQLModel, table=True):
    """A guideline rule that fired on a message: for inbox filters and reports without reading message text."""

    __tablename__ = "conversation_rule_hit"
    __table_args__ = (Index("ix_conversation_rule_hit_tenant_rule", "tenant_id", "rule_id"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    conversation_id: str = fk("conversation.id")
    message_id: str | None = Field(default=None, max_length=40)
    rule_id: str = Field(max_length=100)
    direction: str = Field(max_length=10)  # input | output
    created_at: datetime = utc_field(default_now=True)


classify(
    RuleHit,
    holder=Holder.PROCESSOR,
    purpose="Which guideline rules fired in a conversation (no text)",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="With its conversation",
    data_subjects="tenants' end customers",
    not_personal=("direction",),
)


class ConversationTag(SQLModel, table=True):
    """A tenant's own label on a conversation (a short lowercase slug), for the inbox."""

    __tablename__ = "conversation_tag"
    __table_args__ = (UniqueConstraint("conversation_id", "tag"), Index("ix_conversation_tag_tenant_tag", "tenant_id", "tag"))

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id", index=False)
    conversation_id: str = fk("conversation.id", index=False)
    tag: str = Field(max_length=32)
    created_by: str | None = Field(default=None, max_length=40)  # a user or API key id
    created_at: datetime = utc_field(default_now=True)


classify(
    ConversationTag,
    holder=Holder.PROCESSOR,
    purpose="Labels a tenant's staff put on conversations to sort their inbox",
    legal_basis="Art. 28 GDPR: processing on behalf of the tenant",
    retention="With its conversation",
    data_subjects="tenants' end customers",
    # Free staff text of up to 32 characters, which can name the customer ("jane-doe-munich"): it goes
    # when its conversation is erased, as the anonymous stub keeps nothing written about the person.
    personal={"tag": Category.COMMUNICATION},
    not_personal=("created_by",),
)


class CustomerTokenSecret(SQLModel, table=True):
    """The tenant's HMAC secret for customer tokens its own server signs (HS256 JWTs)."""

    __tablename__ = "customer_token_secret"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    secret: str = Field(max_length=128)
    created_at: datetime = utc_field(default_now=True)
    revoked_at: datetime | None = utc_field(nullable=True)


classify(
    CustomerTokenSecret,
    holder=Holder.NONE,
    purpose="Verifying customer tokens signed by a tenant's server",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until rotated",
    not_personal=("secret",),
)
