"""Per-conversation metrics, computed in the background when a conversation closes, and only where the
tenant's instructions allow evaluation; CSAT and the resolution flag."""

from __future__ import annotations

from sqlalchemy import func, select

from confide.evaluation.models import ConversationMetrics, ConversationOutcome, DailyAggregate, UnansweredQuestion
from tests.evaluation.helpers import chat_session, drain, set_instructions


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
