"""Tenant routes, all under /v1/tenants/{tenant_id}/… except creating, listing and accepting invitations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from confide.core.auth import ActiveUserDep, Principal, PrincipalDep, UserDep
from confide.core.db import SessionDep
from confide.core.errors import AccountRestricted, NotFound, PermissionDenied
from confide.core.identity import ApiKey, Membership, Tenant
from confide.core.openapi_errors import more_forbidden
from confide.core.patching import patch_rule
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, Role, TenantContext, check_sender_before_writing, has_permission, require, resolve_tenant_context, tenant_select
from confide.privacy.erasure import wake_erasure_worker
from confide.tenants import closure, service
from confide.tenants.models import Invitation, TenantClosure
from confide.tenants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    InvitationAccept,
    InvitationCreate,
    InvitationOut,
    MemberOut,
    MemberUpdate,
    TenantClose,
    TenantClosureOut,
    TenantCreate,
    TenantOut,
    TenantUpdate,
)

router = APIRouter(prefix="/v1", tags=["tenants"])



@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantOut,
    summary="Create a tenant; you become its owner",
    description="Signed in as a person with an account that is not restricted; an API key answers 403 `person-required`. The new tenant has you as "
    "its only owner, no avatars, and the default processing instructions (version 0) until an owner or admin gives its own.",
)
async def create_tenant(body: TenantCreate, principal: ActiveUserDep, session: SessionDep) -> TenantOut:
    tenant = await service.create_tenant(session, owner=principal, name=body.name)
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role="owner")


@router.get(
    "/tenants",
    response_model=Page[TenantOut],
    summary="List the tenants I belong to",
    description="Every tenant you are a member of, with your `role` in each, in the order the tenants were created, cursor-paged. A tenant you left "
    "or closed is not listed (the membership ended). For a person's sign-in: an API key answers 403 `person-required`; a restricted account may "
    "still read it.",
)
async def list_my_tenants(principal: UserDep, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[TenantOut]:
    rows, next_cursor = await paginate(
        session, service.my_tenants_query(principal.id), Tenant.id, cursors=services.cursors, scope=f"tenants:{principal.id}", cursor=cursor, limit=limit, rows=True
    )
    return Page(items=[TenantOut(id=r.id, name=r.name, created_at=r.created_at, role=r.role) for r in rows], next_cursor=next_cursor)


@router.get(
    "/tenants/{tenant_id}",
    response_model=TenantOut,
    summary="Read a tenant",
    description="Any member may read it, whatever the role, and so may the tenant's own API keys; `role` is the caller's role here. A tenant you do "
    "not belong to answers 404, exactly like one that does not exist.",
)
async def read_tenant(ctx: Annotated[TenantContext, require(Permission.TENANT_READ)], session: SessionDep) -> TenantOut:
    tenant = await service.get_tenant(session, ctx)
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=ctx.role)


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, summary="Rename a tenant", description=patch_rule())
async def update_tenant(body: TenantUpdate, ctx: Annotated[TenantContext, require(Permission.TENANT_MANAGE)], session: SessionDep) -> TenantOut:
    tenant = await service.get_tenant(session, ctx)
    if "name" in body.model_fields_set:
        tenant.name = body.name
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=ctx.role)


@dataclass(frozen=True)
class Closer:
    """Who sends DELETE /v1/tenants/{tenant_id}: an owner of the tenant (ctx), or whoever closed it before (closure)."""

    principal: Principal
    ctx: TenantContext | None
    closure: TenantClosure | None


TenantIdPath = Annotated[str, Path(description="The tenant's id.")]


async def _my_closure(session: SessionDep, principal: Principal, tenant_id: str) -> TenantClosure | None:
    return await closure.closure_of(session, tenant_id, requested_by=principal.user_id if principal.kind == "user" else None)


async def closer(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> Closer:
    """Like require(): 404 for a tenant the caller is not in, 403 for every role but owner. A retry by the
    user who closed it (their membership ended then) finds their closure instead."""
    mine = await _my_closure(session, principal, tenant_id)
    ctx = None if mine is not None else await resolve_tenant_context(session, principal, tenant_id)  # 404 before anything else
    if principal.status != "active":  # retrying one's own closure is work in the tenant like any other
        raise AccountRestricted("Your account is restricted; lift the restriction to work in a tenant.")
    if mine is not None:
        return Closer(principal, None, mine)
    assert ctx is not None
    if not has_permission(ctx.role, Permission.TENANT_MANAGE):
        raise PermissionDenied(Permission.TENANT_MANAGE.value)
    if ctx.role != Role.OWNER:
        raise PermissionDenied(Permission.TENANT_MANAGE.value, "Only an owner can close a tenant.")
    check_sender_before_writing(session, ctx, Permission.TENANT_MANAGE)
    return Closer(principal, ctx, None)


async def closure_reader(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> TenantClosure:
    mine = await _my_closure(session, principal, tenant_id)
    if mine is not None:
        return mine
    await resolve_tenant_context(session, principal, tenant_id)  # "No such tenant." for a tenant the caller is not in
    raise NotFound("This tenant is not being closed.")


CLOSE_DESCRIPTION = (
    "Owners only, with the tenant's id repeated in the JSON body (`confirm_tenant_id`); cannot be undone. At once: every avatar is "
    "archived (widget keys stop resolving, so no chat starts; visitor and operator websockets already open, on every node, are "
    "closed with code 4404 after an `error` frame `tenant-closed`: on a node out of touch with Redis then, once it is back), webhooks stop, API keys and open invitations are revoked, "
    "and every membership ends (so the owner's account can be erased right away). The chat data is then erased by a "
    "`tenant`-scope erasure request in the background, and the tenant with every row that belongs to it (avatars, knowledge, "
    "guidelines, webhooks, API keys, processing instructions and log, erasure requests, evaluation data) is deleted. "
    "Follow it at `GET /v1/tenants/{tenant_id}/closure` (the `Location` header); once `closed`, it carries a receipt with counts, "
    "never content. Refused (409) while a legal hold is in force; once the closure has started no legal hold can be placed "
    "(409 `tenant-closing`). A closure whose erasure or deletion fails is tried again automatically "
    "(`attempts`, `error`), 3 rounds in all, then it is `failed` with the reason. "
    "Sending it again is harmless: the one who closed it gets the closure (200), and a `failed` closure is queued again (202); "
    "a platform operator can retry a failed closure too (`POST /v1/admin/tenant-closures/{closure_id}/retry`)."
)


@router.delete(
    "/tenants/{tenant_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TenantClosureOut,
    summary="Close the tenant: off the air at once, then all its data deleted (owners only)",
    description=CLOSE_DESCRIPTION,
    responses={
        200: {"model": TenantClosureOut, "description": "Sent again by whoever closed it: the closure as it stands."},
        403: {"description": "Not an owner of this tenant (problem+json, `permission-denied`), or a restricted account (`account-restricted`)."},
        404: {"description": "No such tenant, or one you do not belong to (problem+json, `not-found`)."},
        409: {"description": "Legal holds are in force (problem+json, `legal-holds-active`, with `legal_holds`)."},
        422: {"description": "`confirm_tenant_id` missing or not this tenant's id (problem+json naming `body.confirm_tenant_id`)."},
    },
)
async def close_tenant(
    body: TenantClose, caller: Annotated[Closer, Depends(closer)], request: Request, response: Response, session: SessionDep, services: ServicesDep
) -> TenantClosureOut:
    if caller.closure is not None:
        found = caller.closure
        queued = await closure.retry_closure(session, found, principal=caller.principal, settings=services.settings, confirm_tenant_id=body.confirm_tenant_id)
    else:
        assert caller.ctx is not None
        found, queued = await closure.close_tenant(session, caller.ctx, settings=services.settings, confirm_tenant_id=body.confirm_tenant_id)
    await session.commit()
    if queued:
        await closure.announce_closed(services.broker, found.tenant_id, this_node=request.app.state.chat.live)  # every node cuts the tenant's open chats
        wake_erasure_worker(request.app)
    else:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/tenants/{found.tenant_id}/closure"
    return TenantClosureOut.model_validate(found)


@router.get(
    "/tenants/{tenant_id}/closure",
    response_model=TenantClosureOut,
    summary="Follow the closure of a tenant you closed: status and, once closed, the receipt",
    description="Only for the user who closed the tenant (the memberships ended with the closure); everyone else gets 404.",
)
async def read_closure(found: Annotated[TenantClosure, Depends(closure_reader)]) -> TenantClosureOut:
    return TenantClosureOut.model_validate(found)


def _member_out(member: Membership, user: object) -> MemberOut:
    return MemberOut(
        id=member.id,
        user_id=member.user_id,
        role=member.role,
        email=user.email,  # type: ignore[attr-defined]
        first_name=user.first_name,  # type: ignore[attr-defined]
        surname=user.surname,  # type: ignore[attr-defined]
        pseudonym=user.pseudonym,  # type: ignore[attr-defined]
        created_at=member.created_at,
    )


@router.get(
    "/tenants/{tenant_id}/members",
    response_model=Page[MemberOut],
    summary="List members and their roles",
    description="Every role may read it (`members:read`), and it shows each member's email address, names and pseudonym. Members come in the order "
    "they joined, cursor-paged; `id` is the membership id (`mem_…`) the member routes take, `user_id` the account's.",
)
async def list_members(
    ctx: Annotated[TenantContext, require(Permission.MEMBERS_READ)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[MemberOut]:
    rows, next_cursor = await paginate(
        session, service.members_query(ctx), Membership.id, cursors=services.cursors, scope=f"members:{ctx.tenant_id}", cursor=cursor, limit=limit, rows=True
    )
    return Page(items=[_member_out(m, u) for m, u in rows], next_cursor=next_cursor)


OWNERS_ONLY_GRANT = "the owner role granted by someone who is not an owner (`permission-denied`)"
SOLE_OWNER = "The member is the tenant's only owner (problem type `conflict`): make someone else owner first."


@router.patch(
    "/tenants/{tenant_id}/members/{member_id}",
    response_model=MemberOut,
    summary="Change a member's role",
    description="Owners and admins (`members:manage`); only an owner may grant the owner role or change an owner's role, and the last owner cannot "
    "be demoted (409). What the member handed out that the new role could not is revoked with it: their API keys without `api_keys:manage`, their "
    "open invitations without `members:manage`, their invitations to the owner role once they are no owner. Their operator websockets are re-checked "
    "at once and close if the new role may not operate chats.",
    responses={409: {"description": SOLE_OWNER}},
    openapi_extra=more_forbidden(OWNERS_ONLY_GRANT, "an owner's role changed by someone who is not an owner (`permission-denied`)"),
)
async def update_member(
    member_id: str, body: MemberUpdate, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep
) -> MemberOut:
    member = await service.change_member_role(session, ctx, member_id=member_id, role=body.role)
    await session.commit()
    row = (await session.execute(service.members_query(ctx).where(Membership.id == member.id))).one()
    return _member_out(*row)


@router.delete(
    "/tenants/{tenant_id}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    description="Owners and admins (`members:manage`); only an owner may remove an owner, and the tenant's last owner cannot be removed (409). The "
    "membership ends at once: the API keys the member created in this tenant are revoked, with the open invitations they or those keys sent, and "
    "their operator websockets close. The account itself stays; they can be invited again.",
    responses={409: {"description": SOLE_OWNER}},
    openapi_extra=more_forbidden("an owner removed by someone who is not an owner (`permission-denied`)"),
)
async def delete_member(member_id: str, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep) -> None:
    await service.remove_member(session, ctx, member_id=member_id)
    await session.commit()


@router.post(
    "/tenants/{tenant_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    summary="Invite a person by email",
    description="One pending invitation per address: while one to that address is neither accepted, revoked nor expired, "
    "another answers 409 `conflict` with its `invitation_id`; revoke it (`DELETE …/invitations/{invitation_id}`) to invite "
    "again at once, or wait until it expires (the new invitation then revokes the expired one: `revoked_at` set). "
    "Two invitations to one address sent at the same moment give one invitation, and the other request that 409.",
    responses={
        409: {
            "description": "That person is already a member, or an invitation to that address is pending (problem type `conflict`; "
            "then `invitation_id` names the pending invitation)."
        }
    },
    openapi_extra=more_forbidden(OWNERS_ONLY_GRANT),
)
async def create_invitation(
    body: InvitationCreate, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep, services: ServicesDep
) -> Invitation:
    invitation = await service.invite(session, services, ctx, email=body.email, role=body.role)
    await session.commit()
    return invitation


@router.get(
    "/tenants/{tenant_id}/invitations",
    response_model=Page[InvitationOut],
    summary="List invitations",
    description="Owners and admins (`members:manage`). The tenant's invitations in the order they were sent, cursor-paged: the pending ones, and "
    "accepted, revoked or expired ones until the next retention run deletes them. Tokens are never shown.",
)
async def list_invitations(
    ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[InvitationOut]:
    items, next_cursor = await paginate(
        session, tenant_select(ctx, Invitation), Invitation.id, cursors=services.cursors, scope=f"invitations:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.delete(
    "/tenants/{tenant_id}/invitations/{invitation_id}",
    response_model=InvitationOut,
    summary="Revoke an invitation",
    description="Owners and admins (`members:manage`). The invitation's token stops working at once. An invitation already accepted or revoked is "
    "answered as it is and nothing changes, so sending it again is harmless (an accepted invitation's member stays: remove the membership instead); "
    "revoked invitations are deleted by the next retention run, after which the id answers 404.",
)
async def revoke_invitation(invitation_id: str, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep) -> Invitation:
    invitation = await service.revoke_invitation(session, ctx, invitation_id=invitation_id)
    await session.commit()
    return invitation


@router.post(
    "/invitations/accept",
    response_model=TenantOut,
    summary="Accept an invitation mailed to my address",
    description="Signed in as the person invited: your account's confirmed email address must be the one the invitation went to. The token from the "
    "invitation mail works once, until the invitation is revoked or expires (`CONFIDE_INVITATION_TTL_HOURS`, a week by default); otherwise, or for "
    "another address, 400 `invalid-token`. You join with the invited role, and the answer is the tenant with it; an API key answers 403 "
    "`person-required`, a restricted account 403 `account-restricted`.",
    responses={409: {"description": "You are already a member of this tenant (problem type `conflict`)."}},
)
async def accept_invitation(body: InvitationAccept, principal: ActiveUserDep, session: SessionDep) -> TenantOut:
    tenant, membership = await service.accept_invitation(session, user=principal, token=body.token)
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=membership.role)


@router.post(
    "/tenants/{tenant_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key",
    description="Owners and admins (`api_keys:manage`), signed in as themselves: an API key cannot create keys. The key acts in this tenant only, "
    "with any role but owner (422 on `body.role`); its secret (`key`, `cfk_…`) is in this answer only (we store a hash), so keep it now. It works "
    "until revoked, and is revoked automatically when its creator leaves the tenant, erases their account or moves to a role without "
    "`api_keys:manage`.",
    openapi_extra=more_forbidden("an API key asking (keys are created by a member signed in as themselves: `person-required`)"),
)
async def create_api_key(body: ApiKeyCreate, ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep) -> ApiKeyCreated:
    api_key, secret = await service.create_api_key(session, ctx, name=body.name, role=body.role)
    await session.commit()
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(api_key).model_dump(), "key": secret})


@router.get(
    "/tenants/{tenant_id}/api-keys",
    response_model=Page[ApiKeyOut],
    summary="List API keys (never their secrets)",
    description="Owners and admins (`api_keys:manage`). Every key of the tenant, revoked ones included (`revoked_at`), in the order they were "
    "created, cursor-paged, with its name, role, creator and `key_prefix`, the first characters, to tell keys apart.",
)
async def list_api_keys(
    ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[ApiKeyOut]:
    items, next_cursor = await paginate(
        session, tenant_select(ctx, ApiKey), ApiKey.id, cursors=services.cursors, scope=f"api-keys:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.delete(
    "/tenants/{tenant_id}/api-keys/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    description="The key stops working at once, and the open invitations it sent (`invited_by_api_key_id`) are revoked with it. "
    "Sending it again is harmless.",
)
async def revoke_api_key(key_id: str, ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep) -> ApiKey:
    api_key = await service.revoke_api_key(session, ctx, key_id=key_id)
    await session.commit()
    return api_key
