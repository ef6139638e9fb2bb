"""Webhook endpoints (admins): connect a CRM or ticket system to conversation events. See webhooks.py
for the signature, retries and what a payload may carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import func, select

from confide.core.clock import utcnow
from confide.core.db import SessionDep
from confide.core.errors import Conflict
from confide.core.ids import new_id
from confide.core.patching import patch_rule
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, check_sender_now, get_for_tenant, require, tenant_select
from confide.evaluation.models import WebhookDelivery, WebhookEndpoint
from confide.evaluation.schemas import DeliveryOut, PingOut, WebhookChange, WebhookIn, WebhookOut, WebhookWithSecretOut
from confide.evaluation.webhook_deliveries import ENDPOINT_CHANGED, ENDPOINT_DEACTIVATED, drop_waiting
from confide.evaluation.webhooks import WebhookDispatcher, check_url, new_secret, same_url

router = APIRouter(prefix="/v1/tenants/{tenant_id}/webhooks", tags=["webhooks"])

Manager = Annotated[TenantContext, require(Permission.TENANT_MANAGE)]

SIGNING = (
    "Each delivery is a POST with a JSON body and the header `Confide-Signature: t=<unix seconds>,v1=<hex>`, where v1 is the "
    "HMAC-SHA256 of `<t>.<raw body>` keyed with the endpoint's secret. Verify it over the raw body in constant time and refuse "
    "timestamps more than 5 minutes from your clock (replay protection); `Confide-Event-Id` repeats on retries, so drop duplicates. "
    "Failed attempts (network errors, timeouts, 408, 425, 429, 5xx) are retried with exponential backoff. Message text is included only "
    "with `include_text` and while your instructions store transcripts. URLs must be https to a public host, on port 443 unless "
    "the platform allows others (`CONFIDE_WEBHOOK_ALLOWED_PORTS`); a tenant has at most `CONFIDE_WEBHOOK_ENDPOINTS_PER_TENANT` endpoints (20 by default)."
)


def _dispatcher(request: Request) -> WebhookDispatcher:
    return request.app.state.webhooks


@router.get(
    "",
    response_model=Page[WebhookOut],
    summary="Webhook endpoints",
    description="Owners and admins (`tenant:manage`). The tenant's endpoints in the order they were added, cursor-paged, with their URL, events, "
    "`include_text` and `active`; the signing secret is shown only when it is created or rotated, never here.",
)
async def list_webhooks(ctx: Manager, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[WebhookOut]:
    rows, next_cursor = await paginate(
        session, tenant_select(ctx, WebhookEndpoint), WebhookEndpoint.id, cursors=services.cursors, scope=f"webhooks:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=[WebhookOut.model_validate(r) for r in rows], next_cursor=next_cursor)


CAPPED = "The tenant has its `CONFIDE_WEBHOOK_ENDPOINTS_PER_TENANT` webhook endpoints (20 by default) already (problem type `conflict`)."


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookWithSecretOut, summary="Add a webhook endpoint", description=SIGNING,
             responses={409: {"description": CAPPED}})
async def create_webhook(body: WebhookIn, ctx: Manager, session: SessionDep, services: ServicesDep) -> WebhookWithSecretOut:
    url = check_url(body.url, services.settings)
    # Each endpoint costs the platform deliveries, worker slots and pings: bounded per tenant. Two creations at the
    # same moment may both pass; the cap can be overrun by the requests in flight, never by more.
    cap = services.settings.webhook_endpoints_per_tenant
    count = await session.scalar(select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.tenant_id == ctx.tenant_id))
    if (count or 0) >= cap:
        raise Conflict(f"A tenant has at most {cap} webhook endpoints: remove one it no longer uses (or send more events to one) before adding another.")
    row = WebhookEndpoint(
        id=new_id("whk"), tenant_id=ctx.tenant_id, name=body.name, url=url, secret=new_secret(), events=list(body.events),
        include_text=body.include_text, active=body.active,
    )
    session.add(row)
    await session.commit()
    return WebhookWithSecretOut.model_validate(row)


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    summary="A webhook endpoint",
    description="Owners and admins (`tenant:manage`). Its name, URL, events, `include_text` and `active`, never the signing secret (only its "
    "creation and `POST …/secret` show one). Its delivery attempts are at `GET …/deliveries`.",
)
async def read_webhook(webhook_id: str, ctx: Manager, session: SessionDep) -> WebhookOut:
    return WebhookOut.model_validate(await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook"))


CHANGING = (
    "Deliveries still waiting for a retry were built for the endpoint as it was: changing its `url` or `include_text` gives them "
    "all up, removing an event from `events` gives up that event's, and deactivating it gives up every one. Each is logged in the "
    "delivery log as `failed` with error `endpoint_changed` (or `endpoint_deactivated`), and its stored payload is deleted. "
    "An event being stored while the `url` or `include_text` changes is given up for this endpoint the same way. "
)


@router.patch("/{webhook_id}", response_model=WebhookOut, summary="Change a webhook endpoint", description=patch_rule() + " " + CHANGING + SIGNING)
async def update_webhook(webhook_id: str, body: WebhookChange, ctx: Manager, session: SessionDep, services: ServicesDep) -> WebhookOut:
    # Locked first (PostgreSQL): a delivery being built from the endpoint as it is (webhooks.endpoints_for)
    # commits before the drops below, so they see it. The endpoint, then its deliveries: the order the worker
    # recording an attempt takes them in too (webhook_deliveries.record), so neither waits for the other's second.
    row = await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook", for_update=True)
    now = utcnow()
    dropped = {"tenant_id": ctx.tenant_id, "endpoint_id": row.id, "now": now}
    rebuilt = False  # what a delivery's recipient or body was built for changes: deliveries of the old revision are refused
    sent = body.model_fields_set  # none of them is ever null (WebhookChange refuses it)
    if "url" in sent:
        url = check_url(body.url, services.settings)
        if not same_url(row.url, url, services.settings):  # stored as typed before check_url returned it canonical
            await drop_waiting(session, **dropped, reason=ENDPOINT_CHANGED)
            rebuilt = True
        row.url = url
    if "name" in sent:
        row.name = body.name
    if "events" in sent:
        events = list(body.events)
        await drop_waiting(session, **dropped, reason=ENDPOINT_CHANGED, events=set(row.events) - set(events))
        row.events = events
    if "include_text" in sent and body.include_text != row.include_text:
        await drop_waiting(session, **dropped, reason=ENDPOINT_CHANGED)
        row.include_text = body.include_text
        rebuilt = True
    if rebuilt:
        # On SQLite the read above took no lock: an event that read the endpoint before this change may store its
        # delivery after the drops. The new revision makes the database refuse it (webhook_outbox's foreign key to
        # (id, revision)); the dispatcher then gives it up as the drops would have. The drops ended every delivery
        # still waiting, and an ended row names no revision (webhook_deliveries.ended): the ON UPDATE CASCADE has
        # no row of the delivery log's 30 days to rewrite.
        row.revision = WebhookEndpoint.revision + 1
    if body.active is False and row.active:
        await drop_waiting(session, **dropped, reason=ENDPOINT_DEACTIVATED)
    if "active" in sent:
        row.active = body.active
    row.updated_at = now
    await session.commit()
    return WebhookOut.model_validate(row)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook endpoint and its delivery log",
    description="Owners and admins (`tenant:manage`). Removes the endpoint for good: no further event goes to it, deliveries still waiting for a "
    "retry are dropped with their payloads, and its delivery log is deleted. To stop deliveries but keep the endpoint and its log, set `active` to "
    "false with PATCH.",
)
async def delete_webhook(webhook_id: str, ctx: Manager, session: SessionDep) -> Response:
    row = await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook")
    await session.delete(row)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/secret",
    response_model=WebhookWithSecretOut,
    summary="Rotate the signing secret",
    description="Owners and admins (`tenant:manage`). The old secret stops working at once: every delivery sent from now on, retries of earlier "
    "events included, is signed with the new one, which this answer shows and no other does.",
)
async def rotate_secret(webhook_id: str, ctx: Manager, session: SessionDep) -> WebhookWithSecretOut:
    row = await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook")
    row.secret, row.updated_at = new_secret(), utcnow()
    await session.commit()
    return WebhookWithSecretOut.model_validate(row)


PINGING = (
    "One attempt, on a small client of its own (its connections are never the deliveries'), and at most "
    "`CONFIDE_WEBHOOK_PINGS_PER_MINUTE` (10 by default) per tenant a minute: 429 with Retry-After beyond that."
)


@router.post("/{webhook_id}/ping", response_model=PingOut, summary="Send a signed test event (one attempt) and say how it went", description=PINGING)
async def ping_webhook(webhook_id: str, request: Request, ctx: Manager, session: SessionDep, services: ServicesDep) -> PingOut:
    row = await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook")
    await check_sender_now(session)  # a member removed meanwhile sends nothing to the tenant's receiver
    await session.commit()  # nothing held open while the receiver answers
    await services.enforce_rate("webhook-ping", ctx.tenant_id, services.settings.webhook_pings_per_minute, 60, "Too many webhook pings for this tenant; try again later.")
    return PingOut.model_validate(await _dispatcher(request).ping(row))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="Delivery attempts, newest first (no payloads)",
    description="Owners and admins (`tenant:manage`). One row per attempt, pings included: event, attempt number, HTTP status, outcome (`delivered`, "
    "`retrying` or `failed`), error kind and duration, never the payload; the next page holds older attempts. Rows are kept "
    "`CONFIDE_WEBHOOK_DELIVERY_LOG_DAYS` (30 by default), then the retention job deletes them.",
)
async def deliveries(webhook_id: str, ctx: Manager, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[DeliveryOut]:
    row = await get_for_tenant(session, ctx, WebhookEndpoint, webhook_id, "webhook")
    stmt = select(WebhookDelivery).where(WebhookDelivery.tenant_id == ctx.tenant_id, WebhookDelivery.endpoint_id == row.id)
    if cursor:
        position = services.cursors.decode(f"deliveries:{row.id}", cursor)
        stmt = stmt.where(WebhookDelivery.id < position["before"])
    items = list((await session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1))).all())
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = services.cursors.encode(f"deliveries:{row.id}", {"before": items[-1].id})
    return Page(items=[DeliveryOut.model_validate(i) for i in items], next_cursor=next_cursor)
