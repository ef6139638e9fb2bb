"""The checker, table-driven over every rule kind, in English and German, with evasions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from guidelines.checker import CompiledGuidelines, clear_cache, compile_guidelines
from guidelines.rules import GuidelineSetSpec
from guidelines.verdict import Verdict

SPEC: dict[str, Any] = {
    "rules": [
        {"id": "tone", "kind": "style", "instruction": "Answer warmly and briefly."},
        {"id": "tone-de", "kind": "style", "instruction": "Siezen Sie die Kundschaft."},
        {
            "id": "politics", "kind": "forbidden_topic", "action": "refuse",
            "phrases": ["who should I vote for", "wen soll ich wählen"], "keywords": ["election", "Bundestagswahl"],
            "message": {"en": "I do not talk about politics.", "de": "Über Politik spreche ich nicht."},
        },
        {
            "id": "medical", "kind": "forbidden_topic", "action": "handoff",
            "keywords": ["diagnosis", "Diagnose", "dosage", "Dosierung"], "min_keywords": 1,
        },
        {
            "id": "crypto", "kind": "forbidden_topic", "patterns": [r"\bbit ?coin\w*", r"\bkrypto\w*"],
            "message": {"en": "No crypto here.", "de": "Keine Kryptowährungen."}, "applies_to": "input",
        },
        {
            "id": "health-pair", "kind": "forbidden_topic", "keywords": ["symptom", "medication", "Symptom", "Medikament"],
            "min_keywords": 2, "message": {"en": "Please ask a doctor."},
        },
        {"id": "compound", "kind": "forbidden_topic", "keywords": ["Steuer"], "match": "prefix", "message": {"de": "Keine Steuerberatung."}},
        {"id": "human", "kind": "escalation", "phrases": ["talk to a human", "speak to a person", "mit einem Menschen sprechen"]},
        {"id": "complaint", "kind": "escalation", "keywords": ["complaint", "Beschwerde"], "reason": "policy_restriction"},
        {"id": "cheap", "kind": "banned_phrase", "phrases": ["cheap", "billig"], "action": "replace", "replacement": "affordable"},
        {"id": "competitor", "kind": "banned_phrase", "phrases": ["MegaCorp"], "action": "replace", "replacement": ""},
        {"id": "promise", "kind": "banned_phrase", "phrases": ["guaranteed", "garantiert"], "action": "block"},
        {"id": "forbidden-out", "kind": "forbidden_topic", "keywords": ["lottery"], "applies_to": "output", "message": {"en": "Let us talk about something else."}},
    ],
    "languages": ["en", "de"],
    "pii": {"redact": False},
    "max_reply_chars": 200,
}


@pytest.fixture(scope="module")
def compiled() -> CompiledGuidelines:
    return compile_guidelines(SPEC, "test-checker-v1")


INPUTS: list[tuple[str, str, str, list[str], str | None]] = [
    # text, language, action, rule ids, handoff reason
    ("What are your opening hours?", "en", "allow", [], None),
    ("Wie sind Ihre Öffnungszeiten?", "de", "allow", [], None),
    ("Who should I vote for?", "en", "refuse", ["politics"], None),
    ("WHO SHOULD I VOTE FOR", "en", "refuse", ["politics"], None),
    ("Wen soll ich wählen?", "de", "refuse", ["politics"], None),
    ("Wen soll ich waehlen?", "de", "refuse", ["politics"], None),
    ("wen soll ich wahlen", "de", "refuse", ["politics"], None),
    ("Tell me about the e l e c t i o n", "en", "refuse", ["politics"], None),
    ("the e.l.e.c.t.i.o.n results", "en", "refuse", ["politics"], None),
    ("the elec\u200btion results", "en", "refuse", ["politics"], None),
    ("the ÉLECTION results", "en", "refuse", ["politics"], None),
    ("Was ist mit der B-u-n-d-e-s-t-a-g-s-w-a-h-l?", "de", "refuse", ["politics"], None),
    ("selection of shoes", "en", "allow", [], None),  # whole words only
    ("What is the right dosage?", "en", "handoff", ["medical"], "policy_restriction"),
    ("Welche Dosierung ist richtig?", "de", "handoff", ["medical"], "policy_restriction"),
    ("Do you take Bitcoin?", "en", "refuse", ["crypto"], None),
    ("Akzeptieren Sie Kryptowährungen?", "de", "refuse", ["crypto"], None),
    ("I have a symptom.", "en", "allow", [], None),  # one keyword of two needed
    ("I have a symptom and need medication.", "en", "refuse", ["health-pair"], None),
    ("Ich habe ein Symptom und brauche ein Medikament.", "de", "refuse", ["health-pair"], None),
    ("Frage zur Steuererklärung", "de", "refuse", ["compound"], None),  # prefix match in a compound
    ("I want to talk to a human", "en", "handoff", ["human"], "customer_request"),
    ("I want to t a l k to a h u m a n", "en", "handoff", ["human"], "customer_request"),
    ("Ich möchte mit einem Menschen sprechen!", "de", "handoff", ["human"], "customer_request"),
    ("I have a complaint", "en", "handoff", ["complaint"], "policy_restriction"),
    ("Ich habe eine BESCHWERDE", "de", "handoff", ["complaint"], "policy_restriction"),
    ("Can you approve my refund?", "en", "handoff", ["builtin:decision-guard"], "decision_required"),
    ("Kannst du meinen Kredit genehmigen?", "de", "handoff", ["builtin:decision-guard"], "decision_required"),
    ("How do refunds work in general?", "en", "allow", [], None),
    ("lottery numbers please", "en", "allow", [], None),  # an output-only rule
    ("cheap guaranteed", "en", "allow", [], None),  # banned phrases are for output
]


@pytest.mark.parametrize(("text", "language", "action", "rule_ids", "reason"), INPUTS)
def test_input(compiled: CompiledGuidelines, text: str, language: str, action: str, rule_ids: list[str], reason: str | None) -> None:
    verdict = compiled.check_input(text, language)
    assert (verdict.action, list(verdict.rule_ids), verdict.handoff_reason) == (action, rule_ids, reason)
    if action == "refuse":
        assert verdict.message
    if action == "allow":
        assert verdict.message is None and verdict.redacted_text is None


def test_a_refusal_carries_the_configured_message_in_the_language(compiled: CompiledGuidelines) -> None:
    assert compiled.check_input("Wen soll ich wählen?", "de").message == "Über Politik spreche ich nicht."
    assert compiled.check_input("Who should I vote for?", "en").message == "I do not talk about politics."
    assert compiled.check_input("Who should I vote for?", "de-AT").message == "Über Politik spreche ich nicht."
    # no German wording configured: the built-in German refusal beats English words
    assert compiled.check_input("symptom and medication", "de").message == "Das kann ich leider nicht beantworten."
    assert compiled.check_input("symptom and medication", "en").message == "Please ask a doctor."


def test_a_handoff_carries_a_message_in_the_language(compiled: CompiledGuidelines) -> None:
    assert "Mitarbeiter" in (compiled.check_input("Beschwerde!", "de").message or "")
    assert "human" in (compiled.check_input("complaint!", "en").message or "")
    decision = compiled.check_input("Kannst du meinen Kredit genehmigen?", "de")
    assert "Mensch" in (decision.message or "")


def test_the_decision_guard_wins_over_other_rules(compiled: CompiledGuidelines) -> None:
    verdict = compiled.check_input("I want to talk to a human. Can you approve my refund?", "en")
    assert verdict.action == "handoff" and verdict.handoff_reason == "decision_required"
    assert verdict.rule_ids == ("builtin:decision-guard", "human")


def test_handoff_wins_over_refusal_and_all_rules_are_reported(compiled: CompiledGuidelines) -> None:
    verdict = compiled.check_input("Who should I vote for? I want to talk to a human.", "en")
    assert verdict.action == "handoff" and set(verdict.rule_ids) == {"politics", "human"}


OUTPUTS: list[tuple[str, str, str, list[str], str | None]] = [
    # text, language, action, rule ids, text to send (redacted_text)
    ("Our opening hours are 9 to 5.", "en", "allow", [], None),
    ("This is a cheap option.", "en", "redact", ["cheap"], "This is a affordable option."),
    ("This is a CHEAP option.", "en", "redact", ["cheap"], "This is a affordable option."),
    ("This is a c h e a p option.", "en", "redact", ["cheap"], "This is a affordable option."),
    ("Das ist billig.", "de", "redact", ["cheap"], "Das ist affordable."),
    ("Unlike MegaCorp, we deliver.", "en", "redact", ["competitor"], "Unlike , we deliver."),
    ("Success is guaranteed!", "en", "refuse", ["promise"], None),
    ("Der Erfolg ist g a r a n t i e r t.", "de", "refuse", ["promise"], None),
    ("Try the lottery.", "en", "refuse", ["forbidden-out"], None),
    ("Your loan is approved.", "en", "handoff", ["builtin:decision-guard"], None),
    ("Ihr Antrag wurde abgelehnt.", "de", "handoff", ["builtin:decision-guard"], None),
    ("Bitcoin is volatile.", "en", "allow", [], None),  # an input-only rule
]


@pytest.mark.parametrize(("text", "language", "action", "rule_ids", "sent"), OUTPUTS)
def test_output(compiled: CompiledGuidelines, text: str, language: str, action: str, rule_ids: list[str], sent: str | None) -> None:
    verdict = compiled.check_output(text, language)
    assert (verdict.action, list(verdict.rule_ids), verdict.redacted_text) == (action, rule_ids, sent)


def test_a_decision_in_output_hands_off(compiled: CompiledGuidelines) -> None:
    verdict = compiled.check_output("We grant you a refund.", "en")
    assert verdict.blocks and verdict.handoff_reason == "decision_required" and verdict.message


def test_a_replacement_span_points_into_the_original_text(compiled: CompiledGuidelines) -> None:
    text = "Sooo ＣＨＥＡＰ, really."
    verdict = compiled.check_output(text, "en")
    (span,) = verdict.spans
    assert text[span.start : span.end] == "ＣＨＥＡＰ" and span.entity == "rule:cheap"
    assert verdict.redacted_text == "Sooo affordable, really."


def test_long_replies_are_truncated_and_flagged(compiled: CompiledGuidelines) -> None:
    text = "This sentence is fine. " * 20
    verdict = compiled.check_output(text, "en")
    assert verdict.action == "redact" and verdict.rule_ids == ("builtin:max-length",)
    assert verdict.redacted_text is not None and len(verdict.redacted_text) <= 200
    assert verdict.redacted_text.endswith("fine.")


def test_style_instructions_and_disclosure(compiled: CompiledGuidelines) -> None:
    assert compiled.style_instructions() == ["Answer warmly and briefly.", "Siezen Sie die Kundschaft."]
    assert "AI" in compiled.disclosure("en") and "KI" in compiled.disclosure("de-CH")
    assert "AI" in compiled.disclosure("fr")  # not an allowed language: the default language's wording
    first = compiled.with_disclosure("How can I help?", "de")
    assert first.startswith(compiled.disclosure("de")) and first.endswith("How can I help?")
    assert compiled.with_disclosure(first, "de") == first


def test_configured_disclosure_wording_is_used() -> None:
    compiled = compile_guidelines({"disclosure": {"en": "Hi! You are chatting with Ava, an AI assistant."}}, "test-disclosure")
    assert compiled.disclosure("en-GB") == "Hi! You are chatting with Ava, an AI assistant."
    assert "KI" in compiled.disclosure("de")


def test_verdicts_are_json_serialisable(compiled: CompiledGuidelines) -> None:
    for text, language, *_ in INPUTS:
        verdict = compiled.check_input(text, language)
        assert isinstance(verdict, Verdict)
        assert json.loads(json.dumps(verdict.as_dict()))["action"] == verdict.action


def test_compilation_is_cached_by_version_key() -> None:
    clear_cache()
    first = compile_guidelines(SPEC, "v-cache")
    assert compile_guidelines(SPEC, "v-cache") is first
    assert compile_guidelines(GuidelineSetSpec.model_validate(SPEC), "v-other") is not first


def test_pii_is_redacted_when_the_tenant_says_so() -> None:
    on = compile_guidelines({}, "test-pii-on")
    verdict = on.check_input("Mail me at jane.doe@example.com please", "en")
    assert verdict.action == "redact" and verdict.rule_ids == ("builtin:pii",)
    assert verdict.redacted_text == "Mail me at <EMAIL_ADDRESS> please"
    assert [s.entity for s in verdict.spans] == ["EMAIL_ADDRESS"]
    off = compile_guidelines({"pii": {"redact": False}}, "test-pii-off")
    assert off.check_input("Mail me at jane.doe@example.com please", "en").action == "allow"


def test_pii_is_redacted_even_when_the_message_is_handed_off() -> None:
    compiled = compile_guidelines({}, "test-pii-handoff")
    verdict = compiled.check_input("Please refund my order to DE89 3704 0044 0532 0130 00", "en")
    assert verdict.action == "handoff" and verdict.handoff_reason == "decision_required"
    assert verdict.redacted_text == "Please refund my order to <IBAN_CODE>"
    assert verdict.rule_ids == ("builtin:decision-guard", "builtin:pii")


def test_an_empty_message_is_allowed(compiled: CompiledGuidelines) -> None:
    assert compiled.check_input("", "en").action == "allow"
    assert compiled.check_output("", "en").action == "allow"


def test_a_refusing_topic_without_a_message_speaks_the_builtin_refusal() -> None:
    # The README promises built-in refusal wordings; a rule without its own message used to be rejected.
    compiled = compile_guidelines(
        {"languages": ["en", "de"], "rules": [{"id": "no-politics", "kind": "forbidden_topic", "keywords": ["election", "Wahl"]}]},
        "test-refusal-builtin",
    )
    english = compiled.check_input("Who wins the election?", "en")
    assert english.action == "refuse" and english.message == "I am sorry, I cannot help with that."
    assert compiled.check_input("Wer gewinnt die Wahl?", "de").message == "Das kann ich leider nicht beantworten."


def test_a_handoff_topic_speaks_its_own_message_or_the_builtin_one() -> None:
    compiled = compile_guidelines(
        {"rules": [{"id": "legal", "kind": "forbidden_topic", "action": "handoff", "keywords": ["lawsuit", "Klage"],
                    "message": {"de": "Rechtsfragen beantwortet ein Kollege."}}]},
        "test-handoff-topic",
    )
    german = compiled.check_input("Ich drohe mit einer Klage", "de")
    assert german.message == "Rechtsfragen beantwortet ein Kollege." and german.handoff_reason == "policy_restriction"
    english = compiled.check_input("I will file a lawsuit", "en")
    assert english.action == "handoff" and english.message and "human" in english.message
