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
from sqlalchemy import Select, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from confide.core.auth import Principal, PrincipalDep
from confide.core.db import SessionDep, sqlite_write_lock
from confide.core.errors import TOKEN_NOT_VALID, AccountRestricted, NotFound, PermissionDenied, Unauthorized
from confide.core.identity import ApiKey, Membership, Tenant, User

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
    check_sender_before_writing(session, ctx)
    return ctx


def require(permission: Permission) -> Any:
    """A dependency: the caller must be a member of the path's tenant with `permission`."""

    async def dependency(session: SessionDep, ctx: Annotated[TenantContext, Depends(tenant_context)]) -> TenantContext:
        if not has_permission(ctx.role, permission):
            raise PermissionDenied(permission.value)
        check_sender_before_writing(session, ctx, permission)
        return ctx

    dependency.__name__ = f"require_{permission.name.lower()}"
    return Depends(dependency)


_SENDER = "confide.tenant_sender"  # key in Session.info: (TenantContext, permissions) until the request's first write


def check_sender_before_writing(session: AsyncSession, ctx: TenantContext, permission: Permission | None = None) -> None:
    """Read the caller's membership (or API key) again just before the request's first write, with the permissions
    its route requires: a member removed, demoted or erased, or a tenant closed, between the request's arrival and
    its work got their change stored after the removal (an avatar published, a webhook added in a closing tenant),
    or a 500 for a row naming an erased account. It is now refused, and nothing stored, as the same request sent
    after the change is: 404 (no member), 403 (role lost), 401 (account erased, key revoked). One read per writing
    request, none for one that only reads. Before the write, not after it: a request changing its caller's own
    role or membership would otherwise be judged by its own change."""
    sync = session.sync_session
    entry = sync.info.get(_SENDER)
    if entry is None:
        entry = sync.info[_SENDER] = (ctx, set())
        if not event.contains(sync, "before_flush", _before_flush):
            event.listen(sync, "before_flush", _before_flush)
            event.listen(sync, "do_orm_execute", _before_statement)
    if permission is not None:
        entry[1].add(permission)


async def check_sender_now(session: AsyncSession) -> None:
    """The same check, at once: for a route whose writes go through another session (the chat runtime's, the
    evaluator's), which the request's own session does not see."""
    await session.run_sync(_check_sender, lock=False)  # a read: the other session takes the write lock


def _before_flush(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        _check_sender(session)


def _before_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _check_sender(state.session)


def _check_sender(session: Session, *, lock: bool = True) -> None:
    entry = session.info.pop(_SENDER, None)  # once per request: its first write
    if entry is None:
        return
    ctx, permissions = entry
    if lock and session.get_bind().dialect.name == "sqlite":
        # The database's write lock first, as the write would take it: a read first would open a snapshot that a
        # write committed meanwhile makes impossible to write from ("database is locked" at once, not after a wait).
        with session.no_autoflush:
            session.execute(sqlite_write_lock(Tenant.name, Tenant.id == ctx.tenant_id))
    role = _role_now(session, ctx)
    for permission in permissions:
        if not has_permission(role, permission):
            raise PermissionDenied(permission.value)


def _role_now(session: Session, ctx: TenantContext) -> Role:
    """The caller's role as the database has it now: 401 for an erased account or a revoked API key, 404 for a
    member no more, as a request sent now would be answered."""
    principal = ctx.principal
    with session.no_autoflush:
        if principal.kind == "api_key":
            if session.scalar(select(ApiKey.id).where(ApiKey.id == principal.id, ApiKey.revoked_at.is_(None))) is None:  # type: ignore[union-attr]
                raise Unauthorized(TOKEN_NOT_VALID)
            return ctx.role  # a key's role never changes
        role = session.scalar(select(Membership.role).where(Membership.tenant_id == ctx.tenant_id, Membership.user_id == principal.user_id))
        if role is None:
            if session.scalar(select(User.id).where(User.id == principal.user_id)) is None:
                raise Unauthorized(TOKEN_NOT_VALID)
            raise NotFound("No such tenant.")
    return Role(role)


async def role_now(session: AsyncSession, ctx: TenantContext) -> Role:
    """_role_now for async code (a check under a lock the caller holds)."""
    return await session.run_sync(_role_now, ctx)


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
