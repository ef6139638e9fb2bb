"""Visitor tokens (signed by us, kept by the widget) and customer tokens (signed by the tenant's server
with its secret, so one person is recognised across devices). Both are HS256 JWTs (PyJWT)."""

from __future__ import annotations

import hashlib
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import jwt

from confide.core.clock import utcnow
from confide.core.ids import new_id

VISITOR_AUDIENCE = "confide:visitor"


@dataclass(frozen=True, slots=True)
class VisitorIdentity:
    visitor_id: str
    customer_ref: str | None = None


class VisitorTokens:
    """Signed with the first of `secret_keys`, verified with any (Settings.secret_keys: after a rotation)."""

    def __init__(self, secret_keys: Sequence[str], lifetime_days: int) -> None:
        self._keys = [hashlib.sha256(("visitor-token:" + key).encode()).hexdigest() for key in secret_keys]
        self._key = self._keys[0]
        self._lifetime = timedelta(days=lifetime_days)

    def issue(self, *, tenant_id: str, avatar_id: str, visitor_id: str | None = None) -> tuple[str, str]:
        visitor_id = visitor_id or new_id("vis")
        now = utcnow()
        claims = {"sub": visitor_id, "ten": tenant_id, "ava": avatar_id, "aud": VISITOR_AUDIENCE, "iat": now, "exp": now + self._lifetime}
        return jwt.encode(claims, self._key, algorithm="HS256"), visitor_id

    def verify(self, token: str, *, tenant_id: str, avatar_id: str) -> str | None:
        """The visitor id, or None when the token is forged, expired, or for another tenant or avatar."""
        claims = None
        for key in self._keys:
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], audience=VISITOR_AUDIENCE, options={"require": ["sub", "exp"]})
                break
            except jwt.InvalidSignatureError:
                continue  # perhaps signed before a rotation
            except jwt.PyJWTError:
                return None
        if claims is None:
            return None
        if claims.get("ten") != tenant_id or claims.get("ava") != avatar_id:
            return None
        return str(claims["sub"])


def new_customer_secret() -> str:
    return "cfc_" + secrets.token_urlsafe(32)


# A customer token sits in a web page: one that would live longer than this is a standing credential, refused.
CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS = 24 * 3600
CLOCK_LEEWAY_SECONDS = 60  # the tenant's server clock may run a little ahead


# Characters no customer id holds, refused as any bad token: control characters (Cc: C0 with NUL, which
# PostgreSQL cannot store, DEL, and C1, U+0080 to U+009F), format characters (Cf: bidirectional overrides
# such as U+202E, which would make an id read otherwise in the inbox, zero-width spaces and joiners, the
# BOM), lone surrogates (Cs: not encodable, so no visitor id derives from them) and the line and paragraph
# separators (U+2028, U+2029).
_NOT_IN_AN_ID = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _not_in_an_id(char: str) -> bool:
    return unicodedata.category(char) in _NOT_IN_AN_ID


def verify_customer_token(token: str, secrets_in_force: list[str], *, now: float | None = None) -> str | None:
    """The tenant's own customer id (`sub`) from a token its server signed; None when none verifies.
    Tokens must carry `sub` and `exp`, and expire within CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS."""
    latest = (time.time() if now is None else now) + CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS + CLOCK_LEEWAY_SECONDS
    for secret in secrets_in_force:
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"], "verify_aud": False})
        except jwt.PyJWTError:
            continue
        sub = str(claims["sub"])
        if 0 < len(sub) <= 200 and not any(map(_not_in_an_id, sub)) and isinstance(claims["exp"], (int, float)) and claims["exp"] <= latest:
            return sub
    return None


def customer_visitor_id(tenant_id: str, customer_ref: str) -> str:
    """A stable pseudonymous visitor id for a tenant's customer, so their conversations link across devices."""
    return "vis_c" + hashlib.sha256(f"{tenant_id}:{customer_ref}".encode()).hexdigest()[:26]
