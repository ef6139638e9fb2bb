"""The websocket frame protocol (documented in docs/protocol.md): every client frame is validated
against these models; server frames are built by the functions below, so both sides stay in one place."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from confide.chats.models import Conversation, Message
from confide.chats.service import StoredMessage
from confide.core.errors import problem_type
from confide.core.text import nul_path


class CloseCode(IntEnum):
    """Close codes a client may see (4000–4999 are ours)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    BAD_HELLO = 4400  # the first frame was not a valid hello
    UNAUTHORIZED = 4401  # forged, expired or foreign visitor/customer/operator token
    ORIGIN_NOT_ALLOWED = 4403  # the page's Origin is not on the avatar's list
    UNKNOWN_WIDGET = 4404  # unknown, rotated or unpublished widget key
    TENANT_CLOSED = 4404  # the tenant was closed: open visitor and operator connections are cut (an alias)
    IDLE = 4408  # no frame within the idle (or hello) timeout
    TOO_MANY_CONNECTIONS = 4409  # the visitor has too many open connections
    CONVERSATION_ERASED = 4410  # the conversation was erased (at the business's request) while the connection was open
    RATE_LIMITED = 4429  # kept flooding after rate-limit errors
    UNAVAILABLE = 4503  # the tenant does not allow chats to be answered right now
    TRY_AGAIN_LATER = 1013  # the service is briefly away (its database or broker): reconnect after a back-off
    INTERNAL_ERROR = 1011  # a fault of the server itself: logged with its type


SERVICE_UNAVAILABLE_DETAIL = "The chat is briefly unavailable. Connect again in a moment; nothing you saw is lost."
INTERNAL_ERROR_DETAIL = "Something went wrong on our side and the chat closed. Connect again; nothing stored is lost."
CLOSED_DETAIL = "This conversation has ended. Say hello again, without resume, to start a new one."
ERASED_DETAIL = "This conversation was erased at the business's request; nothing more is kept. Say hello again, without resume, to start a new one."


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


# What people write is trimmed (a message of spaces is empty, so refused); ids and tokens are taken as sent, so an
# id with a space is refused rather than acked under another spelling than the client knows it by.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


MAX_SEQ = 2**31 - 1  # seq is a 32-bit integer in the database


class Resume(_Frame):
    conversation_id: str = Field(min_length=1, max_length=64)
    last_seq: int = Field(ge=0, le=MAX_SEQ)


class Hello(_Frame):
    type: Literal["hello"]
    visitor_token: str | None = Field(default=None, max_length=2048)
    customer_token: str | None = Field(default=None, max_length=4096)
    language: Annotated[str, StringConstraints(strip_whitespace=True)] | None = Field(default=None, max_length=35)
    resume: Resume | None = None


ClientMessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# An operator's id is stored as OPERATOR_ID_PREFIX + id (64 at most), in the conversation's one namespace
# of client ids: the prefix has a character a visitor's id cannot have, so neither can claim the other's.
OPERATOR_ID_PREFIX = "op/"
OperatorClientMessageId = Annotated[str, Field(min_length=1, max_length=64 - len(OPERATOR_ID_PREFIX), pattern=r"^[A-Za-z0-9_.:-]+$")]


class Say(_Frame):
    type: Literal["message"]
    client_message_id: ClientMessageId
    text: Text


class Typing(_Frame):
    type: Literal["typing"]
    active: bool = True


class Rating(_Frame):
    type: Literal["rating"]
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True)] | None = Field(default=None, max_length=2000)
    resolved: bool | None = None


class End(_Frame):
    type: Literal["end"]


class Ping(_Frame):
    type: Literal["ping"]


VisitorFrame = Annotated[Say | Typing | Rating | End | Ping | Hello, Field(discriminator="type")]
visitor_frames: TypeAdapter[Any] = TypeAdapter(VisitorFrame)


class OperatorHello(_Frame):
    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=512)


class ConversationAction(_Frame):
    type: Literal["join", "leave", "take_over", "hand_back", "close", "reopen"]
    conversation_id: str = Field(min_length=1, max_length=64)


class OperatorSay(_Frame):
    type: Literal["message", "note"]
    conversation_id: str = Field(min_length=1, max_length=64)
    client_message_id: OperatorClientMessageId
    text: Text


class OperatorTyping(_Frame):
    type: Literal["typing"]
    conversation_id: str = Field(min_length=1, max_length=64)
    active: bool = True


class QueueRequest(_Frame):
    type: Literal["queue"]


OperatorFrame = Annotated[ConversationAction | OperatorSay | OperatorTyping | QueueRequest | Ping | OperatorHello, Field(discriminator="type")]
operator_frames: TypeAdapter[Any] = TypeAdapter(OperatorFrame)


def _frame_types(union: Any) -> tuple[str, ...]:
    """The `type`s a frame union accepts, `hello` first (the first frame), then in the union's order."""
    types = [tag for model in get_args(get_args(union)[0]) for tag in get_args(model.model_fields["type"].annotation)]
    return tuple(sorted(types, key=lambda tag: tag != "hello"))


# Named in the error of a frame with an unknown type; keyed by adapter, as parse() gets the adapter.
_FRAME_TYPES: dict[int, tuple[str, ...]] = {id(visitor_frames): _frame_types(VisitorFrame), id(operator_frames): _frame_types(OperatorFrame)}


class FrameError(Exception):
    """A bad frame: answered with an error frame, the connection stays open, nothing is stored."""

    def __init__(self, slug: str, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.errors = slug, detail, errors


def _field(path: tuple[Any, ...]) -> str:
    """A field as the client wrote it: its path in the frame, dots between levels (`resume.last_seq`, `items.0`)."""
    return ".".join(str(part) for part in path)


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "null"}
_MESSAGES = {"extra_forbidden": "Unknown field", "missing": "Field required"}


def _frame_error(adapter: TypeAdapter[Any], data: Any, exc: ValidationError) -> FrameError:
    """The FrameError of a frame the models refused, in words a client's developer can act on. Runs only
    for bad frames: a valid frame never gets here."""
    if not isinstance(data, dict):
        detail = f"A frame must be a JSON object, not {_JSON_KINDS.get(type(data), 'a ' + type(data).__name__)}."
        return FrameError("invalid-frame", detail, [{"field": "", "message": detail}])
    details = exc.errors()
    if any(e["type"] in ("union_tag_invalid", "union_tag_not_found") for e in details):
        types = _FRAME_TYPES.get(id(adapter)) or ()
        expected = f"; expected one of: {', '.join(types)}" if types else ""
        kind = data.get("type")
        if "type" not in data:
            message, detail = "Field required", f"The frame has no 'type'{expected}."
        elif not isinstance(kind, str):
            message, detail = "Must be a string", f"The frame's 'type' must be a string{expected}."
        else:
            shown = kind if len(kind) <= 40 else kind[:40] + "…"
            message, detail = "Unknown frame type", f"Unknown frame type {shown!r}{expected}."
        return FrameError("unknown-frame-type", detail, [{"field": "type", "message": message}])
    tag = data.get("type")
    errors = []
    for e in details[:MAX_LISTED_ERRORS]:  # the frame's own names come back: at most so many, each cut short
        loc = e["loc"][1:] if e["loc"] and e["loc"][0] == tag else e["loc"]  # the union's tag is no field of the frame
        errors.append({"field": _shortened(_field(loc)), "message": _MESSAGES.get(e["type"], e["msg"])})
    listed = "; ".join(f"{e['field'] or 'frame'}: {e['message']}" for e in errors[:5])
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return FrameError("invalid-frame", f"Invalid {tag!r} frame: {listed}{more}.", errors)


MAX_LISTED_ERRORS = 20
MAX_FIELD_CHARS = 100


def _shortened(field: str) -> str:
    return field if len(field) <= MAX_FIELD_CHARS else field[: MAX_FIELD_CHARS - 1] + "…"


def parse(adapter: TypeAdapter[Any], raw: str | bytes | None, max_bytes: int) -> Any:
    """One client frame: a JSON text frame, validated strictly (`true` is no score, `"no"` no boolean)."""
    if not isinstance(raw, str):
        raise FrameError("unsupported-frame", "Send JSON text frames.")
    if len(raw) > max_bytes or (len(raw) * 4 > max_bytes and len(raw.encode()) > max_bytes):  # at most 4 bytes a character
        raise FrameError("frame-too-large", f"Frames are limited to {max_bytes} bytes.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError("invalid-json", "The frame is not valid JSON.") from exc
    if "\\u0000" in raw and isinstance(data, dict):  # text cannot hold a NUL character (nor can the database)
        path = nul_path(data)  # (a frame that is no object is refused below, whatever it holds)
        if path is not None:
            field = _field(path)
            shown = field if len(field) <= 100 else "…" + field[-99:]
            raise FrameError("invalid-frame", f"The field {shown!r} may not contain the NUL character (\\u0000).", [{"field": shown, "message": "NUL character"}])
    try:
        return adapter.validate_python(data, strict=True)
    except ValidationError as exc:
        raise _frame_error(adapter, data, exc) from exc


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


# The title of each problem type the sockets send. A type HTTP answers with too has HTTP's title (RFC 9457:
# one title per type). No `status`: a frame has no HTTP status (an error that ends the connection has `close_code`).
TITLES = {
    "client-message-id-taken": "Client message id taken",
    "conversation-closed": "Conversation closed",
    "conversation-not-yours": "Conversation not yours",
    "frame-failed": "Frame failed",
    "frame-too-large": "Frame too large",
    "hello-expected": "Hello expected",
    "hello-timeout": "Hello timeout",
    "idle-timeout": "Idle timeout",
    "internal-error": "Internal error",
    "invalid-customer-token": "Invalid customer token",
    "invalid-frame": "Invalid frame",
    "invalid-json": "Invalid JSON",
    "invalid-transition": "Invalid transition",
    "invalid-visitor-token": "Invalid visitor token",
    "message-too-long": "Message too long",
    "not-found": "Not found",
    "origin-not-allowed": "Origin not allowed",
    "permission-denied": "Permission denied",
    "purpose-not-instructed": "Purpose not instructed",
    "person-required": "A person's sign-in is required",
    "rate-limited": "Too many requests",
    "service-unavailable": "Service unavailable",
    "tenant-closed": "Tenant closed",
    "too-many-connections": "Too many connections",
    "unauthorized": "Authentication required",
    "unexpected-hello": "Unexpected hello",
    "unknown-frame-type": "Unknown frame type",
    "unknown-widget": "Unknown widget",
    "unsupported-frame": "Unsupported frame",
}


def error_frame(slug: str, detail: str, **extra: Any) -> dict[str, Any]:
    title = TITLES.get(slug) or slug.replace("-", " ").capitalize()
    return {"type": "error", "problem": {"type": problem_type(slug), "title": title, "detail": detail, **extra}}


def frame_error_frame(exc: FrameError) -> dict[str, Any]:
    """The error frame of a bad frame, with the fields that failed."""
    return error_frame(exc.slug, exc.detail, **({"errors": exc.errors} if exc.errors else {}))


def frame_failed_frame() -> dict[str, Any]:
    """The error frame of a frame the server could not handle (a bug, the database away)."""
    return error_frame("frame-failed", "This frame could not be handled. A message without an ack was not stored: send it again.")


def message_frame(message: Message | StoredMessage, *, conversation_id: str | None = None) -> dict[str, Any]:
    """A stored message or event as clients see it (visitor, avatar, operator or system)."""
    frame: dict[str, Any] = {
        "type": "message" if message.kind == "message" else ("note" if message.kind == "note" else message.event or "event"),
        "id": message.id,
        "seq": message.seq,
        "author": message.author,
        "text": message.text,
        "time": message.created_at.isoformat(),
    }
    if message.client_message_id and message.author == "visitor":
        frame["client_message_id"] = message.client_message_id
    if message.event == "handoff" and message.verdict and message.verdict.get("reason"):
        frame["reason"] = message.verdict["reason"]  # live or replayed (a resume, a gap fill), the same frame
    if conversation_id is not None:
        frame["conversation_id"] = conversation_id
    return frame


def ack_frame(message: Message | StoredMessage, *, duplicate: bool) -> dict[str, Any]:
    """The answer to a visitor's `message`: its client id, now the stored message's id and seq."""
    return {"type": "ack", "client_message_id": message.client_message_id, "id": message.id, "seq": message.seq, "duplicate": duplicate}


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "avatar_id": conversation.avatar_id,
        "status": conversation.status,
        "language": conversation.language,
        "handoff_reason": conversation.handoff_reason,
        "assignee_id": conversation.assignee_id,
        "last_seq": conversation.last_seq,
        "updated_at": conversation.updated_at.isoformat(),
    }


def queue_update(conversation: Conversation) -> dict[str, Any]:
    """For the tenant's operators: a conversation's new status (or a new conversation)."""
    return {"type": "queue_update", "conversation": conversation_summary(conversation)}
