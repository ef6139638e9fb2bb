"""Creating users and tenants through the public API, as a client would."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from confide.core.mail import MailKind
from confide.settings import Settings
from tests.support.outbox import Outbox

PASSWORD = "correct horse 42 battery"
# Registration must acknowledge the current privacy policy; the suite runs with the default setting.
POLICY_VERSION: str = Settings.model_fields["privacy_policy_version"].default


@dataclass
class User:
    id: str
    email: str
    token: str
    password: str = PASSWORD
    tenants: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def registration(email: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "email": email or f"user-{secrets.token_hex(6)}@example.com",
        "first_name": "Ada",
        "surname": "Lovelace",
        "pseudonym": "ada",
        "password": PASSWORD,
        "privacy_policy_version": POLICY_VERSION,
    }
    body.update(overrides)
    return body


class Factory:
    """Users, tenants and avatars through the public API. `settle`, for an app in this process, waits for
    its work after an answer (app.state.detached_mails.drain): then a registration's mail is read at once;
    without it (a `confide serve` process) the outbox folder is watched for it."""

    def __init__(self, client: httpx.AsyncClient, outbox: Outbox, settle: Callable[[], Awaitable[None]] | None = None) -> None:
        self.client = client
        self.outbox = outbox
        self.settle = settle

    async def user(self, **overrides: Any) -> User:
        body = registration(**overrides)
        r = await self.client.post("/v1/accounts", json=body)
        assert r.status_code == 202, r.text
        # The account and its mails come after the answer; a newsletter confirmation, when asked for, last.
        if self.settle is not None:
            await self.settle()
        else:
            await self.outbox.wait_for(body["email"], MailKind.NEWSLETTER_CONFIRMATION if body.get("newsletter_opt_in") else MailKind.VERIFICATION)
        token = self.outbox.last_token_for(body["email"])
        r = await self.client.post("/v1/accounts/verify", json={"token": token})
        assert r.status_code == 200, r.text
        r = await self.client.post("/v1/auth/login", json={"email": body["email"], "password": body["password"]})
        assert r.status_code == 200, r.text
        me = await self.client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
        return User(id=me.json()["id"], email=body["email"], token=r.json()["token"], password=body["password"])

    async def tenant(self, owner: User, name: str = "Acme GmbH") -> str:
        r = await self.client.post("/v1/tenants", json={"name": name}, headers=owner.headers)
        assert r.status_code == 201, r.text
        tenant_id = r.json()["id"]
        owner.tenants[tenant_id] = "owner"
        return tenant_id

    async def member(self, tenant_id: str, inviter: User, role: str) -> User:
        user = await self.user()
        r = await self.client.post(f"/v1/tenants/{tenant_id}/invitations", json={"email": user.email, "role": role}, headers=inviter.headers)
        assert r.status_code == 201, r.text
        r = await self.client.post("/v1/invitations/accept", json={"token": self.outbox.last_token_for(user.email)}, headers=user.headers)
        assert r.status_code == 200, r.text
        user.tenants[tenant_id] = role
        return user
