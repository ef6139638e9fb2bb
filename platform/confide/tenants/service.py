"""Tenant logic: creating tenants, membership and role rules, invitations, API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.auth import Principal
from confide.core.clock import utcnow
from confide.core.errors import Conflict, InvalidInput, InvalidToken, NotFound, PermissionDenied, PersonRequired, Unauthorized
from confide.core.identity import ApiKey, Membership, Tenant, User
from confide.privacy.holds import lock_tenant
from confide.core.ids import new_id
from confide.core.mail import MailKind
from confide.core.security import API_KEY_PREFIX, ONE_TIME_TOKEN_PREFIX, hash_token, new_token
from confide.core.services import Services
from confide.core.tenancy import Permission, Role, TenantContext, get_for_tenant, has_permission, role_now, tenant_select
from confide.realtime.access import access_changed_after_commit
from confide.tenants.models import Invitation, TenantClosure


async def create_tenant(session: AsyncSession, *, owner: Principal, name: str) -> Tenant:
    tenant = Tenant(id=new_id("ten"), name=name)
    session.add(tenant)
    await session.flush()
    session.add(Membership(id=new_id("mem"), tenant_id=tenant.id, user_id=owner.id, role=Role.OWNER))
    await session.flush()
    return tenant


def my_tenants_query(user_id: str) -> Any:
    return select(Tenant.id, Tenant.name, Tenant.created_at, Membership.role).join(Membership, Membership.tenant_id == Tenant.id).where(
        Membership.user_id == user_id
    )


async def get_tenant(session: AsyncSession, ctx: TenantContext) -> Tenant:
    tenant = await session.get(Tenant, ctx.tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def _check_can_grant(ctx: TenantContext, role: Role) -> None:
    """Only owners make owners; nobody grants more than they hold."""
    if role == Role.OWNER and ctx.role != Role.OWNER:
        raise PermissionDenied(Permission.MEMBERS_MANAGE.value, "Only an owner can grant the owner role.")


async def _member_locked(session: AsyncSession, ctx: TenantContext, member_id: str) -> Membership:
    """The membership as it stands once the tenant row is locked: one changed or removed by the request that held
    the lock before is read anew (the session may hold the row from the caller's own access check)."""
    return await get_for_tenant(session, ctx, Membership, member_id, "member", for_update=True)


async def _still_allowed(session: AsyncSession, ctx: TenantContext, permission: Permission) -> TenantContext:
    """The caller's context read anew once the tenant row is locked (or, on SQLite, the database's write lock is
    held), with the permission checked again: the role `tenant_context` read when the request came in may have
    been taken away since, by a removal, a role change, the account's erasure or the tenant's closure, each of which
    takes the same lock (withdraw_grants revokes what the member handed out before that). A member read as gone
    answers 404 as a tenant they are not in; an API key revoked meanwhile answers 401."""
    if ctx.principal.kind == "api_key":
        await _check_key_still_valid(session, ctx.principal.id)
        role = ctx.role  # a key's role never changes
    else:
        role = await role_now(session, ctx)  # 404 for a member no more, 401 for an account erased meanwhile
    if not has_permission(role, permission):
        raise PermissionDenied(permission.value)
    return TenantContext(ctx.tenant_id, role, ctx.principal)


async def _owner_count(session: AsyncSession, ctx: TenantContext) -> int:
    """Called with the tenant row locked (lock_tenant): two owners demoting or removing each other at the same moment
    both counted two owners and left the tenant with none (API review); now the second counts after the first."""
    return int(await session.scalar(tenant_select(ctx, Membership, func.count()).where(Membership.role == Role.OWNER)) or 0)


def members_query(ctx: TenantContext) -> Any:
    return tenant_select(ctx, Membership, Membership, User).join(User, User.id == Membership.user_id)


async def change_member_role(session: AsyncSession, ctx: TenantContext, *, member_id: str, role: Role) -> Membership:
    await lock_tenant(session, ctx.tenant_id)  # owners counted below: two demotions at once must not both pass (_owner_count)
    member = await _member_locked(session, ctx, member_id)
    _check_can_grant(ctx, role)
    if member.role == Role.OWNER and ctx.role != Role.OWNER:
        raise PermissionDenied(Permission.MEMBERS_MANAGE.value, "Only an owner can change an owner's role.")
    if member.role == Role.OWNER and role != Role.OWNER and await _owner_count(session, ctx) <= 1:
        raise Conflict("A tenant needs at least one owner; make someone else owner first.")
    member.role = role
    await withdraw_grants(session, user_id=member.user_id, tenant_id=ctx.tenant_id, role=role)
    access_changed_after_commit(session, tenant_id=ctx.tenant_id, user_id=member.user_id)  # their operator sockets are re-checked once committed
    await session.flush()
    return member


async def remove_member(session: AsyncSession, ctx: TenantContext, *, member_id: str) -> None:
    await lock_tenant(session, ctx.tenant_id)
    member = await _member_locked(session, ctx, member_id)
    if member.role == Role.OWNER and ctx.role != Role.OWNER:
        raise PermissionDenied(Permission.MEMBERS_MANAGE.value, "Only an owner can remove an owner.")
    if member.role == Role.OWNER and await _owner_count(session, ctx) <= 1:
        raise Conflict("A tenant needs at least one owner; make someone else owner first.")
    await withdraw_grants(session, user_id=member.user_id, tenant_id=ctx.tenant_id, role=None)
    await session.delete(member)
    access_changed_after_commit(session, tenant_id=ctx.tenant_id, user_id=member.user_id)  # their operator sockets close once committed
    await session.flush()


async def withdraw_grants(session: AsyncSession, *, user_id: str, tenant_id: str | None, role: Role | None) -> None:
    """What a member handed out never outlasts their right to hand it out: the API keys they created and the open
    invitations they sent are revoked when they leave the tenant (`role` None; `tenant_id` None: every tenant, for
    an erased account), and when their new `role` could no longer grant them (no `api_keys:manage`: their keys; no
    `members:manage`: their invitations; no longer owner: their invitations to the owner role). A departing admin,
    or someone who held their session for a minute, keeps no key to the tenant, nor an invitation one of their
    keys sent (revoked with the key, see revoke_key_invitations)."""
    now = utcnow()
    keys = update(ApiKey).where(ApiKey.created_by == user_id, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr,arg-type]
    their_keys = select(ApiKey.id).where(ApiKey.created_by == user_id)  # type: ignore[arg-type]
    invitations = update(Invitation).where(
        Invitation.invited_by == user_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)  # type: ignore[union-attr,arg-type]
    )
    if tenant_id is not None:
        keys = keys.where(ApiKey.tenant_id == tenant_id)  # type: ignore[arg-type]
        their_keys = their_keys.where(ApiKey.tenant_id == tenant_id)  # type: ignore[arg-type]
        invitations = invitations.where(Invitation.tenant_id == tenant_id)  # type: ignore[arg-type]
    if role is None or not has_permission(role, Permission.API_KEYS_MANAGE):
        await session.execute(keys.values(revoked_at=now).execution_options(synchronize_session=False))
        # After the keys (see revoke_key_invitations): all of their keys, also those revoked before, whose
        # invitations already went with them.
        await revoke_key_invitations(session, key_ids=their_keys, now=now)
    if role is not None and has_permission(role, Permission.MEMBERS_MANAGE):
        if role == Role.OWNER:
            return
        invitations = invitations.where(Invitation.role == Role.OWNER)  # type: ignore[arg-type]
    await session.execute(invitations.values(revoked_at=now).execution_options(synchronize_session=False))


async def revoke_key_invitations(session: AsyncSession, *, key_ids: Any, now: datetime) -> None:
    """Revoke the open invitations the API keys `key_ids` (ids, or a select of them) sent: an invitation goes with
    the key that sent it, whoever revokes the key (its DELETE, its creator leaving or being erased). Run it after the
    keys' revoked_at is written, in the same transaction: an invitation the key is sending meanwhile holds its key
    row share-locked (invite) on PostgreSQL, so the key's update waits for it to be committed and this statement
    then sees it; on SQLite the writes queue, and an invitation stored after the key was revoked is refused there."""
    await session.execute(
        update(Invitation)
        .where(Invitation.invited_by_api_key_id.in_(key_ids), Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


PENDING_INVITATION = "An invitation to that address is pending; revoke it first or wait until it expires."


def _open_to(ctx: TenantContext, email: str) -> tuple[Any, ...]:
    """The tenant's open invitations to `email` (neither accepted nor revoked; expired or not), as conditions: what
    the partial unique index uq_invitation_open_email allows one of."""
    return (Invitation.tenant_id == ctx.tenant_id, Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))  # type: ignore[union-attr]


async def invite(session: AsyncSession, services: Services, ctx: TenantContext, *, email: str, role: Role) -> Invitation:
    """One pending invitation per address and tenant: another, while one is neither accepted, revoked nor expired, is
    refused (409 conflict, with its `invitation_id`) instead of leaving two live tokens for the same person. An expired
    one to the address is revoked by the new invitation. The database holds the rule (a partial unique index on the
    open invitations): two invitations sent at once both pass the check below on SQLite, whose reads take no lock, and
    the second one's insert is refused there; it gets the same 409."""
    _check_can_grant(ctx, role)
    email = email.strip().lower()
    # The tenant's row locked (PostgreSQL) so two invitations sent at once queue here and the second sees the first.
    # FOR NO KEY UPDATE (key_share): rows inserted referring to the tenant are not held up.
    tenant = await session.scalar(select(Tenant).where(Tenant.id == ctx.tenant_id).with_for_update(key_share=True))
    if tenant is None:
        raise NotFound("No such tenant.")
    already = await session.scalar(
        tenant_select(ctx, Membership, Membership.id).join(User, User.id == Membership.user_id).where(User.email == email)
    )
    if already is not None:
        raise Conflict("That person is already a member.")
    now = utcnow()
    pending = await session.scalar(select(Invitation.id).where(*_open_to(ctx, email), Invitation.expires_at > now))
    if pending is not None:
        raise Conflict(PENDING_INVITATION, invitation_id=pending)
    # Expired ones still hold the index's place: the new invitation supersedes them.
    await session.execute(
        update(Invitation)
        .where(*_open_to(ctx, email), Invitation.expires_at <= now)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token, digest = new_token(ONE_TIME_TOKEN_PREFIX)
    invitation = Invitation(
        id=new_id("inv"),
        tenant_id=ctx.tenant_id,
        email=email,
        role=role,
        token_hash=digest,
        invited_by=ctx.principal.user_id,
        invited_by_api_key_id=ctx.principal.id if ctx.principal.kind == "api_key" else None,
        expires_at=now + timedelta(hours=services.settings.invitation_ttl_hours),
    )
    try:
        async with session.begin_nested():
            session.add(invitation)
            await session.flush()
    except IntegrityError:  # another invitation to the address was stored at the same moment (SQLite)
        pending = await session.scalar(select(Invitation.id).where(*_open_to(ctx, email)))
        if pending is None:
            # Or the sender's account was erased since the request came in, and `invited_by` names no account any
            # more: refused as a request sent after the erasure is, 401 (it was a 500).
            await _still_allowed(session, ctx, Permission.MEMBERS_MANAGE)
            raise
        raise Conflict(PENDING_INVITATION, invitation_id=pending) from None
    # The sender's right to send it, read anew now that the invitation is stored: the tenant row is locked since the
    # start (PostgreSQL) and the insert holds the database's write lock (SQLite), so a removal, role change, erasure
    # or closure of the sender either was committed before and is seen here (the invitation is refused), or comes
    # after and revokes it with the sender's others (withdraw_grants). An admin removed while inviting left open
    # invitations that still let people in (API review, as for API keys). For an API key: its revocation
    # (_check_key_still_valid).
    _check_can_grant(await _still_allowed(session, ctx, Permission.MEMBERS_MANAGE), role)
    await services.mailer.send(
        email,
        f"You are invited to {tenant.name} on Confide",
        f"Hello,\n\nyou are invited to join {tenant.name} on Confide as {role.value}.\n"
        f"Sign in (or register with this address), then accept with this token:\n\n{token}\n\n"
        f"POST it to /v1/invitations/accept. It expires in {services.settings.invitation_ttl_hours} hours.\n",
        kind=MailKind.INVITATION,
    )
    return invitation


async def _check_key_still_valid(session: AsyncSession, key_id: str) -> None:
    """The key that sends an invitation may be revoked while it does (it was checked when the request came in): read
    it again once the invitation is stored, share-locked on PostgreSQL, so that a revocation either waits for this
    invitation to be committed and then revokes it too (revoke_key_invitations), or was committed first and this
    invitation is refused. On SQLite the invitation's insert holds the database's write lock, so this read sees
    every revocation committed before."""
    live = await session.scalar(select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).with_for_update(read=True))  # type: ignore[union-attr]
    if live is None:
        raise Unauthorized("This API key was revoked.")


async def revoke_invitation(session: AsyncSession, ctx: TenantContext, *, invitation_id: str) -> Invitation:
    await lock_tenant(session, ctx.tenant_id)  # one after the other with an acceptance (accept_invitation)
    invitation = await get_for_tenant(session, ctx, Invitation, invitation_id, "invitation", for_update=True)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        await session.flush()
    return invitation


async def accept_invitation(session: AsyncSession, *, user: Principal, token: str) -> tuple[Tenant, Membership]:
    """With the tenant row locked, as a revocation, a role change and the tenant's closure take it: of those at the
    same moment the first wins, and an acceptance after a revocation or a closure is refused. The same token sent
    three times at once gave one 200 and two 500s, a revocation that answered first let the invitee in all the
    same, and an invitee could join a closing tenant (API review)."""
    now = utcnow()
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is not None:
        await lock_tenant(session, invitation.tenant_id)
        invitation = await session.scalar(select(Invitation).where(Invitation.id == invitation.id).execution_options(populate_existing=True))
        if invitation is not None and await session.scalar(select(TenantClosure.id).where(TenantClosure.tenant_id == invitation.tenant_id)) is not None:
            invitation = None  # the tenant is closing: its invitations are void
    account = await session.get(User, user.id)
    if (
        invitation is None
        or account is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
        or invitation.email != account.email
    ):
        raise InvalidToken("This invitation is unknown, used, revoked, expired, or addressed to another email address.")
    existing = await session.scalar(select(Membership).where(Membership.tenant_id == invitation.tenant_id, Membership.user_id == user.id))
    if existing is not None:
        raise Conflict("You are already a member of this tenant.")
    membership = Membership(id=new_id("mem"), tenant_id=invitation.tenant_id, user_id=user.id, role=invitation.role)
    session.add(membership)
    invitation.accepted_at = now
    await session.flush()
    tenant = await session.get(Tenant, invitation.tenant_id)
    assert tenant is not None
    return tenant, membership


async def create_api_key(session: AsyncSession, ctx: TenantContext, *, name: str, role: Role) -> tuple[ApiKey, str]:
    if ctx.principal.kind != "user" or ctx.principal.user_id is None:
        raise PersonRequired(
            "API keys are created by a member signed in as themselves, so that every key has a person who answers for it "
            "(and it goes when they leave): an API key cannot create one."
        )
    if role == Role.OWNER:
        raise InvalidInput("body.role", "An API key cannot hold the owner role.")
    # With the tenant row locked, as removing a member, changing a role and closing the tenant take it, and the
    # creator's membership read anew: a key created while its creator was being removed (or the tenant closed)
    # outlived their right to hand it out, since withdraw_grants had revoked their keys before it (API review).
    await lock_tenant(session, ctx.tenant_id)
    ctx = await _still_allowed(session, ctx, Permission.API_KEYS_MANAGE)
    _check_can_grant(ctx, role)
    key, digest = new_token(API_KEY_PREFIX)
    api_key = ApiKey(
        id=new_id("key"), tenant_id=ctx.tenant_id, name=name, role=role, key_hash=digest, key_prefix=key[:12], created_by=ctx.principal.user_id
    )
    session.add(api_key)
    await session.flush()
    return api_key, key


async def revoke_api_key(session: AsyncSession, ctx: TenantContext, *, key_id: str) -> ApiKey:
    """The key stops working, and the open invitations it sent are revoked with it."""
    api_key = await get_for_tenant(session, ctx, ApiKey, key_id, "API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        await session.flush()  # the key's row first (see revoke_key_invitations)
    await revoke_key_invitations(session, key_ids=[api_key.id], now=utcnow())  # also when sent again: nothing of the key's stays open
    return api_key
