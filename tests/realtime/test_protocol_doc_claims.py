"""What docs/protocol.md now says of the widget socket's edges (probe, 2026-12-02): a URL with a query string is
refused at the handshake (HTTP 422), an empty token counts as none, and a second `end` gets no answer."""

from __future__ import annotations

import pytest
import websockets

from tests.support.chat import ORIGIN, connect, visitor


async def test_a_websocket_url_with_any_query_string_is_refused_at_the_handshake(base, shop):
    for query in ("?token=abc", "?v=2"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(f"{base}/v1/widget/{shop['widget_key']}/chat{query}", origin=ORIGIN):
                pass
        assert refused.value.response.status_code == 422, query


async def test_an_empty_token_counts_as_none(base, shop):
    for hello in ({"visitor_token": ""}, {"customer_token": ""}):
        async with visitor(base, shop["widget_key"], **hello) as (_, welcome):
            assert welcome["resumed"] is False and welcome["visitor_token"], (hello, welcome)


async def test_a_second_end_changes_nothing_and_gets_no_answer(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        await chat.send({"type": "end"})
        await chat.expect("closed")
        await chat.expect("rating_request")
        await chat.send({"type": "end"})
        await chat.send({"type": "ping"})
        assert (await chat.recv())["type"] == "pong"
