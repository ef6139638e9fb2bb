"""The decision guard (GDPR Art. 22) and the disclosure checks (EU AI Act Art. 50), English and German.

Avatars inform, humans decide. Three questions, all on folded text (see `normalize`):

- `requests_decision`: does the end customer ask the avatar to decide their own case (approve or
  reject an application, a contract, a cancellation, a refund, credit, eligibility, an individual
  price)? Then the conversation goes to a human. Asking how something works in general is not a
  request for a decision: "how do refunds work?" is answered, "can you approve my refund?" is not.
- `states_decision`: does avatar output announce such a decision ("your loan is approved", "Ihr
  Antrag wurde abgelehnt")? Then the output is blocked.
- `instructs_decision`: does a tenant's style instruction tell the avatar to decide ("approve
  refunds under 50 EUR yourself", "Genehmige Kündigungen selbst")? Then the set is rejected.

The lexicon is hand-written regular expressions per language, read sentence by sentence. A cheap
Aho-Corasick pass over trigger words comes first, so messages without any of them (most) cost one
scan. Other languages are not understood by the guard; the tenant's own rules still apply there.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import ahocorasick

from guidelines.normalize import fold, spelling_variants

# ---------------------------------------------------------------------------------------------
# Shared vocabulary. Everything is folded: lower case, no umlauts ("kundigung"), "ss" for "ß".

_W = r"(?:[\w']+ )"  # one word and its space
_SENT = r"[^.!?;\n]"

# Things a decision is about (nouns; the suffix \w* takes plurals and compounds).
_OBJ_EN = (
    r"refund\w*|reimburse\w*|money back|compensation|chargeback\w*|loan\w*|credit(?! card)(?:s|\b)|mortgage\w*|"
    r"financing|application\w*|contract\w*|cancell?ation\w*|termination\w*|subscription\w*|membership\w*|claim\w*|"
    r"warrant(?:y|ies)|guarantee\w*|discount\w*|price\w*|pricing|quote\w*|rebate\w*|eligib\w*|insurance\w*|"
    r"credit limit|installment plan|payment plan|deferral"
)
_OBJ_DE = (
    r"(?:ruck)?erstattung\w*|geld (?:\w+ )?(?:zuruck|wieder)|gutschrift\w*|entschadigung\w*|schadensersatz\w*|kredit(?!karte)\w*|"
    r"darlehen\w*|finanzierung\w*|ratenzahlung\w*|stundung\w*|antrag\w*|antrage\w*|vertrag\w*|vertrage\w*|kundigung\w*|"
    r"storno\w*|stornierung\w*|widerruf\w*|abos?\b|abonnement\w*|mitgliedschaft\w*|reklamation\w*|garantie\w*|"
    r"gewahrleistung\w*|kulanz\w*|anspruch\w*|rabatt\w*|nachlass\w*|preis\w*|sonderpreis\w*|berechtigung\w*|"
    r"versicherungs\w*|leistungsantrag\w*"
)
# Things bought or booked: a decision only when someone asks to cancel them.
_CANCELLABLE = r"orders?|bookings?|reservations?|purchases?|bestellung\w*|buchung\w*|reservierung\w*|kauf\w*"
# What can be handed out: "give me a refund", "ich will mein Geld zurück".
_GRANTABLE_EN = (
    r"refund\w*|money back|compensation|chargeback|loan\w*|credit(?! card)\b|mortgage|discount\w*|rebate\w*|"
    r"(?:better|special|lower|individual|personal|cheaper) (?:price|deal|offer|rate)|deal|price reduction|"
    r"reimbursement|extension|waiver"
)
_GRANTABLE_DE = (
    r"(?:ruck)?erstattung\w*|geld (?:\w+ )?(?:zuruck|wieder)|gutschrift\w*|entschadigung\w*|schadensersatz|"
    r"kredit(?!karte)\w*|darlehen|rabatt\w*|nachlass\w*|preisnachlass|sonderpreis\w*|sonderkondition\w*|"
    r"(?:besser|gunstiger|individuell|personlich)\w* (?:preis|angebot|kondition)\w*|kulanz\w*|stundung"
)

_OWN_EN = r"\b(?:my|me|mine|our|us|i|i'm|im|i've|i'd|myself)\b"
_OWN_DE = r"\b(?:mein\w*|mir|mich|ich|unser\w*|uns)\b"


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _translit(text: str) -> str:
    """German written without umlauts ("kuendigen") read like German with them ("kundigen")."""
    if "e" not in text:
        return text
    return text.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def _cd(pattern: str) -> re.Pattern[str]:
    """A German pattern, in the same transliterated form as the German text it reads."""
    return re.compile(_translit(pattern))


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class _Lexicon:
    """One language's patterns for requests (input), statements (output) and instructions."""

    strong: re.Pattern[str]  # a request for a decision whatever else the sentence says
    info: re.Pattern[str]  # marks a question about how things work in general
    request: re.Pattern[str]  # "can you", "please", "ich möchte"
    desire: re.Pattern[str]  # "i want", "ich will"
    imperative: re.Pattern[str]  # a sentence that starts with a decision verb
    verb: re.Pattern[str]  # decide-type verbs (approve, genehmigen)
    cancel_verb: re.Pattern[str]  # verbs that end a contract on their own (cancel, kündigen)
    give: re.Pattern[str]  # "give me ... refund"
    get: re.Pattern[str]  # "can I get ... refund", "bekomme ich ..."
    obj: re.Pattern[str]
    cancellable: re.Pattern[str]
    grantable: re.Pattern[str]
    own: re.Pattern[str]
    states: re.Pattern[str]  # output that announces a decision
    deferral: re.Pattern[str]  # people and hand-offs: "a colleague will", "an Mitarbeiter weiterleiten"
    deciding: re.Pattern[str]  # output that talks about the decision rather than making it
    instruct_verb: re.Pattern[str]
    instruct_give: re.Pattern[str]
    instruct_self: re.Pattern[str]  # imperative verbs that are a decision without an object
    negation: re.Pattern[str]
    person: re.Pattern[str]  # "customers", "Kunden": the object of "refund customers"
    gates: dict[str, tuple[str, ...]]  # substrings (of " sentence ") without which a family cannot match
    prepare: Callable[[str], str] = _same  # how a sentence is brought into the patterns' form


EN = _Lexicon(
    strong=_c(
        r"\b(?:am i|are we|would i be|will i be|i am|i'm|im|is my \w+) (?:still |even |also |now |already )?"
        r"(?:eligible|entitled|qualified|creditworthy|approved|accepted|pre ?approved)\b"
        r"|\bdo (?:i|we) (?:still |even )?(?:qualify|meet the (?:requirements|criteria|conditions)|have (?:a|the) right to)\b"
        r"|\b(?:check|verify|assess|evaluate|determine|decide|see|tell me) (?:if|whether) (?:i|we)(?:'m| am| are|'re)? "
        rf"{_W}?(?:eligible|entitled|qualify|qualified|approved)\b"
        rf"|\b(?:is|was|has|have|will) (?:my|our) {_W}{{0,2}}?(?:{_OBJ_EN}) {_W}{{0,2}}?"
        r"(?:approved|accepted|granted|rejected|declined|denied|refused|cancell?ed|terminated|processed|authori[sz]ed)\b"
        r"|\b(?:decide|make a decision|rule) (?:on|about|regarding) (?:my|our)\b"
        r"|\bwhat(?:'s| is) my (?:individual |personal |final )?(?:price|rate|discount|credit limit)\b"
        r"|\b(?:give|offer|make|get|do) (?:me|us) (?:a |an )?(?:[\w']+ )?(?:discount|deal|rebate|special offer|price cut|"
        r"(?:better|special|lower|individual|personal|cheaper) price|price reduction)\b"
        r"|\b(?:lower|reduce|drop|cut|match|adjust|negotiate) (?:the|my|your|this|our) (?:[\w']+ )?price\b"
        r"|\b(?:special|individual|personal|custom|better|lower) (?:price|discount|deal|offer|quote|rate) for (?:me|us)\b"
        r"|\b(?:what|how much) (?:of a )?(?:price|discount|deal|rate) (?:can|could|would|will) you (?:give|offer|do|make)\b"
    ),
    info=_c(
        r"\b(?:how|what|which|when|where|why|whether|who|if|in case|in general|generally|usually|typically|normally|"
        r"polic(?:y|ies)|procedure|explain|information|info|details about|tell me about|know|learn|understand|"
        r"possible|is there|are there|do you offer|do you have|do you provide)\b"
    ),
    request=_c(
        r"\b(?:can|could|would|will|won't|cant|can't) (?:you|u|ya)\b|\bplease\b|\bpls\b|\bkindly\b"
        r"|\b(?:you|u) (?:should|must|need to|have to)\b|\bi (?:want|wanna|need|demand|request|expect|insist|require)\b"
        r"|\bi'?d like\b|\bi would like\b|\bi'?m asking\b|\bi am asking\b"
    ),
    desire=_c(r"\bi (?:want|wanna|need|demand|request|expect|insist on|require)\b|\bi'?d like\b|\bi would like\b|\bgive me\b"),
    imperative=_c(
        r"^(?:(?:please|pls|kindly|just|so|ok|okay|then|now|hi|hello|hey|and)[ ,]+){0,3}"
        r"(?:approve|accept|authori[sz]e|reject|decline|deny|cancel|terminate|revoke|refund|reimburse|waive|process|grant|issue)\b"
    ),
    verb=_c(
        r"\b(?:approve|accept|authori[sz]e|reject|decline|refuse|cancel|terminate|revoke|refund|reimburse|waive|process|"
        r"grant|sign off on|okay|ok|extend|raise|increase)(?:s|d|ed|ing|led|ling)?\b|\bden(?:y|ies|ied|ying)\b"
        r"|\bissue (?:me |us )?(?:a |an |the |my )?(?:full |partial )?refund"
    ),
    cancel_verb=_c(r"\b(?:cancel|terminate|revoke|refund|reimburse|withdraw from)(?:s|d|ed|led|ing|ling)?\b"),
    give=_c(rf"\b(?:give|offer|grant|send|pay|get)(?:s|ing)? (?:me |us )?{_W}{{0,2}}?(?:{_GRANTABLE_EN})"),
    get=_c(r"\b(?:can|could|may|will|would|do|shall) (?:i|we) (?:still )?(?:get|have|receive|be given|be granted)\b"),
    obj=_c(rf"\b(?:{_OBJ_EN})"),
    cancellable=_c(rf"\b(?:{_CANCELLABLE})\b"),
    grantable=_c(rf"\b(?:{_GRANTABLE_EN})"),
    own=_c(_OWN_EN),
    states=_c(
        rf"\b(?:your|their) {_W}{{0,2}}?(?:{_OBJ_EN}|{_CANCELLABLE}|request|case) (?:request |application )?"
        r"(?:has been|have been|was|were|is|are|will be|got|'s been|has now been|is now|has|have)"
        r"(?: (?:now|already|officially|successfully|fully|hereby|unfortunately|sadly|been))*"
        r" (?:approved|accepted|granted|rejected|declined|denied|refused|cancell?ed|terminated|authori[sz]ed|processed|revoked|confirmed)\b"
        r"|\byou (?:are|'re|re|will be|have been|were|are now|'ve been)(?: (?:now|not|definitely|already|unfortunately|sadly|hereby|officially|fully))*"
        r" (?:eligible|ineligible|entitled|qualified|approved|accepted|rejected|declined|denied|pre ?approved|creditworthy)\b"
        r"|\byou (?:do not|don't|dont|do|will|will not|won't)? ?qualify\b"
        rf"|\byou(?:'ll| will| are going to| shall)? (?:receive|get|be granted|be given) {_W}{{0,3}}?(?:{_GRANTABLE_EN})"
        r"|\b(?:we|i)(?:'ve| have|'ll| will|'re| are| am|'m| hereby| now| gladly| happily| already| can| could|'d| would)*"
        r" (?:approve|approved|approving|accept|accepted|grant|granted|granting|reject|rejected|decline|declined|deny|denied|"
        r"cancel|cancell?ed|terminate|terminated|refund|refunded|refunding|reimburse|reimbursed|waive|waived|"
        r"authori[sz]e|authori[sz]ed|revoke|revoked) "
        rf"(?:you\b|your\b|the {_W}{{0,2}}?(?:{_OBJ_EN}|{_CANCELLABLE}))"
        r"|\b(?:we|i) (?:cannot|can ?not|can't|cant|won't|will not|are unable to|am unable to|are not able to|am not able to)"
        r" (?:approve|accept|grant|refund|reimburse|offer you|give you|cancel|terminate|waive|authori[sz]e) (?:you|your)\b"
        r"|\b(?:we|i)(?: can| could| will|'ll| would|'d)? (?:give|offer|grant|make) you (?:a |an )?"
        r"(?:special |individual |personal |exclusive |one[ -]time )?(?:\d+(?:[.,]\d+)? ?(?:%|percent|eur|euro|euros|dollars?|usd|chf|gbp)? ?)?"
        r"(?:discount|price|deal|rebate|reduction|off|refund)\b"
        r"|\byour (?:individual|personal|special|final) (?:price|rate|discount) (?:is|will be|would be)\b"
    ),
    deferral=_c(
        r"\b(?:human|person|colleague|staff|team|operator|agent|employee|specialist|advisor|clerk|manager|supervisor|"
        r"hand (?:it |them )?(?:off|over)|escalate|forward|refer)\b"
    ),
    deciding=_c(r"\b(?:decide|decides|decided|decision|review|reviewed|reviews|whether)\b"),
    instruct_verb=_c(
        r"\b(?:approve|accept|grant|authori[sz]e|reject|decline|deny|refuse|cancel|terminate|revoke|waive|decide|"
        r"determine|issue|refund|reimburse|adjust|lower|reduce|negotiate|set)\b"
    ),
    instruct_give=_c(rf"\b(?:give|offer|grant|promise|hand out)\b (?:[\w']+ ){{0,4}}?(?:{_GRANTABLE_EN}|free\b)"),
    instruct_self=_c(r"(?!)"),
    negation=_c(
        r"\b(?:never|not|don't|dont|do not|no|cannot|can't|cant|mustn't|must not|may not|shall not|nor|avoid|refrain)\b"
    ),
    person=_c(r"\b(?:customers?|users?|clients?|them|people|callers?|visitors?|members?|applicants?)\b"),
    gates={
        "request": (" you", " u ", " u,", " ya ", "please", "pls", "kindly", " i ", "d like", "asking"),
        "desire": (" i ", " i'd ", " id ", "give me"),
        "get": (" i ", " we "),
        "give": ("give", "offer", "grant", "send", "pay", "get"),
    },
)

DE = _Lexicon(
    strong=_cd(
        rf"\b(?:bin|ware|waren|sind) (?:ich|wir) {_W}?(?:berechtigt|anspruchsberechtigt|antragsberechtigt|bezugsberechtigt|"
        r"kreditwurdig|qualifiziert|zugelassen)\b"
        rf"|\b(?:habe|hab|hatte|haben) (?:ich|wir) {_W}?(?:einen |keinen |ein )?(?:anspruch|recht|anrecht) auf\b"
        rf"|\bsteht (?:mir|uns) {_W}{{0,4}}?zu\b"
        rf"|\b(?:erfulle|erfullen) (?:ich|wir) {_W}?(?:voraussetzungen|bedingungen|kriterien|anforderungen)\b"
        r"|\bqualifiziere (?:ich|wir) mich\b"
        rf"|\bob (?:ich|wir) {_W}{{0,4}}?(?:berechtigt|anspruchsberechtigt|kreditwurdig|qualifiziert|zugelassen) (?:bin|sind)\b"
        rf"|\bob (?:ich|wir) {_W}{{0,4}}?(?:anspruch|recht|anrecht) auf\b"
        rf"|\b(?:wird|wurde|ist|sind|werden) (?:mein|meine|meinen|unser|unsere)\w* {_W}{{0,2}}?(?:{_OBJ_DE}) {_W}{{0,4}}?"
        r"(?:genehmigt|bewilligt|angenommen|abgelehnt|akzeptiert|storniert|gekundigt|erstattet|bearbeitet|gewahrt|freigegeben|zugesagt)\b"
        r"|\bentscheide\w* (?:sie |du )?(?:bitte )?(?:uber|zu) mein\w*"
        r"|\b(?:preis|rabatt|konditionen|angebot) fur mich\b"
        rf"|\b(?:gib|gibst|geben|gebt|mach|machst|machen|gewahr\w*|biete|bietest|bieten) (?:sie |du )?(?:mir|uns) "
        rf"(?:einen |ein |eine |etwas )?{_W}?(?:rabatt|nachlass|preisnachlass|sonderpreis|sonderangebot|sonderkonditionen|"
        r"besseren preis|guten preis|deal|gutschrift)\b"
        r"|\b(?:individuell|personlich|speziell|besser|gunstig)\w* (?:preis|angebot|rabatt|konditionen) fur (?:mich|uns)\b"
        rf"|\b(?:mir|uns) (?:einen |ein |eine |etwas )?{_W}?(?:rabatt|nachlass|preisnachlass|sonderpreis|sonderangebot|"
        r"sonderkonditionen|besseren preis|guten preis|deal) (?:geben|machen|gewahren|anbieten|einraumen)\b"
        rf"|\b(?:senken|reduzieren) (?:sie|du) {_W}{{0,3}}?preis|\bmit dem preis {_W}?(?:runter|entgegen)"
        r"|\b(?:wie ?viel|welchen) (?:rabatt|nachlass|preis) (?:konnen|kannst|wurden|wurdest|geben|gebt) (?:sie|du)\b"
    ),
    info=_cd(
        r"\b(?:wie|was|welche\w*|wann|wo|warum|wieso|weshalb|ob|wer|wenn|falls|im allgemeinen|allgemein|grundsatzlich|"
        r"normalerweise|ublicherweise|generell|richtlinie\w*|bedingungen|regel\w*|ablauf|verfahren|information\w*|infos?|"
        r"erklar\w*|wissen|erfahren|moglich\w*|gibt es|bieten sie)\b"
    ),
    request=_cd(
        r"\b(?:kannst|konntest|konnen|konnten|wurden|wurdest|willst|wollen|mochten|mogen) (?:du|sie|ihr)\b|\bbitte\b"
        r"|\bich (?:will|mochte|hatte gerne?|verlange|fordere|brauche|benotige|beantrage|wunsche|bestehe)\b"
        r"|\b(?:sie|du) (?:sollen|sollst|mussen|musst)\b"
    ),
    desire=_cd(r"\bich (?:will|mochte|hatte gerne?|verlange|fordere|brauche|benotige|beantrage|wunsche|bestehe auf)\b"),
    imperative=_cd(
        r"^(?:(?:bitte|hallo|hi|ok|okay|also|dann|jetzt|und)[ ,]+){0,3}"
        r"(?:genehmig|bewillig|stornier|kundig|erstatt|akzeptier|gewahr|uberweis|zahl|lehn|widerruf|bearbeit)(?:e|en|t|et)?\b"
    ),
    verb=_cd(
        r"\b(?:genehmig|bewillig|akzeptier|gewahr|stornier|kundig|erstatt|zuruckerstatt|verweiger|bearbeit|widerruf|"
        r"ablehn|annehm|freigeb|zusag|auszahl|zuruckzahl|uberweis|senk|reduzier|erlass)(?:e|en|t|st|et|est|te|ten)?\b"
        rf"|\b(?:lehn|nimm|nehm|gib|geb|sag|zahl)(?:e|en|t|st)? {_W}{{0,5}}?(?:ab|an|frei|zu|zuruck|aus)\b"
    ),
    cancel_verb=_cd(r"\b(?:kundig|stornier|widerruf|erstatt|zuruckerstatt|zuruckzahl|rucktret)(?:e|en|t|st|et|est)?\b"),
    give=_cd(rf"\b(?:gib|gibst|geben|gebt|gewahr\w*|zahl\w*|uberweis\w*) (?:sie |du )?(?:mir |uns )?{_W}{{0,3}}?(?:{_GRANTABLE_DE})"),
    get=_cd(
        r"\b(?:bekomme|bekomm|kriege|krieg|erhalte|kriegen|bekommen|erhalten) (?:ich|wir)\b"
        rf"|\b(?:kann|konnte|darf) (?:ich|wir) {_W}{{0,4}}?(?:bekommen|erhalten|kriegen|haben)\b"
    ),
    obj=_cd(rf"\b(?:{_OBJ_DE})"),
    cancellable=_cd(rf"\b(?:{_CANCELLABLE})"),
    grantable=_cd(rf"\b(?:{_GRANTABLE_DE})"),
    own=_cd(_OWN_DE),
    states=_cd(
        rf"\b(?:ihr|ihre|ihren|ihrem|dein|deine|deinen|deinem) {_W}{{0,2}}?(?:{_OBJ_DE}|{_CANCELLABLE}|anliegen|fall) "
        rf"{_W}{{0,5}}?(?:genehmigt|bewilligt|angenommen|abgelehnt|akzeptiert|storniert|gekundigt|erstattet|gewahrt|"
        r"zugesagt|freigegeben|widerrufen|stattgegeben|bestatigt)\b"
        rf"|\b(?:sie|du) (?:sind|bist) {_W}{{0,2}}?(?:berechtigt|anspruchsberechtigt|kreditwurdig|qualifiziert|zugelassen)\b"
        rf"|\b(?:sie|du) (?:haben|hast) {_W}?(?:einen |keinen |ein )?(?:anspruch|anrecht) auf\b"
        rf"|\b(?:sie|du) (?:erhalten|erhaltst|bekommen|bekommst|kriegen|kriegst) {_W}{{0,3}}?(?:{_GRANTABLE_DE})"
        rf"|\b(?:wir|ich) {_W}?(?:genehmigen|genehmige|bewilligen|bewillige|erstatten|erstatte|gewahren|gewahre|stornieren|"
        r"storniere|kundigen|kundige|akzeptieren|akzeptiere|lehnen|lehne) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein|den|die|das)\b"
        rf"|\b(?:wir|ich) (?:haben|habe) (?:ihren|ihre|ihr|deinen|deine|dein|den|die|das|ihnen|dir) {_W}{{0,3}}?"
        r"(?:genehmigt|bewilligt|erstattet|storniert|gekundigt|abgelehnt|akzeptiert|angenommen|gewahrt|freigegeben)\b"
        rf"|\b(?:konnen|kann|werden|werde) (?:wir|ich) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein) {_W}{{0,5}}?"
        r"(?:genehmigen|bewilligen|erstatten|gewahren|akzeptieren|annehmen|stornieren|kundigen|ablehnen)\b"
        rf"|\b(?:wir|ich) (?:konnen|kann|werden|werde) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein) {_W}{{0,5}}?"
        r"(?:genehmigen|bewilligen|erstatten|gewahren|akzeptieren|annehmen|stornieren|kundigen|ablehnen)\b"
        rf"|\b(?:ich|wir) {_W}{{0,2}}?(?:ihnen|dir) {_W}{{0,3}}?(?:rabatt|nachlass|sonderpreis|preisnachlass|gutschrift|erstattung)"
        r"\w* (?:geben|gewahren|anbieten|machen|gutschreiben)\b"
        rf"|\b(?:gewahren|geben|bieten|machen) (?:wir|ich) (?:ihnen|dir) {_W}{{0,3}}?(?:rabatt|nachlass|sonderpreis|preisnachlass)"
        r"|\b(?:ihr|dein) (?:individueller|personlicher|spezieller) preis (?:betragt|ist|liegt)\b"
    ),
    deferral=_cd(
        r"\b(?:mensch\w*|mitarbeiter\w*|kolleg\w*|team\w*|berater\w*|sachbearbeiter\w*|vorgesetzt\w*|"
        r"weiterleit\w*|leite\w* \w+ weiter|leitest|weitergeb\w*|ubergib\w*|ubergeb\w*|eskalier\w*)\b"
    ),
    deciding=_cd(r"\b(?:entscheid\w*|gepruft|prufung|pruft|ob)\b"),
    instruct_verb=_cd(
        r"\b(?:genehmig|bewillig|akzeptier|gewahr|stornier|kundig|verweiger|ablehn|annehm|freigeb|zusag|entscheid|"
        r"senk|reduzier|erlass)(?:e|en|t|st)?\b"
        rf"|\b(?:lehn|nimm|nehm|gib|sag)(?:e|en|t|st)? {_W}{{0,5}}?(?:ab|an|frei|zu)\b"
    ),
    instruct_give=_cd(rf"\b(?:gib|gibst|geben|gewahre|gewahren|biete|bieten|versprich|versprechen)\b {_W}{{0,4}}?(?:{_GRANTABLE_DE})"),
    instruct_self=_cd(r"\b(?:erstatte|erstatten|kundige|storniere|stornieren|zahle \w+ zuruck)\b"),
    negation=_cd(r"\b(?:nie|niemals|nicht|kein\w*|keinesfalls|nimmer|weder|auf keinen fall|verboten)\b"),
    person=_cd(r"\b(?:kunden|kundinnen|nutzer\w*|ihnen|ihm|anrufer\w*|mitglieder\w*)\b"),
    prepare=_translit,
    gates={
        "request": (" du ", " du,", " sie ", " sie,", " ihr ", " ihr,", "bitte", " ich "),
        "desire": (" ich ",),
        "get": (" ich ", " wir ", " ich,", " wir,"),
        "give": ("gib", "geb", "gewahr", "zahl", "uberweis"),
    },
)
LEXICONS = (EN, DE)

# Trigger words per language (substrings of the folded text, so German compounds count): a
# sentence without any of them cannot be a decision request or statement in that language.
_TRIGGERS_EN = """
refund reimburs money compensat chargeback loan credit mortgage financ applica contract cancel terminat subscri
member claim warrant guarant discount price pricing quote rebate eligib entitled qualif insurance approv accept
reject declin deny denied refus grant authori waive revok order booking reservation purchase deal creditworth
decide decision rate offer extension limit right
"""
_TRIGGERS_DE = """
erstatt geld gutschrift entschäd schadensersatz kredit darlehen finanzier raten stundung antrag anträge vertrag
verträge kündig storn widerruf abo_ abos abonn mitglied bestellung buchung reservierung kauf reklamation garantie
gewährleist kulanz anspruch anrecht rabatt nachlass preis berechtig genehmig bewillig ablehn lehn akzeptier gewähr
zusag freigeb entscheid voraussetzung qualifizier zugelassen angebot konditionen recht steht_mir steht_uns
versicherung leistung deal zurück
"""
# Words without which the `strong` patterns cannot match: those patterns (the costliest) only run
# on sentences that hold one of them.
_STRONG_EN = """
eligib entitled qualif creditworth approved accepted meet_the right_to granted rejected declined denied refused
cancel terminated processed authori decide decision rule_on rule_about rule_regarding price rate discount limit
deal rebate offer quote
"""
_STRONG_DE = """
berechtigt kreditwürdig qualifiziert zugelassen anspruch recht steht_mir steht_uns erfülle qualifizier genehmigt
bewilligt angenommen abgelehnt akzeptiert storniert gekündigt erstattet bearbeitet gewährt freigegeben zugesagt
entscheid preis rabatt konditionen angebot nachlass deal gutschrift
"""
_EN_BIT, _DE_BIT, _EN_STRONG, _DE_STRONG = 1, 2, 4, 8
_AUTOMATON = ahocorasick.Automaton()
for _bits, _words in (
    (_EN_BIT, _TRIGGERS_EN), (_DE_BIT, _TRIGGERS_DE), (_EN_BIT | _EN_STRONG, _STRONG_EN), (_DE_BIT | _DE_STRONG, _STRONG_DE)
):
    for _spelling in _words.split():
        for _variant in spelling_variants(_spelling.replace("_", " ")):
            _word = fold(_variant).text
            _AUTOMATON.add_word(_word, (len(_word), _bits | _AUTOMATON.get(_word, (0, 0))[1]))
_AUTOMATON.make_automaton()
_CLAUSE_END = re.compile(r"[.!?;\n,:]+|\b(?:but|and|however|aber|und|jedoch|sondern)\b")


def _has_trigger(text: str) -> bool:
    for _ in _AUTOMATON.iter(text):
        return True
    return False


_BOUNDARY_CHARS = ".!?;\n"


def _sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (0 and after each run of . ! ? ; newline). str.find is
    memchr-fast, much faster than a regex scan over a long message."""
    ends: list[int] = []
    for char in _BOUNDARY_CHARS:
        index = text.find(char)
        while index >= 0:
            ends.append(index)
            index = text.find(char, index + 1)
    ends.sort()
    starts = [0]
    for index in ends:
        if index + 1 > starts[-1]:
            starts.append(index + 1)
        else:
            starts[-1] = index + 1
    return starts


def _triggered_sentences(text: str) -> list[tuple[str, str, tuple[tuple[_Lexicon, bool], ...]]]:
    """(previous sentence, sentence, (lexicon, whether its strong patterns may match) pairs) for
    the sentences that hold trigger words."""
    hits = list(_AUTOMATON.iter(text))
    if not hits:
        return []
    starts = _sentence_starts(text)
    masks: dict[int, int] = {}
    for end, (length, bits) in hits:
        index = bisect_right(starts, end - length + 1) - 1
        masks[index] = masks.get(index, 0) | bits
    starts.append(len(text))
    found = []
    for index, mask in masks.items():
        sentence = text[starts[index] : starts[index + 1]].strip(" .!?;\n,")
        if not sentence:
            continue
        previous = text[starts[index - 1] : starts[index]].strip(" .!?;\n,") if index > 0 else ""
        lexicons = []
        if mask & _EN_BIT:
            lexicons.append((EN, bool(mask & _EN_STRONG)))
        if mask & _DE_BIT:
            lexicons.append((DE, bool(mask & _DE_STRONG)))
        found.append((previous, sentence, tuple(lexicons)))
    return found


def _may(lex: _Lexicon, family: str, padded: str) -> bool:
    """A cheap necessary condition for a family's pattern: one of its gate substrings occurs."""
    return any(gate in padded for gate in lex.gates[family])


def _sentence_requests(lex: _Lexicon, previous: str, sentence: str, strong: bool = True) -> bool:
    if strong and lex.strong.search(sentence):
        return True
    if lex.info.search(sentence):
        return False
    padded = f" {sentence} "
    context = f"{previous} . {sentence}" if previous else sentence

    def has_obj() -> bool:
        return lex.obj.search(context) is not None

    if lex.imperative.search(sentence) and (has_obj() or lex.own.search(sentence) or lex.cancellable.search(sentence)):
        return True
    if _may(lex, "request", padded) and lex.request.search(sentence):
        if lex.verb.search(sentence) and has_obj():
            return True
        if lex.cancel_verb.search(sentence) and (lex.own.search(sentence) or has_obj() or lex.cancellable.search(context)):
            return True
        if _may(lex, "give", padded) and lex.give.search(sentence):
            return True
    if _may(lex, "desire", padded) and lex.desire.search(sentence) and lex.grantable.search(sentence):
        return True
    if _may(lex, "get", padded) and lex.get.search(sentence) and lex.grantable.search(sentence):
        return True
    return False


def requests_decision_folded(text: str) -> bool:
    """Whether folded end-customer text asks the avatar to decide the customer's own case."""
    for previous, sentence, lexicons in _triggered_sentences(text):
        for lex, strong in lexicons:
            if _sentence_requests(lex, lex.prepare(previous), lex.prepare(sentence), strong):
                return True
    return False


def states_decision_folded(text: str) -> bool:
    """Whether folded avatar output announces a decision with legal or similar effect."""
    for _, sentence, lexicons in _triggered_sentences(text):
        for lex, _strong in lexicons:
            read = lex.prepare(sentence)
            if lex.states.search(read) and not (lex.deferral.search(read) or lex.deciding.search(read)):
                return True
    return False


def requests_decision(text: str) -> bool:
    return requests_decision_folded(fold(text).text)


def states_decision(text: str) -> bool:
    return states_decision_folded(fold(text).text)


def _clause_instructs(lex: _Lexicon, clause: str) -> str | None:
    if lex.deferral.search(clause):
        return None
    for finder in (lex.instruct_verb, lex.instruct_give, lex.instruct_self):
        for match in finder.finditer(clause):
            before = clause[: match.start()]
            if lex.negation.search(before) or lex.info.search(before):
                continue
            verb_end = clause.find(" ", match.start())
            rest = clause[: match.start()] + " " + (clause[verb_end:] if verb_end > 0 else "")
            if finder is lex.instruct_verb and not (
                lex.obj.search(rest) or lex.cancellable.search(rest) or lex.person.search(clause[match.end() :])
            ):
                continue
            return clause.strip()
    return None


def instructs_decision(text: str) -> str | None:
    """The clause of a style instruction that tells the avatar to decide, if any."""
    folded = fold(text).text
    if states_decision_folded(folded):
        return folded.strip()
    if not _has_trigger(folded):
        return None
    for clause in _CLAUSE_END.split(folded):
        for lex in LEXICONS:
            found = _clause_instructs(lex, lex.prepare(clause))
            if found:
                return found
    return None


# ---------------------------------------------------------------------------------------------
# The AI disclosure (EU AI Act Art. 50).

_AI_TERMS = (
    r"\b(?:ai|a i|artificial intelligence|bot|chatbot|chat bot|virtual assistant|digital assistant|language model|llm|"
    r"automated system|machine|ki|kunstliche intelligenz|kunstlicher intelligenz|virtueller assistent|digitaler assistent|"
    r"sprachmodell|automatisiertes system|computerprogramm|ia)\b|\bki[ -]\w+|\w+[ -]?(?:bot|ki)\b"
)
_SAYS_AI = re.compile(_AI_TERMS)
_HIDES_AI = re.compile(
    rf"\b(?:not|never|don't|dont|do not|avoid|without|hide|conceal|deny|denying|nicht|nie|niemals|kein|keine|keinesfalls|"
    rf"verschweige\w*|verheimliche\w*|verberge\w*|verstecke\w*|leugne\w*)\b{_SENT}{{0,60}}?(?:{_AI_TERMS})"
    r"|\b(?:pretend|claim|act as if|act like|present yourself as|pose as|introduce yourself as|impersonate|say) (?:to be |you are |that you are |you're )?"
    r"(?:an? )?(?:real )?(?:human|person|employee|staff member|member of staff|mensch)\b"
    r"|\bgib (?:dich|dir) {0,1}(?:\w+ ){0,2}als (?:ein\w* )?(?:mensch|person|mitarbeiter\w*|angestellt\w*) aus\b"
    r"|\btu(?:e|n sie)? so,? als (?:ob |wa?rst |waren sie )?(?:du |sie )?(?:ein\w* )?(?:mensch|person|mitarbeiter\w*)"
    r"|\b(?:skip|omit|drop|disable|remove|leave out|switch off|turn off) (?:the )?(?:ai )?disclosure\b"
    r"|\b(?:weglassen|auslassen|deaktivier\w*|abschalt\w*)\b.{0,30}\b(?:hinweis|offenlegung)"
)


def discloses_ai(text: str, language: str) -> bool:
    """Whether a disclosure wording says that the avatar is an AI (and does not deny it).

    Checked for English and German wording; for other languages only denial is detected."""
    folded = fold(text).text
    if _HIDES_AI.search(folded):
        return False
    if language.split("-", 1)[0].lower() in ("en", "de"):
        return _SAYS_AI.search(folded) is not None
    return bool(folded.strip())


def disables_disclosure(text: str) -> bool:
    """Whether a style instruction would make the avatar hide that it is an AI."""
    return _HIDES_AI.search(fold(text).text) is not None
