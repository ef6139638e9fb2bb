"""Guideline sets and their immutable versions. A set is tenant-wide (several avatars may follow it);
every update appends a version, and the set points at its current one, so a published avatar can keep
running on the exact version it was published with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Holder, classify
from confide.core.identity import fk, utc_field


class GuidelineSet(SQLModel, table=True):
    __tablename__ = "guideline_set"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    name: str = Field(max_length=200)
    current_version: int = Field(default=1)
    created_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)


classify(
    GuidelineSet,
    holder=Holder.NONE,
    purpose="A tenant's communication guidelines for its avatars",
    legal_basis="Art. 6(1)(b) GDPR (the tenant's contract)",
    retention="Until the tenant deletes it or the contract ends",
    not_personal=("name", "current_version"),
)


class GuidelineSetVersion(SQLModel, table=True):
    """One immutable state of a set: the spec as validated, who wrote it, when."""

    __tablename__ = "guideline_set_version"
    __table_args__ = (UniqueConstraint("set_id", "version"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    set_id: str = fk("guideline_set.id")
    version: int
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    author_user_id: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True, index=False)
    author_key_id: str | None = fk("api_key.id", ondelete="SET NULL", nullable=True, index=False)
    created_at: datetime = utc_field(default_now=True)


classify(
    GuidelineSetVersion,
    holder=Holder.NONE,
    purpose="The history of a tenant's communication guidelines: what changed, by whom, when",
    legal_basis="Art. 6(1)(b) GDPR (the tenant's contract)",
    retention="Until the guideline set or the tenant is deleted; authors are unlinked when their account is deleted",
    not_personal=("spec",),
)
