"""Request and response bodies of the tenant routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field

from confide.core.patching import not_clearable
from confide.core.schemas import LongName, Name, RequestBody, ResponseBody
from confide.core.tenancy import Role


class TenantCreate(RequestBody):
    name: LongName


class TenantUpdate(RequestBody):
    """Optional like every PATCH body's fields: what is left out stays as it is."""

    name: LongName = None  # type: ignore[assignment]

    _required = not_clearable("name")


class TenantOut(ResponseBody):
    id: str
    name: str
    created_at: datetime
    role: Role = Field(description="Your role in this tenant.")


class MemberOut(ResponseBody):
    id: str
    user_id: str
    role: Role
    email: str
    first_name: str
    surname: str
    pseudonym: str
    created_at: datetime


class MemberUpdate(RequestBody):
    role: Role


class InvitationCreate(RequestBody):
    email: EmailStr = Field(max_length=320)
    role: Role


class InvitationOut(ResponseBody):
    id: str
    email: str
    role: Role
    invited_by: str | None = Field(
        description="The user id of the member who sent the invitation; it is revoked while open when they leave the tenant, erase "
        "their account, or move to a role that could not send it. Null when an API key sent it (`invited_by_api_key_id`), and once "
        "the sender's account is erased."
    )
    invited_by_api_key_id: str | None = Field(
        description="The id of the API key that sent the invitation; it is revoked while open when the key is revoked (by its DELETE, "
        "or with the keys of a member who leaves, erases their account or loses `api_keys:manage`), and when the tenant closes. "
        "Null when a member sent it (`invited_by`)."
    )
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationAccept(RequestBody):
    token: str = Field(min_length=10, max_length=200)


class ApiKeyCreate(RequestBody):
    name: Name
    role: Role = Field(description="Any role but owner.")


class ApiKeyOut(ResponseBody):
    id: str
    name: str
    role: Role
    key_prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    created_by: str | None = Field(
        description="The user id of the member who created the key. Their keys are revoked when they leave the tenant, erase their "
        "account, or move to a role without `api_keys:manage`. Null for a key an API key created before keys had to be created by "
        "a person, and for a key whose creator's account was erased (revoked with it)."
    )
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key. Shown only now; store it safely.")


class TenantClose(RequestBody):
    confirm_tenant_id: str = Field(
        min_length=1, max_length=64, description="This tenant's id again, to confirm: closing deletes all of the tenant's data and cannot be undone."
    )


class TenantClosureOut(ResponseBody):
    id: str
    tenant_id: str
    status: Literal["closing", "closed", "failed"] = Field(
        description="closing: off the air, memberships ended, chat data being erased; closed: the tenant and all its data are deleted; "
        "failed: see `error`; it was tried again automatically and gave up; send the DELETE again (or a platform operator retries it)."
    )
    requested_at: datetime
    finished_at: datetime | None
    erasure_request_id: str | None = Field(description="The `tenant`-scope erasure request that erases the chat data (deleted with the tenant).")
    error: str | None = Field(description="The last failure's kind, also while a `closing` closure is being tried again; never data.")
    attempts: int = Field(description="Failed rounds since the closure was (re)started; at 3 it is `failed`.")
    receipt: dict[str, Any] | None = Field(
        description="Once closed: what was deleted, per store and per table; counts only, never content. While the tenant's rows "
        "are being deleted: the counts so far."
    )
