"""Invitations to join a tenant; the token is mailed and only its SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


class Invitation(SQLModel, table=True):
    __tablename__ = "invitation"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)
    token_hash: str = Field(unique=True, max_length=64)
    invited_by: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
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
    not_personal=("invited_by",),
)
