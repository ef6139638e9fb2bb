"""Webhooks: a tenant's own systems (a CRM, a ticket system) receive conversation events.

Each delivery is a POST of a JSON body, signed with the endpoint's secret:

    Confide-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

Receivers recompute the HMAC over the raw body, compare in constant time, and refuse a timestamp
more than five minutes from their clock (replay protection; `verify_signature` does all three).
`Confide-Event-Id` is the same for every attempt of one event, so a receiver can drop duplicates.

Deliveries wait in the database (webhook_deliveries.py), so a restart or a crash loses none; failed
attempts (connection errors, timeouts, 408, 425, 429 and 5xx) are retried with exponential backoff and
jitter; each attempt is logged with its status code and time, never the payload or the answer.
Message text is sent only where the tenant stores transcripts and the endpoint asks for text
(`include_text`); otherwise a payload carries ids and categories only."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import socket
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide import __version__
from confide.chats.models import Conversation, Message
from confide.core import events
from confide.core.clock import utcnow
from confide.core.errors import InvalidInput
from confide.core.futures import cancel_and_wait
from confide.core.ids import new_id
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint, WebhookOutbox
from confide.evaluation.webhook_deliveries import ENDPOINT_CHANGED, FAILED, Attempt, DeliveryWorker, drop_entry, ended, enqueue, log_entry
from confide.privacy.gate import Purpose, gate_for
from confide.privacy.records import add_recipient_source
from confide.privacy.retention import RetentionStep, add_step
from confide.settings import Settings

log = logging.getLogger("confide.evaluation.webhooks")

EVENTS = (events.HANDOFF_REQUESTED, events.CONVERSATION_CLOSED, events.RATING_RECEIVED)
PING = "ping"
SIGNATURE_HEADER = "Confide-Signature"
TOLERANCE_SECONDS = 300
CONTEXT_MESSAGES = 10  # a handoff carries the last few messages, where text may be sent
STORE_ATTEMPTS = 3  # an event's deliveries stored again after a concurrent change of an endpoint (WebhookDispatcher.on_event)
# Pings have a client of their own with this many connections: however many pings wait on receivers that never answer,
# the deliveries' client keeps all of its connections. A ping that finds them all busy waits up to the timeout ("timeout").
PING_CONNECTIONS = 10


# ---- signatures -------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """What a receiver does: parse t and v1, check the time window, compare the HMAC in constant time."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


# ---- endpoints --------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _internal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.endswith((".local", ".internal", ".localhost")) or host == "localhost" or "." not in host
    return not _reachable(host, allow_loopback=False)


class RefusedAddress(Exception):
    """A webhook's host resolved to an address deliveries may not reach."""


# IPv6 forms that carry an IPv4 address a gateway may forward to: NAT64 (well-known and local-use
# prefixes), 6to4, Teredo, the deprecated IPv4-compatible form and the IPv4-translated form (SIIT,
# ::ffff:0:a.b.c.d). Refused outright: whatever IPv4 address they hide could be internal.
_TUNNELS = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96", "::ffff:0:0:0/96"))


def _reachable(address: str, *, allow_loopback: bool) -> bool:
    """A global unicast address (loopback too with `allow_loopback`). Python's is_global lets multicast,
    IPv6 site-local (fec0::/10, deprecated but still routed inside some networks) and reserved ranges pass:
    refused here."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip != ipaddress.IPv6Address("::1") and any(ip in tunnel for tunnel in _TUNNELS):
            return False
    if allow_loopback and ip.is_loopback:
        return True
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local):
        return False
    return ip.is_global


class PublicAddressBackend(httpcore.AsyncNetworkBackend):
    """The webhook client's network: it resolves each host itself and connects only to the address it
    checked, so a public name that resolves (or re-resolves: DNS rebinding) to a private, loopback or
    link-local address is refused at delivery, not only checked when the URL was saved. TLS still
    verifies the URL's host name (httpcore sends it as SNI and checks the certificate against it)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, *, allow_loopback: bool, ports: Collection[int] = (443,)) -> None:
        self._inner = inner
        self.allow_loopback = allow_loopback
        self.ports = frozenset(ports)

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses or not all(_reachable(address, allow_loopback=self.allow_loopback) for address in addresses):
            raise RefusedAddress(host)
        if port not in self.ports and not (self.allow_loopback and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)):
            raise RefusedAddress(host)  # a URL saved before the port rule, or the setting narrowed since
        failure: Exception | None = None
        for address in addresses:  # each one checked; the next when one does not answer (a broken IPv6 path)
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                return await self._inner.connect_tcp(address, port, timeout=left, local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress(path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def webhook_client(settings: Settings, *, limits: httpx.Limits | None = None) -> httpx.AsyncClient:
    """No redirects, no proxy from the environment (the address check must see the real peer), and
    only public addresses on the allowed ports (loopback too, on any port, where the development setting
    allows http to it)."""
    transport = httpx.AsyncHTTPTransport(limits=limits or httpx.Limits())
    pool = transport._pool  # noqa: SLF001 - httpx has no public way to set httpcore's network backend
    pool._network_backend = PublicAddressBackend(  # noqa: SLF001
        pool._network_backend, allow_loopback=settings.webhook_allow_http_loopback, ports=settings.webhook_allowed_ports  # noqa: SLF001
    )
    return httpx.AsyncClient(transport=transport, timeout=settings.webhook_timeout_seconds, follow_redirects=False, headers={"User-Agent": f"Confide-Webhooks/{__version__}"})


_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")  # a host whose last label is one of these is an IPv4 address to a browser or resolver
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")  # after IDNA: letters, digits, hyphens (underscores occur in real names)


def _parse(url: str) -> httpx.URL:
    """The URL as httpx will send it, or InvalidInput: control characters and whitespace are refused (urlsplit
    drops tab, CR and LF silently, httpx refuses them at delivery), and so is an IPv4 address in any form
    but four decimal numbers (0177.0.0.1, 0x7f.1, 127.1, 2130706433: each read differently by different parsers)."""
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        raise InvalidInput("body.url", "the URL must not contain spaces or control characters")
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
        parsed.port  # noqa: B018 - raises on a malformed port
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise InvalidInput("body.url", "not a valid URL") from exc
    if ":" in host:  # an IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise InvalidInput("body.url", "not a valid IPv6 address") from exc
    elif _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            canonical = str(ipaddress.IPv4Address(host))
        except ValueError:
            canonical = None
        if canonical != host:
            raise InvalidInput("body.url", "write an IPv4 address as four decimal numbers (like 93.184.216.34)")
    elif host and not _NAME.fullmatch(host):
        raise InvalidInput("body.url", "the host name has characters a host name cannot have")
    return parsed


def check_url(url: str, settings: Settings) -> str:
    """http(s) only; https to a public host on an allowed port (443 unless the setting adds others), unless the
    setting allows http to loopback (tests, development: any port there). Returns the URL as httpx sends it
    (host lower-cased and IDNA-encoded, a default port dropped), which is what is stored."""
    parsed = _parse(url)
    host = parsed.raw_host.decode("ascii").lower()
    if parsed.scheme not in ("http", "https"):
        raise InvalidInput("body.url", "webhook URLs must use https")
    if not host:
        raise InvalidInput("body.url", "the URL has no host")
    if parsed.userinfo:
        raise InvalidInput("body.url", "put no credentials in the URL; verify our signature instead")
    if parsed.fragment:
        raise InvalidInput("body.url", "the URL must not have a fragment")
    name = host[:-1] if host.endswith(".") else host  # `localhost.` is localhost: a fully qualified name's dot
    if not _is_ip(name) and not _HOSTNAME.fullmatch(name):
        raise InvalidInput("body.url", "the host is not a valid DNS name (labels of letters, digits and inner hyphens, up to 63 characters each, 253 in all)")
    dev = settings.webhook_allow_http_loopback and _loopback(name)
    if parsed.scheme == "http" and not dev:
        raise InvalidInput("body.url", "webhook URLs must use https")
    if _internal(name) and not dev:
        raise InvalidInput("body.url", "webhook URLs must point to a public host, not a private, loopback, link-local or multicast address")
    port = 443 if parsed.port is None else parsed.port  # httpx leaves out a default port
    if not dev and port not in settings.webhook_allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(settings.webhook_allowed_ports))
        raise InvalidInput("body.url", f"webhook URLs may use port {allowed} only")
    return str(parsed)


def same_url(stored: str, url: str, settings: Settings) -> bool:
    """Whether `url` (as check_url returned it) is the `stored` one written another way. URLs saved before
    check_url returned the canonical form were stored as typed (`https://Example.com:443/h`): compared canonical,
    resending one is no change. A stored URL that no longer passes the checks counts as changed."""
    try:
        return check_url(stored, settings) == url
    except InvalidInput:
        return False


async def unsendable_endpoints(session: AsyncSession, settings: Settings) -> list[str]:
    """Active endpoints whose stored URL this server would no longer send to (saved before a check was added,
    or under settings since narrowed, such as a port CONFIDE_WEBHOOK_ALLOWED_PORTS no longer allows): their
    ids, by tenant and id. Each of their deliveries fails; the tenant sees why in the delivery log."""
    rows = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.url).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.tenant_id, WebhookEndpoint.id)
    )
    unsendable = []
    for endpoint_id, url in rows:
        try:
            check_url(url, settings)
        except InvalidInput:
            unsendable.append(endpoint_id)
    return unsendable


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


async def endpoints_for(session: AsyncSession, *, tenant_id: str, event: str) -> list[WebhookEndpoint]:
    """The endpoints to build deliveries for, key-share-locked (PostgreSQL) until the caller commits them: a
    change of an endpoint (which locks it for update first, webhook_routes.py) waits for those deliveries and
    then gives them up, or comes first and is what they are built for; none escapes to a URL it was not built
    for. FOR KEY SHARE, the weakest lock: a tenant's closure, which locks the tenant row and then switches its
    endpoints off (a plain UPDATE), does not wait for it, so the two never deadlock over the tenant row the
    deliveries' foreign key share-locks."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    rows = (await session.scalars(query.with_for_update(read=True, key_share=True))).all()
    return [row for row in rows if event in (row.events or [])]


# ---- records of processing and retention ------------------------------------------------------


async def webhook_recipients(session: AsyncSession, tenant_id: str) -> list[dict[str, Any]]:
    """Each endpoint is a recipient in the tenant's records of processing (Art. 30(2)), named by its origin."""
    rows = (await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id).order_by(WebhookEndpoint.id))).all()
    out = []
    for row in rows:
        data = [
            "conversation and avatar ids",
            "event categories: handoff reason, who closed, CSAT score and resolution",
            "the conversation's language",
            "your own customer reference, where your customer token named one",
        ]
        if row.include_text:
            data.append("message text (only while your instructions store transcripts)")
        out.append(
            {
                "kind": "webhook",
                "id": row.id,
                "name": row.name,
                "recipient": "your own system, reached at " + origin(row.url),
                "events": list(row.events),
                "data": data,
                "active": row.active,
                "safeguards": "HMAC-SHA256 signed deliveries over https; nothing is sent unless you set up the endpoint",
            }
        )
    return out


async def expire_delivery_log(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.webhook_delivery_log_days)
    result = await session.execute(delete(WebhookDelivery).where(WebhookDelivery.at < cutoff))
    return {"webhook_delivery": int(result.rowcount or 0)}


add_recipient_source(webhook_recipients)
add_step(RetentionStep("webhook delivery log past its period", expire_delivery_log))


# ---- payloads ---------------------------------------------------------------------------------


def _message(m: Message) -> dict[str, Any]:
    return {"seq": m.seq, "author": m.author, "kind": m.kind, "event": m.event, "text": m.text, "created_at": m.created_at.isoformat()}


async def build_data(session: AsyncSession, name: str, payload: dict[str, Any], *, with_text: bool) -> tuple[dict[str, Any], int]:
    """The event's data: ids and categories; text only when `with_text`. Returns it with the number of texts."""
    conversation_id = payload["conversation_id"]
    data: dict[str, Any] = {"conversation_id": conversation_id, "avatar_id": payload.get("avatar_id")}
    texts = 0
    conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id, Conversation.tenant_id == payload["tenant_id"]))
    if name == events.HANDOFF_REQUESTED:
        data["reason"] = payload.get("reason")
    elif name == events.CONVERSATION_CLOSED:
        data["closed_by"] = payload.get("closed_by")
        if conversation is not None:
            data["handed_off"] = conversation.handed_off
            data["handoff_reason"] = conversation.handoff_reason
    elif name == events.RATING_RECEIVED:
        data["score"], data["resolved"] = payload.get("score"), payload.get("resolved")
    if conversation is not None and name != events.RATING_RECEIVED:
        data["customer_ref"] = conversation.customer_ref
        data["language"] = conversation.language
    data["text_included"] = with_text
    if not with_text:
        return data, 0
    visible = select(Message).where(Message.conversation_id == conversation_id, Message.kind != "note")
    if name == events.CONVERSATION_CLOSED:
        rows = (await session.scalars(visible.order_by(Message.seq))).all()
        data["transcript"] = [_message(m) for m in rows]
        texts = len(rows)
    elif name == events.HANDOFF_REQUESTED:
        rows = list(reversed((await session.scalars(visible.order_by(Message.seq.desc()).limit(CONTEXT_MESSAGES))).all()))
        data["recent_messages"] = [_message(m) for m in rows]
        texts = len(rows)
    elif name == events.RATING_RECEIVED and payload.get("message_id"):
        comment = await session.scalar(select(Message.text).where(Message.id == payload["message_id"], Message.conversation_id == conversation_id))
        data["comment"] = comment or None
        texts = 1 if comment else 0
    return data, texts


def envelope(event_id: str, name: str, tenant_id: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"id": event_id, "type": name, "created_at": utcnow().isoformat(), "tenant_id": tenant_id, "data": data})


# ---- delivery ---------------------------------------------------------------------------------


class WebhookDispatcher:
    """Subscribed to the event bus: builds each endpoint's payload and puts it in the outbox, which the
    node's DeliveryWorker sends (webhook_deliveries.py). Also sends pings, once and at once."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.client = webhook_client(settings)  # the deliveries'
        self.ping_client = webhook_client(settings, limits=httpx.Limits(max_connections=PING_CONNECTIONS, max_keepalive_connections=PING_CONNECTIONS))
        self.worker = DeliveryWorker(sessionmaker, settings, self.attempt)
        self._checking: asyncio.Task[list[str]] | None = None  # warn_unsendable, run once at start

    def start(self) -> None:
        self.worker.start()
        self._checking = asyncio.create_task(self.warn_unsendable(), name="confide-webhook-url-check")

    async def warn_unsendable(self) -> list[str]:
        """At start, once: log the active endpoints this server will not send to (an upgrade or a narrowed
        setting made their URL unacceptable), so the operator learns of it before their tenants do. Ids only."""
        try:
            async with self.sessionmaker() as session:
                unsendable = await unsendable_endpoints(session, self.settings)
        except Exception as exc:  # noqa: BLE001 - the database away at start: only this warning is lost
            log.warning("checking the stored webhook URLs failed", extra={"error_type": type(exc).__name__})
            return []
        if unsendable:
            log.warning(
                "webhook endpoints with a URL this server no longer sends to (see CONFIDE_WEBHOOK_ALLOWED_PORTS); their deliveries fail until the tenant changes the URL",
                extra={"count": len(unsendable), "endpoint_ids": unsendable[:50]},
            )
        return unsendable

    async def aclose(self) -> None:
        """Give attempts in flight a few seconds (then cut them), release the deliveries still waiting to any node, close the client."""
        await cancel_and_wait(self._checking)
        await self.worker.stop()
        await self.client.aclose()
        await self.ping_client.aclose()

    async def on_event(self, name: str, payload: dict[str, Any]) -> None:
        """Store the event's delivery to each endpoint that takes it, built from the endpoint as it is read. Where a
        change of an endpoint's URL or include_text committed between that read and the store (SQLite: reads take no
        lock; PostgreSQL makes the change wait), the database refuses the delivery (the outbox's foreign key to the
        endpoint's revision), and the event is stored again: given up for that endpoint, as the change gives up the
        deliveries it finds waiting, and unchanged for the others."""
        event_id = new_id("evt")
        read: dict[str, int] = {}  # endpoint id -> the revision this event first read
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                stored = await self._store(name, payload, event_id, read)
            except IntegrityError:
                if attempt == STORE_ATTEMPTS:
                    raise
                log.info("webhook endpoint changed while an event was stored; storing it again", extra={"event": name})
                continue
            if stored:
                self.worker.wake()
            return

    async def _store(self, name: str, payload: dict[str, Any], event_id: str, read: dict[str, int]) -> bool:
        tenant_id = payload["tenant_id"]
        async with self.sessionmaker() as session:
            endpoints = await endpoints_for(session, tenant_id=tenant_id, event=name)
            if not endpoints:
                return False
            gate = gate_for(session)
            instructions = await gate.instructions(session, tenant_id)
            node = self.worker.node if self.worker.running else None  # written during shutdown: any node's
            for endpoint in endpoints:
                first = read.setdefault(endpoint.id, endpoint.revision)
                if first != endpoint.revision:  # read before a change of its URL or include_text: given up, never sent
                    session.add(WebhookOutbox(id=new_id("who"), tenant_id=tenant_id, endpoint_id=endpoint.id, conversation_id=payload["conversation_id"],
                                              event_id=event_id, event=name, status=FAILED, **ended(utcnow())))
                    session.add(drop_entry(tenant_id, endpoint.id, event_id, name, 1, ENDPOINT_CHANGED))
                    continue
                with_text = endpoint.include_text and instructions.store_transcripts
                data, texts = await build_data(session, name, payload, with_text=with_text)
                if texts:
                    # Text leaves for the tenant's own system: logged like an export the tenant asked for.
                    await gate.authorize(session, tenant_id=tenant_id, purpose=Purpose.EXPORT, actor=f"webhook:{endpoint.id}",
                                         subject_ref=payload["conversation_id"], counts={"messages": texts})
                row = enqueue(session, tenant_id=tenant_id, endpoint_id=endpoint.id, conversation_id=payload["conversation_id"], event_id=event_id,
                              event=name, body=envelope(event_id, name, tenant_id, data), node=node)
                row.endpoint_revision = endpoint.revision
            await session.commit()
        return True

    async def ping(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        event_id = new_id("evt")
        body = envelope(event_id, PING, endpoint.tenant_id, {"endpoint_id": endpoint.id, "text_included": False})
        attempts = await self.deliver(endpoint_id=endpoint.id, url=endpoint.url, secret=endpoint.secret, event_id=event_id, event=PING, body=body,
                                      tenant_id=endpoint.tenant_id)
        return {"event_id": event_id, **attempts}

    async def deliver(self, *, endpoint_id: str, url: str, secret: str, event_id: str, event: str, body: bytes, tenant_id: str) -> dict[str, Any]:
        """One attempt now, on the pings' own client, logged, never retried (a ping: the caller waits for the answer)."""
        attempt = await self.attempt(url, secret, event_id, event, body, client=self.ping_client)
        outcome = attempt.outcome(1, 1)
        try:
            async with self.sessionmaker() as session:
                session.add(log_entry(tenant_id, endpoint_id, event_id, event, 1, attempt, outcome))
                await session.commit()
        except IntegrityError:
            pass  # the endpoint was deleted meanwhile
        return {"delivered": attempt.delivered, "attempts": 1, "status_code": attempt.status_code, "error": attempt.error}

    async def attempt(self, url: str, secret: str, event_id: str, event: str, body: bytes, *, client: httpx.AsyncClient | None = None) -> Attempt:
        """POST the body, signed afresh with the time of this attempt; only the status code is read. Never
        raises: whatever goes wrong is the attempt's error."""
        headers = {
            "Content-Type": "application/json",
            "Confide-Event": event,
            "Confide-Event-Id": event_id,
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        }
        started = time.monotonic()
        try:
            async with (client or self.client).stream("POST", url, content=body, headers=headers) as response:
                status: int | None = response.status_code  # the body is never read: we only need the status
            error = None if status < 300 else ("redirect" if status < 400 else "http_status")
        except RefusedAddress:
            status, error = None, "refused_address"  # not retried: the name points inwards
            log.warning("webhook host resolves to a non-public address; delivery refused")
        except httpx.TimeoutException:
            status, error = None, "timeout"
        except httpx.InvalidURL:
            status, error = None, "invalid_url"  # saved before check_url parsed as httpx does; not retried
            log.warning("webhook URL cannot be sent to; delivery refused")
        except httpx.HTTPError as exc:
            status, error = None, "connection_error"
            log.info("webhook delivery failed", extra={"error": type(exc).__name__})
        except Exception as exc:  # noqa: BLE001 - a ping must answer, and a delivery must be recorded, whatever broke
            status, error = None, "connection_error"
            log.error("webhook attempt failed unexpectedly", extra={"error": type(exc).__name__})
        return Attempt(status, error, int((time.monotonic() - started) * 1000))

    def subscribe(self, bus: events.EventBus, *, after: dict[str, events.Handler] | None = None) -> None:
        """Build deliveries for every event the webhooks carry. `after[name]` runs first, in the same handler: a
        consumer that reads the API on a delivery finds what the API shows of its event written already (a closed
        conversation's metrics, a rating in `/ratings`), which independent subscribers did not promise."""
        for name in EVENTS:
            first = (after or {}).get(name)
            if first is None:
                bus.on(name, lambda payload, name=name: self.on_event(name, payload))
            else:
                bus.on(name, lambda payload, name=name, first=first: self._after(first, name, payload))

    async def _after(self, first: events.Handler, name: str, payload: dict[str, Any]) -> None:
        try:
            await first(payload)
        finally:  # a failed evaluation still lets the tenant hear of the event
            await self.on_event(name, payload)
