"""Responders: the builtin knowledge responder, and the OpenAI responder with the real ``openai``
client against the local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from avatars.responders import (
    Document,
    KnowledgeIndex,
    Persona,
    QAEntry,
    Reply,
    ReplyRequest,
    ResponderSettings,
    Turn,
    chunk_document,
)
from avatars.responders.builtin import BuiltinResponder
from avatars.responders.openai_responder import OpenAIConfig, OpenAIResponder
from avatars.responders.registry import Responders
from confide.core.logs import QUIET_LOGGERS, configure_logging
from tests.support.fake_llm import FakeLLM, run_fake_llm

OFFER_EN = "Would you like me to connect you with a person?"
OFFER_DE = "Soll ich Sie mit einem Menschen aus unserem Team verbinden?"
# what must never reach a visitor
LEAKS = ("Traceback", "Error", "error", "openai", "httpx", "127.0.0.1", "status", "Exception", "timed out")

KNOWLEDGE = KnowledgeIndex.build(
    [
        QAEntry(
            "hours-en",
            ["What are your opening hours?", "When are you open?"],
            "We are open Monday to Friday, 9 to 17. On Saturdays we open at 10.",
            "en",
        ),
        QAEntry(
            "hours-de",
            ["Wie sind Ihre Öffnungszeiten?", "Wann haben Sie geöffnet?"],
            "Wir haben Montag bis Freitag von 9 bis 17 Uhr geöffnet.",
            "de",
        ),
        QAEntry("ship-en", ["How much does shipping cost?"], "Shipping costs 4.90 EUR and is free from 50 EUR.", "en"),
        QAEntry("ship-de", ["Was kostet der Versand?"], "Der Versand kostet 4,90 EUR, ab 50 EUR ist er kostenlos.", "de"),
    ],
    chunk_document(
        Document(
            "care",
            "Care guide",
            "# Care guide\n\n## Leather\n\nClean leather shoes with a damp cloth and treat them with wax once a month.",
            "en",
        )
    ),
    language="en",
)


def make_request(message: str, language: str = "en", **changes: object) -> ReplyRequest:
    request = ReplyRequest(
        persona=Persona("Mia", "customer service for the Example shop", "friendly, short sentences"),
        language=language,
        greeting="Hello, I am Mia, the Example shop's AI assistant. How can I help?"
        if language == "en"
        else "Hallo, ich bin Mia, die KI-Assistentin des Example-Shops. Wie kann ich helfen?",
        fallback="Sorry, I don't know that." if language == "en" else "Das weiß ich leider nicht.",
        message=message,
        knowledge=KNOWLEDGE,
        style=["Address the visitor formally.", "Never use emojis."],
        disclosure="I am an AI assistant, not a person.",
    )
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


def openai_settings(**changes: object) -> ResponderSettings:
    settings = ResponderSettings(engine="openai", model="test-model", temperature=0.2, max_tokens=123)
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# Builtin


async def test_builtin_answers_from_qa_in_english_and_streams_it_in_pieces() -> None:
    reply = BuiltinResponder().stream(make_request("When do you open?"))

    deltas = [delta async for delta in reply]

    assert "".join(deltas) == "We are open Monday to Friday, 9 to 17. On Saturdays we open at 10."
    assert len(deltas) == 2
    assert reply.outcome.finished
    assert reply.outcome.knowledge_ids == ["hours-en"]
    assert not reply.outcome.fallback_used and not reply.outcome.offered_human
    assert reply.outcome.engine == "builtin" and reply.outcome.error is None


@pytest.mark.parametrize(
    "message",
    ["Wie sind Ihre Öffnungszeiten?", "offnungszeiten", "Öffnungszeit am Montag?", "Wann hat der Laden geöffnet?", "oeffnungszeiten"],
)
async def test_builtin_answers_german_with_other_word_forms_and_without_umlauts(message: str) -> None:
    reply = BuiltinResponder().stream(make_request(message, "de-DE"))

    assert await reply.collect() == "Wir haben Montag bis Freitag von 9 bis 17 Uhr geöffnet."
    assert reply.outcome.knowledge_ids == ["hours-de"]


async def test_builtin_answers_in_the_visitors_language_only() -> None:
    assert await BuiltinResponder().stream(make_request("Versandkosten? Was kostet der Versand", "de")).collect() == (
        "Der Versand kostet 4,90 EUR, ab 50 EUR ist er kostenlos."
    )
    assert await BuiltinResponder().stream(make_request("shipping costs", "en")).collect() == (
        "Shipping costs 4.90 EUR and is free from 50 EUR."
    )


async def test_builtin_answers_from_a_document_chunk_without_its_headings() -> None:
    reply = BuiltinResponder().stream(make_request("How should I clean leather shoes?"))

    assert await reply.collect() == "Clean leather shoes with a damp cloth and treat them with wax once a month."
    assert reply.outcome.knowledge_ids == ["care:0"]


@pytest.mark.parametrize(
    ("message", "language"),
    [("hi", "en"), ("Hello!", "en"), ("good morning, Mia", "en"), ("Hallo", "de"), ("Guten Tag!", "de"), ("moin", "de")],
)
async def test_builtin_greets_back_with_the_avatars_greeting(message: str, language: str) -> None:
    request = make_request(message, language)
    reply = BuiltinResponder().stream(request)

    assert await reply.collect() == request.greeting
    assert reply.outcome.greeting and not reply.outcome.fallback_used


async def test_a_greeting_with_a_question_gets_the_answer() -> None:
    reply = BuiltinResponder().stream(make_request("Hi! What are your opening hours?"))

    assert (await reply.collect()).startswith("We are open Monday to Friday")
    assert not reply.outcome.greeting


@pytest.mark.parametrize(
    ("message", "language", "expected"),
    [
        ("Can I bring my dog?", "en", f"Sorry, I don't know that. {OFFER_EN}"),
        ("Darf ich meinen Hund mitbringen?", "de", f"Das weiß ich leider nicht. {OFFER_DE}"),
        ("???", "en", f"Sorry, I don't know that. {OFFER_EN}"),
        ("good", "en", f"Sorry, I don't know that. {OFFER_EN}"),
    ],
)
async def test_builtin_falls_back_and_offers_a_person_when_nothing_matches(message: str, language: str, expected: str) -> None:
    reply = BuiltinResponder().stream(make_request(message, language))

    assert await reply.collect() == expected
    assert reply.outcome.fallback_used and reply.outcome.offered_human
    assert reply.outcome.knowledge_ids == []


async def test_a_fallback_without_a_full_stop_does_not_run_on_into_the_offer() -> None:
    for fallback, expected in (
        ("Sorry", f"Sorry. {OFFER_EN}"),
        ("Sorry!", f"Sorry! {OFFER_EN}"),
        ("I can't say.  ", f"I can't say. {OFFER_EN}"),
        ("Sorry (we're closed)", f"Sorry (we're closed). {OFFER_EN}"),
        ('He said "closed."', f'He said "closed." {OFFER_EN}'),
    ):
        assert await BuiltinResponder().stream(make_request("Can I bring my dog?", fallback=fallback)).collect() == expected


async def test_a_fallback_that_already_offers_a_person_is_not_doubled() -> None:
    request = make_request("Can I bring my dog?", fallback=f"I can't say. {OFFER_EN}")

    assert await BuiltinResponder().stream(request).collect() == f"I can't say. {OFFER_EN}"


async def test_the_threshold_decides_between_answer_and_fallback() -> None:
    message = "opening hours for bicycle repairs at the harbour"  # half about us, half not
    score = KNOWLEDGE.search(message, language="en")[0].score
    low = make_request(message, settings=ResponderSettings(min_score=score - 0.01))
    high = make_request(message, settings=ResponderSettings(min_score=score + 0.01))

    assert (await BuiltinResponder().stream(low).collect()).startswith("We are open")
    assert await BuiltinResponder().stream(high).collect() == f"Sorry, I don't know that. {OFFER_EN}"


async def test_builtin_is_deterministic() -> None:
    request = make_request("what does shipping cost")
    first = [d async for d in BuiltinResponder().stream(request)]
    second = [d async for d in BuiltinResponder().stream(request)]

    assert first == second


async def test_an_empty_knowledge_base_falls_back() -> None:
    reply = BuiltinResponder().stream(make_request("opening hours", knowledge=KnowledgeIndex.empty()))

    assert await reply.collect() == f"Sorry, I don't know that. {OFFER_EN}"


# ---------------------------------------------------------------------------------------------------
# OpenAI-compatible


@pytest.fixture
async def llm(fake_llm: FakeLLM) -> AsyncIterator[OpenAIResponder]:
    responder = OpenAIResponder(
        OpenAIConfig(base_url=fake_llm.base_url, api_key="sk-test", first_token_timeout=1.0, total_timeout=3.0, max_retries=2)
    )
    yield responder
    await responder.aclose()


async def test_the_request_carries_settings_persona_guidelines_disclosure_knowledge_and_history(
    fake_llm: FakeLLM, llm: OpenAIResponder
) -> None:
    history = [
        Turn("avatar", "Hello, I am Mia. I am an AI assistant."),
        Turn("visitor", "Do you ship to Austria?"),
        Turn("operator", "Yes, we do. This is Paul from the team."),
        Turn("visitor", ""),  # nothing to send
    ]
    request = make_request("And when are you open?", history=history, settings=openai_settings())

    await llm.stream(request).collect()

    assert len(fake_llm.requests) == 1
    sent = fake_llm.requests[0]
    assert sent.method == "POST" and sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = sent.body
    assert (body["model"], body["temperature"], body["max_tokens"], body["stream"]) == ("test-model", 0.2, 123, True)
    system, *turns = body["messages"]
    assert system["role"] == "system"
    prompt = system["content"]
    for expected in (
        "Mia",
        "customer service for the Example shop",
        "friendly, short sentences",
        "- Address the visitor formally.\n- Never use emojis.",
        "I am an AI assistant, not a person.",
        "We are open Monday to Friday, 9 to 17.",  # retrieved knowledge
        OFFER_EN,
        "GDPR Art. 22",
        "refund",
        "English (en)",
    ):
        assert expected in prompt
    assert "Der Versand" not in prompt and "leather" not in prompt  # only relevant knowledge
    assert turns == [
        {"role": "assistant", "content": "Hello, I am Mia. I am an AI assistant."},
        {"role": "user", "content": "Do you ship to Austria?"},
        {"role": "assistant", "content": "Yes, we do. This is Paul from the team."},
        {"role": "user", "content": "And when are you open?"},
    ]


async def test_a_finished_stream_leaves_its_connection_for_the_next_reply(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    # [DONE] comes a while after the finish reason: the reply ends at the finish reason, and the
    # rest is read afterwards, so the connection goes back to the pool rather than being dropped.
    fake_llm.script("We open at nine.", done_delay=0.05)

    for _ in range(3):
        reply = llm.stream(make_request("When are you open?", settings=openai_settings()))
        assert await reply.collect() == "We open at nine."
        await llm.drained()

    peers = {r.client for r in fake_llm.chat_requests}
    assert len(fake_llm.chat_requests) == 3 and len(peers) == 1 and None not in peers, peers


async def test_deltas_arrive_in_order_and_join_to_the_scripted_text(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("We open at nine. Come by any time!", token_delay=0.05)
    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    deltas = [delta async for delta in reply]

    # tokens 50 ms apart arrive in reads of their own (a read that brings several joins them)
    assert "".join(deltas) == "We open at nine. Come by any time!" and len(deltas) > 1
    assert reply.text == "We open at nine. Come by any time!"
    outcome = reply.outcome
    assert outcome.finished and outcome.engine == "openai"
    assert not outcome.fallback_used and not outcome.offered_human and outcome.error is None
    assert outcome.knowledge_ids == ["hours-en"]


async def test_a_reply_that_offers_a_person_is_marked(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script(f"I cannot decide on refunds. {OFFER_EN}")
    reply = llm.stream(make_request("Will you refund me?", settings=openai_settings()))

    await reply.collect()

    assert reply.outcome.offered_human and not reply.outcome.fallback_used


async def deltas_with_last(reply: Reply) -> list[tuple[str, bool, bool]]:
    """Each delta with the outcome's `last` and `offered_human` as they stood when it came."""
    return [(delta, reply.outcome.last, reply.outcome.offered_human) async for delta in reply]


async def test_only_the_last_delta_is_marked_last_and_the_outcome_is_final_by_then(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    # The chat stores the reply as soon as it sees `last`, so it must come with the final text
    # and a final outcome (here: the offer of a person), never earlier.
    fake_llm.script(f"I cannot decide on refunds. {OFFER_EN}", token_delay=0.02)
    reply = llm.stream(make_request("Will you refund me?", settings=openai_settings()))

    seen = await deltas_with_last(reply)

    assert len(seen) > 1 and "".join(d for d, _, _ in seen) == f"I cannot decide on refunds. {OFFER_EN}"
    assert [last for _, last, _ in seen] == [False] * (len(seen) - 1) + [True]
    assert seen[-1][2] is True


async def test_a_finish_reason_in_a_read_of_its_own_marks_nothing_last(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    # As OpenAI sends it: the finish reason in a chunk without text. The reply is whole all the same;
    # only the end of the stream says it is over.
    fake_llm.script("We open at nine.", finish_delay=0.05)
    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    seen = await deltas_with_last(reply)

    assert "".join(d for d, _, _ in seen) == "We open at nine." and not any(last for _, last, _ in seen)
    assert reply.outcome.finished and reply.outcome.error is None


async def test_text_before_an_error_event_is_shown_then_the_fallback_marked_last(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    # The tokens and the error event usually arrive in one read: the text before the error is kept.
    fake_llm.script("We are open from nine to five.", error_after=3)
    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    seen = await deltas_with_last(reply)

    assert [text for text, _, _ in seen] == ["We are open", f"\n\nSorry, I don't know that. {OFFER_EN}"]
    assert [last for _, last, _ in seen] == [False, True]
    assert reply.outcome.error == "interrupted" and reply.outcome.fallback_used


async def test_builtin_marks_its_last_piece() -> None:
    reply = BuiltinResponder().stream(make_request("When do you open?"))

    seen = await deltas_with_last(reply)

    assert [last for _, last, _ in seen] == [False, True]


@pytest.mark.parametrize("status", [500, 429, 503])
async def test_retries_after_failures_then_succeeds(fake_llm: FakeLLM, llm: OpenAIResponder, status: int) -> None:
    fake_llm.script("Back again.", fail_first=2, fail_status=status)

    reply = llm.stream(make_request("hi there", settings=openai_settings()))

    assert await reply.collect() == "Back again."
    assert reply.outcome.error is None
    assert len(fake_llm.chat_requests) == 3
    assert fake_llm.requests[0].body == fake_llm.requests[2].body


@pytest.mark.parametrize(("status", "category"), [(500, "upstream_error"), (429, "rate_limited"), (503, "upstream_error")])
async def test_when_retries_run_out_the_visitor_gets_the_fallback(
    fake_llm: FakeLLM, llm: OpenAIResponder, status: int, category: str
) -> None:
    fake_llm.script("never", fail_first=10, fail_status=status)

    reply = llm.stream(make_request("hi there", settings=openai_settings()))

    assert [d async for d in reply] == [f"Sorry, I don't know that. {OFFER_EN}"]
    assert reply.outcome.error == category
    assert reply.outcome.fallback_used and reply.outcome.offered_human
    assert len(fake_llm.chat_requests) == 3  # the first try and max_retries=2


async def test_a_client_error_is_not_retried(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("never", fail_first=10, fail_status=400)

    reply = llm.stream(make_request("hi there", "de", settings=openai_settings()))

    assert await reply.collect() == f"Das weiß ich leider nicht. {OFFER_DE}"
    assert reply.outcome.error == "upstream_error"
    assert len(fake_llm.chat_requests) == 1


async def test_a_hanging_server_times_out_to_the_fallback(fake_llm: FakeLLM) -> None:
    fake_llm.script(hang=True)
    responder = OpenAIResponder(OpenAIConfig(fake_llm.base_url, first_token_timeout=0.3, max_retries=2))
    started = time.perf_counter()

    reply = responder.stream(make_request("hi there", settings=openai_settings()))
    text = await reply.collect()
    await responder.aclose()

    assert text == f"Sorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "timeout" and reply.outcome.offered_human
    assert time.perf_counter() - started < 1.0  # the first-token timeout bounds the retries too


async def test_a_slow_first_token_times_out(fake_llm: FakeLLM) -> None:
    fake_llm.script("Too late.", first_token_delay=2.0)
    responder = OpenAIResponder(OpenAIConfig(fake_llm.base_url, first_token_timeout=0.2, max_retries=0))

    reply = responder.stream(make_request("hi there", settings=openai_settings()))
    text = await reply.collect()
    await responder.aclose()

    assert text == f"Sorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "timeout"


async def test_the_total_timeout_ends_a_dragging_stream(fake_llm: FakeLLM) -> None:
    fake_llm.script("one two three four five six", token_delay=0.15)
    responder = OpenAIResponder(OpenAIConfig(fake_llm.base_url, first_token_timeout=1.0, total_timeout=0.4))

    reply = responder.stream(make_request("hi there", settings=openai_settings()))
    text = await reply.collect()
    await responder.aclose()

    assert text.startswith("one two")
    assert text.endswith(f"\n\nSorry, I don't know that. {OFFER_EN}")
    assert "six" not in text
    assert reply.outcome.error == "timeout" and reply.outcome.fallback_used


async def test_a_stream_cut_mid_way_ends_with_the_fallback(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("We are open from nine to five.", close_after=3)

    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))
    deltas = [d async for d in reply]

    # tokens that arrive in one read come as one delta
    assert "".join(deltas[:-1]) == "We are open"
    assert deltas[-1] == f"\n\nSorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "interrupted"
    assert reply.outcome.fallback_used and reply.outcome.offered_human
    assert len(fake_llm.chat_requests) == 1  # nothing is retried once text has been shown


async def test_a_stream_cut_before_the_finish_is_noticed(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("All words arrive.", close_after=99)

    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    assert await reply.collect() == f"All words arrive.\n\nSorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "interrupted"


async def test_a_stream_cut_before_any_text_is_a_plain_fallback(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("Nothing arrives.", close_after=0)

    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    assert await reply.collect() == f"Sorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "connection_error"


async def test_an_empty_reply_is_a_fallback(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("", tokens=[])

    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    assert await reply.collect() == f"Sorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "upstream_error"


@pytest.mark.parametrize("finish_delay", [0.0, 0.05], ids=["with-the-finish", "finish-in-a-read-of-its-own"])
async def test_a_whitespace_reply_is_an_empty_reply(fake_llm: FakeLLM, llm: OpenAIResponder, finish_delay: float) -> None:
    fake_llm.script("", tokens=["  "], finish_delay=finish_delay)

    reply = llm.stream(make_request("When are you open?", settings=openai_settings()))

    assert (await reply.collect()).strip() == f"Sorry, I don't know that. {OFFER_EN}"
    assert "\n\n" not in reply.text and reply.outcome.error == "upstream_error"


async def test_an_unreachable_server_is_a_fallback() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    responder = OpenAIResponder(OpenAIConfig(f"http://127.0.0.1:{port}/v1", max_retries=0))

    reply = responder.stream(make_request("hi there", settings=openai_settings()))
    text = await reply.collect()
    await responder.aclose()

    assert text == f"Sorry, I don't know that. {OFFER_EN}"
    assert reply.outcome.error == "connection_error"


@pytest.mark.parametrize(
    "behaviour",
    [
        {"fail_first": 10, "fail_status": 500},
        {"fail_first": 10, "fail_status": 429},
        {"hang": True},
        {"close_after": 2},
        {"close_after": 0},
    ],
)
async def test_no_failure_shows_internal_detail(fake_llm: FakeLLM, behaviour: dict[str, object]) -> None:
    fake_llm.script("Fine words here.", **behaviour)
    responder = OpenAIResponder(OpenAIConfig(fake_llm.base_url, first_token_timeout=0.3, max_retries=1))

    reply = responder.stream(make_request("hi there", settings=openai_settings()))
    text = await reply.collect()
    await responder.aclose()

    assert text.endswith(OFFER_EN)
    assert not any(leak in text for leak in LEAKS)


async def test_a_visitor_leaving_mid_stream_closes_the_reply(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    fake_llm.script("one two three four", token_delay=0.05)
    reply = llm.stream(make_request("hi there", settings=openai_settings()))

    first = await reply.__anext__()
    await reply.aclose()

    assert first == "one"
    assert not reply.outcome.finished and reply.outcome.error is None
    # the connection went back to the pool: the next reply works at once
    fake_llm.script("again")
    assert await llm.stream(make_request("hi there", settings=openai_settings())).collect() == "again"


# ---------------------------------------------------------------------------------------------------
# Choosing a responder


async def test_one_client_per_endpoint_and_key(fake_llm: FakeLLM) -> None:
    config = OpenAIConfig(fake_llm.base_url, api_key="k1")
    responders = Responders(config)

    same = responders.openai(config)
    assert same is responders.openai() is responders.openai(OpenAIConfig(fake_llm.base_url, api_key="k1"))
    slower = responders.openai(dataclasses.replace(config, first_token_timeout=5.0))
    other_key = responders.openai(dataclasses.replace(config, api_key="k2"))
    assert slower is not same and slower.client._client is same.client._client  # one connection pool
    assert other_key.client._client is not same.client._client

    fake_llm.script("pooled")
    assert await responders.stream(make_request("hi there", settings=openai_settings()), external_llm=True).collect() == "pooled"
    await responders.aclose()
    assert same.client.is_closed() and other_key.client.is_closed()


async def test_with_the_external_llm_not_allowed_nothing_is_sent(fake_llm: FakeLLM) -> None:
    responders = Responders(OpenAIConfig(fake_llm.base_url))

    reply = responders.stream(make_request("When are you open?", settings=openai_settings()), external_llm=False)

    assert (await reply.collect()).startswith("We are open")
    assert reply.outcome.engine == "builtin" and reply.outcome.error is None
    assert fake_llm.requests == []
    await responders.aclose()


async def test_the_llm_provider_is_told_nothing_about_our_servers(fake_llm: FakeLLM) -> None:
    responders = Responders(OpenAIConfig(fake_llm.base_url, api_key="sk-test"))

    await responders.stream(make_request("When are you open?", settings=openai_settings()), external_llm=True).collect()

    (request,) = fake_llm.chat_requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert request.path == "/v1/chat/completions" and headers["authorization"] == "Bearer sk-test"
    assert headers["content-type"] == "application/json" and request.body["stream"] is True
    assert not [name for name in headers if name.startswith("x-stainless-") and name not in ("x-stainless-retry-count", "x-stainless-read-timeout")]
    assert headers["user-agent"] == "Confide"
    assert not [value for value in headers.values() if any(word in value.lower() for word in ("linux", "python", "x64", "openai"))]
    await responders.aclose()


async def test_an_llm_reply_is_not_logged_at_the_production_level(fake_llm: FakeLLM, llm: OpenAIResponder) -> None:
    # The openai client's HTTP library (httpx2) logs every request, with the endpoint's URL, at INFO.
    records: list[logging.LogRecord] = []
    keep = logging.Handler()
    keep.emit = records.append  # type: ignore[method-assign]
    root, server = logging.getLogger(), logging.getLogger("uvicorn.error")
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS}, server.filters[:], server.level
    try:
        configure_logging("INFO")
        root.addHandler(keep)
        fake_llm.script("Hello there.")
        assert await llm.stream(make_request("hi there", settings=openai_settings())).collect() == "Hello there."
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        server.filters[:], server.level = saved[3], saved[4]

    assert [f"{r.name}: {r.getMessage()}" for r in records] == []


async def test_an_openai_avatar_without_an_endpoint_answers_from_knowledge() -> None:
    responders = Responders()

    reply = responders.stream(make_request("When are you open?", settings=openai_settings()), external_llm=True)

    assert (await reply.collect()).startswith("We are open")
    assert reply.outcome.engine == "builtin" and reply.outcome.error == "not_configured"


async def test_builtin_avatars_use_the_builtin_responder(fake_llm: FakeLLM) -> None:
    responders = Responders(OpenAIConfig(fake_llm.base_url))

    assert await responders.stream(make_request("hi"), external_llm=True).collect() == make_request("hi").greeting
    assert fake_llm.requests == []
    await responders.aclose()


# ---------------------------------------------------------------------------------------------------
# The fake server itself


async def test_the_fake_server_speaks_the_openai_wire_format(fake_llm: FakeLLM) -> None:
    fake_llm.script("Hi there.")
    async with httpx.AsyncClient(base_url=fake_llm.base_url) as http:
        models = (await http.get("/models")).json()
        question = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        plain = (await http.post("/chat/completions", json=question)).json()
        streamed = await http.post(
            "/chat/completions",
            json={**question, "stream": True, "stream_options": {"include_usage": True}},
        )
        missing = await http.post("/chat/completions", json={"model": "m"})

    assert models["data"][0]["id"] == "fake-model"
    assert plain["object"] == "chat.completion" and plain["choices"][0]["message"]["content"] == "Hi there."
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in streamed.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    assert '"object":"chat.completion.chunk"' in events[0] and '"role":"assistant"' in events[0]
    assert '"finish_reason":"stop"' in events[-3] and '"usage":{' in events[-2]
    assert missing.status_code == 400
    assert [r.path for r in fake_llm.requests] == ["/v1/models"] + ["/v1/chat/completions"] * 3


async def test_the_fake_server_leaves_no_task_or_port_behind() -> None:
    before = asyncio.all_tasks()
    async with httpx.AsyncClient() as http:
        async with run_fake_llm() as llm:
            llm.script(hang=True)
            port = int(llm.base_url.rsplit(":", 1)[1].split("/")[0])
            hanging = asyncio.create_task(http.post(f"{llm.base_url}/chat/completions", json={"messages": []}))
            await llm.wait_for_requests(1)
            assert not hanging.done()
        # stopping let the hanging request go instead of waiting for it
        assert (await hanging).status_code == 503

    # Only the server's own tasks count: clients closed by earlier tests may still be finishing theirs.
    left = [t.get_coro() for t in asyncio.all_tasks() - before if any(part in getattr(getattr(t.get_coro(), "cr_code", None), "co_filename", "") for part in ("uvicorn", "fake_llm"))]
    assert left == []
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


def test_server_sent_event_lines_are_read_as_the_api_defines_them() -> None:
    from avatars.responders.openai_responder import _choice, _Incomplete, _StreamError

    assert _choice(b"") is None and _choice(b": keep-alive") is None and _choice(b"event: message") is None
    assert _choice(b'data: {"choices":[]}') is None  # a usage chunk
    assert _choice(b'data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}') == {"delta": {"content": "Hi"}, "finish_reason": None}
    with pytest.raises(_Incomplete):
        _choice(b"data: [DONE]")
    with pytest.raises(_StreamError):
        _choice(b'data: {"error":{"message":"overloaded"}}')
    with pytest.raises(ValueError):
        _choice(b"data: {not json")


def test_event_lines_are_cut_from_reads_at_any_line_ending_and_any_split() -> None:
    from avatars.responders.openai_responder import _Lines

    body = b'data: {"a":1}\r\n\r\ndata: {"b":2}\n\ndata: {"c":3}\r\rdata: [DONE]'
    expected = [b'data: {"a":1}', b'data: {"b":2}', b'data: {"c":3}', b"data: [DONE]"]
    for size in (1, 2, 3, 7, len(body)):
        lines = _Lines()
        got = [line for i in range(0, len(body), size) for line in lines.feed(body[i : i + size])] + lines.end()
        assert [line for line in got if line] == expected, size
