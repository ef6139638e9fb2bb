"""A newly created avatar (no guideline rules of its own) hands the chat to its operators when the
visitor asks for a person, and when the visitor says yes to the avatar's own offer of one: over a real
socket, down to the operators' queue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.chat import ChatClient, operator, published_avatar, visitor

OFFER = "Would you like me to connect you with a person?"


async def _next_of(chat: ChatClient, *kinds: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        frame = await chat.recv(timeout)
        if frame["type"] in kinds:
            return frame


async def _queued(base: str, shop: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    async with operator(base, shop["tenant_id"], shop["owner"].token) as (_, hello):
        queued = {c["id"]: c for c in hello["queue"]}
    assert conversation_id in queued, hello["queue"]
    return queued[conversation_id]


@pytest.mark.parametrize(
    ("language", "asking"), [("en", "Please connect me with a person"), ("de", "Ich möchte mit einem Mitarbeiter sprechen.")]
)
async def test_asking_for_a_person_hands_off_on_a_new_avatar(base, shop, language, asking):
    async with visitor(base, shop["widget_key"], language=language) as (chat, welcome):
        await chat.expect("message")
        await chat.say(asking, "v1")
        frame = await _next_of(chat, "handoff", "message")
        assert frame["type"] == "handoff", frame  # not the fallback and its offer of a person
        assert frame["reason"] == "customer_request" and frame["author"] == "system"
        summary = await _queued(base, shop, welcome["conversation_id"])
        assert summary["status"] == "waiting" and summary["handoff_reason"] == "customer_request"


@pytest.mark.parametrize(
    ("language", "question", "offer", "yes"),
    [("en", "What is the airspeed of an unladen swallow?", OFFER, "yes"), ("de", "Wie hoch ist der Eiffelturm?", "Menschen", "Ja, gerne!")],
)
async def test_yes_to_the_avatars_offer_of_a_person_hands_off(base, shop, language, question, offer, yes):
    async with visitor(base, shop["widget_key"], language=language) as (chat, welcome):
        await chat.expect("message")
        await chat.say(question, "v1")
        fallback = await _next_of(chat, "message", "handoff")
        assert fallback["type"] == "message" and fallback["author"] == "avatar" and offer in fallback["text"], fallback
        await chat.say(yes, "v2")
        frame = await _next_of(chat, "handoff", "message")
        assert frame["type"] == "handoff", frame  # not the same fallback again
        assert frame["reason"] == "customer_request"
        summary = await _queued(base, shop, welcome["conversation_id"])
        assert summary["status"] == "waiting" and summary["handoff_reason"] == "customer_request"


async def test_yes_without_an_offer_is_answered_by_the_avatar(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")  # the greeting offers nobody
        await chat.say("yes", "v1")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame
        await chat.say("When are you open?", "v2")  # an answer from knowledge offers nobody either
        answer = await _next_of(chat, "message", "handoff")
        assert answer["type"] == "message" and "Monday to Friday" in answer["text"], answer
        await chat.say("yes", "v3")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame


async def test_yes_after_a_reconnect_still_answers_the_offer(base, shop):
    """The offer was the last message the client had when the connection dropped (an idle timeout, a
    network change): the resume's catch-up replays nothing, and "yes" still hands off."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("What is the airspeed of an unladen swallow?", "v1")
        fallback = await _next_of(chat, "message", "handoff")
        assert fallback["type"] == "message" and OFFER in fallback["text"], fallback
    resume = {"conversation_id": welcome["conversation_id"], "last_seq": fallback["seq"]}
    async with visitor(base, shop["widget_key"], visitor_token=welcome["visitor_token"], resume=resume) as (chat, again):
        assert again["resumed"] is True and again["conversation_id"] == welcome["conversation_id"], again
        await chat.say("yes", "v2")
        frame = await _next_of(chat, "handoff", "message")
        assert frame["type"] == "handoff" and frame["reason"] == "customer_request", frame
    assert (await _queued(base, shop, welcome["conversation_id"]))["handoff_reason"] == "customer_request"


async def test_yes_after_a_reconnect_that_replays_the_offer_hands_off(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        greeting = await chat.expect("message")
        await chat.say("What is the airspeed of an unladen swallow?", "v1")
        fallback = await _next_of(chat, "message", "handoff")
        assert OFFER in fallback["text"], fallback
    resume = {"conversation_id": welcome["conversation_id"], "last_seq": greeting["seq"]}  # the offer comes again in the catch-up
    async with visitor(base, shop["widget_key"], visitor_token=welcome["visitor_token"], resume=resume) as (chat, _):
        while (await _next_of(chat, "message"))["seq"] != fallback["seq"]:
            pass
        await chat.say("yes", "v2")
        frame = await _next_of(chat, "handoff")
        assert frame["reason"] == "customer_request", frame


async def test_yes_after_a_reconnect_without_an_offer_is_answered_by_the_avatar(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("When are you open?", "v1")
        answer = await _next_of(chat, "message", "handoff")
        assert "Monday to Friday" in answer["text"], answer
    resume = {"conversation_id": welcome["conversation_id"], "last_seq": answer["seq"]}
    async with visitor(base, shop["widget_key"], visitor_token=welcome["visitor_token"], resume=resume) as (chat, _):
        await chat.say("yes", "v2")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame


async def test_ok_thanks_to_the_offer_is_answered_by_the_avatar(base, shop):
    async with visitor(base, shop["widget_key"]) as (chat, _):
        await chat.expect("message")
        await chat.say("What is the airspeed of an unladen swallow?", "v1")
        fallback = await _next_of(chat, "message", "handoff")
        assert OFFER in fallback["text"], fallback
        await chat.say("ok thanks", "v2")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame  # thanks declines politely


async def test_an_offer_the_output_guard_cut_out_is_no_offer(client, factory, base):
    """The responder offered a person, but the tenant's rule replaced the offer: the visitor never saw
    it, so "yes" asks for nothing (not at once, and not after a reconnect)."""
    owner = await factory.user()
    tenant_id = await factory.tenant(owner, "Cut GmbH")
    spec = {"rules": [{"id": "no-offer", "kind": "banned_phrase", "phrases": ["connect you with a person"], "action": "replace", "replacement": "help"}]}
    avatar = await published_avatar(client, owner, tenant_id, spec=spec)
    async with visitor(base, avatar["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("What is the airspeed of an unladen swallow?", "v1")
        fallback = await _next_of(chat, "message", "handoff")
        assert fallback["type"] == "message" and fallback["author"] == "avatar" and OFFER not in fallback["text"], fallback
        await chat.say("yes", "v2")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame
    resume = {"conversation_id": welcome["conversation_id"], "last_seq": frame["seq"]}
    async with visitor(base, avatar["widget_key"], visitor_token=welcome["visitor_token"], resume=resume) as (chat, _):
        await chat.say("yes", "v3")
        frame = await _next_of(chat, "message", "handoff")
        assert frame["type"] == "message" and frame["author"] == "avatar", frame


async def test_a_replayed_handoff_carries_its_reason_as_the_live_one_did(base, shop):
    """From storage (a resume, a gap fill) a `handoff` came without `reason` (review, 2026-12-01)."""
    async with visitor(base, shop["widget_key"]) as (chat, welcome):
        await chat.expect("message")
        await chat.say("Please connect me with a person", "v1")
        live = await _next_of(chat, "handoff")
    async with visitor(
        base, shop["widget_key"], visitor_token=welcome["visitor_token"], resume={"conversation_id": welcome["conversation_id"], "last_seq": live["seq"] - 1}
    ) as (chat, _):
        replayed = await _next_of(chat, "handoff")
    assert replayed == live and replayed["reason"] == "customer_request"
