"""A request for a person hands off on every avatar, whatever its guideline set: the built-in
request detection (phrases in the six languages the guard reads, the words around them that say
whose request it is, whole-sentence requests) and the plain yes after the avatar offered a person."""

from __future__ import annotations

from typing import Any

import pytest

from rapidfuzz.distance import OSA

from guidelines import wording
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
    ("yes", "en"), ("Yes please!", "en"), ("yes, please", "en"), ("sure", "en"), ("ok", "en"), ("Sure, thanks!", "en"), ("Klar, danke", "de"),
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


# A review's messages: a request is addressed to the service, now. The visitor's own people, what
# they will do or did, someone else's wish, and whether something requires a person are not.
REVIEW_ORDINARY = [
    ("I'll talk to the team and get back to you tomorrow.", "en"),
    ("I need to talk to a colleague first before I decide.", "en"),
    ("I need to talk to a colleague first", "en"),
    ("Thanks, I'll speak to my manager and chat with a colleague.", "en"),
    ("I'll chat with a colleague and come back.", "en"),
    ("Do I have to speak to an advisor to open an account?", "en"),
    ("Do I need to talk to a manager to get a refund approved?", "en"),  # the decision guard's, not a request
    ("I spoke to someone yesterday, they said the parcel would arrive today.", "en"),
    ("My son wants to talk to someone about an internship at your company", "en"),
    ("I need to speak with someone at my bank before I pay.", "en"),
    ("Can I chat with customer support via WhatsApp as well?", "en"),
    ("Your app lets me chat with someone nearby, how does matching work?", "en"),
    ("How do I connect my account to the team workspace?", "en"),
    ("Is a person allowed to bring a dog?", "en"),
    ("Can a human sign for the delivery or does it go in the locker?", "en"),
    ("I'm a real estate agent, do you offer partner discounts?", "en"),
    ("The operator of the crane needs a licence?", "en"),
    ("Where can I find a human resources contact?", "en"),
    ("I'd like to transfer money to someone abroad", "en"),
    ("Can I talk to someone else's account manager about a shared invoice?", "en"),
    ("Should I escalate this to my insurer?", "en"),
    ("Which plan lets my staff talk to customers?", "en"),
    ("Can my customers talk to an agent through your widget?", "en"),
    ("support", "en"),
    ("Support.", "en"),
    ("I tried to talk to a person at the shop but they were busy", "en"),
    ("Can I pass the voucher to someone else? hand it to someone", "en"),
    ("Please don't transfer me to an agent", "en"),
    ("I want an agent to sell my house", "en"),
    ("Ich werde mit dem Team reden und mich dann melden.", "de"),
    ("Ich muss noch mit jemandem sprechen, bevor ich bestelle.", "de"),
    ("Muss ich mit dem Kundenservice telefonieren, um zu kündigen?", "de"),
    ("Meine Frau möchte mit einem Berater sprechen, geht das auch am Samstag?", "de"),
    ("Kann ich mit einem Kollegen chatten, wenn ich Ihr Tool nutze?", "de"),
    ("Ich habe gestern mit einem Mitarbeiter gesprochen.", "de"),
    ("Je vais parler à l'équipe et je reviens vers vous.", "fr"),
    ("Est-ce que je dois parler à un conseiller pour ouvrir un compte ?", "fr"),
    ("Mon fils veut discuter avec quelqu'un de son stage.", "fr"),
    ("Voy a hablar con el equipo y le digo algo.", "es"),
    ("Tengo que hablar con alguien de mi familia antes.", "es"),
    ("Tengo que hablar con alguien de mi familia", "es"),
    ("¿Tengo que hablar con un asesor para abrir una cuenta?", "es"),
    ("Devo parlare con un collega prima di decidere.", "it"),
    ("Devo parlare con un collega", "it"),
    ("Devo sentire qualcuno in famiglia prima.", "it"),
    ("Posso contattare l'assistenza anche via email?", "it"),
    ("Ik ga met het team praten en laat het u weten.", "nl"),
    ("Moet ik met een adviseur spreken om een rekening te openen?", "nl"),
    ("Ik wil even met iemand bellen over de verhuizing", "nl"),
]


@pytest.mark.parametrize(("text", "language"), REVIEW_ORDINARY)
def test_talk_of_people_that_asks_for_none_does_not_hand_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert verdict.handoff_reason != "customer_request" and BUILTIN_HUMAN_REQUEST not in verdict.rule_ids, verdict


REVIEW_REQUESTS = [
    # the visitor's own story before the wish ("I've got", "j'ai", "ik heb") is no narration of the request
    ("Ich habe ein Problem mit meiner Bestellung und möchte mit einem Mitarbeiter sprechen", "de"),
    ("J'ai un problème et je voudrais parler à un conseiller", "fr"),
    ("Ik heb een probleem en wil een medewerker spreken", "nl"),
    ("I've got a question and want to talk to a person", "en"),
    ("I said I want to speak to a person", "en"),
    ("Il mio ordine non è arrivato e voglio parlare con un operatore", "it"),
    ("Est-il possible de parler à un humain", "fr"),
    ("I had to wait an hour and now I want to talk to a human", "en"),
    ("Ist es möglich, mit einem Mitarbeiter zu sprechen?", "de"),
    ("Is het mogelijk om met een medewerker te spreken?", "nl"),
    ("Ich möchte lieber mit jemandem persönlich sprechen", "de"),
    ("Is there no way to talk to a human?", "en"),
    ("Why don't you just connect me with a person?", "en"),
    ("Can you not just connect me with a person?", "en"),
    ("Why can I not speak to a human?", "en"),
    ("Is it not possible to speak to a person?", "en"),
    ("I'd rather speak to a human", "en"),
    ("Get me a real person", "en"),
    ("Can I speak to a real person please", "en"),
    ("let me talk to a human", "en"),
    ("I want an agent", "en"),
    ("operator please", "en"),
    ("I want to speak to a human being now!!", "en"),
    ("Stop. Human.", "en"),
    ("connect me to an agent", "en"),
    ("connect me with an agent", "en"),
    ("Can someone call me back?", "en"),
    ("can I talk to a person", "en"),
    ("I want to speak to a human", "en"),
    ("please put me through to customer service", "en"),
    # Listed as ordinary by the review; a first-person request to speak to one of the service's
    # agents now, so a request here (an agent of the visitor's own would be "my agent").
    ("I want to speak to an agent about my flight booking", "en"),
    ("Kann ich nicht einfach mit einem Menschen sprechen?", "de"),
    ("Warum kann ich nicht mit einem Mitarbeiter sprechen?", "de"),
    ("Ich will mit einem Menschen reden!", "de"),
    ("Gibt es keinen Mitarbeiter, mit dem ich sprechen kann?", "de"),
    ("Bitte einen Mitarbeiter", "de"),
    ("Ich möchte mit jemandem sprechen", "de"),
    ("ich möchte mit einem Mitarbeiter sprechen", "de"),
    ("Je veux parler à un humain", "fr"),
    ("je voudrais parler à un conseiller", "fr"),
    ("Pourquoi je ne peux pas parler à un conseiller ?", "fr"),
    ("Est-ce que je peux parler à une personne svp", "fr"),
    ("¿No puedo hablar con una persona?", "es"),
    ("Quiero hablar con alguien", "es"),
    ("Non posso parlare con un operatore?", "it"),
    ("Voglio parlare con una persona", "it"),
    ("Kan ik niet gewoon met een medewerker praten?", "nl"),
    ("Ik wil een mens spreken", "nl"),
]


@pytest.mark.parametrize(("text", "language"), REVIEW_REQUESTS)
def test_a_request_for_a_person_hands_off_whatever_negation_it_holds(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))


@pytest.mark.parametrize(("text", "language"), [("ok thanks", "en"), ("OK, thanks!", "en"), ("ok merci", "fr"), ("okay thank you", "en"), ("prima, bedankt", "nl"), ("merci", "fr"), ("thanks", "en")])
def test_thanks_after_the_offer_declines_it(plain: CompiledGuidelines, text: str, language: str) -> None:
    assert plain.check_input(text, language, after_offer=True).action == "allow"


@pytest.mark.parametrize(("text", "language"), [("yes thanks", "en"), ("Ja, danke", "de"), ("ok please", "en"), ("ok gerne", "de")])
def test_a_yes_with_thanks_or_please_after_the_offer_still_accepts_it(plain: CompiledGuidelines, text: str, language: str) -> None:
    assert plain.check_input(text, language, after_offer=True).handoff_reason == "customer_request"


# An evaluation list: clear requests in the six languages, typos of the person they ask for included,
# and ordinary messages that name people, staff or agents without asking for one now (a talk the
# visitor had or forgot, someone's own people, questions about the service's staff, words a letter
# away from a person: "humane", "niemand").
EVAL_REQUESTS = [
    ("I've had enough, I want a human", "en"),
    ("I've had enough I want a human", "en"),
    ("I want to talk to a humna", "en"),
    ("Can I speak to a real persn please", "en"),
    ("connect me to an opertor", "en"),
    ("hmuan please", "en"),
    ("I want to speak to an agent about my flight booking", "en"),
    ("This bot is useless, get me a real person", "en"),
    ("Can I please talk to someone from your team?", "en"),
    ("I'd like to speak with a supervisor", "en"),
    ("transfer me to a live agent now", "en"),
    ("I've been waiting for ages and I need to talk to a human", "en"),
    ("Is there a person I can talk to?", "en"),
    ("Ich möchte mit einem Mitarbieter sprechen", "de"),
    ("Ich will mit einem Menschen sprechen, nicht mit einem Bot", "de"),
    ("Verbinden Sie mich bitte mit einem Berater", "de"),
    ("Kann ich bitte mit einem Mitarbeiter sprechen?", "de"),
    ("Ich habe genug ich will einen Menschen", "de"),
    ("Kann ich mit einem Menchen sprechen?", "de"),
    ("Ich hätte gerne die Möglichkeit, mit einem Mitarbeiter zu sprechen", "de"),
    ("Je voudrais parler à un conseiller, s'il vous plaît", "fr"),
    ("J'en ai assez, je veux parler à un humain", "fr"),
    ("Pouvez-vous me mettre en relation avec un conseiler ?", "fr"),
    ("Passez-moi un agent humain", "fr"),
    ("Quiero hablar con un agente", "es"),
    ("¿Puedo hablar con una persona real?", "es"),
    ("Necesito hablar con un humano, por favor", "es"),
    ("Quiero hablar con un opreador", "es"),
    ("Vorrei parlare con un operatore, per favore", "it"),
    ("Posso parlare con una persona vera?", "it"),
    ("Voglio parlare con un operatroe", "it"),
    ("Mi passi un consulente", "it"),
    ("Ik wil met een medewerker spreken", "nl"),
    ("Kan ik met een mens praten?", "nl"),
    ("Ik wil graag met een medewekrer spreken", "nl"),
    # chat style, no comma: a forgot/tried earlier in the clause narrates only what directly follows it
    ("I forgot my password can I talk to a human", "en"),
    ("I forgot my password so can I talk to an agent please", "en"),
    ("I tried everything can I talk to a human", "en"),
    ("Ho dimenticato la password posso parlare con un operatore", "it"),
    ("Ik ben mijn wachtwoord vergeten kan ik met een medewerker praten", "nl"),
    ("Ich habe mein Passwort vergessen kann ich mit einem Mitarbeiter sprechen", "de"),
    ("Olvidé mi contraseña puedo hablar con un agente", "es"),
    # the visitor repeating their wish to the avatar is a request
    ("I told you I want a human", "en"),
    ("I said I want a human", "en"),
    # a typo in a message with spaced-out letters: the mended re-read keeps the runs
    ("t a l k t o a humna", "en"),
    ("hey persn, c a n i t a l k t o a persn", "en"),
]


@pytest.mark.parametrize(("text", "language"), EVAL_REQUESTS)
def test_evaluation_requests_hand_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert (verdict.action, verdict.handoff_reason, verdict.rule_ids) == ("handoff", "customer_request", (BUILTIN_HUMAN_REQUEST,))


EVAL_ORDINARY = [
    ("I already spoke to an agent yesterday", "en"),
    ("I forgot to speak to an employee about the invoice", "en"),
    ("I forgot to talk to a human about it", "en"),
    ("I already tried to talk to a person at the counter", "en"),
    ("My agent will send you the documents", "en"),
    ("The staff at your store were very friendly", "en"),
    ("Your support agent was very helpful yesterday, thanks", "en"),
    ("How many employees do you have?", "en"),
    ("Is the price per person or per group?", "en"),
    ("Can I add another person to my booking?", "en"),
    ("Do your agents work on weekends?", "en"),
    ("The delivery person left the parcel at the door", "en"),
    ("My manager asked me to get a quote", "en"),
    ("I talked to a human last week and they promised a refund", "en"),
    ("I'll speak to my supervisor and come back to you", "en"),
    ("Does a human read these messages?", "en"),
    ("I need a humane answer, not a form letter", "en"),
    ("Ich habe vergessen, mit einem Mitarbeiter zu sprechen", "de"),
    ("Ich habe vergessen mit einem Mitarbeiter zu sprechen", "de"),
    ("Ich vergaß, mit einem Mitarbeiter zu sprechen", "de"),
    ("Ich habe versucht, mit einem Mitarbeiter zu sprechen, aber niemand war da", "de"),
    ("Ich habe gestern schon mit einem Berater gesprochen", "de"),
    ("Wie viele Mitarbeiter haben Sie?", "de"),
    ("Der Mitarbeiter in der Filiale war sehr nett", "de"),
    ("Ich will mit niemandem sprechen, nur die Rechnung", "de"),
    ("Kostet das pro Person extra?", "de"),
    ("J'ai déjà parlé à un conseiller", "fr"),
    ("J'ai oublié de parler à un conseiller de mon adresse", "fr"),
    ("Le conseiller m'a déjà rappelé hier", "fr"),
    ("Combien de personnes peuvent venir ?", "fr"),
    ("Votre agent a été très aimable", "fr"),
    ("Ya hablé con un agente", "es"),
    ("Ya intenté hablar con una persona en la tienda", "es"),
    ("Olvidé hablar con un agente sobre la factura", "es"),
    ("Me olvidé de hablar con una persona", "es"),
    ("El agente me dijo que el paquete llegaría hoy", "es"),
    ("Mi asesor me recomendó este plan", "es"),
    ("Ho già parlato con un operatore ieri", "it"),
    ("Ho dimenticato di parlare con un consulente della fattura", "it"),
    ("L'operatore è stato molto gentile", "it"),
    ("Quante persone possono partecipare?", "it"),
    ("Ik heb gisteren al met een medewerker gesproken", "nl"),
    ("Ik ben vergeten met een medewerker te spreken", "nl"),
    ("Ik ben vergeten om met een medewerker te praten", "nl"),
    ("De medewerker in de winkel was erg vriendelijk", "nl"),
    ("Ik wil met niemand praten, alleen de prijs weten", "nl"),
    # a word a letter from a person that is a word of its own, or a typo the words around it refuse
    ("I want to talk to a parson about the wedding", "en"),
    ("Can I talk to a humna resources manager?", "en"),
    ("I do not want to talk to a humna", "en"),
    ("Ich will mit niemanden sprechen", "de"),
    # reported speech before a wish in the phrase: negated or told someone else, it narrates
    ("I never said I want a human", "en"),
    ("Yesterday I told your colleague I want a human", "en"),
    ("I didn't say I want a human", "en"),
    ("I never said I want to talk to a human", "en"),
    ("I told your colleague I want to speak to a person", "en"),
    ("Ich habe nie gesagt ich will einen Mitarbeiter", "de"),
    ("Je n'ai jamais dit que je veux parler à un conseiller", "fr"),
    ("Nunca dije que quiero un agente", "es"),
    ("Non ho mai detto che voglio un operatore", "it"),
    ("Ik heb nooit gezegd dat ik een medewerker wil", "nl"),
    # forgot/tried directly before the infinitive or the phrase still narrate
    ("I forgot to speak to an agent", "en"),
    ("I tried to talk to a human but nobody answered", "en"),
    ("Olvidé hablar con un agente", "es"),
    ("Ho provato a parlare con un operatore", "it"),
    # a person noun that modifies another noun asks for no person
    ("I want an operator license.", "en"),
    ("I want a human-readable invoice.", "en"),
    ("I need an agent license for my shop", "en"),
]


@pytest.mark.parametrize(("text", "language"), EVAL_ORDINARY)
def test_evaluation_ordinary_messages_do_not_hand_off(plain: CompiledGuidelines, text: str, language: str) -> None:
    verdict = plain.check_input(text, language)
    assert verdict.handoff_reason != "customer_request" and BUILTIN_HUMAN_REQUEST not in verdict.rule_ids, verdict


def test_the_evaluation_lists_cover_every_language() -> None:
    assert len(EVAL_REQUESTS) >= 30 and len(EVAL_ORDINARY) >= 40
    languages = {"en", "de", "fr", "es", "it", "nl"}
    assert {language for _, language in EVAL_REQUESTS} == languages == {language for _, language in EVAL_ORDINARY}


def test_a_typo_is_one_edit_from_a_noun_and_no_word_of_its_own() -> None:
    """The table of typos, held to rapidfuzz's edit distance (optimal string alignment: a swap of two
    neighbours is one edit): every spelling in it is one edit from the noun it reads as, and none is
    a word of the request phrases or of the six languages' dictionaries."""
    typos = wording.HUMAN_REQUEST_TYPOS
    assert all(len(noun) >= 5 for noun in wording.HUMAN_REQUEST_TYPO_NOUNS)
    assert all(OSA.distance(typo, noun) == 1 for typo, noun in typos.items())
    assert {"humna", "persn", "opertor", "mitarbieter", "hmuan", "menchen", "medewekrer"} <= typos.keys()
    assert not typos.keys() & (wording.HUMAN_REQUEST_TYPO_WORDS | {"persons", "niemand", "humane", "gente", "mano"})
    phrase_words = {word for phrase in wording.HUMAN_REQUEST_DIRECT for word in phrase.split()}
    assert not typos.keys() & phrase_words


def test_the_typo_table_is_built_on_first_use_not_at_import() -> None:
    """Importing the wording builds no table of ~30k spellings (every process imports it; most never
    read a visitor's message); the first lookup builds it, later ones reuse it."""
    import subprocess
    import sys

    code = "import guidelines.wording as w; assert w._typo_table is None; t = w.human_request_typos(); assert t is w.human_request_typos() is w.HUMAN_REQUEST_TYPOS"
    subprocess.run([sys.executable, "-c", code], check=True)
