"""The inbox over REST: list, filter, search and page through a tenant's conversations (chats:read),
and act on them (chats:operate): tag, assign, close, reopen, one by one or in bulk. Close and reopen
go through the same transition as the operator websocket, so a connected visitor and every operator
see them at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status as http_status

from avatars.models import Avatar
from confide.chats import inbox
from confide.chats.inbox import MAX_TAGS, STATUSES, UNASSIGNED, ConversationErased, InboxQuery, check_tag, ensure_not_erased
from confide.chats.models import Conversation, ConversationTag
from confide.chats.schemas import AssignIn, BulkIn, BulkOut, BulkResult, ConversationOut, ErasureAcceptedOut, TagCountOut, TagsIn
from confide.chats.search import parse as parse_search
from confide.core.dates import RANGE_TEXT, Instant, check_instant_range
from confide.core.db import SessionDep, lock_rows
from confide.core.errors import InvalidInput, NotFound, PermissionDenied
from confide.core.openapi_errors import more_forbidden
from confide.core.schemas import Cursor, Limit, Page, paginate
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, check_sender_now, get_for_tenant, has_permission, owned_filter, require
from confide.privacy.erasure import request_erasure, wake_erasure_worker
from confide.privacy.erasure_models import ErasureRequest
from confide.privacy.gate import Purpose, PurposeGateDep
from confide.privacy.holds import ERASED
from confide.realtime import channels, transitions
from confide.realtime.replies import queue_update
from confide.realtime.runtime import ChatRuntime
from guidelines.rules import LanguageTag

router = APIRouter(prefix="/v1/tenants/{tenant_id}", tags=["inbox"])

Reader = Annotated[TenantContext, require(Permission.CHATS_READ)]
Operator = Annotated[TenantContext, require(Permission.CHATS_OPERATE)]
# Another tenant's avatar answers 404 exactly as an unknown one (tenancy.owned_filter), never an empty inbox.
AvatarFilter = Annotated[str | None, owned_filter(Avatar, "avatar", name="avatar_id", description="Only this avatar's conversations (archived ones too).")]
ME = "me"
# A repeated filter (`tag`, `status`) takes at most this many values (a 422 naming it beyond): each tag is one more
# subquery (999 of them answered 500 on SQLite), and a conversation carries at most MAX_TAGS tags anyway.
MAX_FILTER_ITEMS = MAX_TAGS
# Every write on one conversation refuses an erased one (only its anonymous stub is left).
# Tags, assignee, close and reopen act on a conversation's data as the operator websocket does: operator review.
REVIEW = (" Acting on a conversation is operator review: refused (403 `purpose-not-instructed`, nothing changed) when the tenant's "
          "instructions do not allow it, and recorded in the processing log.")
ERASED_CONFLICT = {409: {"description": "The conversation's data was erased (`conversation-erased`)."}}


def _runtime(request: Request) -> ChatRuntime:
    return request.app.state.chat


def _out(conversation: Conversation, tags: list[str]) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        avatar_id=conversation.avatar_id,
        avatar_version_id=conversation.avatar_version_id,
        visitor_id=conversation.visitor_id,
        customer_ref=conversation.customer_ref,
        language=conversation.language,
        status=conversation.status,
        handoff_reason=conversation.handoff_reason,
        handed_off=conversation.handed_off,
        assignee_id=conversation.assignee_id,
        rating=conversation.rating,
        last_seq=conversation.last_seq,
        tags=tags,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        closed_at=conversation.closed_at,
    )


async def _one_out(session: SessionDep, ctx: TenantContext, conversation: Conversation) -> ConversationOut:
    tags = await inbox.tags_of(session, tenant_id=ctx.tenant_id, conversation_ids=[conversation.id])
    return _out(conversation, tags[conversation.id])


def _resolve_user(ctx: TenantContext, value: str, field: str) -> str:
    """`me` is the calling user; an API key is nobody, so it must name a user."""
    if value != ME:
        return value
    if ctx.principal.kind != "user":
        raise InvalidInput(field, "'me' means the signed-in user; an API key must give a user id.")
    return ctx.principal.id


@router.get(
    "/conversations",
    response_model=Page[ConversationOut],
    summary="The inbox: filter, search, sort and page through conversations",
    description="All filters combine (AND). `from`/`to` apply to `date_field` (`created_at` by default, or `updated_at`, the last activity); "
    "`from` is inclusive, `to` exclusive (before that instant; a date without a time means midnight UTC), unlike the inclusive "
    "day `to` of the evaluation routes. `q` searches message text and private notes (not event text): every word must occur in "
    "one message, whole words, case-insensitive, a trailing `*` makes a prefix; results keep the chosen sort, there is no "
    "relevance ranking. `sort=rating` lists rated conversations first (in `order`), then unrated ones. `next_cursor` continues "
    "exactly this query: a cursor used with other filters, another sort or another tenant is refused (400 invalid-cursor). "
    "The default `sort=updated_at` follows activity: a conversation that becomes active while you page moves ahead of the "
    "cursor and is not in the later pages (it heads the next first page); to walk every conversation once, page with "
    "`sort=created_at`. Conversations whose data was erased are not listed. Reading the inbox is operator review under the tenant's processing "
    "instructions (403 purpose-not-instructed when off).",
)
async def list_conversations(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    gate: PurposeGateDep,
    avatar_id: AvatarFilter = None,
    status: Annotated[
        list[Literal["avatar", "waiting", "operator", "closed"]] | None,
        Query(max_length=MAX_FILTER_ITEMS, description=f"avatar, waiting (for a human), operator, closed; repeat for several (at most {MAX_FILTER_ITEMS}).")
    ] = None,
    date_field: Annotated[Literal["created_at", "updated_at"], Query(description="Which time `from` and `to` apply to.")] = "created_at",
    since: Annotated[Instant | None, Query(alias="from", description=f"At or after this time, inclusive (ISO 8601 date or date-time, {RANGE_TEXT}).")] = None,
    until: Annotated[
        Instant | None,
        Query(alias="to", description=f"Before this time, exclusive: this instant itself is not included (ISO 8601 date or date-time, {RANGE_TEXT}); "
              "a date means its midnight UTC, so `to=2026-03-02` ends with March 1."),
    ] = None,
    language: Annotated[LanguageTag | None, Query(max_length=35, description="A BCP 47 language tag; `de` also matches `de-AT`.")] = None,
    tag: Annotated[list[str] | None, Query(max_length=MAX_FILTER_ITEMS, description=f"Carries this tag; repeat to require several (at most {MAX_FILTER_ITEMS}).")] = None,
    rating: Annotated[int | None, Query(ge=1, le=5, description="Exactly this rating.")] = None,
    rating_min: Annotated[int | None, Query(ge=1, le=5, description="Rated at least this.")] = None,
    rating_max: Annotated[int | None, Query(ge=1, le=5, description="Rated at most this.")] = None,
    handed_off: Annotated[bool | None, Query(description="Ever handed to a human (true) or never (false).")] = None,
    rule_id: Annotated[str | None, Query(max_length=100, description="A guideline rule fired in it (input or output).")] = None,
    assignee: Annotated[str | None, Query(max_length=64, description="A user id, `me` or `unassigned`.")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Full-text search in message text and notes.")] = None,
    sort: Annotated[Literal["updated_at", "created_at", "rating"], Query(description="Sort key.")] = "updated_at",
    order: Annotated[Literal["asc", "desc"], Query(description="Sort direction.")] = "desc",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ConversationOut]:
    check_instant_range(since, until)
    if rating is not None and (rating_min is not None or rating_max is not None):
        raise InvalidInput("query.rating", "give either an exact rating or rating_min/rating_max, not both.")
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise InvalidInput("query.rating_min", "must not be above rating_max.")
    tags = tuple(sorted({check_tag(t, "query.tag") for t in tag or ()}))
    if q is not None:
        try:
            parse_search(q)
        except ValueError as exc:
            raise InvalidInput("query.q", str(exc)) from exc
    if assignee is not None and assignee != UNASSIGNED:
        assignee = _resolve_user(ctx, assignee, "query.assignee")
    query = InboxQuery(
        avatar_id=avatar_id,
        statuses=tuple(sorted(set(status or ()), key=STATUSES.index)),
        date_field=date_field,
        since=since,
        until=until,
        language=language,
        tags=tags,
        rating=rating,
        rating_min=rating_min,
        rating_max=rating_max,
        handed_off=handed_off,
        rule_id=rule_id,
        assignee=assignee,
        q=q,
        sort=sort,
        order=order,
    )
    scope = f"inbox:{ctx.tenant_id}:{query.fingerprint()}"
    position = services.cursors.decode(scope, cursor) if cursor else None
    await gate.authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=ctx.actor)
    rows, after = await inbox.page(session, tenant_id=ctx.tenant_id, query=query, position=position, limit=limit)
    tags_by_id = await inbox.tags_of(session, tenant_id=ctx.tenant_id, conversation_ids=[c.id for c in rows])
    return Page(items=[_out(c, tags_by_id[c.id]) for c in rows], next_cursor=services.cursors.encode(scope, after) if after else None)


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationOut,
    summary="One conversation (without its messages; see transcript)",
    description="Every role (`chats:read`). Its status, avatar and version, visitor, assignee, tags, rating and times; the messages are in "
    "`…/transcript`. Reading it is operator review: refused (403 `purpose-not-instructed`) when the tenant's instructions do not allow it, and "
    "recorded in the processing log. A conversation whose data was erased answers with its anonymous stub (`status` `erased`).",
)
async def read_conversation(conversation_id: str, ctx: Reader, session: SessionDep, gate: PurposeGateDep) -> ConversationOut:
    conversation = await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    await gate.authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=ctx.actor, subject_ref=conversation.visitor_id)
    return await _one_out(session, ctx, conversation)


@router.get(
    "/conversation-tags",
    response_model=Page[TagCountOut],
    summary="The tags in use, with how many conversations carry each",
    description="In alphabetical order, paged like every list: `next_cursor` continues with the next tags.",
)
async def list_tags(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[TagCountOut]:
    rows, next_cursor = await paginate(
        session, inbox.tag_counts_query(ctx.tenant_id), ConversationTag.tag, cursors=services.cursors,
        scope=f"conversation-tags:{ctx.tenant_id}", cursor=cursor, limit=limit, rows=True,
    )
    return Page(items=[TagCountOut(tag=row.tag, conversations=int(row.conversations)) for row in rows], next_cursor=next_cursor)


@router.post(
    "/conversations/{conversation_id}/tags",
    response_model=ConversationOut,
    summary="Tag a conversation",
    description=f"Adds the tags; tags it already carries stay. At most {MAX_TAGS} tags per conversation." + REVIEW,
    responses=ERASED_CONFLICT,
)
async def tag_conversation(conversation_id: str, body: TagsIn, ctx: Operator, session: SessionDep, gate: PurposeGateDep) -> ConversationOut:
    tags = [check_tag(t, f"body.tags.{i}") for i, t in enumerate(body.tags)]
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    await _review(session, gate, ctx, conversation)
    try:
        await inbox.add_tags(session, tenant_id=ctx.tenant_id, conversation_id=conversation.id, tags=tags, actor=ctx.actor)
    except ValueError as exc:
        raise InvalidInput("body.tags", str(exc)) from exc
    await session.commit()
    return await _one_out(session, ctx, conversation)


@router.delete(
    "/conversations/{conversation_id}/tags/{tag}",
    response_model=ConversationOut,
    summary="Remove a tag from a conversation (idempotent)",
    description="Owners, admins and operators (`chats:operate`). A tag the conversation does not carry changes nothing and answers the conversation "
    "all the same; one that is not a valid tag answers 422 on `path.tag`. Tags are not activity: `updated_at` stays." + REVIEW,
    responses=ERASED_CONFLICT,
)
async def untag_conversation(
    conversation_id: str, ctx: Operator, session: SessionDep, gate: PurposeGateDep, tag: str = Path(max_length=64)
) -> ConversationOut:
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    check_tag(tag, "path.tag")
    await _review(session, gate, ctx, conversation)
    await inbox.remove_tags(session, tenant_id=ctx.tenant_id, conversation_id=conversation.id, tags=[tag])
    await session.commit()
    return await _one_out(session, ctx, conversation)


async def _assignee(session: SessionDep, ctx: TenantContext, value: str, field: str) -> str:
    """The user id to assign: `value` is `me`, a member id or a user id of a member who may operate chats.
    Another tenant's member or user id is refused exactly as an unknown id."""
    return await inbox.operator_user_id(session, tenant_id=ctx.tenant_id, member_or_user_id=_resolve_user(ctx, value, field), field=field)


@router.post(
    "/conversations/{conversation_id}/assign",
    response_model=ConversationOut,
    summary="Assign a conversation to a member who may operate chats",
    description="`assignee_id` names the member by its member id (`mem_…`, as in `GET …/members`), its user id (`usr_…`) "
    "or `me` (the signed-in user). The conversation's `assignee_id` is always the member's user id. An id that is no "
    "member of this tenant with chats:operate (including another tenant's member or user), or a member whose account is "
    "restricted (Art. 18 GDPR), answers 422 on `body.assignee_id`." + REVIEW,
    responses=ERASED_CONFLICT,
)
async def assign_conversation(
    conversation_id: str, body: AssignIn, ctx: Operator, session: SessionDep, gate: PurposeGateDep, request: Request
) -> ConversationOut:
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    user_id = await _assignee(session, ctx, body.assignee_id, "body.assignee_id")
    await _review(session, gate, ctx, conversation)
    if await inbox.set_assignee(session, conversation=conversation, assignee_id=user_id):
        await session.commit()
        await _runtime(request).publish(channels.operators(ctx.tenant_id), queue_update(conversation))
    return await _one_out(session, ctx, conversation)


@router.post(
    "/conversations/{conversation_id}/unassign",
    response_model=ConversationOut,
    summary="Unassign a conversation",
    description="Owners, admins and operators (`chats:operate`). Any of them may unassign a conversation, whoever "
    "holds it; its status stays as it is (an operator's live chat is not handed back), and every operator of the tenant sees the change in their "
    "queue. One without an assignee changes nothing; assignment is not activity, so `updated_at` stays." + REVIEW,
    responses=ERASED_CONFLICT,
)
async def unassign_conversation(conversation_id: str, ctx: Operator, session: SessionDep, gate: PurposeGateDep, request: Request) -> ConversationOut:
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    await _review(session, gate, ctx, conversation)
    if await inbox.set_assignee(session, conversation=conversation, assignee_id=None):
        await session.commit()
        await _runtime(request).publish(channels.operators(ctx.tenant_id), queue_update(conversation))
    return await _one_out(session, ctx, conversation)


async def _review(session: SessionDep, gate: PurposeGateDep, ctx: TenantContext, conversation: Conversation) -> None:
    """Acting on a conversation (tags, assignee, close, reopen) is operator review, as on the operator websocket:
    refused (403 `purpose-not-instructed`) before anything changes when the tenant's instructions do not allow it,
    and recorded in the processing log."""
    await gate.authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=ctx.actor, subject_ref=conversation.visitor_id)


def _operator_id(ctx: TenantContext) -> str | None:
    return ctx.principal.id if ctx.principal.kind == "user" else None


async def _transition(request: Request, session: SessionDep, gate: PurposeGateDep, ctx: TenantContext, conversation_id: str, action: str) -> ConversationOut:
    await _review(session, gate, ctx, await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    await check_sender_now(session)  # the runtime writes in a session of its own
    done = await transitions.apply(_runtime(request), tenant_id=ctx.tenant_id, conversation_id=conversation_id, action=action, operator_id=_operator_id(ctx))
    return await _one_out(session, ctx, done.conversation)


@router.post(
    "/conversations/{conversation_id}/close",
    response_model=ConversationOut,
    summary="Close a conversation",
    description="As an operator closing it on the websocket: a `closed` event in the conversation, which the visitor sees. "
    "409 invalid-transition when it is closed already." + REVIEW,
    responses={409: {"description": "Already closed, or the conversation's data was erased (`invalid-transition`)."}},
)
async def close_conversation(conversation_id: str, ctx: Operator, session: SessionDep, gate: PurposeGateDep, request: Request) -> ConversationOut:
    return await _transition(request, session, gate, ctx, conversation_id, "close")


@router.post(
    "/conversations/{conversation_id}/reopen",
    response_model=ConversationOut,
    summary="Reopen a closed conversation (the avatar answers again)",
    description="Owners, admins and operators (`chats:operate`). Adds a `reopened` event that the visitor and every "
    "operator see, and puts the conversation back with the avatar (`status` `avatar`), unassigned. Only a closed conversation can be reopened. Where "
    "the tenant's instructions do not store transcripts, its earlier messages were deleted when it closed and do not come back." + REVIEW,
    responses={409: {"description": "Not closed, or the conversation's data was erased (`invalid-transition`)."}},
)
async def reopen_conversation(conversation_id: str, ctx: Operator, session: SessionDep, gate: PurposeGateDep, request: Request) -> ConversationOut:
    return await _transition(request, session, gate, ctx, conversation_id, "reopen")


def _accepted(erasure: ErasureRequest, conversation_id: str, created: bool) -> ErasureAcceptedOut:
    return ErasureAcceptedOut(
        id=erasure.id, status=erasure.status, scope=erasure.scope, conversation_id=conversation_id, requested_at=erasure.requested_at, created=created
    )


async def _request_deletion(session: SessionDep, ctx: TenantContext, services: ServicesDep, conversation: Conversation) -> tuple[ErasureRequest, bool]:
    ensure_not_erased(conversation)
    return await request_erasure(session, ctx, settings=services.settings, scope="conversation", conversation_id=conversation.id)


@router.delete(
    "/conversations/{conversation_id}",
    status_code=http_status.HTTP_202_ACCEPTED,
    response_model=ErasureAcceptedOut,
    summary="Delete a conversation: queue an erasure request for it",
    description="Needs data:erase. Deleting is erasure: the request is tracked (pending, running, done, failed) and leaves a "
    "receipt; messages, notes and rating comments are deleted and an anonymous stub stays for statistics. A legal hold on the "
    "conversation or its end customer keeps it. 202 with the new request (`created` true); asking again while a request for "
    "it is queued or running answers 200 with that request (`created` false), as `POST …/erasure-requests` does.",
    responses={
        200: {"model": ErasureAcceptedOut, "description": "A request for this conversation is already queued or running: that request (`created` false)."},
        409: {"description": "The conversation's data was erased already (`conversation-erased`)."},
    },
)
async def delete_conversation(
    conversation_id: str,
    ctx: Annotated[TenantContext, require(Permission.DATA_ERASE)],
    session: SessionDep,
    services: ServicesDep,
    request: Request,
    response: Response,
) -> ErasureAcceptedOut:
    conversation = await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    erasure, created = await _request_deletion(session, ctx, services, conversation)
    await session.commit()
    if created:
        wake_erasure_worker(request.app)
    else:
        response.status_code = http_status.HTTP_200_OK
    return _accepted(erasure, conversation.id, created)


@router.post(
    "/conversations/bulk",
    response_model=BulkOut,
    summary="Act on up to 200 conversations at once",
    description="One result per distinct id, in the order given. An id that is not a conversation of this tenant is reported "
    "`not_found` and nothing is done with it. `tag`/`untag` need `tags`, `assign` needs `assignee_id` (a member id, a user id or `me`, as for one conversation). "
    "`delete` needs the permission data:erase and queues an erasure request per conversation (outcome `accepted`)." + REVIEW,
    openapi_extra=more_forbidden("for `delete`, a role without the permission `data:erase` (`permission-denied`)"),
)
async def bulk(body: BulkIn, ctx: Operator, session: SessionDep, services: ServicesDep, gate: PurposeGateDep, request: Request) -> BulkOut:
    ids: Sequence[str] = list(dict.fromkeys(body.conversation_ids))
    if body.action in ("tag", "untag"):
        if not body.tags:
            raise InvalidInput("body.tags", f"'{body.action}' needs at least one tag.")
        tags = [check_tag(t, f"body.tags.{i}") for i, t in enumerate(body.tags)]
    elif body.tags is not None:
        raise InvalidInput("body.tags", f"'{body.action}' takes no tags.")
    if body.action == "assign":
        if body.assignee_id is None:
            raise InvalidInput("body.assignee_id", "'assign' needs an assignee_id.")
        assignee_id = await _assignee(session, ctx, body.assignee_id, "body.assignee_id")
    elif body.assignee_id is not None:
        raise InvalidInput("body.assignee_id", f"'{body.action}' takes no assignee_id.")
    if body.action == "delete" and not has_permission(ctx.role, Permission.DATA_ERASE):
        raise PermissionDenied(Permission.DATA_ERASE.value)

    results: dict[str, BulkResult] = {}
    if body.action in ("close", "reopen"):
        for conversation in (await inbox.conversations_by_id(session, tenant_id=ctx.tenant_id, conversation_ids=ids)).values():
            if conversation.status != ERASED:
                await _review(session, gate, ctx, conversation)
        await check_sender_now(session)  # the runtime writes in a session of its own
        runtime = _runtime(request)
        for conversation_id in ids:
            try:
                await transitions.apply(runtime, tenant_id=ctx.tenant_id, conversation_id=conversation_id, action=body.action, operator_id=_operator_id(ctx))
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="done")
            except NotFound:
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="not_found", detail="No such conversation.")
            except transitions.InvalidTransition as exc:
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="conflict", detail=exc.detail)
    else:
        if body.action in ("tag", "untag", "assign"):
            # All locked at once, in id order, before they are read: two bulk requests naming the same conversations
            # in other orders would each lock one the other then waits for (a deadlock on PostgreSQL: a 500).
            c = Conversation
            await lock_rows(session, c.last_seq, c.tenant_id == ctx.tenant_id, c.id.in_(sorted(ids)), order_by=c.id)  # type: ignore[attr-defined]
        # Read after the lock (read before it, the session would keep the rows as they were then).
        found = await inbox.conversations_by_id(session, tenant_id=ctx.tenant_id, conversation_ids=ids)
        if body.action != "delete":  # erasure is the tenant's instruction itself; every other action is operator review
            for conversation in found.values():
                if conversation.status != ERASED:
                    await _review(session, gate, ctx, conversation)
        changed: list[Conversation] = []
        for conversation_id in ids:
            conversation = found.get(conversation_id)
            if conversation is None:
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="not_found", detail="No such conversation.")
                continue
            if body.action == "delete":
                try:
                    erasure, _ = await _request_deletion(session, ctx, services, conversation)
                except (ConversationErased, InvalidInput) as exc:
                    results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="conflict", detail=exc.detail)
                    continue
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="accepted", erasure_request_id=erasure.id)
                continue
            if conversation.status == ERASED:
                results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="conflict", detail=ConversationErased().detail)
                continue
            if body.action == "tag":
                try:
                    await inbox.add_tags(session, tenant_id=ctx.tenant_id, conversation_id=conversation_id, tags=tags, actor=ctx.actor)
                    outcome = "done"
                except ValueError as exc:
                    results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome="conflict", detail=str(exc))
                    continue
            elif body.action == "untag":
                await inbox.remove_tags(session, tenant_id=ctx.tenant_id, conversation_id=conversation_id, tags=tags)
                outcome = "done"
            else:
                target = assignee_id if body.action == "assign" else None
                outcome = "done" if await inbox.set_assignee(session, conversation=conversation, assignee_id=target) else "unchanged"
                if outcome == "done":
                    changed.append(conversation)
            results[conversation_id] = BulkResult(conversation_id=conversation_id, outcome=outcome)
        await session.commit()
        if body.action == "delete":
            wake_erasure_worker(request.app)
        runtime = _runtime(request)
        for conversation in changed:
            await runtime.publish(channels.operators(ctx.tenant_id), queue_update(conversation))
    ordered = [results[i] for i in ids]
    return BulkOut(
        action=body.action,
        results=ordered,
        done=sum(r.outcome in ("done", "accepted") for r in ordered),
        failed=sum(r.outcome in ("not_found", "conflict") for r in ordered),
    )
