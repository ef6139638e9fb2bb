"""A request for a person that asks whether there is one to reach ("Is there a person I can call?") or
for one to call back ("Can a person call me back?"), in the six languages the guard reads; and the
messages that only mention people, which must not hand off (guidelines.wording, "A person the visitor
can reach")."""

from __future__ import annotations

from typing import Any

import pytest

from guidelines import wording
from guidelines.checker import CompiledGuidelines, compile_guidelines

BUILTIN_HUMAN_REQUEST = "builtin:human-request"

NEW_AVATAR: dict[str, Any] = {"pii": {"redact": False}}


@pytest.fixture(scope="module")
def plain() -> CompiledGuidelines:
    return compile_guidelines(NEW_AVATAR, "test-handoff-request-reach")


REACH_REQUESTS = [
    ("Is there a person I can call?", "en"),
    ("Is there a person I can call", "en"),
    ("is there someone I could speak to", "en"),
    ("Is there anyone I could talk to?", "en"),
    ("Is there somebody I can speak with?", "en"),
    ("Is there a human I can speak to?", "en"),
    ("Is there a real person I can talk to?", "en"),
    ("Isn't there someone I can call?", "en"),
    ("Are there real people I can talk to?", "en"),
    ("Is there an agent that I can contact?", "en"),
    ("I need someone I can talk to", "en"),
    ("My order is missing. Is there anyone I can call about it?", "en"),
    ("can a person call me back?", "en"),
    ("Can a person call me back?", "en"),
    ("could a real person call me", "en"),
    ("Can a human call me?", "en"),
    ("Could someone from your team call me back?", "en"),
    ("Can a person please call me?", "en"),
    ("Can an agent contact me about my booking?", "en"),
    ("I'd like a person to call me", "en"),
    ("Can you have someone call me back?", "en"),
    ("Gibt es einen Menschen, den ich anrufen kann?", "de"),
    ("Gibt es jemanden, den ich erreichen kann?", "de"),
    ("Gibt es jemanden, der mich zurückrufen kann?", "de"),
    ("Gibt es eine Person die ich anrufen kann", "de"),
    ("Kann mich ein Mitarbeiter zurückrufen?", "de"),
    ("Kann mich jemand anrufen?", "de"),
    ("Kann mich bitte jemand zurückrufen?", "de"),
    ("Könnte ein Mitarbeiter mich anrufen?", "de"),
    ("Ich möchte, dass mich ein Mitarbeiter zurückruft", "de"),
    ("Y a-t-il quelqu'un à qui je peux parler ?", "fr"),
    ("Est-ce qu'il y a une personne que je peux appeler ?", "fr"),
    ("Il y a un conseiller avec qui je pourrais parler ?", "fr"),
    ("Est-ce qu'une personne peut me rappeler ?", "fr"),
    ("Quelqu'un peut me rappeler ?", "fr"),
    ("Un conseiller peut-il m'appeler ?", "fr"),
    ("J'aimerais qu'un conseiller me rappelle", "fr"),
    ("Je voudrais être rappelé par un conseiller", "fr"),
    ("Pouvez-vous demander à un conseiller de me rappeler ?", "fr"),
    ("¿Hay alguien a quien pueda llamar?", "es"),
    ("¿Hay una persona con la que pueda hablar?", "es"),
    ("¿Puede llamarme una persona?", "es"),
    ("¿Me puede llamar alguien?", "es"),
    ("¿Alguien me puede llamar?", "es"),
    ("¿Un asesor podría llamarme?", "es"),
    ("Quiero que me llame un asesor", "es"),
    ("C'è una persona che posso chiamare?", "it"),
    ("C'è qualcuno a cui posso telefonare?", "it"),
    ("Una persona può chiamarmi?", "it"),
    ("Mi può richiamare un operatore?", "it"),
    ("Può richiamarmi un operatore?", "it"),
    ("Vorrei essere richiamato da un operatore", "it"),
    ("Is er iemand met wie ik kan praten?", "nl"),
    ("Is er iemand die ik kan bellen?", "nl"),
    ("Is er een medewerker die mij kan terugbellen?", "nl"),
    ("Kan iemand mij terugbellen?", "nl"),
    ("Kan een medewerker mij bellen?", "nl"),
    ("Zou iemand mij kunnen terugbellen?", "nl"),
    ("Ik wil graag teruggebeld worden door een medewerker", "nl"),
    # a typo of the person, mended as in any other request
    ("Can a persn call me back?", "en"),
    ("Is there a humna I can talk to?", "en"),
    ("Kann mich ein Mitarbieter zurückrufen?", "de"),
    ("Kan een medewekrer mij bellen?", "nl"),
]


@pytest.mark.parametrize(("text", "language"), REACH_REQUESTS)
def test_asking_for_a_person_to_reach_or_to_call_back_hands_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))


# "Is there a person in charge of refunds?" asks whether someone holds a role: information the avatar
# can give, as it can for "Is there a person responsible for data protection?". It does not ask to be
# put in touch (a visitor who wants that says "... I can talk to", or asks again), so it does not hand off.
REACH_ORDINARY = [
    ("Is there a person in charge of refunds?", "en"),
    ("Is there a person responsible for data protection?", "en"),
    ("a person called me yesterday", "en"),
    ("A person called me yesterday about my order", "en"),
    ("how many people work there", "en"),
    ("I'm a person who likes tea", "en"),
    ("Is there a number I can call?", "en"),
    ("I don't have anyone I can talk to", "en"),
    ("Do you have someone I can talk to on Sundays?", "en"),  # about the service's staff (HUMAN_REQUEST_INQUIRY)
    ("There is someone I can call if needed", "en"),
    ("Everyone needs someone they can talk to", "en"),
    ("My son needs someone he can talk to", "en"),
    ("I had someone I could talk to", "en"),
    ("Does a person call me back?", "en"),
    ("Will someone call me?", "en"),
    ("Can my husband call me?", "en"),
    ("Can people call me through the widget?", "en"),
    ("I can call you tomorrow", "en"),
    ("I said a person can call me later", "en"),
    ("Ein Mitarbeiter hat mich gestern angerufen", "de"),
    ("Wie viele Menschen arbeiten bei Ihnen?", "de"),
    ("Ich möchte jemand anrufen", "de"),
    ("Soll ich jemanden anrufen?", "de"),
    ("Ich habe einen Berater, den ich anrufen kann", "de"),
    ("Une personne m'a appelé hier", "fr"),
    ("Je n'ai pas quelqu'un à qui je peux parler", "fr"),
    ("J'ai demandé à un conseiller de me rappeler", "fr"),
    ("Una persona me llamó ayer", "es"),
    ("No tengo una persona a quien puedo llamar", "es"),
    ("Una persona mi ha chiamato ieri", "it"),
    ("Een medewerker heeft mij gisteren gebeld", "nl"),
    ("Hoeveel mensen werken er bij jullie?", "nl"),
]


@pytest.mark.parametrize(("text", "language"), REACH_ORDINARY)
def test_mentioning_people_without_asking_for_one_does_not_hand_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert verdict.handoff_reason != "customer_request" and BUILTIN_HUMAN_REQUEST not in verdict.rule_ids, verdict


def test_the_lists_cover_every_language() -> None:
    languages = {"en", "de", "fr", "es", "it", "nl"}
    assert {language for _, language in REACH_REQUESTS} == languages


def test_the_automaton_holds_frames_not_every_person_with_every_frame() -> None:
    """The person is looked up next to a frame, so the frames name no person: every person with every
    frame would be thousands of phrases, ~10 MB more of automaton in every process."""
    assert len(wording.HUMAN_REQUEST_REACH_FRAMES) < 1500
    for frame in wording.HUMAN_REQUEST_REACH_FRAMES:
        words = frame.split()
        assert not any(" ".join(words[i:j]) in wording.HUMAN_REQUEST_REACH_PEOPLE
                       for i in range(len(words)) for j in range(i + 1, len(words) + 1)), frame


@pytest.mark.parametrize(("text", "frame", "phrase", "direct"), [
    ("is there a real person i can call?", "i can call", "a real person i can call", False),
    ("can someone from your team call me back", "call me", "can someone from your team call me", True),
    ("gibt es einen menschen, den ich anrufen kann?", "den ich anrufen kann", "einen menschen, den ich anrufen kann", False),
    ("kann mich bitte jemand zuruckrufen?", "zuruckrufen", "kann mich bitte jemand zuruckrufen", True),
    (" puede llamarme una persona real?", "puede llamarme", "puede llamarme una persona real", True),
    ("is er iemand die ik kan bellen", "die ik kan bellen", "is er iemand die ik kan bellen", True),
])
def test_reach_request_finds_the_person_next_to_a_frame(text: str, frame: str, phrase: str, direct: bool) -> None:
    start = text.index(frame)
    found = wording.reach_request(text, start, start + len(frame))
    assert found is not None and (text[found[0]:found[1]], found[2]) == (phrase, direct)


@pytest.mark.parametrize(("text", "frame"), [
    ("is there a number i can call?", "i can call"),
    ("hello, i can call", "i can call"),
    ("can my husband call me", "call me"),
    ("puede llamarme mañana", "puede llamarme"),
])
def test_reach_request_finds_nothing_without_a_person(text: str, frame: str) -> None:
    start = text.index(frame)
    assert wording.reach_request(text, start, start + len(frame)) is None
