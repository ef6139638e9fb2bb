"""Built-in wordings (English, German, French, Spanish, Italian, Dutch) and how a language tag picks one.

The defaults make the always-on protections work for a set that configures nothing: the AI
disclosure (EU AI Act Art. 50), what the avatar says when it hands a conversation to a human,
and what it says when a reply is blocked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from guidelines.normalize import fold

DISCLOSURE = {
    "en": "Hello! Please note: I am an AI assistant, an automated system, not a human.",
    "de": "Hallo! Bitte beachten Sie: Ich bin ein KI-Assistent, ein automatisiertes System, kein Mensch.",
    "fr": "Bonjour ! Veuillez noter : je suis un assistant IA, un système automatisé, et non un être humain.",
    "es": "¡Hola! Tenga en cuenta: soy un asistente de IA, un sistema automatizado, y no una persona.",
    "it": "Salve! Tenga presente: sono un assistente IA, un sistema automatizzato, e non una persona.",
    "nl": "Hallo! Let op: ik ben een AI-assistent, een geautomatiseerd systeem, en geen mens.",
}
HANDOFF = {
    "en": "I am passing your request to a human colleague, who will get back to you here.",
    "de": "Ich gebe Ihr Anliegen an eine Mitarbeiterin oder einen Mitarbeiter weiter, die sich hier bei Ihnen meldet.",
    "fr": "Je transmets votre demande à une personne de notre équipe, qui vous répondra ici.",
    "es": "Paso su consulta a una persona de nuestro equipo, que le responderá aquí.",
    "it": "Inoltro la sua richiesta a una persona del nostro team, che le risponderà qui.",
    "nl": "Ik geef uw vraag door aan een medewerker, die hier contact met u opneemt.",
}
DECISION_HANDOFF = {
    "en": "Decisions like this are made by a person, not by an AI. I am passing your request to a human colleague.",
    "de": "Solche Entscheidungen trifft ein Mensch, keine KI. Ich gebe Ihr Anliegen an eine Mitarbeiterin oder einen Mitarbeiter weiter.",
    "fr": "Ce type de décision est pris par une personne, pas par une IA. Je transmets votre demande à une personne de notre équipe.",
    "es": "Las decisiones de este tipo las toma una persona, no una IA. Paso su consulta a una persona de nuestro equipo.",
    "it": "Decisioni come questa le prende una persona, non un'IA. Inoltro la sua richiesta a una persona del nostro team.",
    "nl": "Zulke beslissingen neemt een mens, geen AI. Ik geef uw vraag door aan een medewerker.",
}
REFUSAL = {
    "en": "I am sorry, I cannot help with that.",
    "de": "Das kann ich leider nicht beantworten.",
    "fr": "Je suis désolé, je ne peux pas vous aider sur ce point.",
    "es": "Lo siento, no puedo ayudarle con eso.",
    "it": "Mi dispiace, non posso aiutarla su questo punto.",
    "nl": "Het spijt me, daar kan ik u niet mee helpen.",
}


def primary(tag: str) -> str:
    """The primary language subtag: "de-AT" -> "de"."""
    return tag.split("-", 1)[0].lower()


def pick(messages: Mapping[str, str], language: str) -> str | None:
    """The wording for a language: exact tag first, then the same primary language."""
    if language in messages:
        return messages[language]
    wanted = primary(language)
    for tag, text in messages.items():
        if primary(tag) == wanted:
            return text
    return None


def choose(configured: Mapping[str, str], defaults: Mapping[str, str], language: str, fallback: str) -> str:
    """Configured wording for the language, else the built-in one, else the fallback language's."""
    return (
        pick(configured, language)
        or pick(defaults, language)
        or pick(configured, fallback)
        or pick(defaults, fallback)
        or defaults["en"]
    )


def default_disclosure(language: str) -> str | None:
    return pick(DISCLOSURE, language)


# -- what a visitor says when they want a person ---------------------------------------------------
#
# The built-in request for a human (guidelines.checker): phrases that, in a visitor's message, ask
# for a person, in the six languages above. Built from verbs and the people they name, so "talk to
# a person" and "speak with an agent" come from one table; objects that also name other things
# ("someone", "support", "a person") go only with a verb that asks to be put in touch. Phrases are
# matched as whole words on the folded text (guidelines.matching), so accents, case and spaced-out
# letters do not matter. The words around a phrase then say whether it asks for a person now
# (guidelines.checker._not_a_request, the word lists below HUMAN_REQUEST_PHRASES): not when the
# visitor does not want one ("I don't want to talk to a person"; any other negation leaves a request:
# "Is there no way to talk to a human?"), tells of a talk they will have or had ("I'll talk to ...",
# "I tried to talk to ..."), asks whether something requires one ("Do I have to speak to an advisor
# to ...?"), or speaks of their own people ("My son wants to talk to someone"). The visitor's own
# third parties ("a colleague", "the team") are no objects here at all.

_EN_PEOPLE = (
    "a person", "a human", "a human being", "a real person", "a real human", "a live person", "an actual person",
    "an actual human", "a living person", "a human agent", "a live agent", "a real agent", "an agent", "a human operator",
    "an operator", "a representative", "a human representative", "a customer service representative", "a rep", "someone",
    "somebody", "someone real", "someone from your team", "someone from the team", "a member of staff", "a staff member",
    "a member of your team", "an employee", "a consultant", "an advisor", "an adviser", "a manager",
    "a supervisor", "customer service", "customer support", "your support team", "your team", "a team member",
    "human support", "a human colleague", "your manager", "your supervisor",
)
_EN_ASK = (
    "talk to", "speak to", "talk with", "speak with", "chat with", "chat to", "connect me with", "connect me to",
    "put me through to", "put me in touch with", "get me in touch with", "transfer me to", "pass me to",
    "hand me over to", "hand me to", "forward me to", "escalate this to", "escalate to",
)
# Objects that ask for a human even after "I want", "give me", ...: never "a person" or "an agent" alone,
# which too many ordinary questions name ("Do I need an agent to sell my house?").
_EN_HUMAN = ("a human", "a human being", "a real person", "a real human", "a live person", "a live agent", "a human agent", "an actual person", "an actual human", "human support")
_EN_WANT = (
    "i want", "i need", "i'd like", "i would like", "can i have", "can i get", "could i have", "could i get", "give me",
    "get me", "let me have", "reach", "get hold of", "get through to",
)

_DE_PEOPLE = (
    "einem menschen", "einem echten menschen", "einem richtigen menschen", "einer person", "einer echten person",
    "einer realen person", "einem mitarbeiter", "einer mitarbeiterin", "einem mitarbeitenden", "einem menschlichen mitarbeiter",
    "einem echten mitarbeiter", "jemandem", "jemandem aus dem team", "jemandem aus ihrem team", "einem berater",
    "einer beraterin", "einem kundenberater", "einer kundenberaterin", "einem ansprechpartner", "einer ansprechpartnerin",
    "dem kundenservice", "dem kundendienst", "dem support", "ihrem team", "einem teammitglied",
    "einem operator", "einem sachbearbeiter", "einer sachbearbeiterin",
)
_DE_VERBS = (
    "sprechen", "reden", "chatten", "schreiben", "verbunden werden", "verbinden", "in kontakt treten", "telefonieren",
    "zu sprechen", "zu reden", "zu chatten", "zu telefonieren",  # "Ist es möglich, mit einem Mitarbeiter zu sprechen?"
)
_DE_FILLERS = ("", "bitte", "gerne", "gern", "jetzt", "direkt", "kurz", "lieber", "doch", "personlich")
_DE_CONNECT = (
    "verbinden sie mich mit", "verbinden sie mich bitte mit", "bitte verbinden sie mich mit", "verbinde mich mit",
    "verbinde mich bitte mit", "verbindest du mich mit", "weiterverbinden mit", "durchstellen zu", "stellen sie mich durch zu",
)
_DE_ACCUSATIVE = (
    "einen menschen", "einen echten menschen", "einen mitarbeiter", "eine mitarbeiterin", "einen berater", "jemanden",
    "eine beraterin", "einen ansprechpartner", "eine echte person", "einen kundenberater", "einen menschlichen mitarbeiter",
)
_DE_ACCUSATIVE_VERBS = ("sprechen", "ans telefon", "an den apparat")
_DE_WANT = ("ich will", "ich möchte", "ich moechte", "ich brauche", "ich hätte gern", "ich hätte gerne", "geben sie mir", "gib mir")
_DE_HUMAN_ACCUSATIVE = ("einen menschen", "einen echten menschen", "einen menschlichen mitarbeiter", "eine echte person")

_FR_PEOPLE = (
    "une personne", "une vraie personne", "une personne réelle", "un humain", "un être humain", "un vrai humain",
    "quelqu'un", "quelqu'un de votre équipe", "quelqu'un de l'équipe", "un conseiller", "une conseillère",
    "un conseiller humain", "un agent", "un agent humain", "un opérateur", "une opératrice", "un collaborateur",
    "une collaboratrice", "un interlocuteur", "une interlocutrice", "le service client", "le service clientèle",
    "un membre de l'équipe", "un membre de votre équipe", "votre équipe", "un employé", "une employée",
    "un responsable", "le support",
)
_FR_ASK = (
    "parler à", "parler avec", "discuter avec", "échanger avec", "être mis en relation avec", "être mise en relation avec",
    "me mettre en relation avec", "mettez-moi en relation avec", "mettez moi en relation avec", "me passer",
    "passez-moi", "passez moi", "me transférer à", "me transférer vers", "transférez-moi à", "transférez-moi vers",
)
_FR_REACH = ("joindre", "contacter", "avoir", "je veux", "je voudrais", "j'aimerais", "je souhaite", "je souhaiterais", "donnez-moi", "il me faut")
_FR_NAMED = (
    "un humain", "un être humain", "un vrai humain", "une vraie personne", "un conseiller", "une conseillère",
    "un conseiller humain", "un agent humain", "un opérateur", "une opératrice",
)

_ES_PEOPLE = (
    "una persona", "una persona real", "un humano", "un ser humano", "alguien", "alguien de su equipo",
    "alguien del equipo", "un agente", "un agente humano", "un asesor", "una asesora", "un operador", "una operadora",
    "un empleado", "una empleada", "un representante", "una representante", "atención al cliente",
    "el servicio al cliente", "el servicio de atención al cliente", "un miembro del equipo", "su equipo",
    "un especialista", "un responsable", "el soporte",
)
_ES_ASK = (
    "hablar con", "comunicarme con", "ponerme en contacto con", "ponerme con", "póngame con", "pongame con",
    "páseme con", "paseme con", "pásame con", "pasame con", "páseme a", "pásame a", "me pasa con", "me pasas con",
    "me puede pasar con", "me comunica con", "conectarme con", "conécteme con",
    "conéctame con", "contactar con", "transferirme a", "transfiérame a", "chatear con", "que me atienda",
    "ser atendido por", "ser atendida por",
)
_ES_HUMAN = ("un humano", "un ser humano", "una persona real", "un agente humano")
_ES_WANT = ("quiero", "necesito", "quisiera", "me gustaría", "deme", "dame")

_IT_PEOPLE = (
    "un operatore", "un'operatrice", "una operatrice", "una persona", "una persona reale", "una persona vera",
    "un essere umano", "un umano", "un consulente", "una consulente", "un addetto", "un'addetta", "una addetta",
    "un agente", "qualcuno", "qualcuno del vostro team", "qualcuno del team", "un dipendente", "il servizio clienti",
    "l'assistenza clienti", "l'assistenza", "un membro del team", "il vostro team",
    "un responsabile", "un operatore umano", "un assistente umano",
)
_IT_ASK = (
    "parlare con", "parlare a", "mettermi in contatto con", "mi metta in contatto con", "mettimi in contatto con",
    "mi passi", "passami", "mi passa", "collegarmi con", "mi colleghi con", "chattare con", "essere messo in contatto con",
    "essere messa in contatto con", "contattare", "sentire",
)
_IT_HUMAN = ("un essere umano", "un umano", "una persona vera", "una persona reale", "un operatore umano")
_IT_WANT = ("voglio", "vorrei", "ho bisogno di", "mi serve", "mi dia", "dammi")

_NL_PEOPLE = (
    "een medewerker", "een medewerkster", "een mens", "een echt mens", "een echt persoon", "een echte persoon",
    "een persoon", "iemand", "iemand van uw team", "iemand van jullie team", "iemand van het team", "een menselijke medewerker",
    "de klantenservice", "een klantenservicemedewerker", "een adviseur", "een adviseuse", "een operator",
    "uw team", "jullie team", "een teamlid", "een consulent", "een vertegenwoordiger",
)
_NL_VERBS = (
    "spreken", "praten", "chatten", "bellen", "in contact komen", "in contact worden gebracht", "verbonden worden", "doorverbonden worden",
    "te spreken", "te praten", "te chatten",  # "Is het mogelijk om met een medewerker te spreken?"
)
_NL_FILLERS = ("", "graag", "even", "nu", "liever", "direct", "toch")
_NL_CONNECT = (
    "verbind me met", "verbind mij met", "verbindt u mij met", "verbind me door met", "verbind mij door met",
    "doorverbinden met", "spreken met", "praten met", "chatten met", "breng me in contact met", "breng mij in contact met",
)
_NL_ACCUSATIVE = ("iemand", "iemand van jullie team", "iemand van uw team", "een medewerker", "een mens", "een echt mens", "een echte persoon", "een echt persoon", "een menselijke medewerker", "een adviseur")
_NL_ACCUSATIVE_VERBS = ("spreken", "aan de lijn")
_NL_WANT = ("ik wil", "geef me", "geef mij")
_NL_HUMAN_ACCUSATIVE = ("een mens", "een echt mens", "een echte persoon", "een echt persoon", "een menselijke medewerker")


def _pairs(first: tuple[str, ...], second: tuple[str, ...]) -> list[str]:
    return [f"{a} {b}" for a in first for b in second]


def _german_like(people: tuple[str, ...], prepositions: tuple[str, ...], fillers: tuple[str, ...], verbs: tuple[str, ...]) -> list[str]:
    """Verb-final phrases: "mit einem Menschen (bitte) sprechen", "met een medewerker (graag) spreken"."""
    return [
        " ".join(part for part in (preposition, person, filler, verb) if part)
        for preposition in prepositions for person in people for filler in fillers for verb in verbs
    ]


HUMAN_REQUEST_PHRASES: dict[str, tuple[str, ...]] = {
    "en": tuple(_pairs(_EN_ASK, _EN_PEOPLE) + _pairs(_EN_WANT, _EN_HUMAN) + [
        "human please", "a human please", "real person please", "talk to a real live person", "live chat with a person",
        "talk to human", "speak to human", "talk to agent", "speak to agent", "get a human", "is there a person i can talk to",
        "is there someone i can talk to", "is there anyone i can talk to", "can a human help",
        "human agent", "live agent", "human representative", "human operator",
    ]),
    "de": tuple(
        _german_like(_DE_PEOPLE, ("mit",), _DE_FILLERS, _DE_VERBS)
        + _pairs(_DE_CONNECT, _DE_PEOPLE)
        + _german_like(_DE_ACCUSATIVE, ("",), _DE_FILLERS, _DE_ACCUSATIVE_VERBS)
        + _pairs(_DE_WANT, _DE_HUMAN_ACCUSATIVE)
        + _pairs(("an einen mitarbeiter", "an eine mitarbeiterin", "an einen menschen"), ("weiter", "weiterleiten", "weitergeben"))
        + ["einen menschen bitte", "mensch bitte", "ein mensch bitte"]
    ),
    "fr": tuple(_pairs(_FR_ASK, _FR_PEOPLE) + _pairs(_FR_REACH, _FR_NAMED) + [
        "un humain svp", "un humain s'il vous plaît", "un conseiller svp", "un conseiller s'il vous plaît",
    ]),
    "es": tuple(_pairs(_ES_ASK, _ES_PEOPLE) + _pairs(_ES_WANT, _ES_HUMAN) + [
        "un humano por favor", "una persona real por favor", "un agente por favor", "un asesor por favor",
    ]),
    "it": tuple(_pairs(_IT_ASK, _IT_PEOPLE) + _pairs(_IT_WANT, _IT_HUMAN) + [
        "un operatore per favore", "un operatore grazie", "un umano per favore",
    ]),
    "nl": tuple(
        _german_like(_NL_PEOPLE, ("met",), _NL_FILLERS, _NL_VERBS)
        + _pairs(_NL_CONNECT, _NL_PEOPLE)
        + _german_like(_NL_ACCUSATIVE, ("",), _NL_FILLERS, _NL_ACCUSATIVE_VERBS)
        + _pairs(_NL_WANT, _NL_HUMAN_ACCUSATIVE)
        + ["een medewerker graag", "een mens graag", "een medewerker alstublieft", "een mens alstublieft"]
    ),
}

# Phrases whose object is only "someone" ("talk to someone", "mit jemandem sprechen"): a visitor
# talks to someone of their own as often as they ask for one of the service's, so these count only
# with a request cue (HUMAN_REQUEST_CUES) before them. Not at all with a telephone verb ("Ik wil even
# met iemand bellen over de verhuizing": a call of their own).
_VAGUE = frozenset({"someone", "somebody", "jemandem", "jemanden", "quelqu'un", "alguien", "qualcuno", "iemand"})
_VAGUE_QUALIFIED = frozenset({"real", "from", "aus", "de", "del", "van", "i"})  # "someone from your team", "is there someone i can talk to"
_PHONE = ("telefonieren", "bellen")


def _vague(phrase: str) -> bool:
    words = fold(phrase).text.split()
    return any(w in _VAGUE and (i + 1 == len(words) or words[i + 1] not in _VAGUE_QUALIFIED) for i, w in enumerate(words))


_ALL_PHRASES = tuple(dict.fromkeys(
    p for phrases in HUMAN_REQUEST_PHRASES.values() for p in phrases
    if not (_vague(p) and p.endswith(_PHONE))
))


def _combine(*parts: tuple[str, ...]) -> list[str]:
    """Every phrase made of one choice from each part, in order, empty choices left out."""
    phrases = [""]
    for choices in parts:
        phrases = [f"{phrase} {choice}".strip() if choice else phrase for phrase in phrases for choice in choices]
    return phrases


# A person the visitor can reach, and a person who calls them back, in two shapes:
#
# - "Is there a person I can call?", "Is there someone I could speak to?", "Gibt es jemanden, den ich
#   anrufen kann?", "Y a-t-il quelqu'un à qui je peux parler ?", "¿Hay alguien a quien pueda llamar?",
#   "C'è una persona che posso chiamare?", "Is er iemand die ik kan bellen?": a person and a relative
#   clause in which the visitor reaches them. It counts, as a vague phrase does, only with a request cue
#   before it ("is there", "gibt es", "il y a", "hay", "c'è", "I need", "please", HUMAN_REQUEST_CUES) or
#   opening its clause: "I don't have anyone I can talk to" asks for nobody, and "Do you have someone I
#   can talk to?" asks about the service's staff (HUMAN_REQUEST_INQUIRY). Dutch has its lead, "is er",
#   as a lead of the frame: "er" is also German "he" (HUMAN_REQUEST_THIRD_PARTY).
# - "Can a person call me back?", "Could a real person call me?", "Kann mich ein Mitarbeiter
#   zurückrufen?", "Un conseiller peut-il me rappeler ?", "¿Me puede llamar alguien?", "Una persona può
#   chiamarmi?", "Kan een medewerker mij terugbellen?": a modal, the person and the call, a request as
#   it stands. After a wish, without a modal, it counts with a cue: "I'd like a person to call me",
#   "Je voudrais qu'un conseiller me rappelle", "Quiero que me llame un asesor", "Vorrei essere
#   richiamato da un operatore", "Ik wil graag teruggebeld worden door een medewerker".
#
# Every person with every frame would be ~5,000 phrases and ~10 MB more of automaton in every process,
# so the automaton holds the frames (HUMAN_REQUEST_REACH_FRAMES, "i can call", "peut me rappeler") and
# `reach_request` looks for the person next to a frame it found: only those rare hits pay for it.
#
# A person who merely exists or acted is no request: "Is there a person in charge of refunds?" asks
# whether someone holds a role, which the avatar can answer (with "... I can talk to" it would ask for
# them), "A person called me yesterday" tells of a call, "Does a person call me back?" and "Will someone
# call me?" ask how the service works; none of them hands off.
HUMAN_REQUEST_REACH_PEOPLE = frozenset(fold(p).text for p in (
    "a person", "a human", "a human being", "a real person", "a real human", "a live person", "an actual person",
    "an actual human", "a living person", "a human agent", "a live agent", "a real agent", "an agent", "an operator",
    "a human operator", "a representative", "a human representative", "a customer service representative", "a rep",
    "someone", "somebody", "anyone", "anybody", "someone real", "any person", "any human", "an employee",
    "a staff member", "a member of staff", "a member of your team", "a team member", "an advisor", "an adviser",
    "a consultant", "a manager", "a supervisor", "someone from your team", "someone from the team",
    "somebody from your team", "real people", "real humans", "actual people", "any people", "any humans", "any agents",
    "jemanden", "jemand", "einen menschen", "einen echten menschen", "ein mensch", "ein echter mensch", "einen mitarbeiter",
    "ein mitarbeiter", "eine mitarbeiterin", "einen menschlichen mitarbeiter", "ein menschlicher mitarbeiter",
    "einen berater", "ein berater", "eine beraterin", "einen kundenberater", "ein kundenberater", "eine kundenberaterin",
    "einen ansprechpartner", "ein ansprechpartner", "eine ansprechpartnerin", "einen sachbearbeiter", "ein sachbearbeiter",
    "eine person", "eine echte person", "jemanden aus ihrem team", "jemand aus ihrem team",
    "quelqu'un", "une personne", "une vraie personne", "une personne réelle", "un humain", "un être humain", "un vrai humain",
    "un conseiller", "une conseillère", "un conseiller humain", "un agent", "un agent humain", "un opérateur",
    "une opératrice", "un interlocuteur", "une interlocutrice", "un employé", "une employée", "un collaborateur",
    "une collaboratrice", "quelqu'un de votre équipe", "quelqu'un de l'équipe", "un membre de votre équipe",
    "qu'une personne", "qu'une vraie personne", "qu'un humain", "qu'un être humain", "qu'un conseiller",
    "qu'une conseillère", "qu'un agent", "qu'un opérateur", "qu'une opératrice", "qu'un interlocuteur", "qu'un employé",
    "qu'un collaborateur",  # "Est-ce qu'un conseiller peut me rappeler ?"
    "alguien", "una persona", "una persona real", "un humano", "un ser humano", "un agente", "un agente humano",
    "un asesor", "una asesora", "un operador", "una operadora", "un empleado", "una empleada", "un representante",
    "una representante", "un especialista", "alguien de su equipo", "alguien del equipo",
    "qualcuno", "una persona", "una persona vera", "una persona reale", "un essere umano", "un umano", "un operatore",
    "un'operatrice", "una operatrice", "un operatore umano", "un consulente", "una consulente", "un addetto",
    "un'addetta", "un agente", "un dipendente", "un responsabile", "qualcuno del vostro team", "qualcuno del team",
    "iemand", "een medewerker", "een medewerkster", "een mens", "een echt mens", "een persoon", "een echt persoon",
    "een echte persoon", "een menselijke medewerker", "een adviseur", "een klantenservicemedewerker", "een consulent",
    "iemand van uw team", "iemand van jullie team", "iemand van het team",
))
# Plural and generic people the visitor can reach: "Are there people I can talk to?", "Gibt es Menschen, mit denen
# ich sprechen kann?", "Y a-t-il des personnes à qui je peux parler ?", "¿Hay personas con las que pueda hablar?",
# "Zijn er mensen met wie ik kan praten?". Only next to a frame in which the visitor reaches them, with a cue before
# it or a lead ("zijn er") of its own (_REACH_PLURAL_GROUPS): "Can people call me through the widget?" asks how
# the service works, "People say I can talk to you about refunds" and "I have people I can talk to" ask for nobody.
HUMAN_REQUEST_REACH_PLURALS = frozenset(fold(p).text for p in (
    "people", "real people", "actual people", "humans", "real humans", "persons", "human beings", "agents",
    "human agents", "employees", "staff", "staff members", "advisors", "advisers", "representatives", "consultants",
    "menschen", "echte menschen", "personen", "echte personen", "mitarbeiter", "mitarbeitende", "berater",
    "beraterinnen", "ansprechpartner", "kundenberater",
    "des personnes", "des gens", "des humains", "de vraies personnes", "des vraies personnes", "des conseillers",
    "des conseillères", "des agents", "des interlocuteurs", "des employés",
    "personas", "personas reales", "gente", "humanos", "asesores", "agentes", "operadores", "empleados",
    "mensen", "echte mensen", "medewerkers", "adviseurs", "personen",
))
HUMAN_REQUEST_REACH_PERSON_WORDS = max(len(person.split()) for person in HUMAN_REQUEST_REACH_PEOPLE | HUMAN_REQUEST_REACH_PLURALS)

# A frame's groups: (side of the person, how it asks, leads, frames). The person stands "before" the
# frame ("a person | i can call") or "after" it ("puede llamarme | una persona"). "direct": a request as
# it stands; "vague": with a cue before it; "lead": direct after one of the leads ("can | a person | call
# me"), vague without ("have a person call me"); "modal": direct after one of the leads, nothing without
# ("kann mich | ein Mitarbeiter | anrufen", not "Ich möchte jemand anrufen"). A lead found before the
# person (or before the frame, for a person after it) is part of the phrase: "dass mich | ein Mitarbeiter
# | zurückruft". Bare plurals are no person here: "Can people call me through the widget?"
_MODAL_FR = ("je peux", "je pourrais", "je puisse")
_MODAL_ES = ("pueda", "puedo", "podría")
_MODAL_IT = ("posso", "potrei", "possa")
_REACH_GROUPS: tuple[tuple[str, str, tuple[str, ...], list[str]], ...] = (
    ("before", "vague", (), _combine(("", "that", "who"), ("i can", "i could", "we can"), (
        "talk to", "speak to", "talk with", "speak with", "chat with", "chat to", "call", "phone", "ring", "contact", "reach",
        "get in touch with", "get hold of"))),
    ("before", "lead", ("can", "could", "can't", "cant", "couldn't", "couldnt"),
     _combine(("", "please"), ("call me", "phone me", "ring me", "contact me", "get back to me"))),
    ("before", "vague", (), _combine(("to",), ("call me", "phone me", "ring me", "contact me", "get back to me"))),
    ("before", "vague", (), _combine(("den", "die"), ("ich",), ("anrufen", "erreichen", "kontaktieren"), ("kann", "könnte"))),
    ("before", "vague", (), _combine(("der", "die"), ("mich",), ("anrufen", "zurückrufen", "kontaktieren"), ("kann", "könnte"))),
    ("before", "modal", ("kann mich", "könnte mich", "kann mich bitte", "könnte mich bitte"),
     _combine(("", "bitte"), ("anrufen", "zurückrufen", "kontaktieren"))),
    ("before", "lead", ("kann", "könnte", "kann bitte", "könnte bitte"),
     _combine(("mich",), ("", "bitte"), ("anrufen", "zurückrufen", "kontaktieren"))),
    ("before", "vague", ("dass mich",), ["anruft", "zurückruft", "kontaktiert"]),
    ("before", "vague", (), _combine(("à qui", "avec qui"), _MODAL_FR, ("parler", "m'adresser", "téléphoner", "écrire"))),
    ("before", "vague", (), _combine(("que",), _MODAL_FR, ("appeler", "joindre", "contacter"))),
    ("before", "vague", (), _combine(("qui", "de"), ("", "peut", "pourrait", "puisse"), ("me rappeler", "m'appeler", "me contacter", "me téléphoner"))),
    ("before", "direct", (), _combine(("peut", "pourrait", "peut il", "peut elle", "pourrait il", "pourrait elle"),
                                      ("me rappeler", "m'appeler", "me contacter", "me recontacter", "me téléphoner"))),
    ("before", "vague", ("que",), ["me rappelle", "m'appelle", "me contacte", "me recontacte"]),
    ("before", "vague", (), _combine(("con quien", "con quién", "con la que", "con el que"), _MODAL_ES, ("hablar", "comunicarme", "chatear"))),
    ("before", "vague", (), _combine(("a quien", "a quién", "a la que", "al que"), _MODAL_ES, ("llamar", "contactar", "escribir"))),
    ("before", "vague", (), _combine(("que",), ("pueda", "puede", "podría"), ("llamarme", "contactarme", "devolverme la llamada"))),
    ("before", "direct", (), _combine(("puede", "podría"), ("llamarme", "contactarme", "devolverme la llamada"))
     + _combine(("me puede", "me podría"), ("llamar", "contactar", "devolver la llamada"))),
    ("before", "vague", ("que",), ["me llame", "me contacte"]),
    ("before", "vague", (), _combine(("con cui",), _MODAL_IT, ("parlare", "chattare"))
     + _combine(("che",), _MODAL_IT, ("chiamare", "contattare", "sentire")) + _combine(("a cui",), _MODAL_IT, ("telefonare", "scrivere", "rivolgermi"))
     + _combine(("che",), ("può", "potrebbe", "possa"), ("chiamarmi", "richiamarmi", "contattarmi"))),
    ("before", "direct", (), _combine(("può", "potrebbe"), ("chiamarmi", "richiamarmi", "contattarmi", "ricontattarmi"))
     + _combine(("mi può", "mi potrebbe"), ("chiamare", "richiamare", "contattare", "ricontattare"))),
    ("before", "vague", ("che",), ["mi chiami", "mi richiami", "mi contatti"]),
    ("before", "lead", ("kan", "kan er", "kunt u", "zou", "zou er"),
     _combine(("mij", "me"), ("", "even"), ("", "kunnen"), ("bellen", "terugbellen", "opbellen", "terug bellen", "contacteren"))),
    ("before", "lead", ("is er",), _combine(("met wie ik",), ("kan", "zou kunnen"), ("praten", "spreken", "chatten", "bellen"))
     + _combine(("met wie ik",), ("praten", "spreken", "chatten", "bellen"), ("kan",))
     + _combine(("die ik",), ("kan", "zou kunnen"), ("bellen", "spreken", "bereiken", "contacteren"))
     + _combine(("die ik",), ("bellen", "spreken", "bereiken", "contacteren"), ("kan",))
     + _combine(("die",), ("mij", "me"), ("kan",), ("bellen", "terugbellen", "contacteren"))),
    ("before", "vague", ("dat",), _combine(("mij", "me"), ("belt", "terugbelt", "contacteert"))),
    ("after", "direct", (), _combine(("puede", "podría", "me puede", "me podría"), ("llamarme", "contactarme", "llamar", "contactar"))),
    ("after", "vague", (), ["que me llame", "que me contacte"]),
    ("after", "direct", (), _combine(("può", "potrebbe"), ("chiamarmi", "richiamarmi", "contattarmi", "ricontattarmi"))
     + _combine(("mi può", "mi potrebbe"), ("chiamare", "richiamare", "contattare"))),
    ("after", "vague", (), _combine(("être", "etre"), ("rappelé", "rappelée", "contacté", "contactée", "appelé", "appelée"), ("par",))
     + _combine(("essere",), ("richiamato", "richiamata", "contattato", "contattata", "chiamato", "chiamata"), ("da",))
     + _combine(("gebeld", "teruggebeld", "gecontacteerd"), ("worden door",))
     + _combine(("zurückgerufen", "angerufen", "kontaktiert"), ("werden von",))),
)

# The frames in which the visitor reaches plural people (HUMAN_REQUEST_REACH_PLURALS), each with a cue before it
# ("are there", "gibt es", "il y a", "hay") or, in Dutch, its lead "zijn er" ("er" is German "he").
_REACH_PLURAL_GROUPS: tuple[tuple[str, str, tuple[str, ...], list[str]], ...] = (
    ("before", "vague", (), _REACH_GROUPS[0][3]),  # "people | i can talk to"
    ("before", "vague", (), _combine(("mit denen",), ("ich", "wir"), ("sprechen", "reden", "chatten", "telefonieren"),
                                     ("kann", "könnte", "können", "könnten"))
     + _combine(("die",), ("ich",), ("anrufen", "erreichen", "kontaktieren"), ("kann", "könnte"))),
    ("before", "vague", (), _combine(("à qui", "avec qui", "avec lesquelles", "avec lesquels", "auxquelles", "auxquels"), _MODAL_FR,
                                     ("parler", "m'adresser", "téléphoner", "écrire"))
     + _combine(("que",), _MODAL_FR, ("appeler", "joindre", "contacter"))),
    ("before", "vague", (), _combine(("con quien", "con quién", "con quienes", "con quiénes", "con las que", "con los que",
                                      "con la que", "con el que"), _MODAL_ES, ("hablar", "comunicarme", "chatear"))
     + _combine(("a quien", "a quién", "a quienes", "a quiénes", "a las que", "a los que", "a la que"), _MODAL_ES,
                ("llamar", "contactar", "escribir"))),
    ("before", "lead", ("zijn er",), _combine(("met wie ik",), ("kan", "zou kunnen"), ("praten", "spreken", "chatten", "bellen"))
     + _combine(("met wie ik",), ("praten", "spreken", "chatten", "bellen"), ("kan",))
     + _combine(("die ik",), ("kan", "zou kunnen"), ("bellen", "spreken", "bereiken", "contacteren"))
     + _combine(("die ik",), ("bellen", "spreken", "bereiken", "contacteren"), ("kan",))),
)


def _frame_groups() -> dict[str, list[tuple[str, str, frozenset[str], frozenset[str]]]]:
    """Each folded frame with the groups it belongs to ("me puede llamar": a person before it or after it) and the
    people a group reads next to it."""
    frames: dict[str, list[tuple[str, str, frozenset[str], frozenset[str]]]] = {}
    for groups, people in ((_REACH_GROUPS, HUMAN_REQUEST_REACH_PEOPLE), (_REACH_PLURAL_GROUPS, HUMAN_REQUEST_REACH_PLURALS)):
        for side, how, leads, phrases in groups:
            for phrase in phrases:
                frames.setdefault(fold(phrase).text, []).append((side, how, frozenset(fold(lead).text for lead in leads), people))
    return frames


_FRAME_GROUPS = _frame_groups()
HUMAN_REQUEST_REACH_FRAMES = tuple(_FRAME_GROUPS)


def _words_before(text: str, index: int, count: int) -> list[int]:
    """The start offsets of up to `count` words right before text[index] (nearest first), within the
    clause: a word holding clause punctuation ends them (its trailing comma aside, for the nearest)."""
    starts: list[int] = []
    end = index - 1  # the space before text[index]
    while len(starts) < count and end > 0 and text[end] in " \n":
        start = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end)) + 1
        word = text[start:end]
        if not word or any(mark in word.rstrip(",") if not starts else mark in word for mark in ".,!?;:"):
            break
        starts.append(start)
        end = start - 1
    return starts


def _words_after(text: str, index: int, count: int) -> list[int]:
    """The end offsets of up to `count` words right after text[index - 1] (nearest first), within the clause."""
    ends: list[int] = []
    start = index + 1  # after the space at text[index]
    while len(ends) < count and start - 1 < len(text) and text[start - 1] in " \n":
        end = len(text)
        for mark in " \n":
            found = text.find(mark, start)
            if 0 <= found < end:
                end = found
        word = text[start:end].rstrip(".,!?;:")
        if not word or any(mark in word for mark in ".,!?;:"):
            break
        ends.append(start + len(word))
        if len(word) < end - start:
            break  # the clause ends with it
        start = end + 1
    return ends


def reach_request(text: str, start: int, end: int) -> tuple[int, int, bool] | None:
    """For a frame (HUMAN_REQUEST_REACH_FRAMES) found at folded text[start:end]: the phrase it makes with
    the person next to it, as (start, end, direct), or None if no person (HUMAN_REQUEST_REACH_PEOPLE)
    stands there. `direct`: a request as it stands; otherwise it needs a cue, as a vague phrase does."""
    groups = _FRAME_GROUPS.get(text[start:end])
    if not groups:
        return None
    for side, how, leads, people in groups:
        if side == "before":
            starts = _words_before(text, start, HUMAN_REQUEST_REACH_PERSON_WORDS)
            person = next((s for s in reversed(starts) if text[s:start - 1].rstrip(",") in people), None)
            if person is None:
                continue
            phrase_start, phrase_end, lead_at = person, end, person
        else:
            ends = _words_after(text, end, HUMAN_REQUEST_REACH_PERSON_WORDS)
            person_end = next((e for e in reversed(ends) if text[end + 1:e] in people), None)
            if person_end is None:
                continue
            phrase_start, phrase_end, lead_at = start, person_end, start
        lead = next((s for s in _words_before(text, lead_at, 3) if text[s:lead_at - 1] in leads), None) if leads else None
        if lead is not None:
            phrase_start = lead
        elif how == "modal":
            continue
        return phrase_start, phrase_end, how == "direct" or (how in ("lead", "modal") and lead is not None)
    return None


HUMAN_REQUEST_DIRECT = tuple(p for p in _ALL_PHRASES if not _vague(p)) + (
    # A relative clause: "Gibt es keinen Mitarbeiter, mit dem ich sprechen kann?"
    "mit dem ich sprechen kann", "mit dem ich reden kann", "mit der ich sprechen kann", "mit der ich reden kann",
    "mit dem ich sprechen konnte", "met wie ik kan praten", "met wie ik kan spreken", "avec qui je peux parler",
    "con quien pueda hablar", "con quien puedo hablar", "con cui posso parlare", "con cui parlare",
)
# Plural and generic people ("Can I talk to people?", "Kann ich mit Menschen sprechen?", "Est-ce que je peux parler à
# des gens ?", "¿Puedo hablar con personas?", "Posso parlare con delle persone?", "Kan ik met mensen praten?"): with a
# cue before them, as "someone" is; "I like to talk to people" and "I talked to people in your shop" ask for nobody.
_EN_PLURAL = ("people", "real people", "actual people", "humans", "real humans", "human beings", "live people")
_DE_PLURAL = ("menschen", "echten menschen", "personen", "echten personen")
_FR_PLURAL = ("des gens", "des personnes", "de vraies personnes", "des vraies personnes", "des humains", "des êtres humains")
_ES_PLURAL = ("personas", "personas reales", "gente", "gente real", "humanos", "seres humanos")
_IT_PLURAL = ("persone", "delle persone", "persone reali", "persone vere", "esseri umani")
_NL_PLURAL = ("mensen", "echte mensen", "personen")
HUMAN_REQUEST_VAGUE = tuple(p for p in _ALL_PHRASES if _vague(p)) + (
    # A callback asks for a person too, when asked for ("Can someone call me back?", not "Does the
    # courier call me back?").
    "someone call me", "somebody call me", "someone to call me", "somebody to call me", "call me back", "a callback", "a call back", "someone contact me",
    "somebody contact me", "mich zuruckrufen", "einen ruckruf", "que me llamen", "llamenme", "richiamarmi",
    "mi richiamate", "terugbellen", "bel me terug", "bel mij terug",
) + tuple(_pairs(_EN_ASK[:6], _EN_PLURAL) + _german_like(_DE_PLURAL, ("mit",), ("", "bitte"), _DE_VERBS[:4] + _DE_VERBS[-4:])
          + _pairs(("parler à", "parler avec", "discuter avec"), _FR_PLURAL) + _pairs(("hablar con",), _ES_PLURAL)
          + _pairs(("parlare con",), _IT_PLURAL) + _german_like(_NL_PLURAL, ("met",), ("", "graag", "even"), _NL_VERBS[:3]))
# "I want an agent", "Ich will einen Mitarbeiter", "quiero un agente": a want and a person, which also
# says "I want an agent to sell my house": not when "to" or "for" follows (HUMAN_REQUEST_FOR).
HUMAN_REQUEST_WANT = tuple(_pairs(
    ("i want", "i need", "give me", "get me", "can i have", "can i get", "could i have", "could i get", "i'd rather have"),
    ("an agent", "a person", "an operator", "a representative", "a rep", "a real agent", "someone real", "a manager", "a supervisor"),
) + _pairs(("ich will", "ich mochte", "ich hatte gern", "ich hatte gerne", "ich brauche", "geben sie mir"),
           ("einen mitarbeiter", "eine mitarbeiterin", "einen berater", "eine beraterin", "einen ansprechpartner", "eine person"))
  + _pairs(("quiero", "necesito", "quisiera", "deme", "dame"), ("un agente", "un asesor", "una persona", "un operador", "un representante"))
  + _pairs(("voglio", "vorrei", "mi serve", "mi dia", "dammi"), ("un operatore", "una persona", "un consulente", "un agente"))
  + _pairs(("ik wil", "geef me", "geef mij", "ik wil graag"), ("een medewerker", "een persoon", "een adviseur", "een medewerkster"))
)
HUMAN_REQUEST_FOR = frozenset({"to", "for"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# What the words before a phrase, within its clause, say of it. Multi-word entries are looked for
# as whole words in the clause; single words as words.
#
# The visitor does not want one: only a negation of wanting ("I don't want to talk to a person", "Ich
# möchte nicht mit einem Menschen sprechen", "je ne veux pas parler à ..."), not any negation ("Is
# there no way to talk to a human?", "Kann ich nicht einfach mit einem Menschen sprechen?").
HUMAN_REQUEST_NOT_WANTED = (
    "don't want", "dont want", "do not want", "don't wanna", "dont wanna", "doesn't want", "does not want", "not want",
    "don't need", "dont need", "do not need", "no need", "never want", "rather not", "would not like", "wouldn't like",
    "without", "not interested",
    "mochte nicht", "moechte nicht", "will nicht", "will keinen", "will keine", "mochte keinen", "mochte keine",
    "brauche nicht", "brauche keinen", "brauche keine", "ohne", "lieber nicht",
    "ne veux pas", "ne voudrais pas", "ne souhaite pas", "n'ai pas besoin", "ne veux plus", "sans",
    "no quiero", "no necesito", "no quisiera", "no me gustaria", "sin",
    "non voglio", "non vorrei", "non ho bisogno", "non mi serve", "senza",
    "wil niet", "wil geen", "hoef niet", "hoef geen", "zonder", "liever niet",
)
# "don't connect me with a person" (not "Why don't you just connect me with a person?").
HUMAN_REQUEST_DONT = frozenset({"don't", "dont", "never"})
# Narration: the visitor will, did or tried to talk to someone ("I'll talk to the team", "I tried to
# talk to a person at the shop", "Ich werde mit dem Team reden", "Je vais parler à ...", "Voy a
# hablar con ...", "Ik ga met het team praten").
HUMAN_REQUEST_NARRATION = (
    "i'll", "we'll", "i will", "we will", "going to", "gonna", "spoke", "talked", "already", "yesterday",
    "earlier", "did", "didn't", "said", "told", "i've", "had", "later",
    "werde", "werden wir", "habe", "hatte", "gestern", "schon", "bereits", "spater",
    "je vais", "on va", "nous allons", "j'ai", "deja", "hier", "plus tard",
    "voy a", "vamos a", "ayer", "luego",
    "vado a", "ieri", "gia", "poi",
    "ik ga", "we gaan", "ik zal", "heb", "gisteren", "later",
)
# Forgot and tried narrate only the talk right after them ("I forgot to speak to an agent", "Olvidé hablar
# con un agente", "Ik ben vergeten om met ... te praten"), not a request later in the clause: chat has no
# commas ("I forgot my password can I talk to a human", "Ho dimenticato la password posso parlare con ...").
HUMAN_REQUEST_NARRATION_DIRECT = _words(
    "tried forgot forgotten vergessen vergass versucht oublie essaye intentado intente olvide "
    "dimenticato dimenticata provato vergeten geprobeerd"
)
# Words between forgot/tried and the phrase that still leave it right after them ("forgot to", "olvidé de").
HUMAN_REQUEST_INFINITIVE_MARKS = _words("to zu te om de di a")
# Reported speech before a wish ("I said I want a human") is the visitor repeating it, a request, unless
# the report is negated ("I never said I want a human", "Nunca dije que quiero ...") or told of another
# time or to someone else ("Yesterday I told your colleague I want a human").
HUMAN_REQUEST_REPORTED = _words("said say told tell gesagt sagte dit dije dicho detto dissi gezegd zei")
HUMAN_REQUEST_REPORT_NOT = _words(
    "never not didn't didnt don't dont nie niemals nicht jamais pas nunca mai non nooit niet "
    "yesterday earlier gestern hier ayer ieri gisteren"
)
HUMAN_REQUEST_TOLD_TO = _words("you u ya")
# A question that asks for the visitor ends their story too, as a wish does: "Ich habe mein Passwort
# vergessen kann ich mit einem Mitarbeiter sprechen", "Olvidé mi contraseña puedo hablar con un agente".
HUMAN_REQUEST_ASK = frozenset({
    "can i", "could i", "may i", "can we", "could we", "kann ich", "konnte ich", "darf ich", "puis je", "pourrais je",
    "puedo", "podria", "podemos", "posso", "potrei", "possiamo", "kan ik", "mag ik", "kunnen we",
})
# Whether something requires a person is a question, not a request ("Do I have to speak to an advisor
# to open an account?", "Muss ich mit dem Kundenservice telefonieren?", "Est-ce que je dois parler
# à ...", "¿Tengo que hablar con ...?", "Devo parlare con ...", "Moet ik met een adviseur spreken?").
HUMAN_REQUEST_OBLIGATION = (
    "have to", "has to", "must", "should", "do i need", "does one need", "would i need", "will i need", "do we need",
    "need to first", "required", "muss", "musste", "musst", "sollte", "soll", "dois", "doit", "devrais", "faut",
    "tengo que", "tiene que", "hay que", "debo", "deberia", "devo", "deve", "dovrei", "bisogna", "moet", "moeten", "hoef",
)
# Whether the service has people is a question, not a request ("Do you have a human agent on weekends?").
HUMAN_REQUEST_INQUIRY = (
    "do you have", "do you offer", "do you provide", "is the", "are the", "are there any", "haben sie", "bieten sie",
    "avez vous", "proposez vous", "tienen", "ofrecen", "avete", "offrite", "hebben jullie", "heeft u", "biedt u",
)
# Someone else's wish or the visitor's own people ("My son wants to talk to someone", "Meine Frau
# möchte mit einem Berater sprechen", "Can my customers talk to an agent?", "lets my staff talk to").
HUMAN_REQUEST_THIRD_PARTY = _words(
    "he she they they'd they'll he'd she'd wants needs lets allows veut quiere vuole "
    "er elle ils elles hij zij"  # not "il": the Italian article ("Il mio ordine ... e voglio parlare con ...")
)
# The visitor's own wish: what they said of themselves before it ("I've got a question and want to ...",
# "J'ai un problème et je voudrais ...") is no narration of this request.
HUMAN_REQUEST_WISH = _words(
    "want wanna like prefer rather need mochte moechte will wurde mochten veux voudrais souhaite souhaiterais aimerais "
    "quiero quisiera gustaria necesito voglio vorrei wil zou wens "
    "gern gerne graag gebeten"  # "Ich hätte gerne die Möglichkeit, mit ...": "hätte" folds to "hatte"
)
HUMAN_REQUEST_POSSESSIVE = _words(
    "my our mein meine meinem meinen meiner unser unsere mon ma mes notre nos mi mis nuestro nuestra mio mia miei mie "
    "nostro nostra mijn onze ons family familie famille familia famiglia"
)
HUMAN_REQUEST_POSSESSIVE_WINDOW = 3  # words before a phrase: "Meine Frau möchte mit ...", "Can my customers talk to ..."
# Words that ask, before a phrase with a vague object ("Can I talk to someone?", "Ich möchte mit
# jemandem sprechen", "Quiero hablar con alguien"): without one, or the phrase opening its clause
# ("Talk to someone, please"), "talk to someone" is not a request.
HUMAN_REQUEST_CUES = (
    "can i", "could i", "may i", "can we", "could we", "i want", "i wanna", "i'd like", "i would like", "i'd rather",
    "i would rather", "i'd prefer", "i prefer", "let me", "please", "is there", "are there", "i need", "can you",
    "could you", "ich mochte", "ich moechte", "ich will", "ich wurde gern", "ich wurde gerne", "kann ich", "konnte ich",
    "darf ich", "bitte", "gibt es", "je veux", "je voudrais", "j'aimerais", "je peux", "puis je", "je souhaite",
    "je souhaiterais", "svp", "quiero", "quisiera", "me gustaria", "puedo", "podria", "por favor", "necesito", "voglio",
    "vorrei", "posso", "potrei", "per favore", "ik wil", "ik zou", "kan ik", "mag ik", "graag", "alstublieft",
    "can someone", "could someone", "can somebody", "could somebody", "konnen sie", "konnten sie", "kunt u", "kunnen jullie",
    "pouvez vous", "pourriez vous", "puede", "puedes", "podrian", "potete", "puo", "potreste",
    # whether there is one ("Isn't there someone I can call?", "Y a-t-il quelqu'un à qui je peux parler ?",
    # "¿Hay alguien a quien pueda llamar?", "C'è qualcuno che posso chiamare?")
    "isn't there", "isnt there", "il y a", "qu'il y a", "yat il", "y a t'il", "hay", "c'e",
)
# Right after a phrase: the person belongs to the visitor or to a channel question ("someone else's
# account manager", "someone at my bank", "alguien de mi familia", "qualcuno in famiglia", "someone
# nearby", "customer support via WhatsApp as well", "l'assistenza anche via email").
HUMAN_REQUEST_ELSE = _words("else else's elses nearby anders sonst autre otro otra altro altra")
HUMAN_REQUEST_OF = _words("at from in of de del bei von aus di van bij chez du della")
HUMAN_REQUEST_CHANNEL = _words("via through also anche auch aussi tambien ook")
# Words that, right after a phrase, make it name something else: "talk to a human resources manager".
# A person noun modifying another noun names no person either: "an operator license", "a human-readable invoice".
HUMAN_REQUEST_NOT_FOLLOWED_BY = frozenset(
    "resources rights trafficking nature body readable license licence licenses licences licensing".split()
)

# A whole message that asks for a person and says nothing else: "human", "Mitarbeiter bitte", "agent!".
_ALONE_PEOPLE = (
    "human", "a human", "humans", "human being", "person", "a person", "real person", "a real person", "live person",
    "agent", "an agent", "live agent", "human agent", "operator", "representative", "rep", "someone", "somebody",
    "customer service",
    "mensch", "ein mensch", "einen menschen", "menschen", "mitarbeiter", "mitarbeiterin", "einen mitarbeiter", "berater",
    "kundenservice", "kundendienst", "person bitte",
    "humain", "un humain", "conseiller", "un conseiller", "une personne", "operateur", "un operateur", "agent humain",
    "humano", "un humano", "persona", "una persona", "agente", "un agente", "asesor", "un asesor", "operador", "un operador",
    "operatore", "un operatore", "operatrice", "umano", "un umano", "consulente",
    "mens", "een mens", "medewerker", "een medewerker", "klantenservice",
)
_PLEASE = ("", "please", "pls", "plz", "now", "bitte", "jetzt", "svp", "stp", "s'il vous plait", "merci", "por favor",
           "per favore", "grazie", "graag", "alstublieft", "alsjeblieft", "aub")
# After the avatar offered a person ("Would you like me to connect you with a person?"), a reply made
# only of one of these says yes.
_YES = (
    "yes", "yeah", "yep", "yup", "yes i would", "yes i'd like that", "yes i would like that", "yes that would be great",
    "yes connect me", "connect me", "yes please connect me", "please connect me", "please do", "yes please do", "sure",
    "yes sure", "sure thing", "ok", "okay", "ok yes", "yes ok", "of course", "absolutely", "definitely", "go ahead",
    "yes go ahead", "that would be great", "y", "ya", "yea", "please", "yes a person", "a person please",
    "ja", "jawohl", "jo", "gerne", "gern", "ja gerne", "ja gern", "sehr gerne", "ja sehr gerne", "ja bitte", "bitte ja",
    "ja danke", "ja klar", "klar", "klar doch", "ok gerne", "okay gerne", "ja das wäre gut", "ja das wäre super",
    "ja verbinden sie mich", "ja bitte verbinden", "ja bitte verbinden sie mich", "verbinden sie mich", "ja mach das",
    "ja machen sie das", "genau", "ja genau",
    "oui", "ouais", "oui merci", "oui volontiers", "volontiers", "d'accord", "oui d'accord", "bien sûr", "oui bien sûr",
    "avec plaisir", "oui avec plaisir", "je veux bien", "oui je veux bien", "oui svp", "oui stp", "oui s'il vous plaît",
    "s'il vous plaît", "oui allez-y", "allez-y", "tout à fait",
    "sí", "si", "sí por favor", "sí gracias", "claro", "claro que sí", "sí claro", "vale", "sí vale", "de acuerdo",
    "por supuesto", "sí por supuesto", "por favor", "perfecto", "sí perfecto",
    "sì", "sì grazie", "sì per favore", "certo", "sì certo", "certo grazie", "certamente", "va bene", "sì va bene",
    "volentieri", "sì volentieri", "per favore", "d'accordo", "sì d'accordo", "perfetto",
    "ja graag", "graag", "graag ja", "ja alstublieft", "ja alsjeblieft", "ja hoor", "ja prima", "prima", "ja zeker",
    "zeker", "ja dank u", "ja dank je", "ja graag dank u", "oké", "ja oké", "ja goed", "goed", "ja doe maar", "doe maar",
    "alstublieft", "alsjeblieft",
)
_YES_PLEASE = ("", "please", "bitte")
_YES_THANKS = ("thanks", "thank you", "danke", "merci", "gracias", "grazie", "dank u", "dank je", "bedankt")
# A yes that, followed by thanks, declines politely: "ok thanks", "ok merci", "d'accord merci", "prima bedankt".
_YES_WEAK = frozenset({"ok", "okay", "oké", "alright", "fine", "d'accord", "vale", "va bene", "perfecto", "perfetto",
                       "prima", "goed", "genau"})  # not "sure", "klar": "Sure, thanks!" and "Klar, danke" accept


_PUNCTUATION = str.maketrans(".,!?;:\n", "       ")


def plain_message(folded_text: str) -> str:
    """A folded message (guidelines.normalize.fold: letters, digits, apostrophes, sentence punctuation)
    as the whole-message sets hold it: punctuation dropped, single spaces."""
    return " ".join(folded_text.translate(_PUNCTUATION).split())


def _plain_set(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(plain_message(fold(text).text) for text in texts)


# Matched as phrases that must make up the whole message (guidelines.checker): with or without a comma.
# A word alone ("support", "staff") is not a request: it names a topic as often.
HUMAN_REQUEST_ALONE = tuple(sorted(
    _plain_set(f"{person} {please}" for person in _ALONE_PEOPLE for please in _PLEASE)
    | _plain_set(f"{please} {person}" for person in _ALONE_PEOPLE for please in _PLEASE if please)
    | {fold(f"{person}, {please}").text for person in _ALONE_PEOPLE for please in _PLEASE if please}
    | {fold(f"{please}, {person}").text for person in _ALONE_PEOPLE for please in _PLEASE if please}
))
PLAIN_YES = _plain_set(
    [f"{yes} {please}" for yes in _YES for please in _YES_PLEASE]
    + [f"{yes} {thanks}" for yes in _YES if yes not in _YES_WEAK for thanks in _YES_THANKS]
)


# Words without which no typo of a person makes a message a request, so the typo re-read (below) runs
# only on a message that holds one of them, or on a short one (HUMAN_REQUEST_SHORT_MESSAGE): the verbs,
# wishes and "please" of the request phrases. A phrase holding a typo holds one of them among its other
# words (a test holds every phrase to it, one typo a phrase): "talk to a humna", "mit einem Mitarbieter
# sprechen", "hmuan please", and "humna agent" by its "agent". A message that asks for no person and
# holds none of them (most messages) skips the typo pass, ~4 µs on average (17 at p99 of the guideline
# benchmark). What is given up: a typo of a person standing as a sentence of its own, without a please,
# in a message longer than HUMAN_REQUEST_SHORT_MESSAGE ("... twenty minutes and nothing works. Humna!").
HUMAN_REQUEST_SIGNALS = (
    "talk", "speak", "chat", "connect", "put me", "transfer", "pass me", "hand me", "forward me", "escalate", "reach",
    "get me", "get a", "can i get", "could i get", "get hold", "get through", "get in touch", "give me", "can i have",
    "could i have", "let me have", "rather", "want", "wanna", "need", "i'd like", "would like", "call", "callback",
    "contact", "help", "live", "human", "agent", "operator", "representative",
    "sprechen", "reden", "chatten", "schreiben", "verbunden", "verbinden", "verbinde", "verbindest", "weiterverbinden",
    "durchstellen", "stellen sie mich", "kontakt", "telefonieren", "telefon", "apparat", "will", "mochte", "moechte",
    "brauche", "hatte gern", "hatte gerne", "geben sie mir", "gib mir", "weiter", "weiterleiten", "weitergeben",
    "zuruckrufen", "ruckruf",
    "parler", "discuter", "echanger", "relation", "mettre", "mettez", "passer", "passez", "transferer", "transferez",
    "joindre", "contacter", "avoir", "veux", "voudrais", "j'aimerais", "souhaite", "souhaiterais", "donnez", "faut",
    "hablar", "comunicarme", "contacto", "ponerme", "pongame", "paseme", "pasame", "pasa", "pasas", "pasar", "comunica",
    "conectarme", "conecteme", "conectame", "contactar", "transferirme", "transfierame", "chatear", "atienda",
    "atendido", "atendida", "quiero", "necesito", "quisiera", "gustaria", "deme", "dame", "llamen", "llamenme",
    "parlare", "contatto", "mettermi", "metta", "mettimi", "passi", "passami", "passa", "collegarmi", "colleghi",
    "chattare", "messo", "messa", "contattare", "sentire", "voglio", "vorrei", "serve", "bisogno", "mi dia", "dammi",
    "richiamarmi", "richiamate",
    "spreken", "praten", "bellen", "terugbellen", "bel me", "bel mij", "verbonden", "doorverbonden", "verbind",
    "verbindt", "doorverbinden", "breng", "lijn", "wil", "geef",
    # the "please" of a sentence that is only a person ("hmuan please", "Mitarbieter bitte")
    "please", "pls", "plz", "bitte", "svp", "stp", "plait", "merci", "favor", "favore", "grazie", "graag",
    "alstublieft", "alsjeblieft", "aub",
)
HUMAN_REQUEST_SHORT_MESSAGE = 64  # characters: a message this short is read for typos whatever it holds


# Typos of the person asked for ("humna", "persn", "opertor", "Mitarbieter"): a word one edit (a
# letter dropped, added or changed, or two neighbours swapped) from one of these nouns of five
# letters or more reads as the noun, and the message is checked again (guidelines.checker). A
# lookup in a table of every such spelling costs a message one to three microseconds; a fuzzy matcher
# (rapidfuzz) over its words cost 40 to 65, more than the rest of the input check (tests hold the table to it).
HUMAN_REQUEST_TYPO_NOUNS = tuple("""
    human person agent operator representative employee consultant advisor adviser manager supervisor someone somebody
    mensch menschen mitarbeiter mitarbeiterin berater beraterin kundenberater ansprechpartner ansprechpartnerin
    sachbearbeiter kundenservice kundendienst jemandem jemanden
    personne humain conseiller conseillere operateur operatrice interlocuteur collaborateur employe quelqu'un
    persona humano agente asesor asesora operador operadora empleado representante alguien
    operatore umano consulente addetto dipendente qualcuno
    medewerker medewerkster persoon adviseur klantenservice consulent vertegenwoordiger iemand
""".split())
# Spellings one edit from a noun that are words of their own in one of the six languages, never read
# as the noun ("Ik wil met niemand praten", "I need a humane answer", "la gente", "persons"): the
# word forms of simplemma's dictionaries for en, de, fr, es, it and nl that fold to one of them.
HUMAN_REQUEST_TYPO_WORDS = frozenset("""
    addento addetta addette addetti addotto adente advise advised advisee adviseer advisere advisers advises
    adviseurs advisors advisory agence agende agens agenten agentes agenti agentie agentje agents ahuman aient
    alente amano ament anent ansprechpartnern ansprechpartners aperador apersona arent argent argente asente
    asesar asesara aseso asesorad asesoran asesorar asesoras asesore asesoria asesoro atente atesora avente
    aviser axent beater bemand bemanden berate berated beraten beratern beraters berates beratet bewater brater
    chuman collaborateurs conseille conseillee conseillera conseilleres conseillerez conseillers conseilles
    conseilleur conseillez conseller consolent consulenten consulenti consulenze consultait consultan consultano
    consultante consultanti consultants consultat consultent consument consumente demand demanden difendente
    dipendenti dipendenze dipendeste dipendete duman emano empelado emplead empleada empleador empleados
    empleads empleando emplegado emploie emplome emplore employ employa employed employees employer employes
    employez employs eploye eployee fuman fumano gagent gemand gent gente heman homebody huian hulan hulman huma
    humaan humad humado humai humaine humains humair humais humait humana humando humane humanos humans humant
    humar humas humat humazo humean humen hurano husman huyan iemanden iemands imano interlocuteurs jemand
    jemandes jerson juman klantenservices kollaborateur konsulent konsultant kundenberatern kundenberaters
    kundendienste kundendiensts kundenservices manage managed managen managern managers manages managet manayer
    maneger manger mano mansch medewerken medewerkers medewerksters menager mensche menscheln menscher menschern
    mensches menschin menschs mitarbeite mitarbeiten mitarbeitern mitarbeiters mitarbeitet nagent niemand
    operado operadoras operados operateure operateurs operato operatoire operatoren operatori operatorie
    operators operatrices operatrici parson perdon perdona perlon peron perron persan persen perso personad
    personae personal personan personar personas persone personen personnel personnes persono persons persoons
    persos persson pesson quelqu'une ragent remand remploye remployee reprasentative representant representanten
    representantes representants representaste representatie representatieve representativa representatives
    representativo ripresentante rumano sachbearbeitern sachbearbeiters someones suman supervisar superviser
    superviso supervisora supervisore supervisori supervisors supervisory tanager ufano ulano umana umane umani
    umno urano usano vagente vertegenwoordige vertegenwoordigen vertegenwoordigers zuman zumano
""".split())
_TYPO_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    """Every spelling one edit from `word`: a letter dropped, added or changed, two neighbours swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in _TYPO_LETTERS}
        | {a + c + b for a, b in splits for c in _TYPO_LETTERS}
    )


def _typos() -> dict[str, str]:
    known = HUMAN_REQUEST_TYPO_WORDS | {
        word for phrases in (HUMAN_REQUEST_DIRECT, HUMAN_REQUEST_VAGUE, HUMAN_REQUEST_WANT, HUMAN_REQUEST_REACH_FRAMES,
                             HUMAN_REQUEST_REACH_PEOPLE) for phrase in phrases
        for word in fold(phrase).text.split()
    } | set(HUMAN_REQUEST_TYPO_NOUNS)
    typos: dict[str, str] = {}
    for noun in HUMAN_REQUEST_TYPO_NOUNS:
        for spelling in _one_edit(noun) - known:
            typos.setdefault(spelling, noun)
    return typos


# Built on the first message that needs it, not at import: every process imports the wording, and the
# table (~30k spellings, ~1 MB) takes 45-110 ms to build. Two threads that both find it missing both
# build it, the same table: harmless.
_typo_table: dict[str, str] | None = None


def human_request_typos() -> dict[str, str]:
    """The typo table: every misspelling of a HUMAN_REQUEST_TYPO_NOUNS noun mapped to the noun."""
    global _typo_table
    table = _typo_table
    if table is None:
        table = _typo_table = _typos()
    return table


def __getattr__(name: str) -> object:
    if name == "HUMAN_REQUEST_TYPOS":  # the table under its constant's name, built on first use
        return human_request_typos()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
