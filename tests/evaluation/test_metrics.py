"""Per-conversation metrics, computed in the background when a conversation closes, and only where the
tenant's instructions allow evaluation; CSAT and the resolution flag."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from confide.chats.models import Conversation, Message
from confide.evaluation.models import ConversationMetrics, ConversationOutcome, DailyAggregate, UnansweredQuestion
from tests.evaluation.helpers import chat_session, drain, next_of, set_instructions
from tests.support.chat import visitor


async def test_a_closed_conversation_gets_its_metrics_and_its_rating(app, base, client, shop):
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    conversation_id = await chat_session(
        base,
        shop["widget_key"],
        ["When are you open?", "Do you sell bicycles? Mail me at erika@example.com", "Thanks, that is great!"],
        rating={"score": 4, "comment": "quick and friendly", "resolved": True},
    )
    await drain(app)

    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=h)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["conversation_id"] == conversation_id and m["avatar_id"] == shop["avatar_id"]
    assert m["turns"] == 3 and m["avatar_messages"] == 4  # greeting and three answers
    assert m["fallback_answers"] == 2  # bicycles, and the thanks the knowledge base cannot answer
    assert m["first_response_seconds"] is not None and 0 <= m["first_response_seconds"] < 10
    assert m["mean_response_seconds"] is not None and m["duration_seconds"] >= m["first_response_seconds"]
    assert m["handed_off"] is False and m["handoff_reason"] is None and m["human_involved"] is False
    assert m["rating"] == 4 and m["resolved"] is True and m["resolved_source"] == "visitor" and m["contained"] is True
    assert m["sentiment_lexicon"] == "vader" and m["sentiment_messages"] == 3
    assert m["sentiment_end"] > m["sentiment_start"] and m["sentiment_trend"] > 0
    assert "visitor_id" not in m and "customer_ref" not in m

    r = await client.get(f"/v1/tenants/{tenant_id}/ratings", headers=h)
    assert r.status_code == 200
    [rating] = r.json()["items"]
    assert rating == {**rating, "conversation_id": conversation_id, "score": 4, "comment": "quick and friendly", "resolved": True, "resolved_source": "visitor"}

    r = await client.get(f"/v1/tenants/{tenant_id}/reports", headers=h)
    totals = r.json()["totals"]
    assert totals["conversations"] == 1 and totals["containment_rate"] == 1.0 and totals["fallback_answers"] == 2
    assert totals["csat"] == {"count": 1, "mean": 4.0, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    questions = r.json()["top_unanswered_questions"]
    assert [q["count"] for q in questions] == [1, 1]
    bicycles = next(q for q in questions if "bicycles" in q["question"])
    assert "erika@example.com" not in bicycles["question"] and "<EMAIL_ADDRESS>" in bicycles["question"]  # redacted text only
    assert bicycles["normalized"] == "do you sell bicycles mail me at"


async def test_without_evaluation_instructed_nothing_is_computed(app, base, client, factory):
    from tests.support.chat import published_avatar

    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "No Evaluation GmbH")
    await set_instructions(client, app, owner, tenant_id, evaluate=False)
    avatar = await published_avatar(client, owner, tenant_id)
    conversation_id = await chat_session(base, avatar["widget_key"], ["Do you sell bicycles?"], rating={"score": 1, "resolved": False})
    await drain(app)

    async with app.state.sessionmaker() as session:
        for model in (ConversationMetrics, ConversationOutcome, DailyAggregate, UnansweredQuestion):
            assert await session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) == 0, model
    for path in (f"conversations/{conversation_id}/metrics", "reports", "ratings", "evaluation/conversations"):
        r = await client.get(f"/v1/tenants/{tenant_id}/{path}", headers=owner.headers)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["type"].endswith("/purpose-not-instructed") and r.json()["purpose"] == "evaluate"
    r = await client.put(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/resolution", json={"resolved": True}, headers=owner.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/purpose-not-instructed")

    # Turned on again: what closes from now on is measured; the earlier conversation was not.
    await set_instructions(client, app, owner, tenant_id, evaluate=True)
    r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=owner.headers)
    assert r.status_code == 404 and "not instructed" in r.json()["detail"]


async def test_handoffs_are_measured_by_reason(app, base, client, shop):
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    decision = await chat_session(base, shop["widget_key"], ["Can you approve my refund for order 123?"])
    missing = await chat_session(base, shop["widget_key"], ["Do you repair bicycles?", "Then I want to talk to a human"])
    await drain(app)
    reasons = {}
    for conversation_id in (decision, missing):
        r = await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=h)
        assert r.json()["handed_off"] is True and r.json()["contained"] is False
        reasons[conversation_id] = r.json()["handoff_reason"]
    assert reasons == {decision: "decision_required", missing: "missing_knowledge"}
    r = await client.get(f"/v1/tenants/{tenant_id}/reports", headers=h)
    totals = r.json()["totals"]
    assert totals["handed_off"] == 2 and totals["handoff_rate"] == 1.0
    assert totals["handoffs_by_reason"] == {"customer_request": 0, "missing_knowledge": 1, "policy_restriction": 0, "decision_required": 1, "responder_failure": 0}
    assert totals["guideline_hits"] == {"builtin:decision-guard": 1, "human": 1}
    r = await client.get(f"/v1/tenants/{tenant_id}/evaluation/conversations", params={"handoff_reason": "decision_required"}, headers=h)
    assert [i["conversation_id"] for i in r.json()["items"]] == [decision]


async def test_operators_set_the_resolution_and_reports_follow(app, base, client, factory, shop):
    tenant_id, owner = shop["tenant_id"], shop["owner"]
    conversation_id = await chat_session(base, shop["widget_key"], ["When are you open?"], rating={"score": 5, "resolved": False})
    await drain(app)
    report = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=owner.headers)).json()["totals"]
    assert report["contained"] == 0 and report["resolution"] == {"resolved": 0, "unresolved": 1, "unknown": 0}

    operator = await factory.member(tenant_id, owner, "operator")
    url = f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/resolution"
    r = await client.put(url, json={"resolved": True}, headers=operator.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {**r.json(), "resolved": True, "resolved_source": "operator", "score": 5}
    metrics = (await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=owner.headers)).json()
    assert metrics["resolved"] is True and metrics["resolved_source"] == "operator" and metrics["contained"] is True
    report = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=owner.headers)).json()["totals"]
    assert report["conversations"] == 1 and report["contained"] == 1 and report["resolution"] == {"resolved": 1, "unresolved": 0, "unknown": 0}

    analyst = await factory.member(tenant_id, owner, "analyst")
    r = await client.put(url, json={"resolved": False}, headers=analyst.headers)
    assert r.status_code == 403 and r.json()["permission"] == "chats:operate"
    for body in ({}, {"resolved": "maybe"}, {"resolved": True, "extra": 1}):
        r = await client.put(url, json=body, headers=operator.headers)
        assert r.status_code == 422, body
    r = await client.put(f"/v1/tenants/{tenant_id}/conversations/cnv_missing/resolution", json={"resolved": True}, headers=operator.headers)
    assert r.status_code == 404


async def test_recomputing_a_conversation_does_not_count_it_twice(app, base, client, shop):
    tenant_id = shop["tenant_id"]
    conversation_id = await chat_session(base, shop["widget_key"], ["When are you open?"], rating={"score": 3})
    await drain(app)
    before = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=shop["owner"].headers)).json()["totals"]
    for _ in range(2):  # e.g. reopened and closed again, or a duplicated event
        await app.state.evaluation.evaluate_closed(tenant_id=tenant_id, conversation_id=conversation_id)
        await app.state.evaluation.record_outcome(tenant_id=tenant_id, conversation_id=conversation_id, score=3)
    after = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=shop["owner"].headers)).json()["totals"]
    assert after == before and after["conversations"] == 1 and after["csat"]["count"] == 1


MEASURES = ("turns", "avatar_messages", "operator_messages", "fallback_answers", "first_response_seconds", "mean_response_seconds", "human_involved", "sentiment_messages", "sentiment_start")


async def _say_more(base: str, shop: dict, token: str, conversation_id: str, text: str, client_id: str) -> None:
    """The visitor comes back to a reopened conversation and is answered once more."""
    async with visitor(base, shop["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 0}) as (chat, welcome):
        assert welcome["status"] == "avatar", welcome
        await chat.send({"type": "message", "client_message_id": client_id, "text": text})
        while True:  # what was stored comes first (from seq 1), then the ack and the answer
            frame = await chat.recv()
            if frame["type"] == "message" and frame["author"] == "avatar" and frame.get("reply_to") == client_id:
                return


async def _reopen_and_close(client, app, tenant_id: str, conversation_id: str, headers: dict, then=None) -> dict:  # noqa: ANN001
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/reopen", headers=headers)
    assert r.status_code == 200, r.text
    if then is not None:
        await then()
    r = await client.post(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/close", headers=headers)
    assert r.status_code == 200, r.text
    await drain(app)
    return (await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=headers)).json()


async def test_closing_again_after_the_text_was_purged_keeps_the_earlier_measures(app, base, client, shop):
    """Without stored transcripts each close purges the text: a reopen's later close measured only what was left
    and replaced the earlier measures, so the metrics and reports lost the first part (review, 2026-12-01)."""
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    await set_instructions(client, app, shop["owner"], tenant_id, store_transcripts=False)
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        token, conversation_id = welcome["visitor_token"], welcome["conversation_id"]
        await chat.expect("message")
        for i, text in enumerate(["When are you open?", "Do you sell bicycles?", "Thanks, that is great!"]):
            await chat.say(text, f"m{i}")
            await chat.expect("message")
        await chat.send({"type": "end"})
        await next_of(chat, "rating_request")
        await chat.send({"type": "rating", "score": 4, "resolved": True})
        await next_of(chat, "rating")
    await drain(app)
    first = (await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=h)).json()
    totals = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=h)).json()["totals"]
    assert first["turns"] == 3

    again = await _reopen_and_close(client, app, tenant_id, conversation_id, h)
    assert {k: again[k] for k in MEASURES} == {k: first[k] for k in MEASURES}, (first, again)
    now = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=h)).json()["totals"]
    assert {k: v for k, v in now.items() if k != "duration_mean_seconds"} == {k: v for k, v in totals.items() if k != "duration_mean_seconds"}

    later = await _reopen_and_close(client, app, tenant_id, conversation_id, h, then=lambda: _say_more(base, shop, token, conversation_id, "When are you open?", "m3"))
    assert later["turns"] == 4 and later["avatar_messages"] == first["avatar_messages"] + 1, later
    assert later["first_response_seconds"] == first["first_response_seconds"] and later["mean_response_seconds"] is not None
    assert later["sentiment_start"] == first["sentiment_start"] and later["sentiment_messages"] == first["sentiment_messages"] + 1
    report = (await client.get(f"/v1/tenants/{tenant_id}/reports", headers=h)).json()["totals"]
    assert report["conversations"] == 1 and report["turns_mean"] == 4.0 and report["csat"]["count"] == 1


async def test_a_later_close_adds_only_what_came_after_the_stored_measures(app, base, client, shop):
    """Text kept, then the first part purged (retention): two more reopen-and-close rounds each add their own part
    once; the row's covered_seq says what it holds already."""
    tenant_id, h = shop["tenant_id"], shop["owner"].headers
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        token, conversation_id = welcome["visitor_token"], welcome["conversation_id"]
        await chat.expect("message")
        await chat.say("When are you open?", "m0")
        await chat.expect("message")
        await chat.send({"type": "end"})
        await next_of(chat, "closed")
    await drain(app)
    first = (await client.get(f"/v1/tenants/{tenant_id}/conversations/{conversation_id}/metrics", headers=h)).json()
    assert first["turns"] == 1 and first["transcript_available"] is True
    async with app.state.sessionmaker() as session:  # as retention would, for the first part
        await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
        await session.commit()
    for n, text in enumerate(("Do you sell jackets?", "When are you open?"), start=2):
        measured = await _reopen_and_close(
            client, app, tenant_id, conversation_id, h, then=lambda text=text, n=n: _say_more(base, shop, token, conversation_id, text, f"m{n}")
        )
        assert measured["turns"] == n, (n, measured)
    async with app.state.sessionmaker() as session:
        row = await session.scalar(select(ConversationMetrics).where(ConversationMetrics.conversation_id == conversation_id))
        conversation = await session.get(Conversation, conversation_id)
    assert row.covered_seq == conversation.last_seq
