"""Tenant routes, all under /v1/tenants/{tenant_id}/… except creating, listing and accepting invitations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from confide.core.auth import ActiveUserDep, UserDep
from confide.core.db import SessionDep
from confide.core.identity import ApiKey, Membership, Tenant
from confide.core.schemas import Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, require, tenant_select
from confide.tenants import service
from confide.tenants.models import Invitation
from confide.tenants.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    InvitationAccept,
    InvitationCreate,
    InvitationOut,
    MemberOut,
    MemberUpdate,
    TenantCreate,
    TenantOut,
    TenantUpdate,
)

router = APIRouter(prefix="/v1", tags=["tenants"])

Cursor = Annotated[str | None, Query(description="The `next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


@router.post("/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantOut, summary="Create a tenant; you become its owner")
async def create_tenant(body: TenantCreate, principal: ActiveUserDep, session: SessionDep) -> TenantOut:
    tenant = await service.create_tenant(session, owner=principal, name=body.name)
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role="owner")


@router.get("/tenants", response_model=Page[TenantOut], summary="List the tenants I belong to")
async def list_my_tenants(principal: UserDep, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[TenantOut]:
    rows, next_cursor = await paginate(
        session, service.my_tenants_query(principal.id), Tenant.id, cursors=services.cursors, scope=f"tenants:{principal.id}", cursor=cursor, limit=limit, rows=True
    )
    return Page(items=[TenantOut(id=r.id, name=r.name, created_at=r.created_at, role=r.role) for r in rows], next_cursor=next_cursor)


@router.get("/tenants/{tenant_id}", response_model=TenantOut, summary="Read a tenant")
async def read_tenant(ctx: Annotated[TenantContext, require(Permission.TENANT_READ)], session: SessionDep) -> TenantOut:
    tenant = await service.get_tenant(session, ctx)
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=ctx.role)


@router.patch("/tenants/{tenant_id}", response_model=TenantOut, summary="Rename a tenant")
async def update_tenant(body: TenantUpdate, ctx: Annotated[TenantContext, require(Permission.TENANT_MANAGE)], session: SessionDep) -> TenantOut:
    tenant = await service.get_tenant(session, ctx)
    tenant.name = body.name
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=ctx.role)


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


@router.get("/tenants/{tenant_id}/members", response_model=Page[MemberOut], summary="List members and their roles")
async def list_members(
    ctx: Annotated[TenantContext, require(Permission.MEMBERS_READ)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[MemberOut]:
    rows, next_cursor = await paginate(
        session, service.members_query(ctx), Membership.id, cursors=services.cursors, scope=f"members:{ctx.tenant_id}", cursor=cursor, limit=limit, rows=True
    )
    return Page(items=[_member_out(m, u) for m, u in rows], next_cursor=next_cursor)


@router.patch("/tenants/{tenant_id}/members/{member_id}", response_model=MemberOut, summary="Change a member's role")
async def update_member(
    member_id: str, body: MemberUpdate, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep
) -> MemberOut:
    member = await service.change_member_role(session, ctx, member_id=member_id, role=body.role)
    await session.commit()
    row = (await session.execute(service.members_query(ctx).where(Membership.id == member.id))).one()
    return _member_out(*row)


@router.delete("/tenants/{tenant_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a member")
async def delete_member(member_id: str, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep) -> None:
    await service.remove_member(session, ctx, member_id=member_id)
    await session.commit()


@router.post("/tenants/{tenant_id}/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationOut, summary="Invite a person by email")
async def create_invitation(
    body: InvitationCreate, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep, services: ServicesDep
) -> Invitation:
    invitation = await service.invite(session, services, ctx, email=body.email, role=body.role)
    await session.commit()
    return invitation


@router.get("/tenants/{tenant_id}/invitations", response_model=Page[InvitationOut], summary="List invitations")
async def list_invitations(
    ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[InvitationOut]:
    items, next_cursor = await paginate(
        session, tenant_select(ctx, Invitation), Invitation.id, cursors=services.cursors, scope=f"invitations:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.delete("/tenants/{tenant_id}/invitations/{invitation_id}", response_model=InvitationOut, summary="Revoke an invitation")
async def revoke_invitation(invitation_id: str, ctx: Annotated[TenantContext, require(Permission.MEMBERS_MANAGE)], session: SessionDep) -> Invitation:
    invitation = await service.revoke_invitation(session, ctx, invitation_id=invitation_id)
    await session.commit()
    return invitation


@router.post("/invitations/accept", response_model=TenantOut, summary="Accept an invitation mailed to my address")
async def accept_invitation(body: InvitationAccept, principal: ActiveUserDep, session: SessionDep) -> TenantOut:
    tenant, membership = await service.accept_invitation(session, user=principal, token=body.token)
    await session.commit()
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, role=membership.role)


@router.post("/tenants/{tenant_id}/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated, summary="Create an API key")
async def create_api_key(body: ApiKeyCreate, ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep) -> ApiKeyCreated:
    api_key, secret = await service.create_api_key(session, ctx, name=body.name, role=body.role)
    await session.commit()
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(api_key).model_dump(), "key": secret})


@router.get("/tenants/{tenant_id}/api-keys", response_model=Page[ApiKeyOut], summary="List API keys (never their secrets)")
async def list_api_keys(
    ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[ApiKeyOut]:
    items, next_cursor = await paginate(
        session, tenant_select(ctx, ApiKey), ApiKey.id, cursors=services.cursors, scope=f"api-keys:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.delete("/tenants/{tenant_id}/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke an API key")
async def revoke_api_key(key_id: str, ctx: Annotated[TenantContext, require(Permission.API_KEYS_MANAGE)], session: SessionDep) -> ApiKey:
    api_key = await service.revoke_api_key(session, ctx, key_id=key_id)
    await session.commit()
    return api_key
