"""The identity tables every domain's authentication and tenancy rest on: users, tenants,
memberships, login sessions and tenant API keys. Their services live in accounts/ and tenants/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from confide.core.classification import Category, Holder, classify
from confide.core.clock import utcnow
from confide.core.db import UTCDateTime


def utc_field(*, nullable: bool = False, index: bool = False, default_now: bool = False) -> datetime:
    kwargs = {"default_factory": utcnow} if default_now else {"default": None}
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kwargs)  # type: ignore[return-value]


def fk(target: str, *, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True) -> str:
    return Field(  # type: ignore[return-value]
        default=None if nullable else ...,
        sa_column=Column(String, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: str = Field(primary_key=True)
    email: str = Field(unique=True, max_length=320)
    first_name: str = Field(max_length=100)
    surname: str = Field(max_length=100)
    pseudonym: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    company_name: str | None = Field(default=None, max_length=200)
    password_hash: str
    email_verified_at: datetime | None = utc_field(nullable=True)
    pending_email: str | None = Field(default=None, max_length=320)
    newsletter_opt_in: bool = False
    privacy_policy_version: str = Field(max_length=40)
    registration_ip: str | None = Field(default=None, max_length=45)
    registered_at: datetime = utc_field(default_now=True)
    updated_at: datetime = utc_field(default_now=True)
    status: str = Field(default="active", max_length=20)


classify(
    User,
    holder=Holder.CONTROLLER,
    purpose="Platform accounts: registration, identification and the contract (policy VII)",
    legal_basis="Art. 6(1)(b) GDPR; Art. 6(1)(a) for the newsletter",
    retention="Until the account is deleted; one whose e-mail address is never verified, once its verification link and unverified_account_grace_hours have passed",
    data_subjects="platform users",
    personal={
        "email": Category.CONTACT,
        "pending_email": Category.CONTACT,
        "phone": Category.CONTACT,
        "first_name": Category.IDENTITY,
        "surname": Category.IDENTITY,
        "pseudonym": Category.IDENTITY,
        "company_name": Category.ORGANISATION,
        "password_hash": Category.CREDENTIALS,
        "registration_ip": Category.NETWORK,
        "newsletter_opt_in": Category.CONSENT,
        "privacy_policy_version": Category.CONSENT,
    },
)


class Tenant(SQLModel, table=True):
    __tablename__ = "tenant"

    id: str = Field(primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = utc_field(default_now=True)


classify(
    Tenant,
    holder=Holder.NONE,
    purpose="Business customers of the platform",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until the contract ends",
    not_personal=("name",),
)


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    user_id: str = fk("user_account.id")
    role: str = Field(max_length=20)
    created_at: datetime = utc_field(default_now=True)


classify(
    Membership,
    holder=Holder.CONTROLLER,
    purpose="Which platform user works for which tenant, in which role",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until the member leaves or the account is deleted",
    data_subjects="platform users",
)


class AuthSession(SQLModel, table=True):
    """A login: the bearer token is random and only its SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True)
    user_id: str = fk("user_account.id")
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = utc_field(default_now=True)
    expires_at: datetime = utc_field(index=True)
    revoked_at: datetime | None = utc_field(nullable=True)


classify(
    AuthSession,
    holder=Holder.CONTROLLER,
    purpose="Keeping a platform user signed in",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until expiry or logout; expired sessions are removed",
    data_subjects="platform users",
    personal={"token_hash": Category.CREDENTIALS},
)


class ApiKey(SQLModel, table=True):
    """A tenant's server-to-server key, with a role; only its SHA-256 is stored."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True)
    tenant_id: str = fk("tenant.id")
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    key_hash: str = Field(unique=True, max_length=64)
    key_prefix: str = Field(max_length=16)
    created_by: str | None = fk("user_account.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = utc_field(default_now=True)
    revoked_at: datetime | None = utc_field(nullable=True)


classify(
    ApiKey,
    holder=Holder.NONE,
    purpose="Server-to-server access for a tenant",
    legal_basis="Art. 6(1)(b) GDPR",
    retention="Until revoked and the tenant ends",
    not_personal=("name", "key_hash", "key_prefix", "created_by"),
)
