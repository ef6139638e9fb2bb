"""A request for a person hands off on every avatar, whatever its guideline set: the built-in
request detection (phrases in the six languages the guard reads, negations, whole-message requests)
and the plain yes after the avatar offered a person."""

from __future__ import annotations

from typing import Any

import pytest

from guidelines.checker import CompiledGuidelines, compile_guidelines

BUILTIN_HUMAN_REQUEST = "builtin:human-request"

NEW_AVATAR: dict[str, Any] = {"pii": {"redact": False}}  # a new avatar's set: no rules of its own


@pytest.fixture(scope="module")
def plain() -> CompiledGuidelines:
    return compile_guidelines(NEW_AVATAR, "test-handoff-request-empty")


REQUESTS = [
    ("Please connect me with a person", "en"),
    ("I want to talk to a human", "en"),
    ("Can I speak to an agent?", "en"),
    ("Could you put me through to a real person, please?", "en"),
    ("Can I speak with someone from your team?", "en"),
    ("I need a human", "en"),
    ("No, I want to talk to a person!", "en"),
    ("I want to t a l k to a h u m a n", "en"),
    ("TALK TO A PERSON", "en"),
    ("human", "en"),
    ("Agent!", "en"),
    ("human, please", "en"),
    ("Ich möchte mit einem Menschen sprechen", "de"),
    ("Ich moechte mit einem Mitarbeiter sprechen.", "de"),
    ("Kann ich mit einer Mitarbeiterin reden?", "de"),
    ("Verbinden Sie mich bitte mit einem Mitarbeiter", "de"),
    ("Ich möchte einen Menschen sprechen", "de"),
    ("Mitarbeiter bitte", "de"),
    ("Je voudrais parler à un conseiller", "fr"),
    ("Puis-je parler à quelqu'un ?", "fr"),
    ("Mettez-moi en relation avec une personne, s'il vous plaît", "fr"),
    ("Quiero hablar con una persona", "es"),
    ("¿Puedo hablar con un agente?", "es"),
    ("Póngame con un asesor, por favor", "es"),
    ("Vorrei parlare con un operatore", "it"),
    ("Posso parlare con una persona?", "it"),
    ("Mi metta in contatto con un consulente", "it"),
    ("Ik wil graag met een medewerker spreken", "nl"),
    ("Kan ik een medewerker spreken?", "nl"),
    ("Verbind me met een medewerker", "nl"),
]


@pytest.mark.parametrize(("text", "language"), REQUESTS)
def test_a_request_for_a_person_hands_off_on_a_new_avatar(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))
    assert verdict.message == plain.handoff_message(language)


ORDINARY = [
    "Is a person allowed to bring a dog?",
    "What does a person need to sign up?",
    "How many people can one person invite?",
    "Are you a human?",
    "Am I talking to a real person?",
    "Do I need an agent to sell my house?",
    "Can I talk to a human resources manager about jobs?",
    "I don't want to talk to a person, just tell me the price.",
    "I do not want to speak to an agent",
    "Ich möchte nicht mit einem Menschen sprechen",
    "Sind Sie ein echter Mensch?",
    "Kann ich mit einer Person mehr buchen?",
    "Je ne veux pas parler à un conseiller",
    "Une personne peut-elle venir avec un chien ?",
    "No quiero hablar con una persona",
    "¿Cuánto cuesta por persona?",
    "Non voglio parlare con un operatore",
    "Quanto costa a persona?",
    "Ik wil niet met een medewerker spreken",
    "Wat kost het per persoon?",
    "yes",
    "ja gerne",
    "What are your opening hours?",
    "I am a human, please help",
    "human nature",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_questions_and_refusals_of_a_person_do_not_hand_off(plain: CompiledGuidelines, text: str) -> None:
    assert plain.check_input(text, "en").action == "allow"


YES = [
    ("yes", "en"), ("Yes please!", "en"), ("yes, please", "en"), ("sure", "en"), ("ok", "en"),
    ("ja", "de"), ("Ja bitte.", "de"), ("ja, gerne", "de"),
    ("oui", "fr"), ("Oui, s’il vous plaît", "fr"), ("oui merci", "fr"),
    ("sí", "es"), ("Sí, por favor", "es"), ("si", "es"),
    ("sì", "it"), ("sì, grazie", "it"), ("certo", "it"),
    ("ja graag", "nl"), ("Ja, graag!", "nl"), ("ja hoor", "nl"),
]


@pytest.mark.parametrize(("text", "language"), YES)
def test_a_plain_yes_after_the_offer_of_a_person_hands_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language, after_offer=True)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))
    assert plain.check_input(text, language).action == "allow"  # without an offer a yes asks for nothing


@pytest.mark.parametrize("text", ["no", "no thanks", "nein danke", "non", "yes, but what does shipping cost?", "ja, aber erst eine Frage", "What are your opening hours?"])
def test_anything_but_a_plain_yes_after_the_offer_does_not_hand_off(plain: CompiledGuidelines, text: str) -> None:
    assert plain.check_input(text, "en", after_offer=True).action == "allow"


SPEC: dict[str, Any] = {
    "rules": [
        {"id": "human", "kind": "escalation", "phrases": ["talk to a human"]},
        {"id": "complaint", "kind": "escalation", "keywords": ["complaint"], "reason": "policy_restriction"},
        {"id": "politics", "kind": "forbidden_topic", "keywords": ["election"], "message": {"en": "No politics."}},
    ],
    "pii": {"redact": False},
}


@pytest.fixture(scope="module")
def ruled() -> CompiledGuidelines:
    return compile_guidelines(SPEC, "test-handoff-request-ruled")


def test_a_tenants_own_escalation_rule_keeps_its_id_and_reason(ruled: CompiledGuidelines) -> None:
    verdict = ruled.check_input("I want to talk to a human", "en")
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", ("human",))
    verdict = ruled.check_input("I have a complaint, let me talk to a person", "en")
    assert (verdict.handoff_reason, verdict.rule_ids) == ("policy_restriction", ("complaint",))


def test_the_decision_guard_keeps_its_reason(ruled: CompiledGuidelines) -> None:
    verdict = ruled.check_input("Can you approve my refund? Otherwise let me talk to a person.", "en")
    assert (verdict.action, verdict.handoff_reason) == ("handoff", "decision_required")
    assert BUILTIN_HUMAN_REQUEST not in verdict.rule_ids


def test_a_request_for_a_person_wins_over_a_refusal(ruled: CompiledGuidelines) -> None:
    verdict = ruled.check_input("About the election: can I speak to a person?", "en")
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", ("politics", BUILTIN_HUMAN_REQUEST))


def test_a_request_in_another_language_than_the_conversations_hands_off(plain: CompiledGuidelines) -> None:
    verdict = plain.check_input("Ich möchte mit einem Mitarbeiter sprechen", "en")
    assert verdict.handoff_reason == "customer_request" and verdict.message == plain.handoff_message("en")


def test_pii_is_still_redacted_on_a_request(plain: CompiledGuidelines) -> None:
    verdict = plain.check_input("Please connect me with a person, my email is jane.doe@example.com", "en", detect_pii=True)
    assert verdict.action == "handoff" and verdict.rule_ids == (BUILTIN_HUMAN_REQUEST, "builtin:pii")
    assert verdict.redacted_text is not None and "jane.doe@example.com" not in verdict.redacted_text
