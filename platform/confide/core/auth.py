"""Bearer-token authentication: login sessions for people, API keys for a tenant's servers. No cookies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from confide.core.clock import utcnow
from confide.core.db import SessionDep
from confide.core.errors import TOKEN_NOT_VALID, AccountRestricted, PersonRequired, Unauthorized
from confide.core.identity import ApiKey, AuthSession, User
from confide.core.security import API_KEY_PREFIX, SESSION_TOKEN_PREFIX, hash_token

bearer = HTTPBearer(auto_error=False, description="A login token (cfs_…) or a tenant API key (cfk_…).")


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "api_key"]
    id: str
    user_id: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    role: str | None = None
    status: str = "active"


async def principal_from_token(session: AsyncSession, token: str) -> Principal | None:
    """The person or API key behind a bearer token; None when it is unknown, expired or revoked."""
    now = utcnow()
    if token.startswith(SESSION_TOKEN_PREFIX):
        row = (
            await session.execute(
                select(AuthSession.id, AuthSession.user_id, User.status)
                .join(User, User.id == AuthSession.user_id)
                .where(AuthSession.token_hash == hash_token(token), AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
            )
        ).first()
        if row is not None:
            return Principal("user", row.user_id, user_id=row.user_id, session_id=row.id, status=row.status)
    elif token.startswith(API_KEY_PREFIX):
        row = (
            await session.execute(
                select(ApiKey.id, ApiKey.tenant_id, ApiKey.role).where(ApiKey.key_hash == hash_token(token), ApiKey.revoked_at.is_(None))
            )
        ).first()
        if row is not None:
            return Principal("api_key", row.id, tenant_id=row.tenant_id, role=row.role)
    return None


async def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send a bearer token in the Authorization header.")
    principal = await principal_from_token(session, credentials.credentials)
    if principal is None:
        raise Unauthorized(TOKEN_NOT_VALID)
    request.state.principal = principal
    return principal


async def current_user(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.kind != "user":
        raise PersonRequired("This route is about a person's own account: sign in as that person; an API key cannot use it.")
    return principal


async def active_user(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
    """A user whose account is not restricted (Art. 18): a restricted account may read, export and correct
    its profile (those routes take `current_user`), but change nothing else."""
    if principal.status != "active":
        raise AccountRestricted("Your account is restricted; lift the restriction to make changes.")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
UserDep = Annotated[Principal, Depends(current_user)]
ActiveUserDep = Annotated[Principal, Depends(active_user)]
