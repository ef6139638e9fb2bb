"""Request and response bodies of the evaluation, report, annotation and webhook routes. None of them
names a visitor or a customer: evaluation is keyed by conversation and avatar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from confide.core.patching import not_clearable
from confide.core.schemas import Name, RequestBody, ResponseBody
from confide.evaluation.metrics import HANDOFF_CATEGORIES

# Response fields whose values are a fixed set, typed so that OpenAPI gives them as enums.
ResolvedSource = Literal["visitor", "operator"]
HandoffCategory = Literal["customer_request", "missing_knowledge", "policy_restriction", "decision_required", "responder_failure"]
SentimentLexicon = Literal["vader", "german-polarity", "sentiws"]
ScoreKind = Literal["numeric", "categorical", "boolean"]
ScoreSource = Literal["staff", "automatic"]
DeliveryOutcome = Literal["delivered", "retrying", "failed"]
assert set(HandoffCategory.__args__) == set(HANDOFF_CATEGORIES)  # type: ignore[attr-defined]

RESOLVED_SOURCE_TEXT = "Who said whether it was resolved: visitor (confirmed in the chat) or operator (staff, through the API); null when nobody did."

# ---- outcomes and metrics -----------------------------------------------------------------------


class ResolutionIn(RequestBody):
    resolved: bool = Field(description="Whether the end customer's concern was resolved.")


class OutcomeOut(ResponseBody):
    conversation_id: str
    avatar_id: str
    score: int | None = Field(description="CSAT 1–5 the visitor gave, if any.")
    rated_at: datetime | None
    resolved: bool | None
    resolved_source: ResolvedSource | None = Field(description=RESOLVED_SOURCE_TEXT)
    resolved_at: datetime | None


class RatingOut(ResponseBody):
    conversation_id: str
    avatar_id: str
    score: int
    comment: str | None = Field(description="The visitor's comment; gone once the conversation's transcript is.")
    resolved: bool | None
    resolved_source: ResolvedSource | None = Field(description=RESOLVED_SOURCE_TEXT)
    rated_at: datetime


class ConversationMetricsOut(ResponseBody):
    conversation_id: str | None = Field(description="Null once the conversation itself was deleted; the measures stay for reports.")
    avatar_id: str
    avatar_version_id: str | None
    language: str
    day: date = Field(description="UTC day the conversation started.")
    started_at: datetime
    closed_at: datetime | None
    transcript_available: bool = Field(description="False when the text was gone at close (transcripts not stored): text-based measures are empty.")
    turns: int = Field(description="The visitor's messages.")
    avatar_messages: int
    operator_messages: int
    duration_seconds: float | None
    first_response_seconds: float | None
    mean_response_seconds: float | None
    handed_off: bool
    handoff_reason: HandoffCategory | None = Field(
        description="The handoff's category: customer_request, missing_knowledge (asked for a person after the avatar could not answer), "
        "policy_restriction, decision_required or responder_failure (after the responder failed); null without a handoff."
    )
    human_involved: bool
    fallback_answers: int = Field(description="Answers that were the avatar's fallback: questions it could not answer.")
    rule_hits: dict[str, int] = Field(description="Guideline rule id -> messages it fired on.")
    rating: int | None
    resolved: bool | None
    resolved_source: ResolvedSource | None = Field(description=RESOLVED_SOURCE_TEXT)
    contained: bool = Field(description="Resolved without a handoff or an operator.")
    sentiment_lexicon: SentimentLexicon | None = Field(
        description="vader (English), german-polarity (German), or null for other languages; metrics computed before SentiWS was dropped say sentiws."
    )
    sentiment_messages: int
    sentiment_start: float | None = Field(description="Mean compound score (-1..1) of the visitor's messages in the first third.")
    sentiment_end: float | None = Field(description="The same for the last third.")
    sentiment_trend: float | None = Field(description="sentiment_end - sentiment_start.")
    computed_at: datetime


# ---- reports ------------------------------------------------------------------------------------


class Csat(ResponseBody):
    count: int
    mean: float | None
    distribution: dict[str, int] = Field(description="Score 1..5 -> conversations.")


class Latency(ResponseBody):
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None


class Resolution(ResponseBody):
    resolved: int
    unresolved: int
    unknown: int


class Sentiment(ResponseBody):
    count: int
    start_mean: float | None
    end_mean: float | None
    trend_mean: float | None


class ReportFigures(ResponseBody):
    conversations: int
    turns_mean: float | None
    duration_mean_seconds: float | None
    contained: int
    containment_rate: float | None = Field(description="Share of conversations resolved without a handoff or an operator.")
    handed_off: int
    handoff_rate: float | None
    handoffs_by_reason: dict[str, int]
    handoff_rate_by_reason: dict[str, float | None]
    human_involved: int
    resolution: Resolution
    csat: Csat
    first_response_seconds: Latency = Field(description="Percentiles estimated from a latency histogram (bucket resolution).")
    mean_response_seconds: float | None
    fallback_answers: int
    conversations_with_fallback: int
    guideline_hits: dict[str, int] = Field(description="Guideline rule id -> hits.")
    sentiment: Sentiment


class ReportPeriod(ReportFigures):
    period_start: date
    period_end: date


class QuestionGroup(ResponseBody):
    question: str = Field(description="One redacted wording of the question.")
    normalized: str
    count: int
    variants: int = Field(description="Distinct wordings merged into this group.")


class ReportOut(ResponseBody):
    tenant_id: str
    avatar_id: str | None
    granularity: Literal["day", "week"]
    from_: date = Field(alias="from")
    to: date
    timezone: str
    totals: ReportFigures
    periods: list[ReportPeriod]
    top_unanswered_questions: list[QuestionGroup] = Field(description="Only within the tenant's retention period, and only where transcripts are stored.")

    model_config = {"populate_by_name": True, "from_attributes": True}


# ---- annotations --------------------------------------------------------------------------------


# A category score's labels are short names: a list of definitions, 50 labels each, must stay a small answer.
MAX_LABEL_CHARS = 100
Label = Annotated[str, Field(max_length=MAX_LABEL_CHARS)]


class ScoreDefinitionIn(RequestBody):
    name: Name
    description: str = Field(default="", max_length=1000)
    kind: ScoreKind
    # A JSON number beyond a double (1e999) reads as infinity: refused here, naming the bound that is.
    min_value: float | None = Field(default=None, allow_inf_nan=False, description="numeric only: the lowest allowed value (finite).")
    max_value: float | None = Field(default=None, allow_inf_nan=False, description="numeric only: the highest allowed value (finite).")
    labels: list[Label] | None = Field(
        default=None, max_length=50, description=f"categorical only: the allowed labels (at least two, at most 50, each 1–{MAX_LABEL_CHARS} characters)."
    )


class ScoreDefinitionChange(RequestBody):
    name: Name = None  # type: ignore[assignment] - None only as "left out"
    description: str = Field(default=None, max_length=1000, description="`\"\"` empties it.")  # type: ignore[assignment]

    _required = not_clearable("name", "description")


class ScoreDefinitionOut(ResponseBody):
    id: str
    name: str
    description: str
    kind: ScoreKind = Field(description="numeric, categorical or boolean.")
    min_value: float | None
    max_value: float | None
    labels: list[str]
    created_at: datetime
    updated_at: datetime


ScoreValue = bool | int | float | str


# A text value must be one of the definition's labels (checked against them); this bound only keeps an absurd
# one out before that. Not MAX_LABEL_CHARS: labels saved before that bound may be longer, and stay usable.
MAX_VALUE_CHARS = 4000


def _short_label(value: Any) -> Any:
    """A text value can only be one of the definition's labels: an absurdly long one is refused here, naming body.value."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"A label value has at most {MAX_VALUE_CHARS} characters")
    return value


VALUE_TEXT = "must be a number in the definition's range, one of its labels, or true/false"


def _one_value(value: Any) -> Any:
    """Anything but a number, a text or a boolean is one error naming body.value, not one per kind of value it is not."""
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise ValueError(VALUE_TEXT)
    return value


def _present_value(value: Any) -> Any:
    if value is None:
        raise ValueError(VALUE_TEXT)
    return _one_value(value)


class ScoreIn(RequestBody):
    definition_id: str = Field(max_length=64)
    value: ScoreValue = Field(description="A number in the definition's range, one of its labels, or true/false.")
    comment: str | None = Field(default=None, max_length=2000)
    source: Literal["staff", "automatic"] = Field(default="staff", description="staff (a person annotated) or automatic (an evaluator you run).")

    _value_kind = field_validator("value", mode="before")(_present_value)
    _value_length = field_validator("value")(_short_label)


class ScoreChange(RequestBody):
    value: ScoreValue = Field(default=None, description="A number in the definition's range, one of its labels, or true/false.")  # type: ignore[assignment]
    comment: str | None = Field(default=None, max_length=2000)

    _value_length = field_validator("value")(_short_label)
    _required = not_clearable("value")
    _value_kind = field_validator("value", mode="before")(_one_value)


class ScoreOut(ResponseBody):
    id: str
    definition_id: str
    conversation_id: str | None
    avatar_id: str
    source: ScoreSource = Field(description="staff (a person annotated) or automatic (an evaluator you run).")
    value: Any
    comment: str | None
    author_user_id: str | None
    author_api_key_id: str | None
    created_at: datetime
    updated_at: datetime


class ScoreSummaryGroup(ResponseBody):
    avatar_id: str
    source: ScoreSource = Field(description="staff or automatic.")
    count: int
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    distribution: dict[str, int] | None = None


class ScoreSummaryOut(ResponseBody):
    definition_id: str
    name: str
    kind: ScoreKind = Field(description="The definition's kind: numeric, categorical or boolean.")
    groups: list[ScoreSummaryGroup]


# ---- webhooks -----------------------------------------------------------------------------------

WebhookEvent = Literal["conversation.handoff_requested", "conversation.closed", "conversation.rating_received"]


def _no_duplicates(values: list[Any]) -> list[Any]:
    """Refused as avatar `languages` are: a repeated event is a client's mistake, not something to tidy away unsaid."""
    if len(set(values)) != len(values):
        raise ValueError("contains duplicates")
    return values


WebhookEvents = Annotated[list[WebhookEvent], Field(min_length=1, max_length=3, description="Each event at most once."), AfterValidator(_no_duplicates)]


class WebhookIn(RequestBody):
    name: Name
    url: str = Field(min_length=8, max_length=2000, description="https URL of your receiver, port 443; stored as it is sent (host lower-cased, IDNA-encoded).")
    events: WebhookEvents
    include_text: bool = Field(default=False, description="Send message text, where your instructions store transcripts.")
    active: bool = True


class WebhookChange(RequestBody):
    """Only the fields sent change; none can be cleared (null is a 422 naming it)."""

    name: Name = None  # type: ignore[assignment]
    url: str = Field(default=None, min_length=8, max_length=2000)  # type: ignore[assignment]
    events: WebhookEvents = None  # type: ignore[assignment]
    include_text: bool = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]

    _required = not_clearable("name", "url", "events", "include_text", "active")


class WebhookOut(ResponseBody):
    id: str
    name: str
    url: str
    events: list[WebhookEvent] = Field(description="conversation.handoff_requested, conversation.closed and/or conversation.rating_received.")
    include_text: bool
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="Verify each delivery's Confide-Signature with it. Shown only now.")


class DeliveryOut(ResponseBody):
    id: str
    event_id: str
    event: Literal[WebhookEvent, "ping"] = Field(description="The event delivered, or ping (a test delivery).")
    attempt: int
    status_code: int | None
    outcome: DeliveryOutcome = Field(description="delivered, retrying (failed; tried again later) or failed (given up, or not sent: see `error`).")
    error: str | None = Field(description="timeout, connection_error, http_status, redirect, refused_address (the host resolved to a private, loopback, link-local or multicast address, or the port is not allowed; not retried), or invalid_url (a URL saved before URLs were checked as they are now; not retried); for a delivery given up unsent: endpoint_changed (its url, include_text or events changed), endpoint_deactivated, or instructions_changed (the tenant stopped storing transcripts).")
    duration_ms: int | None
    at: datetime


class PingOut(ResponseBody):
    event_id: str
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None
