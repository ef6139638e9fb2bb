"""Streamed output: text is released only after it passed, at sentence boundaries, and a phrase
split across deltas is still caught."""

from __future__ import annotations

import random

import pytest

from guidelines.checker import CompiledGuidelines, compile_guidelines

SPEC = {
    "rules": [
        {"id": "cheap", "kind": "banned_phrase", "phrases": ["cheap", "billig"], "action": "replace", "replacement": "affordable"},
        {"id": "promise", "kind": "banned_phrase", "phrases": ["risk free", "100% guaranteed", "garantiert"], "action": "block"},
        {"id": "lottery", "kind": "forbidden_topic", "keywords": ["lottery"], "applies_to": "output", "message": {"en": "Let us change the subject."}},
    ],
    "max_reply_chars": 400,
}


@pytest.fixture(scope="module")
def compiled() -> CompiledGuidelines:
    return compile_guidelines(SPEC, "test-stream-v1")


def stream(compiled: CompiledGuidelines, deltas: list[str], language: str = "en") -> tuple[list[list[str]], list[str], object]:
    guard = compiled.output_guard(language)
    per_delta = [guard.feed(delta) for delta in deltas]
    released, verdict = guard.finish()
    return per_delta, released, verdict


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_clean_text_is_released_sentence_by_sentence(compiled: CompiledGuidelines) -> None:
    per_delta, released, verdict = stream(compiled, ["Hello there", ". How can I ", "help you today? We are ", "open until five."])
    assert per_delta == [[], ["Hello there. "], ["How can I help you today? "], []]
    assert released == ["We are open until five."]
    assert verdict.action == "allow"


def test_nothing_is_released_before_its_sentence_ends(compiled: CompiledGuidelines) -> None:
    guard = compiled.output_guard("en")
    assert guard.feed("This offer is risk") == []
    assert guard.feed(" fr") == []
    assert guard.feed("ee for you") == []
    assert guard.feed(". More text.") == []  # the sentence held the banned phrase: stopped
    assert guard.stopped
    released, verdict = guard.finish()
    assert released == [] and verdict.action == "refuse" and verdict.rule_ids == ("promise",)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13])
def test_a_blocked_phrase_split_across_deltas_is_caught(compiled: CompiledGuidelines, size: int) -> None:
    text = "Welcome to our shop. Our plan is 100% guaranteed to work. Bye."
    per_delta, released, verdict = stream(compiled, chunks(text, size))
    sent = "".join(part for parts in per_delta for part in parts) + "".join(released)
    assert sent == "Welcome to our shop. "
    assert verdict.action == "refuse" and verdict.rule_ids == ("promise",) and verdict.message


@pytest.mark.parametrize("size", [1, 4, 9])
def test_a_replaced_phrase_split_across_deltas_is_rewritten(compiled: CompiledGuidelines, size: int) -> None:
    text = "This is a CHEAP option. Das ist b i l l i g. Thanks."
    per_delta, released, verdict = stream(compiled, chunks(text, size))
    sent = "".join(part for parts in per_delta for part in parts) + "".join(released)
    assert sent == "This is a affordable option. Das ist affordable. Thanks."
    assert verdict.action == "redact" and verdict.rule_ids == ("cheap",)
    assert verdict.redacted_text == sent
    assert [text[s.start : s.end] for s in verdict.spans] == ["CHEAP", "b i l l i g"]


@pytest.mark.parametrize(
    ("text", "language"),
    [("Let me check. Your loan is approved. Congratulations!", "en"), ("Moment. Ihr Antrag wurde leider abgelehnt. Tschüss.", "de")],
)
def test_a_decision_split_across_deltas_stops_the_stream(compiled: CompiledGuidelines, text: str, language: str) -> None:
    per_delta, released, verdict = stream(compiled, chunks(text, 3), language)
    sent = "".join(part for parts in per_delta for part in parts) + "".join(released)
    assert sent == text.split(". ")[0] + ". "
    assert verdict.action == "handoff" and verdict.handoff_reason == "decision_required"


def test_without_sentence_ends_text_is_released_with_a_held_back_overlap() -> None:
    compiled = compile_guidelines({**SPEC, "max_reply_chars": 5000}, "test-stream-long")
    guard = compiled.output_guard("en")
    words = ("word " * 200) + "risk fr"
    out = guard.feed(words)
    assert out and "".join(out).strip().endswith("word")
    assert len(words) - len("".join(out)) >= guard.overlap  # held back
    assert guard.feed("ee and more.") == []
    _, verdict = guard.finish()
    assert verdict.action == "refuse"


def test_long_replies_are_cut_at_the_limit(compiled: CompiledGuidelines) -> None:
    per_delta, released, verdict = stream(compiled, chunks("This sentence is fine. " * 40, 10))
    sent = "".join(part for parts in per_delta for part in parts) + "".join(released)
    assert len(sent) <= 400 and sent.rstrip().endswith("fine.")
    assert verdict.action == "redact" and verdict.rule_ids == ("builtin:max-length",)


def test_after_a_stop_nothing_more_is_released(compiled: CompiledGuidelines) -> None:
    guard = compiled.output_guard("en")
    guard.feed("Play the lottery. ")
    assert guard.stopped
    assert guard.feed("Harmless sentence. ") == []
    released, verdict = guard.finish()
    assert released == [] and verdict.rule_ids == ("lottery",) and verdict.message == "Let us change the subject."


def test_streaming_agrees_with_checking_the_whole_reply(compiled: CompiledGuidelines) -> None:
    """Whatever the delta sizes, the streamed reply says what check_output says of the whole."""
    rng = random.Random(11)
    pieces = ["Hello.", "Our offer is cheap.", "It is risk free.", "We open at nine!", "Das ist billig.", "Gerne?",
              "See you soon.", "Your refund is approved.", "Thanks\n", "Play the lottery."]
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        whole = compiled.check_output(text, "en")
        deltas: list[str] = []
        rest = text
        while rest:
            size = rng.randint(1, 12)
            deltas.append(rest[:size])
            rest = rest[size:]
        per_delta, released, verdict = stream(compiled, deltas)
        sent = "".join(part for parts in per_delta for part in parts) + "".join(released)
        assert verdict.blocks == whole.blocks, text
        if whole.blocks:
            assert compiled.check_output(sent, "en").action in ("allow", "redact"), text
            continue
        assert verdict.action == whole.action, text
        if whole.action == "allow":
            assert sent == text
        else:
            assert sent == whole.redacted_text, text


def test_a_sentence_released_whole_is_not_judged_again_by_its_tail(compiled: CompiledGuidelines) -> None:
    text = ("Whether, after our colleagues in the back office looked at everything you sent us, "
            "your refund is approved. Have a nice day. Bye.")
    assert compiled.check_output(text, "en").action == "allow"
    _, released, verdict = stream(compiled, chunks(text, 4))
    assert verdict.action == "allow"
