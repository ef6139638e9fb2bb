"""One-time tokens mailed to a user: email verification, email change and password reset (`purpose`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.identity import fk, utc_field


class EmailToken(SQLModel, table=True):
    __tablename__ = "email_token"

    id: str = Field(primary_key=True)
    user_id: str = fk("user_account.id")
    purpose: str = Field(max_length=20)
    token_hash: str = Field(unique=True, max_length=64)
    email: str = Field(max_length=320)
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field(index=True)
    used_at: datetime | None = utc_field(nullable=True)


classify(
    EmailToken,
    holder=Holder.CONTROLLER,
    purpose="Verifying that a platform user controls an email address, and resetting a forgotten password",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until used or expired; then removed at the next retention run. The token that confirmed an email change is "
    "kept as long as the outbox keeps mails (outbox_retention_days), to find the notice sent to the former address",
    data_subjects="platform users",
    personal={"email": Category.CONTACT, "token_hash": Category.CREDENTIALS},
)
