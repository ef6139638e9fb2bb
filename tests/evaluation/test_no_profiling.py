"""No profiling (GDPR Art. 22, DESIGN: evaluation measures avatars and conversations, never people):
no evaluation route filters, groups or answers by visitor or customer, and the chat never reads an
evaluation table, so evaluation results cannot change how the avatar treats anyone."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from confide.tables import metadata
from tests.evaluation.helpers import chat_session, drain, next_of
from tests.support.chat import visitor

PERSONAL = {"visitor_id", "customer_ref", "visitor", "customer", "visitor_token", "customer_token"}
EVALUATION_TAGS = {"evaluation", "webhooks"}
EVALUATION_TABLES = sorted(name for name in metadata.tables if name.startswith(("evaluation_", "webhook_")))


def _names_in(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from a schema, following $ref, items, allOf/anyOf/oneOf and additionalProperties."""
    if not isinstance(schema, dict):
        return set()
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return set()
        seen.add(name)
        return _names_in(components[name], components, seen)
    names = set(schema.get("properties", {}))
    for sub in schema.get("properties", {}).values():
        names |= _names_in(sub, components, seen)
    for key in ("items", "additionalProperties"):
        names |= _names_in(schema.get(key), components, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            names |= _names_in(sub, components, seen)
    return names


def test_no_evaluation_route_has_a_per_person_parameter_or_field(app):
    spec = app.openapi()
    components = spec["components"]["schemas"]
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not EVALUATION_TAGS & set(operation.get("tags", [])):
                continue
            checked += 1
            parameters = {p["name"] for p in operation.get("parameters", [])} | set(path.replace("{", " ").replace("}", " ").split())
            assert not PERSONAL & parameters, (method, path, PERSONAL & parameters)
            bodies = [c.get("schema") for c in operation.get("requestBody", {}).get("content", {}).values()]
            bodies += [c.get("schema") for r in operation.get("responses", {}).values() for c in r.get("content", {}).values()]
            fields = set().union(*(_names_in(b, components, set()) for b in bodies)) if bodies else set()
            assert not PERSONAL & fields, (method, path, PERSONAL & fields)
    assert checked >= 20, checked
    # And the storage itself: no evaluation table has a column naming a visitor or customer.
    for name in EVALUATION_TABLES:
        assert not PERSONAL & set(metadata.tables[name].columns.keys()), name


async def test_the_chat_reads_no_evaluation_table(app, base, client, shop):
    """Every statement during whole chats is recorded with the task that ran it: the chat's own
    (the websocket handlers, the avatar's turn) never touches an evaluation table; only the evaluation
    subscribers, running as event tasks, and the webhook deliveries' worker do."""
    statements: list[tuple[str, str]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        task = asyncio.current_task()
        statements.append((task.get_name() if task else "?", statement))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        # A poor conversation (fallback, handoff, rating 1), then the same visitor again: treated just the same.
        first = await chat_session(base, shop["widget_key"], ["Do you sell bicycles?", "I want to talk to a human"], rating={"score": 1, "resolved": False})
        await drain(app)
        async with visitor(base, shop["widget_key"]) as (chat, welcome):
            greeting = await chat.expect("message")
            await chat.say("When are you open?", "again")
            answer = await next_of(chat, "message")
            await chat.send({"type": "end"})
            await next_of(chat, "closed")
        await drain(app)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    # The webhook deliveries' worker (confide-webhook-…) is evaluation's too: it sends the events' deliveries, and
    # its poll of the outbox, whenever it falls inside the chats, is no read of the chat's.
    evaluation_tasks = ("confide-event-", "confide-webhook-")
    chat_statements = [s for task, s in statements if not task.startswith(evaluation_tasks)]
    event_statements = [s for task, s in statements if task.startswith("confide-event-")]
    assert chat_statements and event_statements
    touched = [s for s in chat_statements if any(t in s for t in EVALUATION_TABLES)]
    assert not touched, touched[:3]
    assert any("evaluation_conversation_metrics" in s for s in event_statements)  # the recorder saw evaluation at work
    assert welcome["conversation_id"] != first
    assert "AI" in greeting["text"] and "Monday" in answer["text"]
