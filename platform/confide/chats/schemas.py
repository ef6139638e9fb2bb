"""Request and response bodies of the chat routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from confide.core.schemas import RequestBody, ResponseBody
from confide.privacy.data_schemas import ErasureStatus
from guidelines.verdict import HandoffReason

# The values the chat writes (chats.service, realtime): a response field typed with them documents them as an
# enum in OpenAPI, and a value missing here fails the response, so every writer must be covered.
ConversationStatus = Literal["avatar", "waiting", "operator", "closed", "erased"]
MessageKind = Literal["message", "event", "note"]
MessageAuthor = Literal["visitor", "avatar", "operator", "system"]
MessageEvent = Literal["handoff", "operator_joined", "operator_left", "closed", "reopened", "rating"]
RuleDirection = Literal["input", "output"]

STATUS_TEXT = (
    "avatar (with the avatar), waiting (for a human), operator (with an operator), closed; or erased (its data was erased: "
    "only an anonymous stub is left for statistics, never listed in the inbox)."
)
HANDOFF_REASON_TEXT = (
    "Why it was last handed to a human: customer_request (the visitor asked for a person, or a tenant's escalation rule), "
    "policy_restriction (a guideline rule), decision_required (a decision about the person that only a human may take); null if never."
)


class CustomerTokenSecretRotate(RequestBody):
    revoke_previous: bool = Field(
        default=False,
        description="Also revoke the secret in force until now, at once, instead of keeping it valid until the next rotation: "
        "for a secret that leaked. Tokens it signed stop working on their next connection.",
    )


class CustomerTokenSecretOut(ResponseBody):
    id: str
    secret: str = Field(
        description="Sign customer tokens (HS256 JWT with `sub` = your customer id and `exp`, at most 24 hours ahead) with it. Shown only now."
    )
    created_at: datetime


class RuleHitOut(ResponseBody):
    rule_id: str
    direction: RuleDirection = Field(description="input (the visitor's message) or output (the avatar's reply).")


class MessageOut(ResponseBody):
    id: str
    seq: int | None = Field(description="Position in the conversation; null for private notes.")
    kind: MessageKind = Field(description="message, event or note (notes are for staff only).")
    author: MessageAuthor = Field(description="visitor, avatar, operator or system.")
    operator_id: str | None = Field(default=None, description="The staff member who wrote it or acted (notes, operator messages, take-over, close).")
    event: MessageEvent | None = Field(description="For events: handoff, operator_joined, operator_left, closed, reopened or rating; null for messages and notes.")
    text: str
    redacted: bool
    verdict: dict[str, Any] | None = Field(description="The guideline verdict: rules that fired, the action, handoff reason; or the rating.")
    rules: list[RuleHitOut] = Field(default_factory=list, description="Guideline rules that fired on this message.")
    created_at: datetime


class TranscriptOut(ResponseBody):
    conversation_id: str
    status: ConversationStatus = Field(description=STATUS_TEXT)
    avatar_id: str
    avatar_version_id: str | None
    visitor_id: str
    customer_ref: str | None
    language: str
    handoff_reason: HandoffReason | None = Field(description=HANDOFF_REASON_TEXT)
    handed_off: bool
    assignee_id: str | None
    rating: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    messages: list[MessageOut] = Field(description="Every message, event and private note, in the order they happened (one page of them).")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the rest of a long conversation; null on its last page.")


# The inbox


class ConversationOut(ResponseBody):
    id: str
    avatar_id: str
    avatar_version_id: str | None
    visitor_id: str = Field(description="Pseudonymous id of the end customer (per tenant; stable across devices with a customer token).")
    customer_ref: str | None = Field(description="Your own customer id, when the widget passed a customer token.")
    language: str
    status: ConversationStatus = Field(description=STATUS_TEXT)
    handoff_reason: HandoffReason | None = Field(description=HANDOFF_REASON_TEXT)
    handed_off: bool = Field(description="Whether the conversation was ever handed to a human.")
    assignee_id: str | None = Field(description="The staff member it is assigned to (a user id), or null.")
    rating: int | None = Field(description="The end customer's rating, 1 to 5.")
    last_seq: int = Field(description="Sequence number of the last visible message or event.")
    tags: list[str]
    created_at: datetime
    updated_at: datetime = Field(
        description="Last activity: a message, an event or a status change (tags and assignment do not count). "
        "Kept to ten seconds while the conversation is live: a message within ten seconds of the last recorded activity leaves it "
        "as it is; a status change, or anything written to a closed conversation, moves it at once.",
    )
    closed_at: datetime | None


class TagCountOut(ResponseBody):
    tag: str
    conversations: int


class TagsIn(RequestBody):
    tags: list[str] = Field(min_length=1, max_length=20, description="Lowercase slugs, e.g. `refund`, `vip-customer` (1–32 characters).")


class AssignIn(RequestBody):
    assignee_id: str = Field(
        min_length=1,
        max_length=64,
        description="Who gets the conversation: a member with chats:operate, by member id (`mem_…`, as listed by GET "
        "/v1/tenants/{tenant_id}/members) or by user id (`usr_…`), or `me`. The conversation's `assignee_id` is the user id.",
    )


BulkAction = Literal["tag", "untag", "assign", "unassign", "close", "reopen", "delete"]


class ErasureAcceptedOut(ResponseBody):
    id: str = Field(description="The erasure request's id: follow it at GET /v1/tenants/{tenant_id}/erasure-requests/{id}, which gives its receipt when done.")
    status: ErasureStatus = Field(description="pending, running, done or failed.")
    scope: Literal["conversation"] = Field(description="Always conversation: the request erases this one conversation.")
    conversation_id: str
    requested_at: datetime
    created: bool = Field(description="False when a request for this conversation was already queued; it is returned instead.")


class BulkIn(RequestBody):
    action: BulkAction
    conversation_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=200)
    tags: list[str] | None = Field(default=None, max_length=20, description="For tag and untag.")
    assignee_id: str | None = Field(default=None, min_length=1, max_length=64, description="For assign: a member id (`mem_…`), a user id (`usr_…`) or `me`, as for one conversation.")


class BulkResult(ResponseBody):
    conversation_id: str
    outcome: Literal["done", "unchanged", "accepted", "not_found", "conflict"] = Field(
        description="done; unchanged (nothing to do); accepted (delete: an erasure request was created); not_found (no such "
        "conversation in this tenant; nothing was done); conflict (not possible in its state, see detail)."
    )
    detail: str | None = None
    erasure_request_id: str | None = None


class BulkOut(ResponseBody):
    action: BulkAction
    results: list[BulkResult]
    done: int = Field(description="How many conversations the action was applied to (done or accepted).")
    failed: int = Field(description="How many were not found or in conflict.")
