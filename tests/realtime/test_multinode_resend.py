"""A resend on another node while the first node's avatar turn is still waiting for the LLM: acked as a duplicate
and left to that turn, so the message gets one reply (probe, 2026-12-02: it got two, one from each node). Two
`confide serve` processes on PostgreSQL and Redis; the fake LLM holds the first reply until the test lets it go."""

from __future__ import annotations

import httpx

from tests.support.chat import published_avatar, visitor
from tests.support.factory import Factory
from tests.support.outbox import Outbox
from tests.support.server import cluster_env, needs_a_cluster, two_nodes


async def _next_of(chat, kind: str, timeout: float = 15.0) -> dict:  # noqa: ANN001
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] == kind:
            return frame


async def test_a_resend_on_another_node_while_the_reply_is_on_its_way_gets_no_second_reply(backend, tmp_path, fake_llm):
    needs_a_cluster(backend)
    env = cluster_env(backend.database_url, backend.redis_url, OPENAI_BASE_URL=fake_llm.base_url, OPENAI_API_KEY="sk-test")
    async with two_nodes(env, tmp_path) as (node_a, node_b):
        async with httpx.AsyncClient(base_url=node_a) as api:
            owner = await Factory(api, Outbox(tmp_path / "a" / "outbox")).user()
            tenant_id = await Factory(api, Outbox(tmp_path / "a" / "outbox")).tenant(owner, "Two Nodes GmbH")
            r = await api.post(
                f"/v1/tenants/{tenant_id}/privacy/instructions",
                json={"authorised_subprocessors": ["hosting", "cdn", "llm"], "purposes": {"external_llm": True}},
                headers=owner.headers,
            )
            assert r.status_code == 201, r.text
            avatar = await published_avatar(api, owner, tenant_id, engine="openai")
        ws_a, ws_b = node_a.replace("http", "ws"), node_b.replace("http", "ws")
        fake_llm.script("We are open from nine to five.", first_token_delay=120)  # held until reset()
        frame = {"type": "message", "client_message_id": "drop1", "text": "When are you open?"}
        async with visitor(ws_a, avatar["widget_key"]) as (first, welcome):
            conversation_id, token = welcome["conversation_id"], welcome["visitor_token"]
            await first.expect("message")
            resume = {"conversation_id": conversation_id, "last_seq": 1}
            async with visitor(ws_b, avatar["widget_key"], visitor_token=token, resume=resume) as (second, _):
                await first.send(frame)
                ack = await _next_of(first, "ack")  # stored on node A; its turn waits for the LLM
                await fake_llm.wait_for_requests(1)
                await first.close()
                await second.send(frame)  # sent again on node B
                again = await _next_of(second, "ack")
                assert again["duplicate"] is True and again["seq"] == ack["seq"], again
                fake_llm.reset()  # the held reply goes on (and any later request answers at once)
                reply = await _next_of(second, "message")  # node A's reply, over Redis
                assert reply["author"] == "avatar" and reply["seq"] == ack["seq"] + 1, reply
                await second.send({"type": "ping"})
                await _next_of(second, "pong")  # node B has handled the resend, whatever it started
        async with visitor(ws_b, avatar["widget_key"], visitor_token=token, resume={"conversation_id": conversation_id, "last_seq": 0}) as (again, _):
            await again.send({"type": "ping"})
            await _next_of(again, "pong")  # after the catch-up
            authors = [f["author"] for f in again.frames if f["type"] == "message"]
        assert authors == ["avatar", "visitor", "avatar"], again.frames
