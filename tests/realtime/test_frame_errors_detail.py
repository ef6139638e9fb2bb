"""What a client receives for a bad frame, over a real socket: a detail a developer can act on, `field`
naming the offending field in the frame as sent (no internal prefix), a properly cased title, the
problem type slugs clients key on unchanged, no `status` (a frame has none), and the connection stays
open with nothing stored."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from confide.chats.models import Message
from tests.support.chat import connect, operator, visitor

VISITOR_TYPES = "hello, message, typing, rating, end, ping"
OPERATOR_TYPES = "hello, join, leave, take_over, hand_back, close, reopen, message, note, typing, queue, ping"
PROBLEM_KEYS = {"type", "title", "detail", "errors", "retry_after", "close_code"}  # docs/protocol.md, "The problem object"


async def _next_of(chat: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = await chat.recv()
        if frame["type"] == kind:
            return frame


def _check(problem: dict[str, Any], slug: str, title: str, detail: str, fields: list[str] | None) -> None:
    assert problem["type"] == f"https://confide.dev/problems/{slug}", problem
    assert problem["title"] == title, problem
    assert problem["detail"] == detail, problem
    assert set(problem) <= PROBLEM_KEYS and "status" not in problem, problem
    if fields is None:
        assert "errors" not in problem, problem
    else:
        assert [e["field"] for e in problem["errors"]] == fields, problem
        assert all(set(e) == {"field", "message"} and e["message"] for e in problem["errors"]), problem
    # pydantic's own wording about unions and tags never reaches a client
    assert "Input tag" not in json.dumps(problem) and "discriminator" not in json.dumps(problem), problem


VISITOR_CASES: list[tuple[str | bytes, str, str, str, list[str] | None]] = [
    ("[1,2]", "invalid-frame", "Invalid frame", "A frame must be a JSON object, not an array.", [""]),
    ("5", "invalid-frame", "Invalid frame", "A frame must be a JSON object, not a number.", [""]),
    ('"hello"', "invalid-frame", "Invalid frame", "A frame must be a JSON object, not a string.", [""]),
    (
        json.dumps({"type": "message", "client_message_id": "nul", "text": "a\u0000b"}),
        "invalid-frame",
        "Invalid frame",
        "The field 'text' may not contain the NUL character (\\u0000).",
        ["text"],
    ),
    (
        json.dumps({"type": "rating", "score": 5, "comment": "a\u0000b"}),
        "invalid-frame",
        "Invalid frame",
        "The field 'comment' may not contain the NUL character (\\u0000).",
        ["comment"],
    ),
    (
        json.dumps({"type": "bogus"}),
        "unknown-frame-type",
        "Unknown frame type",
        f"Unknown frame type 'bogus'; expected one of: {VISITOR_TYPES}.",
        ["type"],
    ),
    (json.dumps({"text": "no type"}), "unknown-frame-type", "Unknown frame type", f"The frame has no 'type'; expected one of: {VISITOR_TYPES}.", ["type"]),
    (json.dumps({"type": 7}), "unknown-frame-type", "Unknown frame type", f"The frame's 'type' must be a string; expected one of: {VISITOR_TYPES}.", ["type"]),
    (
        json.dumps({"type": "message", "client_message_id": "a b", "text": "x"}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'message' frame: client_message_id: String should match pattern '^[A-Za-z0-9_.:-]+$'.",
        ["client_message_id"],
    ),
    (
        # taken as sent: trimmed, it was acked as "c9", an id the client never sent (review, 2026-12-01)
        json.dumps({"type": "message", "client_message_id": " c9 ", "text": "x"}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'message' frame: client_message_id: String should match pattern '^[A-Za-z0-9_.:-]+$'.",
        ["client_message_id"],
    ),
    (
        json.dumps({"type": "message", "client_message_id": "blank", "text": " \n\t "}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'message' frame: text: String should have at least 1 character.",
        ["text"],
    ),
    (
        json.dumps({"type": "message", "client_message_id": "a", "text": "x", "extra": 1}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'message' frame: extra: Unknown field.",
        ["extra"],
    ),
    (
        json.dumps({"type": "hello", "resume": {"conversation_id": "cnv_x", "last_seq": -1}}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'hello' frame: resume.last_seq: Input should be greater than or equal to 0.",
        ["resume.last_seq"],
    ),
    (
        # nested as deep as JSON parsing allows: the search for the NUL once overflowed Python's stack (`frame-failed`)
        '{"type": "message", "a": ' + '{"a": ' * 1000 + '"x\\u0000"' + "}" * 1001,
        "invalid-frame",
        "Invalid frame",
        "The field '…" + ".".join(["a"] * 50) + "' may not contain the NUL character (\\u0000).",
        ["…" + ".".join(["a"] * 50)],
    ),
    (
        # the frame's own names come back cut short, and at most 20 of them
        json.dumps({"type": "ping", "k" * 3000: 1}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'ping' frame: " + "k" * 99 + "…: Unknown field.",
        ["k" * 99 + "…"],
    ),
    (
        json.dumps({"type": "ping", **{f"f{i:02}": 1 for i in range(50)}}),
        "invalid-frame",
        "Invalid frame",
        "Invalid 'ping' frame: " + "; ".join(f"f{i:02}: Unknown field" for i in range(5)) + " (and 45 more).",
        [f"f{i:02}" for i in range(20)],
    ),
    ("{not json", "invalid-json", "Invalid JSON", "The frame is not valid JSON.", None),
    (b"\x00\x01binary", "unsupported-frame", "Unsupported frame", "Send JSON text frames.", None),
    (json.dumps({"type": "hello"}), "unexpected-hello", "Unexpected hello", "This connection has already said hello.", None),
]


async def test_visitor_error_frames_name_the_field_in_words_and_store_nothing(app, base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")  # the greeting
        for raw, slug, title, detail, fields in VISITOR_CASES:
            await chat.send(raw)
            error = await chat.expect("error")
            _check(error["problem"], slug, title, detail, fields)
        await chat.send({"type": "ping"})
        await chat.expect("pong")  # still open
        ack = await chat.say("still here?", "ok1")
        assert ack["seq"] == 2 and ack["duplicate"] is False  # nothing was stored for any bad frame
    async with app.state.sessionmaker() as session:
        texts = (await session.scalars(select(Message.text).where(Message.conversation_id == welcome["conversation_id"], Message.author == "visitor"))).all()
    assert texts == ["still here?"]


async def test_a_bad_first_frame_is_refused_with_the_same_words(base, shop):
    async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat") as chat:
        await chat.send("[1,2]")
        error = await chat.recv()
        closed = await chat.closed()
    assert closed.code == 4400
    assert error["problem"]["detail"] == "A frame must be a JSON object, not an array." and error["problem"]["close_code"] == 4400
    assert error["problem"]["title"] == "Invalid frame"
    async with connect(f"{base}/v1/tenants/{shop['tenant_id']}/chat/operator", origin=None) as ops:
        await ops.send({"type": "bogus", "token": "x"})
        error = await ops.recv()
        closed = await ops.closed()
    assert closed.code == 4400 and error["problem"]["type"].endswith("/unknown-frame-type")
    assert error["problem"]["detail"] == f"Unknown frame type 'bogus'; expected one of: {OPERATOR_TYPES}."


async def test_operator_error_frames_name_the_field_and_the_socket_answers_as_documented(app, base, shop):
    async with visitor(base, shop["widget_key"]) as (_, welcome):
        conversation_id = welcome["conversation_id"]
    async with app.state.sessionmaker() as session:
        stored_before = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conversation_id))
    async with operator(base, shop["tenant_id"], shop["owner"].token) as (ops, _):
        cases: list[tuple[Any, str, str, str, list[str] | None]] = [
            ("[1,2]", "invalid-frame", "Invalid frame", "A frame must be a JSON object, not an array.", [""]),
            (
                {"type": "note", "conversation_id": conversation_id, "client_message_id": "n0", "text": "a\u0000b"},
                "invalid-frame",
                "Invalid frame",
                "The field 'text' may not contain the NUL character (\\u0000).",
                ["text"],
            ),
            ({"type": "bogus"}, "unknown-frame-type", "Unknown frame type", f"Unknown frame type 'bogus'; expected one of: {OPERATOR_TYPES}.", ["type"]),
            (
                # 61 characters at most: the server keeps an operator's id with a 3-character prefix
                {"type": "message", "conversation_id": conversation_id, "client_message_id": "x" * 62, "text": "hi"},
                "invalid-frame",
                "Invalid frame",
                "Invalid 'message' frame: client_message_id: String should have at most 61 characters.",
                ["client_message_id"],
            ),
            (
                {"type": "join"},
                "invalid-frame",
                "Invalid frame",
                "Invalid 'join' frame: conversation_id: Field required.",
                ["conversation_id"],
            ),
            ("{not json", "invalid-json", "Invalid JSON", "The frame is not valid JSON.", None),
        ]
        for raw, slug, title, detail, fields in cases:
            await ops.send(raw)
            _check((await _next_of(ops, "error"))["problem"], slug, title, detail, fields)
        async with app.state.sessionmaker() as session:
            stored = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conversation_id))
        assert stored == stored_before  # nothing stored for any bad frame

        # a `queue` request is answered with a `queue` frame
        await ops.send({"type": "queue"})
        queue = await _next_of(ops, "queue")
        assert {"queue", "live", "online"} <= set(queue) and conversation_id in [c["id"] for c in queue["live"]]

        # a note before any join joins the conversation: `joined` comes before the note's `ack`
        await ops.send({"type": "note", "conversation_id": conversation_id, "client_message_id": "n1", "text": "first look"})
        joined = await _next_of(ops, "joined")
        assert joined["conversation"]["id"] == conversation_id
        ack = await _next_of(ops, "ack")
        assert ack["conversation_id"] == conversation_id and ack["client_message_id"] == "n1"

        # closing twice: the second is an invalid transition, with a proper title
        await ops.send({"type": "close", "conversation_id": conversation_id})
        closed = await _next_of(ops, "closed")
        assert closed["conversation_id"] == conversation_id
        await ops.send({"type": "close", "conversation_id": conversation_id})
        _check((await _next_of(ops, "error"))["problem"], "invalid-transition", "Invalid transition", "The conversation is closed.", None)
        await ops.send({"type": "ping"})
        await _next_of(ops, "pong")  # still open
