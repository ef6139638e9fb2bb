"""Evaluation logic on the database: computing a closed conversation's metrics, recording its outcome
(CSAT, resolution), and keeping the daily aggregates in step by applying each change as a delta.

Every write passes the purpose gate with Purpose.EVALUATE first: where the tenant's instructions do
not allow evaluation, nothing is computed or stored. The chat never reads anything written here.

Concurrency: a conversation's metrics row is the point of serialisation. Its writer locks it
(SELECT … FOR UPDATE on PostgreSQL; one writer per node on SQLite), re-reads the outcome, and moves
the aggregates by the difference between the row's old and new contribution, so a rating that
arrives while the close is still being evaluated is never lost or counted twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.chats.inbox import ConversationErased
from confide.chats.models import Conversation, Message, RuleHit
from confide.core.clock import utcnow
from confide.core.ids import new_id
from confide.evaluation import metrics as m
from confide.evaluation.models import ConversationMetrics, ConversationOutcome, ConversationScore, DailyAggregate, DailyCount, UnansweredQuestion
from confide.privacy.gate import Purpose, PurposeNotInstructed, authorize
from confide.privacy.holds import ERASED
from confide.privacy.instructions import Instructions, current_instructions
from confide.privacy.subprocessors import register_from_settings
from confide.settings import Settings
from guidelines.pii import detect_pii, redact

log = logging.getLogger("confide.evaluation")
ACTOR = "evaluation"

# Fields of ConversationMetrics that `metrics.compute` fills.
COMPUTED_FIELDS = (
    "day", "started_at", "closed_at", "language", "transcript_available", "turns", "avatar_messages", "operator_messages",
    "duration_seconds", "first_response_seconds", "mean_response_seconds", "response_count", "response_seconds_sum",
    "handed_off", "handoff_reason", "human_involved", "fallback_answers", "rule_hits", "sentiment_lexicon",
    "sentiment_messages", "sentiment_start", "sentiment_end", "sentiment_trend",
)


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def evaluation_allowed(session: AsyncSession, *, tenant_id: str, subject_ref: str, counts: dict[str, int] | None = None) -> Instructions | None:
    """The instructions in force when the tenant allows evaluation (and the operation is logged), else None."""
    try:
        return await authorize(session, tenant_id=tenant_id, purpose=Purpose.EVALUATE, actor=ACTOR, subject_ref=subject_ref, counts=counts)
    except PurposeNotInstructed:
        return None


# ---- aggregates ------------------------------------------------------------------------------


async def apply_delta(session: AsyncSession, *, tenant_id: str, avatar_id: str, day: Any, delta: m.Contribution) -> None:
    """Move the avatar's day by `delta` with atomic increments (several nodes may add at once).
    Rows are touched in a fixed order, so two writers cannot deadlock on them."""
    if delta.empty:
        return
    insert = _insert(session)
    table = DailyAggregate.__table__
    stmt = insert(table).values(id=new_id("agg"), tenant_id=tenant_id, avatar_id=avatar_id, day=day, **delta.scalars)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "avatar_id", "day"], set_={k: table.c[k] + stmt.excluded[k] for k in m.SCALARS}
    )
    await session.execute(stmt)
    counts = DailyCount.__table__
    for (dimension, key), value in sorted(delta.counts.items()):
        stmt = insert(counts).values(id=new_id("agc"), tenant_id=tenant_id, avatar_id=avatar_id, day=day, dimension=dimension, key=key, count=value)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "avatar_id", "day", "dimension", "key"], set_={"count": counts.c["count"] + stmt.excluded["count"]}
        )
        await session.execute(stmt)


# ---- metrics ---------------------------------------------------------------------------------


def _apply_outcome(row: ConversationMetrics, outcome: ConversationOutcome | None, fallback: tuple[int | None, bool | None]) -> None:
    score, resolved = fallback
    row.rating = outcome.score if outcome is not None and outcome.score is not None else score
    if outcome is not None and outcome.resolved is not None:
        row.resolved, row.resolved_source = outcome.resolved, outcome.resolved_source
    else:
        row.resolved, row.resolved_source = resolved, ("visitor" if resolved is not None else None)
    row.contained = m.contained(resolved=row.resolved, handed_off=row.handed_off, human_involved=row.human_involved)


async def _locked_metrics(session: AsyncSession, conversation_id: str) -> ConversationMetrics | None:
    return await session.scalar(select(ConversationMetrics).where(ConversationMetrics.conversation_id == conversation_id).with_for_update())


async def _outcome(session: AsyncSession, conversation_id: str) -> ConversationOutcome | None:
    return await session.scalar(select(ConversationOutcome).where(ConversationOutcome.conversation_id == conversation_id))


def _latest_rating(messages: Sequence[m.MessageView]) -> tuple[int | None, bool | None]:
    for message in sorted(messages, key=lambda x: (x.seq or 0, x.created_at), reverse=True):
        if message.event == "rating" and message.verdict:
            score = message.verdict.get("score")
            return (int(score) if isinstance(score, int) else None), message.verdict.get("resolved")
    return None, None


def _redacted_questions(questions: list[m.Question], language: str) -> list[tuple[str, str, str]]:
    out = []
    for q in questions:
        text = redact(q.text, detect_pii(q.text, language))[:500]
        normalized = m.normalize_question(text)
        if normalized:
            out.append((q.message_id, text, normalized))
    return out


class Evaluator:
    """One per node (app.state.evaluation): computes metrics and records outcomes, in the background."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._write = asyncio.Lock()  # one evaluation writer per node; across nodes the row lock

    async def _retrying(self, work: Any) -> Any:
        """Run a write transaction; once more if another node inserted the same row at the same moment."""
        for attempt in (1, 2):
            try:
                async with self._write, self.sessionmaker() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            except IntegrityError:
                if attempt == 2:
                    raise
        return None

    async def evaluate_closed(self, *, tenant_id: str, conversation_id: str) -> ConversationMetrics | None:
        """Compute (or recompute, after a reopen) a closed conversation's metrics. None: not allowed or not closed."""
        async with self.sessionmaker() as session:
            conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id, Conversation.tenant_id == tenant_id))
            if conversation is None or conversation.status != "closed":
                return None
            rows = (
                await session.execute(
                    select(Message.id, Message.seq, Message.kind, Message.author, Message.event, Message.text, Message.verdict, Message.created_at).where(
                        Message.conversation_id == conversation_id
                    )
                )
            ).all()
            messages = [m.MessageView(*row) for row in rows]
            rule_ids = list((await session.scalars(select(RuleHit.rule_id).where(RuleHit.conversation_id == conversation_id))).all())
            instructions = await evaluation_allowed(session, tenant_id=tenant_id, subject_ref=conversation_id, counts={"messages": len(messages)})
            if instructions is None:
                return None
            await session.commit()

        def _measure(views: list[m.MessageView]) -> m.Computed:
            return m.compute(
                started_at=conversation.created_at,
                closed_at=conversation.closed_at,
                language=conversation.language,
                handed_off_flag=conversation.handed_off,
                handoff_reason_now=conversation.handoff_reason,
                messages=views,
                rule_ids=rule_ids,
            )

        computed = await asyncio.to_thread(_measure, messages)
        # The end customer's words are kept only where transcripts are, redacted, with the tenant's retention.
        questions = await asyncio.to_thread(_redacted_questions, computed.questions, conversation.language) if instructions.store_transcripts else []
        rating_fallback = (conversation.rating, _latest_rating(messages)[1]) if conversation.rating is not None else _latest_rating(messages)
        # Closed again after a reopen, with the earlier text gone (purged at the earlier close, or by retention): what is
        # left measures only the later part, so it joins the row the earlier close stored rather than replace it.
        earlier_gone = min((v.seq for v in messages if v.seq is not None), default=None) != 1
        last_seq = max((v.seq for v in messages if v.seq is not None), default=conversation.last_seq)

        async def write(session: AsyncSession) -> ConversationMetrics:
            row = await _locked_metrics(session, conversation_id)
            old = m.contribution(row)
            stored_before = row is not None
            if row is None:
                row = ConversationMetrics(
                    id=new_id("cmx"),
                    tenant_id=tenant_id,
                    conversation_id=conversation_id,
                    avatar_id=conversation.avatar_id,
                    avatar_version_id=conversation.avatar_version_id,
                    language=conversation.language,
                    day=computed.day,
                    started_at=computed.started_at,
                )
                session.add(row)
            measured, new_questions = computed, questions
            if stored_before and earlier_gone:
                # Only what came after the stored measures: measured again, it would count twice.
                covered = row.covered_seq
                later = [v for v in messages if covered is None or v.seq is None or v.seq > covered]
                measured = m.carry_over(computed if covered is None else await asyncio.to_thread(_measure, later), row)
                later_ids = {v.id for v in later}
                new_questions = [q for q in questions if q[0] in later_ids]
            row.covered_seq = last_seq
            for name in COMPUTED_FIELDS:
                setattr(row, name, getattr(measured, name))
            _apply_outcome(row, await _outcome(session, conversation_id), rating_fallback)
            row.computed_at = utcnow()
            await session.flush()
            await apply_delta(session, tenant_id=tenant_id, avatar_id=row.avatar_id, day=row.day, delta=m.contribution(row).minus(old))
            if measured is computed:  # measured anew from the whole text: its questions replace the earlier ones
                await session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.conversation_id == conversation_id))
            for message_id, text, normalized in new_questions:
                session.add(
                    UnansweredQuestion(
                        id=new_id("uq"),
                        tenant_id=tenant_id,
                        avatar_id=conversation.avatar_id,
                        conversation_id=conversation_id,
                        message_id=message_id,
                        language=conversation.language,
                        day=computed.day,
                        text=text,
                        normalized=normalized,
                    )
                )
            return row

        return await self._retrying(write)

    async def record_outcome(
        self,
        *,
        tenant_id: str,
        conversation_id: str,
        score: int | None = None,
        rating_message_id: str | None = None,
        resolved: bool | None = None,
        resolved_source: str | None = None,
        resolved_by: str | None = None,
        actor: str = ACTOR,
        strict: bool = False,
    ) -> ConversationOutcome | None:
        """Store a rating and/or resolution and move the metrics (if computed) and aggregates with it.
        None where evaluation is not allowed (`strict`: PurposeNotInstructed is raised) or the conversation is gone;
        `strict` (staff's word) on an erased conversation raises ConversationErased, checked in the writing transaction."""
        async with self.sessionmaker() as session:
            try:
                await authorize(session, tenant_id=tenant_id, purpose=Purpose.EVALUATE, actor=actor, subject_ref=conversation_id)
            except PurposeNotInstructed:
                if strict:
                    raise
                return None
            await session.commit()

        async def write(session: AsyncSession) -> ConversationOutcome | None:
            conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id, Conversation.tenant_id == tenant_id))
            if conversation is None:
                return None
            if strict and conversation.status == ERASED:
                raise ConversationErased()
            outcome = await _outcome(session, conversation_id)
            if outcome is None:
                outcome = ConversationOutcome(id=new_id("out"), tenant_id=tenant_id, conversation_id=conversation_id, avatar_id=conversation.avatar_id)
                session.add(outcome)
            now = utcnow()
            if score is not None:
                outcome.score, outcome.rating_message_id, outcome.rated_at = score, rating_message_id, now
            if resolved is not None:
                outcome.resolved, outcome.resolved_source, outcome.resolved_by, outcome.resolved_at = resolved, resolved_source, resolved_by, now
            outcome.updated_at = now
            await session.flush()
            row = await _locked_metrics(session, conversation_id)
            if row is not None:
                old = m.contribution(row)
                _apply_outcome(row, outcome, (conversation.rating, None))
                await session.flush()
                await apply_delta(session, tenant_id=tenant_id, avatar_id=row.avatar_id, day=row.day, delta=m.contribution(row).minus(old))
            return outcome

        return await self._retrying(write)

    # ---- event handlers (background tasks of the event bus) -----------------------------------

    async def on_closed(self, payload: dict[str, Any]) -> None:
        if payload.get("transcript_purged"):
            return  # measured on `transcript_purging`, while the text was still there
        await self.evaluate_closed(tenant_id=payload["tenant_id"], conversation_id=payload["conversation_id"])

    async def on_purging(self, payload: dict[str, Any]) -> None:
        await self.evaluate_closed(tenant_id=payload["tenant_id"], conversation_id=payload["conversation_id"])

    async def on_rating(self, payload: dict[str, Any]) -> None:
        resolved = payload.get("resolved")
        await self.record_outcome(
            tenant_id=payload["tenant_id"],
            conversation_id=payload["conversation_id"],
            score=payload.get("score"),
            rating_message_id=payload.get("message_id"),
            resolved=resolved,
            resolved_source="visitor" if resolved is not None else None,
        )


async def metrics_for(session: AsyncSession, *, tenant_id: str, conversation_id: str) -> ConversationMetrics | None:
    return await session.scalar(
        select(ConversationMetrics).where(ConversationMetrics.tenant_id == tenant_id, ConversationMetrics.conversation_id == conversation_id)
    )


# ---- retention steps (registered with the privacy retention job) --------------------------------


async def expire_questions(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Unanswered questions are the end customer's words: kept for the tenant's retention period, and
    not at all once it stops storing transcripts."""
    register = register_from_settings(settings)
    removed = 0
    for tenant_id in (await session.scalars(select(UnansweredQuestion.tenant_id).distinct())).all():
        instructions = await current_instructions(session, tenant_id=tenant_id, register=register)
        stmt = delete(UnansweredQuestion).where(UnansweredQuestion.tenant_id == tenant_id)
        if instructions.store_transcripts:
            stmt = stmt.where(UnansweredQuestion.created_at < now - timedelta(days=instructions.retention_days))
        removed += int((await session.execute(stmt)).rowcount or 0)
    return {"evaluation_unanswered_question": removed}


async def expire_score_comments(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """A score outlives its conversation as a statistic; its comment (which may quote the chat) does not."""
    stmt = update(ConversationScore).where(ConversationScore.conversation_id.is_(None), ConversationScore.comment.is_not(None)).values(comment=None)
    return {"evaluation_score_comment": int((await session.execute(stmt)).rowcount or 0)}
