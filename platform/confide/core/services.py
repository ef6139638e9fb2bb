"""The long-lived helpers a request needs (settings, passwords, mail, broker, cursors), built once in lifespan."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from confide.core.broker import Broker
from confide.core.errors import RateLimited
from confide.core.events import EventBus
from confide.core.mail import Mailer
from confide.core.schemas import Cursors
from confide.core.security import Passwords
from confide.settings import Settings


def address_subject(subject: str) -> str:
    """What a rate limit counts a client address as: an IPv6 address by its /64, the block one subscriber
    is given (otherwise each of its 2^64 addresses would bring a fresh allowance), an IPv4-mapped one as
    that IPv4 address; anything else as it is."""
    if ":" in subject and "@" not in subject:
        try:
            address = ipaddress.ip_address(subject)
        except ValueError:
            return subject
        if address.version == 6:
            mapped = address.ipv4_mapped  # "::ffff:192.0.2.1" is that IPv4 address
            return str(mapped) if mapped is not None else str(ipaddress.ip_network(f"{address}/64", strict=False))
    return subject


def subject_key(bucket: str, subject: str, secret: str) -> str:
    """A broker key for counting events of one subject (an address, an account): an HMAC under the
    deployment's secret key, so keys carry no personal data (a bare hash of an IPv4 address or a
    known email address is undone by trying them all). Addresses count as `address_subject` says."""
    digest = hmac.new(("rate-limit:" + secret).encode(), address_subject(subject).encode(), hashlib.sha256)
    return f"{bucket}:{digest.hexdigest()[:24]}"


@dataclass
class Services:
    settings: Settings
    passwords: Passwords
    mailer: Mailer
    broker: Broker
    cursors: Cursors
    events: EventBus

    async def enforce_rate(self, bucket: str, subject: str, limit: int, window_seconds: int, detail: str) -> None:
        """Count one event for (bucket, subject); the subject is hashed so keys carry no personal data."""
        decision = await self.broker.hit(subject_key(bucket, subject, self.settings.resolved_secret_key), limit, window_seconds)
        if not decision.allowed:
            raise RateLimited(decision.retry_after, detail)

    async def refuse_if_spent(self, bucket: str, subject: str, limit: int, detail: str) -> None:
        """429 when (bucket, subject) has counted `limit` events in its window already; counts nothing
        (count_event does, e.g. once an attempt has failed). Two attempts at once may both pass the
        check: the limit can be overrun by the attempts in flight, never by more."""
        count, left = await self.broker.spent(subject_key(bucket, subject, self.settings.resolved_secret_key))
        if count >= limit:
            raise RateLimited(left, detail)

    async def count_event(self, bucket: str, subject: str, window_seconds: int) -> None:
        await self.broker.hit(subject_key(bucket, subject, self.settings.resolved_secret_key), 1, window_seconds)


def get_services(request: Request) -> Services:
    return request.app.state.services


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


ServicesDep = Annotated[Services, Depends(get_services)]
