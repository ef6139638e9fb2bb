"""Statistics outlive the text: when retention or erasure removes a conversation's messages, or the
conversation itself, its contribution to the reports stays; the end customer's words do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.evaluation.models import ConversationMetrics, ConversationOutcome, ConversationScore, UnansweredQuestion
from confide.evaluation.service import expire_questions, expire_score_comments
from tests.evaluation.helpers import set_instructions, stored_conversation

FALLBACK = {"fallback": True}


async def _report(client, shop) -> dict:  # noqa: ANN001
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/reports", params={"from": "2026-04-01", "to": "2026-04-07"}, headers=shop["owner"].headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_reports_keep_conversations_whose_text_or_row_is_gone(app, client, shop):
    started = datetime(2026, 4, 1, 10, tzinfo=UTC)
    conversation_id = await stored_conversation(
        app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=started, rating=2, resolved=True, rule_ids=("tone",),
        turns=[("visitor", "Do you sell bicycles?", None, 0), ("avatar", "I don't know.", FALLBACK, 3)],
    )
    defs = f"/v1/tenants/{shop['tenant_id']}/evaluation/score-definitions"
    definition = (await client.post(defs, json={"name": "Helpful", "kind": "boolean"}, headers=shop["owner"].headers)).json()["id"]
    r = await client.post(f"/v1/tenants/{shop['tenant_id']}/conversations/{conversation_id}/scores",
                          json={"definition_id": definition, "value": False, "comment": "said 'bicycles?' twice"}, headers=shop["owner"].headers)
    assert r.status_code == 201
    before = await _report(client, shop)
    assert before["totals"]["conversations"] == 1 and before["totals"]["fallback_answers"] == 1
    assert [q["question"] for q in before["top_unanswered_questions"]] == ["Do you sell bicycles?"]

    # Retention or erasure of the text (what happens when transcripts are not stored):
    async with app.state.sessionmaker() as session:
        await chats.purge_text(session, conversation_id=conversation_id)
        await session.commit()
    after_text = await _report(client, shop)
    assert after_text["totals"] == before["totals"] and after_text["periods"] == before["periods"]
    assert after_text["top_unanswered_questions"] == []  # the customer's words went with their message

    # Erasure of the conversation row itself:
    async with app.state.sessionmaker() as session:
        await session.execute(delete(Conversation).where(Conversation.id == conversation_id))
        await session.commit()
    after_row = await _report(client, shop)
    assert after_row["totals"] == before["totals"]
    async with app.state.sessionmaker() as session:
        metrics = (await session.scalars(select(ConversationMetrics).where(ConversationMetrics.tenant_id == shop["tenant_id"]))).all()
        assert [(m.conversation_id, m.turns, m.rating) for m in metrics] == [(None, 1, 2)]  # unlinked, kept as a statistic
        assert await session.scalar(select(func.count()).select_from(ConversationOutcome).where(ConversationOutcome.tenant_id == shop["tenant_id"])) == 0
        score = await session.scalar(select(ConversationScore).where(ConversationScore.tenant_id == shop["tenant_id"]))
        assert score.conversation_id is None and score.comment is not None
        # The retention job removes what could still quote the chat.
        removed = await expire_score_comments(session, datetime.now(UTC), app.state.settings)
        await session.commit()
        assert removed["evaluation_score_comment"] >= 1
        assert (await session.scalar(select(ConversationScore).where(ConversationScore.id == score.id))).comment is None
    r = await client.get(f"{defs}/{definition}/summary", headers=shop["owner"].headers)
    assert r.json()["groups"][0]["count"] == 1  # the score still counts for the avatar
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/evaluation/conversations", headers=shop["owner"].headers)
    assert [i["conversation_id"] for i in r.json()["items"]] == [None]


async def test_unanswered_questions_follow_the_tenants_retention(app, client, shop):
    now = datetime.now(UTC)
    for _ in range(2):
        await stored_conversation(app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=now,
                                  turns=[("visitor", "Do you ship to Mars?", None, 0), ("avatar", "I don't know.", FALLBACK, 1)])

    async def questions() -> int:
        async with app.state.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(UnansweredQuestion).where(UnansweredQuestion.tenant_id == shop["tenant_id"]))

    assert await questions() == 2
    async with app.state.sessionmaker() as session:
        await expire_questions(session, now + timedelta(days=29), app.state.settings)
        await session.commit()
    assert await questions() == 2  # within the default 30 days
    async with app.state.sessionmaker() as session:
        await expire_questions(session, now + timedelta(days=31), app.state.settings)
        await session.commit()
    assert await questions() == 0
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/reports", headers=shop["owner"].headers)
    assert r.json()["totals"]["fallback_answers"] == 2 and r.json()["top_unanswered_questions"] == []


async def test_no_questions_are_kept_without_stored_transcripts(app, client, shop):
    await set_instructions(client, app, shop["owner"], shop["tenant_id"], store_transcripts=False)
    await stored_conversation(app, tenant_id=shop["tenant_id"], avatar_id=shop["avatar_id"], started=datetime.now(UTC),
                              turns=[("visitor", "Do you ship to Mars?", None, 0), ("avatar", "I don't know.", FALLBACK, 1)])
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(UnansweredQuestion).where(UnansweredQuestion.tenant_id == shop["tenant_id"])) == 0
    r = await client.get(f"/v1/tenants/{shop['tenant_id']}/reports", headers=shop["owner"].headers)
    assert r.json()["totals"]["fallback_answers"] == 1


def test_statistics_have_no_cascading_link_to_conversations():
    from confide.tables import metadata

    for name in ("evaluation_daily_aggregate", "evaluation_daily_count", "evaluation_conversation_metrics", "evaluation_score"):
        for fk in metadata.tables[name].foreign_keys:
            if fk.column.table.name in ("conversation", "chat_message", "avatar"):
                assert fk.ondelete == "SET NULL", (name, fk)
    for name in ("evaluation_daily_aggregate", "evaluation_daily_count"):
        assert not [fk for fk in metadata.tables[name].foreign_keys if fk.column.table.name != "tenant"]
