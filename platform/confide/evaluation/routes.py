"""Evaluation routes: reports (JSON or CSV), per-conversation metrics, ratings, the resolution flag,
score definitions and staff scores. Every filter is by avatar, conversation, time or category;
none is by visitor or customer (no profiling)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from avatars.models import Avatar
from confide.chats.inbox import ensure_not_erased
from confide.chats.models import Conversation, Message
from confide.core.clock import utcnow
from confide.core.dates import RANGE_TEXT, Day, check_day_range
from confide.core.db import SessionDep
from confide.core.errors import NotFound
from confide.core.openapi_errors import more_forbidden
from confide.core.patching import patch_rule
from confide.core.schemas import Cursor, Limit, Page, paginate, query_scope
from confide.core.services import ServicesDep
from confide.core.tenancy import Permission, TenantContext, check_sender_now, get_for_tenant, owned_filter, require, tenant_select
from confide.evaluation import annotations
from confide.evaluation.annotations import day_start
from confide.evaluation.models import ConversationMetrics, ConversationOutcome, ConversationScore, ScoreDefinition
from confide.evaluation.reports import Granularity, build_report, report_csv, resolve_range
from confide.evaluation.schemas import (
    ConversationMetricsOut,
    OutcomeOut,
    RatingOut,
    ReportOut,
    ResolutionIn,
    ScoreChange,
    ScoreDefinitionChange,
    ScoreDefinitionIn,
    ScoreDefinitionOut,
    ScoreIn,
    ScoreOut,
    ScoreSummaryOut,
)
from confide.evaluation.service import Evaluator, metrics_for
from confide.privacy.gate import Purpose, authorize

router = APIRouter(prefix="/v1/tenants/{tenant_id}", tags=["evaluation"])

Reader = Annotated[TenantContext, require(Permission.EVALUATION_READ)]
Operator = Annotated[TenantContext, require(Permission.CHATS_OPERATE)]
Manager = Annotated[TenantContext, require(Permission.TENANT_MANAGE)]
# Day filters: `to` is the last UTC day counted (inclusive), unlike the exclusive date-time `to` of the inbox, the
# processing log and exports (core.dates). Only /reports fills in a missing end; the lists leave it open.
_DAY = f"YYYY-MM-DD, {RANGE_TEXT}"
ReportFrom = Annotated[Day | None, Query(alias="from", description=f"First UTC day, inclusive ({_DAY}); default: 29 days before `to`.")]
ReportTo = Annotated[
    Day | None,
    Query(alias="to", description=f"Last UTC day, inclusive: that whole day counts ({_DAY}); default: 29 days after `from` when only `from` is given, else today."),
]
From = Annotated[Day | None, Query(alias="from", description=f"First UTC day, inclusive ({_DAY}); default: no lower bound.")]
To = Annotated[Day | None, Query(alias="to", description=f"Last UTC day, inclusive: that whole day counts ({_DAY}); default: no upper bound.")]
# Filters naming one of the tenant's objects: another tenant's id answers 404 as an unknown one (tenancy.owned_filter).
AvatarFilter = Annotated[str | None, owned_filter(Avatar, "avatar", name="avatar_id", description="Only this avatar (archived ones too).")]
DefinitionFilter = Annotated[str | None, owned_filter(ScoreDefinition, "score definition", name="definition_id", description="Only this score definition.")]


async def _evaluating(session: Any, ctx: TenantContext, *, subject_ref: str | None = None, counts: dict[str, int] | None = None) -> None:
    """Reading or writing evaluation data is evaluation: the tenant's instructions must allow it (else 403)."""
    await authorize(session, tenant_id=ctx.tenant_id, purpose=Purpose.EVALUATE, actor=ctx.actor, subject_ref=subject_ref, counts=counts)


def _evaluator(request: Request) -> Evaluator:
    return request.app.state.evaluation


# ---- reports ------------------------------------------------------------------------------------


@router.get(
    "/reports",
    response_model=ReportOut,
    summary="Report by day or week: conversations, containment, handoffs by reason, CSAT, latency, unanswered questions, guideline hits",
    description="Served from daily aggregates (UTC days on which conversations started), so it stays fast at any volume. "
    "`?format=csv` or `Accept: text/csv` downloads the periods as CSV. Conversations whose text or row was erased still count.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def report(
    request: Request,
    ctx: Reader,
    session: SessionDep,
    granularity: Annotated[Granularity, Query(description="day or week (ISO weeks, Monday to Sunday).")] = "day",
    start: ReportFrom = None,
    end: ReportTo = None,
    avatar_id: AvatarFilter = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json (default) or csv; `Accept: text/csv` also gives CSV.")] = None,  # noqa: A002
) -> Any:
    first, last = resolve_range(start, end, utcnow().date())
    await _evaluating(session, ctx, counts={"days": (last - first).days + 1})
    body = await build_report(session, tenant_id=ctx.tenant_id, granularity=granularity, start=first, end=last, avatar_id=avatar_id)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        name = f"confide-report-{granularity}-{first.isoformat()}-{last.isoformat()}.csv"
        return Response(report_csv(body), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return body


# ---- metrics and outcomes -----------------------------------------------------------------------

# A write about one conversation refuses an erased one, as the inbox's actions do.
ERASED_CONFLICT = {409: {"description": "The conversation's data was erased (`conversation-erased`)."}}


@router.get(
    "/evaluation/conversations",
    response_model=Page[ConversationMetricsOut],
    summary="Metrics of closed conversations, oldest first",
    description="Every role (`evaluation:read`). One row per closed conversation whose metrics were computed (only where evaluation was instructed "
    "at its close), cursor-paged; `from`/`to` are the UTC days the conversations started, both inclusive, and the filters combine. Rows stay when a "
    "conversation is deleted (`conversation_id` null). Reading it is evaluation: refused (403 `purpose-not-instructed`) when the tenant's "
    "instructions do not allow it, and recorded in the processing log.",
)
async def list_metrics(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    start: From = None,
    end: To = None,
    avatar_id: AvatarFilter = None,
    handed_off: Annotated[bool | None, Query(description="Only conversations that were (or were not) handed off.")] = None,
    handoff_reason: Annotated[str | None, Query(max_length=40, description="Only this handoff category.")] = None,
    contained: Annotated[bool | None, Query(description="Only contained (or not contained) conversations.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ConversationMetricsOut]:
    check_day_range(start, end)
    await _evaluating(session, ctx)
    stmt = tenant_select(ctx, ConversationMetrics)
    if start:
        stmt = stmt.where(ConversationMetrics.day >= start)
    if end:
        stmt = stmt.where(ConversationMetrics.day <= end)
    if avatar_id:
        stmt = stmt.where(ConversationMetrics.avatar_id == avatar_id)
    if handed_off is not None:
        stmt = stmt.where(ConversationMetrics.handed_off.is_(handed_off))
    if handoff_reason:
        stmt = stmt.where(ConversationMetrics.handoff_reason == handoff_reason)
    if contained is not None:
        stmt = stmt.where(ConversationMetrics.contained.is_(contained))
    scope = query_scope("metrics", ctx.tenant_id, start, end, avatar_id, handed_off, handoff_reason, contained)
    rows, next_cursor = await paginate(session, stmt, ConversationMetrics.id, cursors=services.cursors, scope=scope, cursor=cursor, limit=limit)
    return Page(items=[ConversationMetricsOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/conversations/{conversation_id}/metrics",
    response_model=ConversationMetricsOut,
    summary="A closed conversation's metrics",
    description="Computed in the background when the conversation closes, where your instructions allow evaluation.",
)
async def conversation_metrics(conversation_id: str, ctx: Reader, session: SessionDep) -> ConversationMetricsOut:
    await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    await _evaluating(session, ctx, subject_ref=conversation_id)
    row = await metrics_for(session, tenant_id=ctx.tenant_id, conversation_id=conversation_id)
    if row is None:
        raise NotFound("No metrics for this conversation: it is still open, or was closed while evaluation was not instructed.")
    return ConversationMetricsOut.model_validate(row)


@router.put(
    "/conversations/{conversation_id}/resolution",
    response_model=OutcomeOut,
    summary="Mark a conversation resolved or not (operators)",
    description="Overrides the visitor's own confirmation; the latest word counts. Moves the metrics and reports with it. "
    "A conversation whose data was erased takes no new word (409 `conversation-erased`).",
    responses=ERASED_CONFLICT,
)
async def set_resolution(conversation_id: str, body: ResolutionIn, request: Request, ctx: Operator, session: SessionDep) -> OutcomeOut:
    conversation = ensure_not_erased(await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation"))
    await check_sender_now(session)  # the evaluator writes in a session of its own
    outcome = await _evaluator(request).record_outcome(
        tenant_id=ctx.tenant_id, conversation_id=conversation.id, resolved=body.resolved, resolved_source="operator",
        resolved_by=ctx.actor, actor=ctx.actor, strict=True,
    )
    if outcome is None:
        raise NotFound("No such conversation.")
    return OutcomeOut.model_validate(outcome)


@router.get(
    "/ratings",
    response_model=Page[RatingOut],
    summary="CSAT ratings with their comments, oldest first",
    description="`from`/`to` are the UTC days the ratings were given (`rated_at`). A report counts each rating on the day its "
    "conversation started instead, so a rating given after midnight on a conversation begun before it is on different days in the two.",
)
async def ratings(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    start: From = None,
    end: To = None,
    avatar_id: AvatarFilter = None,
    score: Annotated[int | None, Query(ge=1, le=5, description="Only this score.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[RatingOut]:
    check_day_range(start, end)
    await _evaluating(session, ctx)
    stmt = tenant_select(ctx, ConversationOutcome).where(ConversationOutcome.score.is_not(None))
    if start:
        stmt = stmt.where(ConversationOutcome.rated_at >= day_start(start))
    if end:
        stmt = stmt.where(ConversationOutcome.rated_at < day_start(date.fromordinal(end.toordinal() + 1)))
    if avatar_id:
        stmt = stmt.where(ConversationOutcome.avatar_id == avatar_id)
    if score:
        stmt = stmt.where(ConversationOutcome.score == score)
    scope = query_scope("ratings", ctx.tenant_id, start, end, avatar_id, score)
    rows, next_cursor = await paginate(session, stmt, ConversationOutcome.id, cursors=services.cursors, scope=scope, cursor=cursor, limit=limit)
    ids = [r.rating_message_id for r in rows if r.rating_message_id]
    comments = dict((await session.execute(select(Message.id, Message.text).where(Message.id.in_(ids), Message.tenant_id == ctx.tenant_id))).all()) if ids else {}
    items = [
        RatingOut(
            conversation_id=r.conversation_id, avatar_id=r.avatar_id, score=r.score, comment=comments.get(r.rating_message_id) or None,
            resolved=r.resolved, resolved_source=r.resolved_source, rated_at=r.rated_at,
        )
        for r in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


# ---- score definitions --------------------------------------------------------------------------

NAME_TAKEN = "Another score definition of this tenant has that name, ignoring case and spacing (problem type `conflict`)."


@router.get(
    "/evaluation/score-definitions",
    response_model=Page[ScoreDefinitionOut],
    summary="Score definitions",
    description="Every role (`evaluation:read`). The tenant's score definitions (at most 100) in the order they were created, cursor-paged, each "
    "with its kind and its range or labels. They hold no conversation data, so reading them is not gated by the processing instructions.",
)
async def list_definitions(ctx: Reader, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[ScoreDefinitionOut]:
    rows, next_cursor = await paginate(
        session, tenant_select(ctx, ScoreDefinition), ScoreDefinition.id, cursors=services.cursors, scope=f"sdef:{ctx.tenant_id}", cursor=cursor, limit=limit
    )
    return Page(items=[ScoreDefinitionOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/evaluation/score-definitions",
    status_code=status.HTTP_201_CREATED,
    response_model=ScoreDefinitionOut,
    summary="Define a score (admins): numeric with a range, categorical with labels, or boolean",
    description="Owners and admins (`tenant:manage`). `numeric` needs a finite `min_value` below `max_value`, `categorical` at least two labels, "
    "unique ignoring case, `boolean` neither; otherwise 422 naming the field. Kind, range and labels are fixed from now on (only name and "
    "description change); a name must be unique in the tenant, ignoring case and spacing, and a tenant has at most 100 definitions (409).",
    responses={409: {"description": NAME_TAKEN[:-1] + "; or the tenant has its 100 score definitions already."}},
)
async def create_definition(body: ScoreDefinitionIn, ctx: Manager, session: SessionDep) -> ScoreDefinitionOut:
    row = await annotations.create_definition(
        session, ctx, name=body.name, description=body.description, kind=body.kind, min_value=body.min_value, max_value=body.max_value, labels=body.labels
    )
    await session.commit()
    return ScoreDefinitionOut.model_validate(row)


@router.get(
    "/evaluation/score-definitions/{definition_id}",
    response_model=ScoreDefinitionOut,
    summary="A score definition",
    description="Every role (`evaluation:read`). Its name, description, kind and range or labels: what a score's `value` is checked against. Not "
    "gated by the processing instructions: a definition holds no conversation data.",
)
async def read_definition(definition_id: str, ctx: Reader, session: SessionDep) -> ScoreDefinitionOut:
    return ScoreDefinitionOut.model_validate(await get_for_tenant(session, ctx, ScoreDefinition, definition_id, "score definition"))


@router.patch(
    "/evaluation/score-definitions/{definition_id}",
    response_model=ScoreDefinitionOut,
    summary="Rename or describe a score definition (admins)",
    description="Kind, range and labels are fixed once defined, so scores already given keep their meaning; define a new score instead. "
    + patch_rule(),
    responses={409: {"description": NAME_TAKEN}},
)
async def update_definition(definition_id: str, body: ScoreDefinitionChange, ctx: Manager, session: SessionDep) -> ScoreDefinitionOut:
    row = await annotations.update_definition(session, ctx, definition_id, name=body.name, description=body.description)
    await session.commit()
    return ScoreDefinitionOut.model_validate(row)


@router.delete(
    "/evaluation/score-definitions/{definition_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a score definition and its scores (admins)",
    description="Owners and admins (`tenant:manage`). Deletes the definition and every score given with it, on every conversation, for good; "
    "summaries and score lists no longer show them. Allowed also once the instructions no longer allow evaluation.",
)
async def delete_definition(definition_id: str, ctx: Manager, session: SessionDep) -> Response:
    row = await get_for_tenant(session, ctx, ScoreDefinition, definition_id, "score definition")
    await session.delete(row)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/evaluation/score-definitions/{definition_id}/summary",
    response_model=ScoreSummaryOut,
    summary="A score per avatar and source: count and mean, or the distribution of labels",
    description="Every role (`evaluation:read`). One group per avatar and `source` (`staff` or `automatic`): count and mean, with min and max for a "
    "numeric score; for a boolean one the mean is the share of true; for a categorical one, the count per label. `from`/`to` are the UTC days the "
    "scores were given, both inclusive; scores of conversations since deleted still count. Reading it is evaluation: refused (403 "
    "`purpose-not-instructed`) when the tenant's instructions do not allow it, and recorded in the processing log.",
)
async def definition_summary(definition_id: str, ctx: Reader, session: SessionDep, start: From = None, end: To = None, avatar_id: AvatarFilter = None) -> Any:
    check_day_range(start, end)
    body = await annotations.summary(session, ctx, definition_id, avatar_id=avatar_id, start=start, end=end)
    await _evaluating(session, ctx)
    return body


# ---- scores -------------------------------------------------------------------------------------


async def _scores_out(session: Any, ctx: TenantContext, rows: list[ConversationScore]) -> list[ScoreOut]:
    kinds = await annotations.definition_kinds(session, ctx, {r.definition_id for r in rows})
    return [
        ScoreOut(
            id=r.id, definition_id=r.definition_id, conversation_id=r.conversation_id, avatar_id=r.avatar_id, source=r.source,
            value=annotations.shown_value(kinds.get(r.definition_id, "numeric"), r.value_number, r.value_label), comment=r.comment,
            author_user_id=r.author_user_id, author_api_key_id=r.author_api_key_id, created_at=r.created_at, updated_at=r.updated_at,
        )
        for r in rows
    ]


@router.post(
    "/conversations/{conversation_id}/scores",
    status_code=status.HTTP_201_CREATED,
    response_model=ScoreOut,
    summary="Score a conversation (staff annotation, or an automatic evaluator's result)",
    description="The value must fit the definition: a number within its range, one of its labels, or true/false; anything else is a 422 on `value`. "
    "A conversation whose data was erased takes no new score (409 `conversation-erased`).",
    responses=ERASED_CONFLICT,
)
async def add_score(conversation_id: str, body: ScoreIn, ctx: Reader, session: SessionDep) -> ScoreOut:
    row, _ = await annotations.add_score(
        session, ctx, conversation_id=conversation_id, definition_id=body.definition_id, value=body.value, comment=body.comment, source=body.source
    )
    await _evaluating(session, ctx, subject_ref=conversation_id)
    await session.commit()
    return (await _scores_out(session, ctx, [row]))[0]


@router.get(
    "/conversations/{conversation_id}/scores",
    response_model=Page[ScoreOut],
    summary="A conversation's scores",
    description="Every role (`evaluation:read`). The scores given to this conversation, for every definition, in the order they were given, "
    "cursor-paged, with their author, source and comment. Reading it is evaluation: refused (403 `purpose-not-instructed`) when the tenant's "
    "instructions do not allow it, and recorded in the processing log.",
)
async def conversation_scores(conversation_id: str, ctx: Reader, session: SessionDep, services: ServicesDep, cursor: Cursor = None, limit: Limit = 50) -> Page[ScoreOut]:
    await get_for_tenant(session, ctx, Conversation, conversation_id, "conversation")
    await _evaluating(session, ctx, subject_ref=conversation_id)
    stmt = annotations.scores_query(ctx, conversation_id=conversation_id)
    rows, next_cursor = await paginate(session, stmt, ConversationScore.id, cursors=services.cursors, scope=query_scope("scores", ctx.tenant_id, conversation_id), cursor=cursor, limit=limit)
    return Page(items=await _scores_out(session, ctx, rows), next_cursor=next_cursor)


@router.get(
    "/evaluation/scores",
    response_model=Page[ScoreOut],
    summary="Scores across conversations, by definition, avatar or source",
    description="Every role (`evaluation:read`). Scores in the order they were given, cursor-paged; `definition_id`, `avatar_id` and `source` "
    "combine, and none filters by visitor or customer: scores are about conversations and avatars, never about people. A score stays when its "
    "conversation is deleted (`conversation_id` null). Reading it is evaluation: refused (403 `purpose-not-instructed`) when the tenant's "
    "instructions do not allow it, and recorded in the processing log.",
)
async def list_scores(
    ctx: Reader,
    session: SessionDep,
    services: ServicesDep,
    definition_id: DefinitionFilter = None,
    avatar_id: AvatarFilter = None,
    source: Annotated[Literal["staff", "automatic"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ScoreOut]:
    await _evaluating(session, ctx)
    stmt = annotations.scores_query(ctx, definition_id=definition_id, avatar_id=avatar_id, source=source)
    scope = query_scope("scores", ctx.tenant_id, definition_id, avatar_id, source)
    rows, next_cursor = await paginate(session, stmt, ConversationScore.id, cursors=services.cursors, scope=scope, cursor=cursor, limit=limit)
    return Page(items=await _scores_out(session, ctx, rows), next_cursor=next_cursor)


SCORE_NOT_YOURS = "a score written by someone else, unless you are an admin (`permission-denied`)"


@router.patch(
    "/evaluation/scores/{score_id}",
    response_model=ScoreOut,
    summary="Change a score's value or comment",
    description="Only the score's author (the person, or the API key that wrote it) or an admin may change it. "
    "Not once the scored conversation's data was erased (409 `conversation-erased`); the score can still be deleted. "
    + patch_rule(["comment"]),
    responses={409: {"description": "The scored conversation's data was erased, or the conversation is gone (`conversation-erased`)."}},
    openapi_extra=more_forbidden(SCORE_NOT_YOURS),
)
async def update_score(score_id: str, body: ScoreChange, ctx: Reader, session: SessionDep) -> ScoreOut:
    fields = body.model_fields_set
    row, _ = await annotations.update_score(
        session, ctx, score_id, value=body.value, value_set="value" in fields, comment=body.comment, comment_set="comment" in fields
    )
    await _evaluating(session, ctx, subject_ref=row.conversation_id)
    await session.commit()
    return (await _scores_out(session, ctx, [row]))[0]


@router.delete(
    "/evaluation/scores/{score_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a score",
    description="Only the score's author (the person, or the API key that wrote it) or an admin may delete it. Also once the tenant's "
    "instructions no longer allow evaluation: deleting is never held back.",
    openapi_extra=more_forbidden(SCORE_NOT_YOURS),
)
async def delete_score(score_id: str, ctx: Reader, session: SessionDep) -> Response:
    row = await get_for_tenant(session, ctx, ConversationScore, score_id, "score")
    annotations.ensure_may_change(ctx, row)
    await session.delete(row)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
