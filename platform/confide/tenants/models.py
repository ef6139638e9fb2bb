"""Invitations to join a tenant (the token is mailed and only its SHA-256 is stored), and tenant closures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


OPEN_INVITATION = "accepted_at IS NULL AND revoked_at IS NULL"  # pending, or expired and not yet superseded


class Invitation(SQLModel, table=True):
    """At most one open invitation per address and tenant, held by the database (a partial unique index), not
    only by the check in service.invite: on SQLite two invitations sent at once both pass that check. An
    expired one stays open until a new invitation to its address revokes it (service.invite).

    Sent by a member (`invited_by`) or by an API key (`invited_by_api_key_id`); it is revoked while still open when
    its sender's right to send it ends: the member's (service.withdraw_grants) or the key's (revoked)."""

    __tablename__ = "invitation"
    __table_args__ = (
        Index(
            "uq_invitation_open_email", "tenant_id", "email", unique=True,
            sqlite_where=text(OPEN_INVITATION), postgresql_where=text(OPEN_INVITATION),
        ),
    )

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)
    token_hash: str = Field(unique=True, max_length=64)
    invited_by: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
    invited_by_api_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True)  # indexed: a key's revocation finds its invitations
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field()
    accepted_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)


classify(
    Invitation,
    holder=Holder.CONTROLLER,
    purpose="Inviting a person to work in a tenant",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until accepted, revoked or expired",
    data_subjects="invited persons",
    personal={"email": Category.CONTACT, "token_hash": Category.CREDENTIALS},
    not_personal=("invited_by", "invited_by_api_key_id"),
)


class TenantClosure(SQLModel, table=True):
    """A tenant's closure (DELETE /v1/tenants/{tenant_id}): who asked, its progress, and once the tenant is
    gone, the receipt of what was deleted, with counts and no content. It outlives the tenant on purpose:
    `tenant_id` is a plain column, not a foreign key, and the requester is unlinked when their account is erased."""

    __tablename__ = "tenant_closure"

    id: str = Field(primary_key=True)
    tenant_id: str = Field(unique=True, max_length=64)  # one closure per tenant; no foreign key: the tenant goes
    status: str = Field(default="closing", max_length=20, index=True)  # closing | closed | failed
    erasure_request_id: str | None = Field(default=None, max_length=64)  # the tenant-scope erasure of its chat data (goes with the tenant)
    requested_by_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
    requested_at: datetime = utc_field(default_now=True)
    finished_at: datetime | None = utc_field(nullable=True)
    error: str | None = Field(default=None, max_length=300)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # failed rounds since it was (re)started
    receipt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # while closing: the counts so far


classify(
    TenantClosure,
    holder=Holder.CONTROLLER,
    purpose="Proving that a closed tenant's data was deleted at the end of its contract (Art. 28(3)(g), Art. 5(2) GDPR)",
    legal_basis="Art. 6(1)(c) GDPR (accountability)",
    retention="Kept as the proof of deletion; holds counts only, and the requester is unlinked when their account is erased",
    data_subjects="platform users who closed a tenant",
    not_personal=("error", "attempts", "receipt"),
)
