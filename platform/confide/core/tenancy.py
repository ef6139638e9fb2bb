"""Roles, the one permission table, the tenant context of a request, and the one tenant filter.

Every tenant-scoped route depends on `require(permission)`; every tenant-scoped query goes through
`tenant_select` / `get_for_tenant`. A tenant the caller is not a member of answers 404, like a
missing one, so nothing about other tenants can be inferred. A query parameter that names one of the
tenant's own objects (`?avatar_id=`, `?definition_id=`) is declared with `owned_filter`: an id of
another tenant's object answers 404 exactly as an unknown id, as a path id does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.auth import Principal, PrincipalDep
from confide.core.db import SessionDep
from confide.core.errors import AccountRestricted, NotFound, PermissionDenied
from confide.core.identity import Membership, Tenant

M = TypeVar("M")


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    OPERATOR = "operator"
    ANALYST = "analyst"


class Permission(StrEnum):
    TENANT_READ = "tenant:read"
    TENANT_MANAGE = "tenant:manage"
    MEMBERS_READ = "members:read"
    MEMBERS_MANAGE = "members:manage"
    API_KEYS_MANAGE = "api_keys:manage"
    AVATARS_READ = "avatars:read"
    AVATARS_WRITE = "avatars:write"
    CHATS_READ = "chats:read"
    CHATS_OPERATE = "chats:operate"
    EVALUATION_READ = "evaluation:read"
    PRIVACY_READ = "privacy:read"
    PRIVACY_MANAGE = "privacy:manage"
    DATA_EXPORT = "data:export"
    DATA_ERASE = "data:erase"


_READ = {Permission.TENANT_READ, Permission.MEMBERS_READ, Permission.AVATARS_READ, Permission.CHATS_READ, Permission.EVALUATION_READ}

# The one permission table. Read it top to bottom: each role and exactly what it may do.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(_READ | {Permission.AVATARS_WRITE}),
    Role.OPERATOR: frozenset(_READ | {Permission.CHATS_OPERATE}),
    Role.ANALYST: frozenset(_READ),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: str
    role: Role
    principal: Principal

    @property
    def actor(self) -> str:
        """Who acts, for audit trails: a user id or an API key id."""
        return self.principal.id


async def resolve_tenant_context(session: AsyncSession, principal: Principal, tenant_id: str) -> TenantContext:
    if principal.kind == "api_key":
        if principal.tenant_id != tenant_id:
            raise NotFound("No such tenant.")
        return TenantContext(tenant_id, Role(principal.role), principal)
    role = await session.scalar(
        select(Membership.role).where(Membership.tenant_id == tenant_id, Membership.user_id == principal.user_id)
    )
    if role is None:
        raise NotFound("No such tenant.")
    return TenantContext(tenant_id, Role(role), principal)


async def tenant_context(
    session: SessionDep,
    principal: PrincipalDep,
    tenant_id: str = Path(description="The tenant's id."),
) -> TenantContext:
    """A dependency: the caller in the path's tenant, a member (or one of its API keys) with an active account.
    404 for a tenant the caller is not in, then 403 `account-restricted`. FastAPI resolves it once per request,
    however many dependencies (`require`, `owned_filter`) build on it."""
    ctx = await resolve_tenant_context(session, principal, tenant_id)
    if principal.status != "active":
        raise AccountRestricted("Your account is restricted; lift the restriction to work in a tenant.")
    return ctx


def require(permission: Permission) -> Any:
    """A dependency: the caller must be a member of the path's tenant with `permission`."""

    async def dependency(ctx: Annotated[TenantContext, Depends(tenant_context)]) -> TenantContext:
        if not has_permission(ctx.role, permission):
            raise PermissionDenied(permission.value)
        return ctx

    dependency.__name__ = f"require_{permission.name.lower()}"
    return Depends(dependency)


def tenant_select(ctx: TenantContext, model: type[M], *columns: Any) -> Select[Any]:
    """SELECT from a tenant-scoped table, filtered to the context's tenant. The only way to query one."""
    stmt = select(*columns) if columns else select(model)
    return stmt.where(model.tenant_id == ctx.tenant_id)  # type: ignore[attr-defined]


def _not_found(what: str) -> NotFound:
    """The one wording of a tenant object that is not there: a path id and a query filter answer alike."""
    return NotFound(f"No such {what}.")


async def get_for_tenant(session: AsyncSession, ctx: TenantContext, model: type[M], object_id: str, what: str = "object", *, for_update: bool = False) -> M:
    """The tenant's object by id, or NotFound; `for_update` locks its row until the transaction ends (PostgreSQL)."""
    query = tenant_select(ctx, model).where(model.id == object_id)  # type: ignore[attr-defined]
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    obj = await session.scalar(query)
    if obj is None:
        raise _not_found(what)
    return obj


@dataclass(frozen=True, slots=True)
class OwnedFilter:
    """What an `owned_filter` dependency checks: the query parameter `name` names one of the tenant's `what`s."""

    name: str
    what: str


# The dependency function `owned_filter` builds → what it checks; read by confide.core.openapi_errors (the 404).
_OWNED_FILTERS: dict[Callable[..., Any], OwnedFilter] = {}


def owned_filter(model: type[Any], what: str, *, name: str, description: str, max_length: int = 64) -> Any:
    """A dependency for an optional query parameter `name` that names one of the tenant's objects of `model`
    (a `what`, e.g. "avatar"): the id, or None when the parameter is absent or empty. An id that is no `what` of
    the path's tenant (another tenant's as much as one that exists nowhere) answers 404 `not-found` with the
    wording of a path id (`No such avatar.`): a filter that quietly matched nothing would pass for "no data" and
    tell one tenant what another has. Use it as the type of the route's parameter:

        AvatarFilter = Annotated[str | None, owned_filter(Avatar, "avatar", name="avatar_id", description="Only this avatar.")]

    It builds on `tenant_context`, so a tenant the caller is not in still answers "No such tenant.". The route's
    `require(...)`, declared before the filter as every route does, checks its permission first; every role may
    read what a filter names anyway. OpenAPI documents the 404 from the dependency itself
    (confide.core.openapi_errors), so a route declares none."""
    spec = OwnedFilter(name, what)
    column = model.id
    # The parameter's declaration as a default value: annotations are strings here (postponed), read in the module's globals.
    query = Query(
        None,
        alias=name,
        max_length=max_length,
        description=f"{description.rstrip('.')}; an id that is no {what} of this tenant answers 404 (`not-found`), as an unknown one.",
    )

    async def dependency(
        session: SessionDep,
        ctx: Annotated[TenantContext, Depends(tenant_context)],
        object_id: str | None = query,
    ) -> str | None:
        if object_id and await session.scalar(tenant_select(ctx, model, column).where(column == object_id)) is None:
            raise _not_found(what)
        return object_id

    dependency.__name__ = f"{name}_filter"
    _OWNED_FILTERS[dependency] = spec
    return Depends(dependency)


def owned_filter_of(call: Callable[..., Any]) -> OwnedFilter | None:
    """What a dependency checks, when `owned_filter` built it; None for every other dependency."""
    return _OWNED_FILTERS.get(call)


async def tenant_exists(session: AsyncSession, tenant_id: str) -> bool:
    return await session.scalar(select(Tenant.id).where(Tenant.id == tenant_id)) is not None
