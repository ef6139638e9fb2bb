"""Per-conversation metrics, computed from a closed conversation's messages: pure functions, no I/O.

Definitions (all times UTC, from the stored messages' timestamps):

- turns: the visitor's messages;
- duration: from the conversation's start to its close;
- first response: from the visitor's first message to the first answer after it (an avatar or
  operator message, or the system's handoff notice); response latency: the same for every run of
  visitor messages, averaged;
- handoff: the first handoff of the conversation, by category (HANDOFF_CATEGORIES): the guideline
  checker's reason, made precise by what came before it: a visitor asking for a human after the
  avatar could not answer is `missing_knowledge`, after the responder failed `responder_failure`;
- fallback answers: avatar messages that were the fallback; the visitor message before each is an
  unanswered question (redacted and normalised by the caller);
- guideline hits: rule id -> number of messages the rule fired on;
- contained: resolved, with no handoff and no operator involved;
- sentiment: see sentiment.py.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from confide.evaluation import sentiment

HANDOFF_CATEGORIES = ("customer_request", "missing_knowledge", "policy_restriction", "decision_required", "responder_failure")
RESPONDERS = ("avatar", "operator")
# First-response latency histogram (upper bounds in seconds); percentiles in reports interpolate within a bucket.
LATENCY_BOUNDS: tuple[float, ...] = (0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 3600, math.inf)


@dataclass(slots=True)
class MessageView:
    """What metrics need of a stored message (read from chat_message)."""

    id: str
    seq: int | None
    kind: str
    author: str
    event: str | None
    text: str
    verdict: dict[str, Any] | None
    created_at: datetime


@dataclass(slots=True)
class Question:
    message_id: str
    text: str


@dataclass(slots=True)
class Computed:
    """The measures of one conversation (the metrics row's values apart from ids and outcome)."""

    day: date
    started_at: datetime
    closed_at: datetime | None
    language: str
    transcript_available: bool
    turns: int = 0
    avatar_messages: int = 0
    operator_messages: int = 0
    duration_seconds: float | None = None
    first_response_seconds: float | None = None
    mean_response_seconds: float | None = None
    response_count: int = 0
    response_seconds_sum: float = 0.0
    handed_off: bool = False
    handoff_reason: str | None = None
    human_involved: bool = False
    fallback_answers: int = 0
    rule_hits: dict[str, int] = field(default_factory=dict)
    sentiment_lexicon: str | None = None
    sentiment_messages: int = 0
    sentiment_start: float | None = None
    sentiment_end: float | None = None
    sentiment_trend: float | None = None
    questions: list[Question] = field(default_factory=list)


def _seconds(a: datetime, b: datetime) -> float:
    return round(max(0.0, (b - a).total_seconds()), 3)


def handoff_category(reason: str | None, *, fallback_before: bool, failure_before: bool) -> str | None:
    if reason is None:
        return None
    if reason == "customer_request":
        if failure_before:
            return "responder_failure"
        if fallback_before:
            return "missing_knowledge"
    if reason in HANDOFF_CATEGORIES:
        return reason
    return "customer_request"


def compute(
    *,
    started_at: datetime,
    closed_at: datetime | None,
    language: str,
    handed_off_flag: bool,
    handoff_reason_now: str | None,
    messages: Sequence[MessageView],
    rule_ids: Iterable[str],
) -> Computed:
    """The measures of one conversation. `messages` are its stored messages and events (notes are ignored)."""
    visible = sorted((m for m in messages if m.kind != "note"), key=lambda m: (m.seq if m.seq is not None else 1 << 62, m.created_at))
    out = Computed(
        day=started_at.date(),
        started_at=started_at,
        closed_at=closed_at,
        language=language,
        transcript_available=any(m.kind == "message" for m in visible),
        duration_seconds=_seconds(started_at, closed_at) if closed_at else None,
        rule_hits=dict(sorted(Counter(rule_ids).items())),
    )
    latencies: list[float] = []
    waiting_since: datetime | None = None
    last_visitor: MessageView | None = None
    fallback_seen = failure_seen = False
    visitor_texts: list[str] = []
    handoff_verdict: dict[str, Any] | None = None
    for m in visible:
        verdict = m.verdict or {}
        if m.kind == "message" and m.author == "visitor":
            out.turns += 1
            visitor_texts.append(m.text)
            last_visitor = m
            if waiting_since is None:
                waiting_since = m.created_at
            continue
        answers = (m.kind == "message" and m.author in RESPONDERS) or (m.kind == "event" and m.event == "handoff")
        if answers and waiting_since is not None:
            latencies.append(_seconds(waiting_since, m.created_at))
            waiting_since = None
        if m.kind == "message" and m.author == "avatar":
            out.avatar_messages += 1
            if verdict.get("fallback"):
                out.fallback_answers += 1
                fallback_seen = True
                failure_seen = failure_seen or bool(verdict.get("error"))
                if last_visitor is not None and last_visitor.text.strip():
                    out.questions.append(Question(last_visitor.id, last_visitor.text))
                    last_visitor = None  # one question per fallback
        elif m.kind == "message" and m.author == "operator":
            out.operator_messages += 1
            out.human_involved = True
        elif m.kind == "event" and m.event == "operator_joined":
            out.human_involved = True
        elif m.kind == "event" and m.event == "handoff" and handoff_verdict is None:
            handoff_verdict = dict(verdict)
            handoff_verdict["_fallback_before"] = fallback_seen
            handoff_verdict["_failure_before"] = failure_seen
    if latencies:
        out.first_response_seconds = latencies[0]
        out.response_count = len(latencies)
        out.response_seconds_sum = round(sum(latencies), 3)
        out.mean_response_seconds = round(sum(latencies) / len(latencies), 3)
    if handoff_verdict is not None:
        out.handed_off = True
        out.handoff_reason = handoff_category(
            handoff_verdict.get("reason") or handoff_reason_now,
            fallback_before=handoff_verdict["_fallback_before"],
            failure_before=handoff_verdict["_failure_before"],
        )
    elif handed_off_flag:  # the text is gone, the conversation row still says so
        out.handed_off = True
        out.handoff_reason = handoff_category(handoff_reason_now, fallback_before=False, failure_before=False)
    found = sentiment.trend(visitor_texts, language)
    if found is not None:
        out.sentiment_lexicon = found.lexicon
        out.sentiment_messages = found.messages
        out.sentiment_start, out.sentiment_end, out.sentiment_trend = found.start, found.end, found.trend
    return out


def carry_over(now: Computed, earlier: Any) -> Computed:
    """`now` measured from what is left of a conversation closed again after its earlier text went (purged at an
    earlier close where transcripts are not kept, or by retention), joined with `earlier`, the metrics row that
    earlier close stored: counts add up, the first response and the first handoff stay the earlier ones, a human
    once involved stays involved, sentiment runs from the earlier start to the latest end."""
    out = replace(now)
    out.turns += earlier.turns
    out.avatar_messages += earlier.avatar_messages
    out.operator_messages += earlier.operator_messages
    out.fallback_answers += earlier.fallback_answers
    if earlier.first_response_seconds is not None:
        out.first_response_seconds = earlier.first_response_seconds
    out.response_count += earlier.response_count
    out.response_seconds_sum = round(out.response_seconds_sum + (earlier.response_seconds_sum or 0.0), 3)
    out.mean_response_seconds = round(out.response_seconds_sum / out.response_count, 3) if out.response_count else None
    out.human_involved = out.human_involved or bool(earlier.human_involved)
    if earlier.handed_off:
        out.handed_off, out.handoff_reason = True, earlier.handoff_reason
    if earlier.sentiment_messages:
        if out.sentiment_messages and out.sentiment_end is not None:
            out.sentiment_messages += earlier.sentiment_messages
            out.sentiment_start = earlier.sentiment_start
            out.sentiment_trend = round(out.sentiment_end - earlier.sentiment_start, 4)
        else:
            out.sentiment_lexicon, out.sentiment_messages = earlier.sentiment_lexicon, earlier.sentiment_messages
            out.sentiment_start, out.sentiment_end, out.sentiment_trend = earlier.sentiment_start, earlier.sentiment_end, earlier.sentiment_trend
    return out


def contained(*, resolved: bool | None, handed_off: bool, human_involved: bool) -> bool:
    """Resolved without a human: the visitor (or an operator afterwards) confirmed it, and no handoff or operator."""
    return bool(resolved) and not handed_off and not human_involved


# ---- grouping unanswered questions ------------------------------------------------------------

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_REDACTION = re.compile(r"<[A-Z_]+>")


def normalize_question(text: str) -> str:
    """Lower case, accents folded, redaction markers and punctuation removed, spaces collapsed: the grouping key."""
    text = _REDACTION.sub(" ", text)
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()[:500]


# ---- the contribution of one metrics row to the daily aggregates -------------------------------

SCALARS = (
    "conversations", "turns", "duration_seconds", "duration_count", "handed_off", "human_involved", "contained", "resolved",
    "unresolved", "rated", "rating_sum", "first_response_count", "first_response_seconds", "response_count", "response_seconds",
    "fallback_answers", "with_fallback", "rule_hits", "sentiment_count", "sentiment_start_sum", "sentiment_end_sum",
)


def latency_bucket(seconds: float) -> int:
    for i, bound in enumerate(LATENCY_BOUNDS):
        if seconds <= bound:
            return i
    return len(LATENCY_BOUNDS) - 1


@dataclass(slots=True)
class Contribution:
    scalars: dict[str, float]
    counts: dict[tuple[str, str], int]

    def minus(self, other: Contribution) -> Contribution:
        scalars = {k: self.scalars.get(k, 0) - other.scalars.get(k, 0) for k in SCALARS}
        keys = set(self.counts) | set(other.counts)
        counts = {k: self.counts.get(k, 0) - other.counts.get(k, 0) for k in keys}
        return Contribution(scalars, {k: v for k, v in counts.items() if v})

    @property
    def empty(self) -> bool:
        return not self.counts and not any(self.scalars.values())


NO_CONTRIBUTION = Contribution({k: 0 for k in SCALARS}, {})


def contribution(m: Any) -> Contribution:
    """What one metrics row adds to its avatar's day (`m` has the ConversationMetrics attributes)."""
    if m is None:
        return NO_CONTRIBUTION
    sentiment_known = m.sentiment_start is not None and m.sentiment_end is not None
    scalars: dict[str, float] = {
        "conversations": 1,
        "turns": m.turns,
        "duration_seconds": m.duration_seconds or 0.0,
        "duration_count": 1 if m.duration_seconds is not None else 0,
        "handed_off": int(m.handed_off),
        "human_involved": int(m.human_involved),
        "contained": int(m.contained),
        "resolved": int(m.resolved is True),
        "unresolved": int(m.resolved is False),
        "rated": int(m.rating is not None),
        "rating_sum": m.rating or 0,
        "first_response_count": int(m.first_response_seconds is not None),
        "first_response_seconds": m.first_response_seconds or 0.0,
        "response_count": m.response_count,
        "response_seconds": m.response_seconds_sum,
        "fallback_answers": m.fallback_answers,
        "with_fallback": int(m.fallback_answers > 0),
        "rule_hits": sum(int(v) for v in (m.rule_hits or {}).values()),
        "sentiment_count": int(sentiment_known),
        "sentiment_start_sum": m.sentiment_start if sentiment_known else 0.0,
        "sentiment_end_sum": m.sentiment_end if sentiment_known else 0.0,
    }
    counts: dict[tuple[str, str], int] = {}
    if m.handed_off and m.handoff_reason:
        counts[("handoff", m.handoff_reason)] = 1
    for rule_id, hits in (m.rule_hits or {}).items():
        counts[("rule", str(rule_id)[:100])] = int(hits)
    if m.rating is not None:
        counts[("csat", str(m.rating))] = 1
    if m.first_response_seconds is not None:
        counts[("frt", str(latency_bucket(m.first_response_seconds)))] = 1
    return Contribution(scalars, counts)
