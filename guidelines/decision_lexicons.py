"""The decision guard's lexicons: per language, the regular expressions that read requests for a
decision, announced decisions and instructions to decide, in English, German, French, Spanish,
Italian and Dutch.

Kept apart from `decisions`, which holds the trigger pre-pass and the sentence reading, so that a
language's vocabulary can grow without the reading logic drowning in it. Everything here reads
folded text (see `normalize`); the vocabulary several lexicons share is in `decision_vocabulary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from guidelines.decision_vocabulary import (
    CANCELLABLE,
    CANCELLABLE_NL,
    GRANTABLE_DE,
    GRANTABLE_EN,
    GRANTABLE_NL,
    NEGATION_FOLLOWS_NL,
    NO_NL,
    NOT_NL,
    OBJ_DE,
    OBJ_EN,
    OBJ_NL,
    OWN_DE,
    OWN_EN,
    RECIPIENT_NL,
    WORD,
)


# Talking verbs after "decline to"/"refuse to": refusing the talk decides nothing ("Decline to discuss refunds").
_TALK_EN = (
    r"(?:discuss|comment|speculate|talk|answer|disclose|share|reveal|explain|elaborate|debate|argue|chat|respond|reply|"
    r"engage|go into|get into"
    # refusing to decide is the prohibition itself ("Refuse to make any refund decision")
    r"|(?:make|take) (?:[\w']+ ){0,2}?decisions?)"
)


# Promising verbs after "decline to"/"refuse to": refusing to promise decides nothing ("Refuse to promise refunds").
_PROMISE_EN = r"(?:promise|guarantee|pledge|commit to|make (?:any )?promises?|give (?:any )?guarantees?)"

def _handles(verbs: str, topic: str, objects: str, own: str, last: str = "", after: str = "") -> str:
    """An `instruct_self` pattern: handling a decision object oneself decides it ("Handle refund requests
    yourself", "Deal with cancellations yourself"); questions about it do not ("Handle questions about refunds
    yourself", "Handle refund questions yourself"). One of `verbs`, up to three words without a `topic` word
    (a topic preposition or a question noun), one of `objects`, then `last` (a lookbehind on its end) and no
    `after` word (default: `topic`); one of `own` up to eight words after the verb."""
    return (
        rf"\b(?:{verbs})\b(?= (?:[\w']+ ){{0,8}}?(?:{own})\b)"
        rf" (?:(?!(?:{topic})\b)[\w']+ ){{0,3}}?(?:{objects})\w*\b{last}"
        rf"(?! (?:{after or topic})\b)"
    )


_HANDLE_TOPIC_EN = r"about|regarding|concerning|on|questions?|inquir\w*|enquir\w*|polic(?:y|ies)|info\w*|faqs?|details"
_HANDLES_EN = _handles(
    r"handle|deal with|process|take care of|resolve|settle|manage|sort out|look after|take over",
    _HANDLE_TOPIC_EN,
    r"refund|reimburse|cancell?ation|returns?\b|chargeback|claims?\b|compensation|discount|termination",
    r"yourself|on your own|by yourself|independently|alone",
    # not "on": "... on your own"; a question noun after up to two words of a compound ("Handle return shipping
    # questions yourself")
    after=r"(?:(?!(?:and|or|but|yourself|by|on|independently|alone)\b)[\w']+ ){0,2}?"
    r"(?:questions?|inquir\w*|enquir\w*|polic(?:y|ies)|info\w*|faqs?|details)",
)

# What someone gets in a content clause after "promise that" (see `EN.instruct_give`).
_GETS_EN = r"(?:gets?|receives?|(?:will|shall|'ll|can) (?:get|receive|have)|(?:is|are|will be|be) (?:given|granted|offered))"

# Whom "issue" hands something to or provides with ("Issue the customer with a refund").
_RECIPIENT_EN = r"(?:customers?|clients?|users?|them|him|her|people|buyers?|members?|callers?|guests?|visitors?|applicants?)"


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
class Lexicon:
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
    # Matched at a decision verb: an object pronoun right after it ("reject it", "lehne sie ab", "refuse-le",
    # "recházalo"), which may stand for the decision object of the clause before.
    pronoun: re.Pattern[str]
    gates: dict[str, tuple[str, ...]]  # substrings (of " sentence ") without which a family cannot match
    prepare: Callable[[str], str] = _same  # how a sentence is brought into the patterns' form
    # Matched from the end of the decision verb: a later negation that negates it ("keur ... nooit
    # goed", "genehmige ... nie selbst"). None where a negation comes before the verb.
    negation_follows: re.Pattern[str] | None = None
    # What else an instruction's decision verb may decide, besides `obj` and `cancellable`: returns and fees
    # ("Decline to accept returns", "Waive the fee"). Only for instructions: a customer's "return" or "fee"
    # is read as before.
    instruct_obj: re.Pattern[str] = _c(r"(?!)")
    # Matched at a decision verb: one that rejects ("reject", "lehne ... ab", "refuse"). After "never" it
    # grants: "Never refuse a refund" tells the avatar to grant every one (see `decisions._never_rejects`).
    reject: re.Pattern[str] = _c(r"(?!)")
    # "never" and its kin, which make a rejection verb a grant; "not" is left out: "Don't reject refunds"
    # is as likely to mean "leave it to a person".
    never: re.Pattern[str] = _c(r"(?!)")
    # The verb of `instruct_give` alone: "Give customers information and a discount" gives the discount too.
    give_verb: re.Pattern[str] = _c(r"(?!)")
    # Verbs of processing ("process", "verwerken", "bearbeiten"): a decision only as what "never refuse" governs, with a
    # decision object ("Weiger nooit om annuleringen te verwerken" decides every one, as "Refuse to process
    # cancellations" refuses them); alone they may mean recording or passing on ("Verwerk de feedback van klanten").
    process_verb: re.Pattern[str] = _c(r"(?!)")


def _not_after(words: str, following: str) -> str:
    """At a word that starts with `following`, not right after one of the |-separated `words` (one fixed-width lookbehind
    per word length). The lookahead comes first: the lookbehinds then only run where `following` is."""
    by_length: dict[int, list[str]] = {}
    for word in words.split("|"):
        by_length.setdefault(len(word), []).append(word)
    return rf"\b(?={following})" + "".join(rf"(?<!\b(?:{'|'.join(group)}) )" for group in by_length.values())


# The privacy review's phrasings of a decision in English output (see tests.guidelines.test_decisions_gaps_review).
# A "you"/"your" clause after these words is a condition or a question, not an announcement ("If your claim is
# approved, ...", "Once your refund has been issued, ...", "as long as you meet the criteria", "Does your application
# meet the requirements?").
_IF_EN = (
    "if|whether|once|when|whenever|unless|until|after|before|provided|providing|assuming|sure|long as|how|do|does|did|see|"
    "check|check that|sure that|ensure|ensure that|verify|verify that"
)
# What is granted to "you" ("we can give you the loan", "we are happy to offer you the position"), not what only
# qualifies something else ("the loan application form", "the refund policy", "the job description").
_GRANTED_EN = r"(?:loan|mortgage|credit(?! card)|refund|reimbursement|compensation|extension|waiver|job|position|apprenticeship|internship)"
_NOT_ABOUT_EN = (
    r"(?! (?:polic(?:y|ies)|forms?|process|procedures?|details|terms|conditions|status|information|info|options|numbers?|links?|"
    r"pages?|applications?|requests?|calculators?|rates?|requirements|documents|criteria|advisors?|team|description|ads?|"
    r"adverts?|listings?|postings?|consultation|quotes?|appointments?|comparison|overview|simulation|amount|estimates?|"
    r"timelines?|interview|questions?)\b)"
)
# What a refusal to offer or give decides ("we cannot offer you insurance"); not a quote or a price, which may only not
# be given here ("We cannot give you a quote online").
_REFUSED_EN = (
    r"(?:loan|mortgage|credit(?! card)|refund|reimbursement|compensation|insurance|cover(?:age)?|contract|membership|"
    r"subscription|financing|warrant(?:y|ies)|guarantee|chargeback|job|position)"
)
# Before the verb: auxiliaries and what may stand between them ("we'd be happy to", "I have now", "we have decided to").
_AUX_EN = (
    r"(?:'d|'ll|'re|'m|'ve| can| could| will| would| shall| are| am| have| had| now| also| just| already| gladly| happily|"
    r" hereby| be| able to| pleased to| happy to| delighted to| glad to| like to| love to| going to| decided to| chosen to|"
    r" opted to)"
)
_NOT_EN = (
    r"(?:cannot|can ?not|can't|cant|won't|will not|wouldn't|would not|do not|don't|did not|didn't|no longer|unable to|"
    r"not able to|not in a position to|decided not to|chosen not to|not)"
)
# Money that was or will be paid out, issued or credited: "your refund has been issued", "I have issued a full refund".
_PAYOUT_EN = r"(?:refund|reimbursement|compensation|payout|chargeback|credit note|store credit|goodwill payment)"
_PAID_EN = r"(?:paid(?! off)|issued|credited|sent|transferred|disbursed|released|refunded)"
# A base form only after what makes it a promise ("we will issue"), not a habit ("we issue refunds within 14 days").
_ISSUE_EN = (
    r"(?:issued|credited|processed|initiated|arranged|transferred|released|paid|sent|issuing|crediting|"
    r"(?:(?<=will )|(?<='ll )|(?<=to )|(?<=can )|(?<=shall ))(?:issue|credit|send|pay|transfer))"
)
_LIMIT_EN = r"(?:(?:credit|card|spending|overdraft|borrowing|transaction) )?(?:limit|overdraft|credit line|credit facility)s?"
_CHANGED_EN = r"(?:raised|increased|lowered|reduced|decreased|cut|doubled|adjusted)"
_CHANGE_EN = r"(?:raise|increase|lower|reduce|decrease|cut|double|adjust)(?:d|s|ing)?"
_CRITERIA_EN = (
    r"(?:meet|meets|met|satisfy|satisfies|satisfied|fulfil|fulfill|fulfils|fulfills|fulfilled|falls? short of|fell short of) "
    r"(?:(?:all|any|one|some|each|none|of|the|our|your|its|these|those|minimum|basic|necessary|required|eligibility|lending|"
    r"credit|underwriting|application|loan|insurance) )*(?:criteria|requirements?|conditions|threshold|standards?)\b"
)
# Every alternative of `EN.states` starts with one of these words: "your"/"their", "you", "we"/"i", "a"/"the". The
# pattern is grouped by them, behind a lookahead on their first letters, so that the other words of a sentence cost one
# character test each.
_STATES_YOUR_EN = (  # after "your"/"their" and up to two words
    rf"(?:{OBJ_EN}|{CANCELLABLE}|request|case) (?:request |application )?"
    r"(?:has been|have been|was|were|is|are|will be|got|'s been|has now been|is now|has|have)"
    r"(?: (?:now|already|officially|successfully|fully|hereby|unfortunately|sadly|been|not))*"
    r" (?:approved|accepted|granted|rejected|declined|denied|refused|cancell?ed|terminated|authori[sz]ed|processed|revoked|confirmed)\b"
    # 2. outcomes ("Your claim was unsuccessful", "Your claim has been upheld")
    rf"|(?:{OBJ_EN}|request|case) (?:(?:has|have|was|were|is|are|will|not|been|be|now|so far|unfortunately|sadly|finally|"
    r"already) )*(?:successful|unsuccessful|upheld|honou?red)\b"
    # 6. money paid out, any tense ("Your refund has been issued", "Your insurance claim will not be paid")
    rf"|(?:{_PAYOUT_EN}|claim|loan|money)\w* (?:(?:has|have|was|were|is|are|will|'s|now|been|be|already|successfully|fully|"
    rf"just|not|also) )*{_PAID_EN}\b"
    # 3. not renewed ("Your contract will not be renewed"; not "... renewed automatically")
    r"|(?:contract|subscription|membership|loan|lease|policy|insurance|cover|agreement|employment|tenancy)\w* (?:will not|won't|"
    r"will no longer|is not going to|isn't going to|cannot|can't|can not|has not been|hasn't been|was not|wasn't|is not being|"
    r"isn't being)(?: be)? (?:renewed|extended|continued|prolonged)\b(?!(?: [\w']+){0,3} automatically)"
    # 5. a limit changed ("Your credit limit has been raised to 5000 EUR")
    rf"|{_LIMIT_EN} (?:(?:has|have|was|were|is|will|'s|now|been|be|already|just|temporarily|permanently|not) )*{_CHANGED_EN}\b"
    # 4. criteria ("Your application did not meet our criteria")
    rf"|(?:{OBJ_EN}|request|case|profile) (?:(?:do|does|did|still|fully|clearly|unfortunately|sadly|currently|now|already|not|"
    rf"don't|doesn't|didn't|dont|doesnt|didnt) )*{_CRITERIA_EN}"
)
_STATES_YOU_EN = (  # after "you"
    r" (?:are|'re|re|will be|have been|were|are now|'ve been)(?: (?:now|not|definitely|already|unfortunately|sadly|hereby|"
    r"officially|fully))* (?:eligible|ineligible|entitled|qualified|approved|accepted|rejected|declined|denied|pre ?approved|"
    r"creditworthy)\b"
    rf"|(?:'ll| will| are going to| shall)? (?:receive|get|be granted|be given) {WORD}{{0,3}}?(?:{GRANTABLE_EN})"
    # 1. "you got the job", "you're hired"
    r"|(?:'ve| have)? (?:got|landed|secured) the (?:job|position|role|loan|mortgage)\b"
    r"|(?:'re| are|'ve been| have been| were)(?: now)? hired\b"
)
_STATES_YOU_IF_EN = (  # after "you", not in a condition or question ("If you qualify, ...", "If you meet the criteria, ...")
    r" (?:do not|don't|dont|do|will|will not|won't)? ?qualify\b"
    # 4. criteria ("You do not meet our lending criteria", "You meet all the requirements")
    r"| (?:(?:do|does|did|still|fully|clearly|unfortunately|sadly|currently|now|already|not|don't|doesn't|didn't|dont|doesnt|"
    rf"didnt) )*{_CRITERIA_EN}"
)
_STATES_WE_EN = (  # after "we"/"i"
    r"(?:'ve| have|'ll| will|'re| are| am|'m| hereby| now| gladly| happily| already| can| could|'d| would)*"
    r"(?: (?:decided|chosen|opted) to)? (?:approve|approved|approving|accept|accepted|grant|granted|granting|reject|rejected|"
    r"decline|declined|deny|denied|cancel|cancell?ed|terminate|terminated|refund|refunded|refunding|reimburse|reimbursed|waive|"
    r"waived|authori[sz]e|authori[sz]ed|revoke|revoked) "
    rf"(?:you\b|your\b|the {WORD}{{0,2}}?(?:{OBJ_EN}|{CANCELLABLE}))"
    r"| (?:cannot|can ?not|can't|cant|won't|will not|are unable to|am unable to|are not able to|am not able to)"
    r" (?:approve|accept|grant|refund|reimburse|offer you|give you|cancel|terminate|waive|authori[sz]e) (?:you|your)\b"
    r"|(?: can| could| will|'ll| would|'d)? (?:give|offer|grant|make) you (?:a |an )?"
    r"(?:special |individual |personal |exclusive |one[ -]time )?(?:\d+(?:[.,]\d+)? ?(?:%|percent|eur|euro|euros|dollars?|usd|chf|gbp)? ?)?"
    r"(?:discount|price|deal|rebate|reduction|off|refund)\b"
    # 1. giving what is granted, with a negation or without ("we can give you the loan", "we are unable to offer you a
    # loan"); 5. a limit changed; 6. a refund issued ("I have issued a full refund to your card")
    rf"|{_AUX_EN}*(?: (?P<not_en>{_NOT_EN}))?(?: be)?(?: able to)? (?:(?:give|offer|grant|provide|extend|approve|award|lend)(?:ing)? you "
    r"(?:with )?(?:(?:a|an|the|your|this|that|any|full|partial|new|requested|personal|\d+(?:[.,]\d+)?|eur|euros?|dollars?|usd|"
    rf"gbp|chf|%|percent) )*{_GRANTED_EN}\b{_NOT_ABOUT_EN}"
    rf"|{_CHANGE_EN} your {_LIMIT_EN}\b|(?:{_ISSUE_EN}) (?:you |to you )?(?:(?:a|an|the|your|full|partial|complete) )*{_PAYOUT_EN}\b"
    rf"{_NOT_ABOUT_EN}"
    # only with the negation: refusing to offer what a decision is about ("we cannot offer you insurance"), not renewing
    # ("We will not be extending your contract"), not going on with the case ("we will not be moving forward with your
    # application")
    r"|(?(not_en)(?:(?:offer|give|grant|provide|extend|approve|issue|award)(?:ing)? you (?:with )?"
    r"(?:(?:a|an|the|any|your|this|that|such|more|further) )?(?:(?!(?:about|on|regarding|of|for|with|to)\b)[\w']+ )?"
    rf"(?:{_REFUSED_EN}|{GRANTABLE_EN})\b{_NOT_ABOUT_EN}"
    r"|(?:renew|extend|continu|prolong)(?:e|ed|ing)? (?:your|the) (?:[\w']+ ){0,2}?(?:contract|subscription|membership|loan|lease|"
    r"policy|insurance|cover|agreement|employment|tenancy|credit)\w*\b(?!(?: [\w']+){0,3} automatically)"
    r"|(?:proceed|proceeding|move forward|moving forward|go ahead|going ahead|continue|continuing|progress|progressing) with your\b)"
    r"|(?!)))"
)
_STATES_EN = (
    r"(?=[ywita])(?:"
    rf"{_not_after(_IF_EN, 'your |their ')}(?:your|their) (?:(?:individual|personal|special|final) (?:price|rate|discount) "
    rf"(?:is|will be|would be)\b|{WORD}{{0,2}}?(?:{_STATES_YOUR_EN}))"
    rf"|\byou(?:{_STATES_YOU_EN})|{_not_after(_IF_EN, 'you ')}you(?:{_STATES_YOU_IF_EN})"
    rf"|\b(?:we|i)\b(?:{_STATES_WE_EN})"
    # 6. a refund issued, with an article: only once it is done ("A full refund has been issued to your card"; not
    # "A refund will be issued once the item arrives", "Refunds are usually issued within 5 days")
    rf"|{_not_after(_IF_EN, f'(?:a|the)(?: full| partial| complete)? {_PAYOUT_EN} ')}(?:a|the)(?: full| partial| complete)? "
    rf"{_PAYOUT_EN} (?:has been|has now been|has just been|"
    r"was|have been) (?:issued|paid|credited|sent|processed|transferred|released)\b"
    r")"
)

# The review's requests (strong: whatever else the sentence says): whether one gets the job ("Do I get the job?", not
# "How do I get the job?" or "Where do I get the job application form?"), whether a claim is paid or a limit raised
# ("Will my insurance claim be paid?", "Will you pay my claim?", "Will my credit limit be raised?").
_REQUESTS_REVIEW_EN = (
    rf"|{_not_after('how|where|when|why|what|which', '(?:do|did|will|would|can|could|shall|have|am|are|was|were) ')}"
    r"(?:(?:do|did|will|would|can|could|shall|have|am|are) (?:i|we) (?:still |actually |really |finally )?(?:get|got|land|"
    r"landed|going to get|gonna get|be offered|been offered|getting) (?:the|this|that|a|my) (?:job|position|role|post|"
    r"apprenticeship|internship)\b(?! (?:application|ad|advert|description|listing|posting|offer letter|form|portal|page|"
    r"interview)s?\b)"
    r"|(?:am|are|have|was|were|will|did) (?:i|we)(?: been| be| going to be| gonna be| get)? (?:hired|employed|taken on)\b"
    rf"|(?:will|would|can|could|do|did) you (?:pay|pay out|honou?r|cover|settle) (?:my|our) {WORD}{{0,2}}?"
    r"(?:claim|refund|compensation|reimbursement))"
    rf"|\b(?:is|was|has|have|will|did|can|could) (?:my|our) (?:{WORD}{{0,2}}?(?:claim|refund|compensation|reimbursement|payout|"
    rf"chargeback)\w* {WORD}{{0,3}}?paid\b(?! off| for| by)"
    rf"|{_LIMIT_EN} {WORD}{{0,3}}?(?:raised|increased|lowered|reduced|extended|doubled)\b)"
)


EN = Lexicon(
    strong=_c(
        r"\b(?:am i|are we|would i be|will i be|i am|i'm|im|is my \w+)(?: going to be| gonna be)? (?:still |even |also |now |already )?"
        r"(?:eligible|entitled|qualified|creditworthy|approved|accepted|pre ?approved)\b"
        r"|\bdo (?:i|we) (?:still |even )?(?:qualify|meet (?:the|your|our|all|all the|all your) (?:[\w']+ )?(?:requirements|criteria|conditions)"
        r"|have (?:a|the) right to)\b"
        r"|\b(?:check|verify|assess|evaluate|determine|decide|see|tell me) (?:if|whether) (?:i|we)(?:'m| am| are|'re)? "
        rf"{WORD}?(?:eligible|entitled|qualify|qualified|approved)\b"
        rf"|\b(?:is|was|has|have|will) (?:my|our) {WORD}{{0,2}}?(?:{OBJ_EN}) {WORD}{{0,3}}?"
        r"(?:approved|accepted|granted|rejected|declined|denied|refused|cancell?ed|terminated|processed|authori[sz]ed|upheld|"
        r"honou?red|successful)\b"
        + _REQUESTS_REVIEW_EN +
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
    give=_c(rf"\b(?:give|offer|grant|send|pay|get)(?:s|ing)? (?:me |us )?{WORD}{{0,2}}?(?:{GRANTABLE_EN})"),
    get=_c(
        r"\b(?:can|could|may|will|would|do|shall) (?:i|we) (?:still )?(?:get|have|receive|be given|be granted)\b"
        r"|\b(?:am i|are we) (?:still )?(?:going to|gonna) (?:get|have|receive|be given|be granted)\b"
    ),
    obj=_c(rf"\b(?:{OBJ_EN})"),
    cancellable=_c(rf"\b(?:{CANCELLABLE})\b"),
    grantable=_c(rf"\b(?:{GRANTABLE_EN})"),
    own=_c(OWN_EN),
    states=_c(_STATES_EN),
    deferral=_c(
        r"\b(?:humans?|person|people|colleagues?|staff|teams?|operators?|agents?|employees?|specialists?|advisors?|clerks?|"
        r"managers?|supervisors?|hand (?:it |them )?(?:off|over)|escalate|refer)\b"
        # not "moving forward with your application", "we look forward to"
        r"|\b(?=forward\b)(?<!\bmove )(?<!\bmoving )(?<!\bgoing )(?<!\blook )(?<!\blooking )forward"
    ),
    # "decided" after "we"/"I" announces the decision ("We have decided not to renew your contract"), elsewhere it talks
    # about one ("Whether your refund is approved is decided by our team").
    deciding=_c(
        r"\b(?:decide|decides|decision|review|reviewed|reviews|whether)\b|"
        + _not_after("we|i|we have|i have|we've|i've|we had|i had|we now|we have now|i have now|we've now|i've now", "decided\\b")
        + r"decided\b"
    ),
    # "refund" before "request(s)", "policy"... is the noun of "refund requests" ("Record refund requests so
    # that the team does not lose them", "Decline to comment on the refund policy"), not the verb; not before
    # what may be its object ("Refund claims under 50 EUR yourself"). "issue" decides only what it hands out
    # ("issue the customer a refund", "issue the customer with a refund", "issue to the customer a refund"), not
    # something else for it ("Issue a ticket for refund requests").
    # "decline to"/"refuse to" a talking verb refuses only the talk ("Decline to discuss refunds"); before any
    # other verb it refuses what follows ("Refuse to honour cancellations", "Decline to make refunds"). French
    # "refuse de" is left to the French lexicon.
    instruct_verb=_c(
        rf"\b(?:approve|accept|grant|authori[sz]e|reject|decline(?! to {_TALK_EN}\b| to {_PROMISE_EN}\b)|deny|refuse(?! (?:de|d)\b| to {_TALK_EN}\b| to {_PROMISE_EN}\b)|"
        r"cancel|terminate|turn down|"
        r"revoke|waive|decide|determine|reimburse|adjust|lower|reduce|negotiate|set"
        r"|refund(?! (?:requests?|policy|details|forms?|process|procedure|status|questions?|inquir(?:y|ies)|enquir(?:y|ies)|"
        r"tickets?)\b)"
        rf"|issue(?= (?:it\b|(?:to (?:[\w']+ ){{0,2}}?{_RECIPIENT_EN} |(?:[\w']+ ){{0,2}}?{_RECIPIENT_EN} with )?"
        rf"(?:(?!(?:for|about|on|of|regarding|to|with)\b)[\w']+ ){{0,4}}?(?:{OBJ_EN}|{GRANTABLE_EN}))))\b"
    ),
    # An amount before what is given counts as no word ("Give customers information and a 10 % discount",
    # folded "a 10 discount").
    instruct_give=_c(
        rf"\b(?:give|offer|grant|promise|guarantee(?! that\b)|hand out|provide|hand over)\b (?:[\w']+ ){{0,4}}?(?:\d[\d.,]* (?:eur |euros? |dollars? |percent |per cent )?)?"
        rf"(?:{GRANTABLE_EN}|free\b)"
        # A promise that someone gets it ("Promise that every customer gets a refund", "Promise customers that they
        # will receive a discount"); one about how it goes is none (see `decisions._promised_as_information`).
        rf"|\b(?:promise|guarantee|assure)\b (?:[\w']+ ){{0,3}}?that (?:[\w']+ ){{0,4}}?{_GETS_EN} (?:[\w']+ ){{0,3}}?"
        rf"(?:{GRANTABLE_EN})"
        # Whom it is given to, with a relative clause about them that does not end on a preposition or article
        # ("Give customers who ask for information a discount"; not "Give customers who ask about a discount
        # the policy").
        rf"|\bgive (?:{_RECIPIENT_EN}|anyone|everyone|those|people) (?:who|that) (?:[\w']+ ){{1,5}}?"
        r"(?<!\bto )(?<!\bof )(?<!\bon )(?<!\ba )(?<!\bfor )(?<!\ban )(?<!\bthe )(?<!\bany )(?<!\bsome )(?<!\babout )"
        r"(?<!\bregarding )(?:a |an |the |some )?(?:\d[\d.,]* (?:eur |euros? |dollars? |percent |per cent )?)?"
        rf"(?:{GRANTABLE_EN})(?!\w* (?:polic(?:y|ies)|forms?|process|procedure|codes?|links?|pages?|status|details|rules|terms)\b)"
    ),
    instruct_self=_c(_HANDLES_EN),
    # Refusing to promise is declining to decide ("Refuse to promise refunds"): read before what is promised, and
    # before a noun that reads like a decision verb within three words after the promise ("Decline to guarantee
    # a refund"). Any other verb after "refuse to" is a decision verb's object, which `instruct_verb` finds first
    # ("Refuse to give refunds").
    negation=_c(
        r"\b(?:never|not|don't|dont|do not|no|cannot|can't|cant|mustn't|must not|may not|shall not|nor|avoid|refrain)\b"
        rf"|\b(?:refus|declin)(?:e|es|ing) to (?:{_PROMISE_EN} (?:[\w']+ ){{0,3}}?)?$"
    ),
    # Not a possessive before something else ("Determine the customer's language"); before their case or
    # return it is them ("Decide the customer's case", "Accept the customer's return").
    person=_c(
        r"\b(?:customers?|users?|clients?|them|people|callers?|visitors?|members?|applicants?)\b"
        r"(?!'s? (?!(?:cases?|requests?|appeals?|disputes?|complaints?|matters?|returns?|exchanges?|fees?|penalt(?:y|ies))\b)\w)"
    ),
    # "this"/"that" only where no noun follows ("approve that yourself", not "approve that form").
    pronoun=_c(r"\S+ (?:it\b|(?:this|that|these|those)(?= *$| (?:yourself|directly|immediately|right away|at once|then)\b))"),
    # not the topic of something else ("Set expectations about returns")
    instruct_obj=_c(
        r"(?<!\babout )(?<!\bregarding )(?<!\bconcerning )(?<!\babout the )(?<!\babout any )"
        r"\b(?:returns|(?:the|a|any|every|each|this|that|their|his|her|its|your) return"
        r"(?! (?:address|label|date|policy|window|period|process|form|shipping|instructions|call)\b)|exchanges|"
        r"(?:late |cancell?ation |service |admin |booking |delivery |shipping |restocking )?(?:fees?|surcharges?|penalt(?:y|ies)))\b"
    ),
    reject=_c(r"(?:reject|refuse|deny|decline|turn down)\b"),
    never=_c(r"\b(?:never|under no circumstances|at no time|(?:don't|dont|do not) ever)\b"),
    give_verb=_c(r"\b(?:give|offer|grant|promise|guarantee|hand out|provide|hand over)\b"),
    process_verb=_c(r"process\b"),
    gates={
        "request": (" you", " u ", " u,", " ya ", "please", "pls", "kindly", " i ", "d like", "asking"),
        "desire": (" i ", " i'd ", " id ", "give me"),
        "get": (" i ", " we "),
        "give": ("give", "offer", "grant", "send", "pay", "get"),
    },
)

# "behandle" as "bearbeite": "Behandle Erstattungen selbst", as Dutch "Behandel terugbetalingen zelf" and "Handle refund
# requests yourself" (not "Behandle Fragen zu Erstattungen selbst", nor "Behandle Kunden freundlich" without "selbst").
_HANDLES_DE = _handles(
    r"behandle|behandele|behandelt|behandeln|bearbeite|bearbeitet|bearbeiten|erledige|erledigt|erledigen|kummere dich|kummer dich|kummert euch|kummern sie sich|"
    r"regle|regele|regelt|regeln",
    r"zu|zum|zur|uber|bezuglich|wegen|nach|\w*fragen?|\w*anfragen?|informationen",
    r"(?:ruck)?erstattung|kundigung|storn|widerruf|rucksendung|retoure|ruckgabe|gutschrift|rabatt|entschadigung",
    r"selbst|selber|eigenstandig|allein",
    # not a compound about it: "Erstattungsfragen", "Erstattungsrichtlinie", "Rückgabeinformationen", "Kündigungsformular"
    r"(?<!frage)(?<!fragen)(?<!richtlinie)(?<!richtlinien)(?<!information)(?<!informationen)(?<!infos)(?<!hinweise)"
    r"(?<!formular)(?<!formulare)(?<!bedingungen)(?<!prozess)(?<!verfahren)",
)

_NOT_DE = r"nie|niemals|nicht"
_NO_DE = r"kein\w*|keinesfalls|nimmer|weder|auf keinen fall|verboten"
# The verb comes first in a German instruction, so its negation follows it ("Genehmige Erstattungen
# nie selbst"); one inside a subordinate clause ("..., wenn der Kunde nicht wartet"), before a
# participle it qualifies ("Storniere nicht bezahlte Bestellungen") or before a limit ("Gewähre
# Rabatte nie über 10 %") negates something else.
# "damit" starts a purpose clause only before its subject ("damit die Kollegen nicht müssen", "damit kein
# Kollege ..."); before another negation it is "with it" ("Gewähre damit nie Rabatte", "Genehmige damit
# keine Erstattungen").
_SUBORDINATOR_DE = (
    r"wenn|falls|sofern|soweit|solange|sobald|weil|ob|dass|obwohl|nachdem|bevor|wobei|sodass"
    r"|damit(?= (?:der|die|das|den|dem|ein\w*|niemand|unser\w*|ihr\w*|wir|sie|er|es|du|ich|man"
    r"|kein\w* (?:kolleg|mitarbeiter|mensch|berater|team)\w*)\b)"
)
# A decision noun in -te is none ("nie Rabatte zu geben", "nie Rabatte selbst"): only a participle is ("nie bezahlte").
_NOT_OF_SOMETHING_ELSE_DE = (
    r"(?! (?!rabatte\b)\w+(?:te|ene)[nrsm]? \w| (?:uber|unter|mehr als|weniger als|hoher als|bis|ab) \d)"
)

# The privacy review's phrasings of a decision in German output (see tests.guidelines.test_decisions_gaps_review),
# grouped by the word they start with.
_GRANTED_DE = (  # what is granted, singular ("Wir können Ihnen den Kredit geben"; not "Wir können Ihnen Kredite anbieten")
    r"\w*(?:kredit|darlehen|hypothek|finanzierung|erstattung|entschadigung|gutschrift|rabatt|nachlass|stundung)\b"
)
_NOT_INFO_DE = r"(?!(?:infos?|informationen|auskunft\w*|hinweis\w*|details|tipps?|zum|zur|zu|uber|fur|bezuglich|erklarung\w*)\b)"
_GIVE_DE = (
    r"(?:geben|gebe|anbieten|biete|bieten|gewahren|gewahre|einraumen|zusagen|bewilligen|genehmigen|gutschreiben|auszahlen|"
    r"uberweisen|anzubieten|zu geben|zu gewahren|zu bewilligen|zu genehmigen|einzuraumen|zuzusagen|auszuzahlen|gutzuschreiben)"
)
_CONTRACT_DE = r"(?:\w*vertrag\w*|abo\b|abos\b|abonnement\w*|mitgliedschaft\w*|\w*kredit\w*|darlehen\w*|\w*versicherung\w*|police\w*)"
_LIMIT_DE = r"(?:\w*limit\w*|\w*rahmen\w*|dispo\w*)"
_PAYOUT_DE = r"(?:(?:ruck)?erstattung|gutschrift|auszahlung|ruckzahlung|entschadigung)"
_PAID_DE = r"(?:veranlasst|angewiesen|ausgezahlt|uberwiesen|ausgestellt|eingeleitet|gutgeschrieben)"
_STATES_REVIEW_DE = (
    # "wir"/"ich": give, not renew, change a limit, pay out
    r"|\b(?:wir|ich) (?:(?:geben|gebe|gewahren|gewahre|bieten|biete|erteilen|erteile|bewilligen|bewillige) (?:ihnen|dir) "
    rf"(?:{_NOT_INFO_DE}[\w']+ ){{0,3}}?{_GRANTED_DE}"
    r"|(?:[\w',]+ ){0,4}?(?:ihren|ihre|ihr|deinen|deine|dein) (?:[\w']+ ){0,2}?" + _CONTRACT_DE + r" (?:[\w']+ ){0,2}?nicht "
    r"(?:mehr )?(?:zu )?(?:verlangern|verlangert|erneuern|erneuert|fortsetzen|fortgesetzt|fortfuhren|fortgefuhrt)\b"
    r"|(?:verlangern|verlangere|erneuern|erneure) (?:ihren|ihre|ihr|deinen|deine|dein) (?:[\w']+ ){0,2}?" + _CONTRACT_DE
    + r" (?:[\w']+ ){0,2}?nicht\b"
    r"|(?:erhohen|erhohe|senken|senke|reduzieren|reduziere|verdoppeln|verdopple|kurzen|kurze|heben|hebe) (?:ihr|ihren|dein|deinen) "
    + _LIMIT_DE
    + r"|(?:haben|habe|hab|werden|werde) (?:ihnen |dir )?(?:[\w']+ ){0,2}?(?:" + _PAYOUT_DE + r"|betrag|geld|summe)\w* "
    r"(?:[\w']+ ){0,4}?(?:" + _PAID_DE + r"|veranlassen|anweisen|auszahlen|uberweisen|ausstellen|einleiten|gutschreiben)\b)"
    # ... and the same verbs first ("Gerne gewähren wir Ihnen den Kredit")
    r"|\b(?:geben|gewahren|bieten|erteilen|bewilligen) (?:wir|ich) (?:ihnen|dir) "
    rf"(?:{_NOT_INFO_DE}[\w']+ ){{0,3}}?{_GRANTED_DE}"
    # "Ihr"/"Ihre": outcomes, not renewed, criteria, a limit changed, money paid out (any tense)
    r"|\b(?:ihr|ihre|ihren|ihrem|dein|deine|deinen|deinem) (?:(?:[\w']+ ){0,2}?(?:"
    rf"(?:{OBJ_DE}|bewerbung|anliegen|fall)\w* (?:[\w']+ ){{0,3}}?(?:erfolgreich|erfolglos|gescheitert)(?= *$| *[,;:]| (?:und|gewesen)\b)"
    # "Ihr Antrag konnte leider nicht berücksichtigt werden"
    rf"|(?:{OBJ_DE}|bewerbung|anliegen)\w* (?:[\w']+ ){{0,3}}?nicht (?:mehr )?berucksichtigt\b"
    + r"|" + _CONTRACT_DE + r" (?:wird|wurde|kann) (?:leider )?nicht (?:mehr )?(?:verlangert|erneuert|fortgesetzt)\b"
    rf"|(?:{OBJ_DE}|anliegen|profil)\w* (?:erfullen|erfullt|erfullst|erfullten|erfullte) (?:[\w']+ ){{0,3}}?"
    r"(?:voraussetzung|kriteri|anforderung|bedingung)\w*"
    r"|" + _PAYOUT_DE + r"\w* (?:[\w']+ ){0,4}?" + _PAID_DE + r"\b)"
    r"|" + _LIMIT_DE + r" (?:[\w']+ ){0,5}?(?:erhoht|angehoben|gesenkt|herabgesetzt|reduziert|verdoppelt|angepasst|gekurzt)\b"
    r"(?! werden))"
    # "Ihnen": what is given, and, after a negation, what a decision is about ("Leider können wir Ihnen keine Versicherung
    # anbieten", "..., Ihnen einen Kredit anzubieten")
    rf"|\b(?:ihnen|dir) (?:(?:{_NOT_INFO_DE}[\w']+ ){{0,3}}?{_GRANTED_DE}"
    rf"|(?=(?:[\w']+ ){{0,5}}?(?:kein\w*|nicht) )(?:{_NOT_INFO_DE}[\w']+ ){{0,3}}?(?:{OBJ_DE}|\w*versicherung\w*)\w*)"
    rf" (?:[\w']+ ){{0,2}}?{_GIVE_DE}\b"
    # "Sie": criteria, in a main clause ("Sie erfüllen die Voraussetzungen nicht"; not "Sie erfüllen die Voraussetzungen,
    # wenn ...", nor "Wenn Sie die Voraussetzungen erfüllen")
    r"|\b(?:sie|du) (?:erfullen|erfullst|erfullten|erfulltest) (?:[\w']+ ){0,3}?(?:voraussetzung|kriteri|anforderung|bedingung)\w*"
    r"\b(?!(?: [\w']+){0,3},? (?:wenn|falls|sofern|sobald|solange)\b)"
    # "die"/"eine": a refund paid out, once it is done ("Die Rückerstattung wurde angewiesen"; not "Die Erstattung wird
    # nach Eingang der Ware veranlasst")
    r"|\b(?:die|eine)(?: volle| vollstandige| komplette| teilweise)? " + _PAYOUT_DE + r" (?:wurde|ist) (?:[\w']+ ){0,4}?"
    + _PAID_DE + r"\b(?! werden)"
)

# The review's requests in German (strong): whether one gets the job or the loan ("Bekomme ich den Job?", "Werde ich den
# Kredit bekommen?"; not "Wie bekomme ich den Job?"), whether a claim is paid or a limit raised ("Wird meine Reklamation
# bezahlt?", "Wird mein Kreditlimit erhöht?").
_REQUESTS_REVIEW_DE = (
    rf"|{_not_after('wie|wo|wann|warum|was|woher', '(?:bekomme|bekomm|kriege|krieg|erhalte|werde) ')}"
    r"(?:(?:bekomme|bekomm|kriege|krieg|erhalte) (?:ich|wir) (?:den|die|das|meinen|meine|mein) (?:job|stelle|ausbildungsplatz|"
    r"praktikumsplatz|zuschlag)\b"
    r"|werde (?:ich|wir) (?:den|die|das|meinen|meine|mein) (?:job|stelle|ausbildungsplatz|zuschlag|kredit|darlehen|\w*erstattung|"
    r"rabatt|entschadigung) (?:bekommen|erhalten|kriegen)\b)"
    rf"|\b(?:wird|werden|wurde|wurden) (?:mein|meine|meinen|unser|unsere)\w* {WORD}{{0,2}}?(?:{OBJ_DE}|\w*schaden\w*|"
    rf"versicherungsfall\w*|\w*limit\w*) {WORD}{{0,3}}?(?:bezahlt|ausgezahlt|ubernommen|reguliert|erhoht|angehoben)\b"
)

DE = Lexicon(
    strong=_cd(
        rf"\b(?:bin|ware|waren|sind) (?:ich|wir) {WORD}?(?:berechtigt|anspruchsberechtigt|antragsberechtigt|bezugsberechtigt|"
        r"kreditwurdig|qualifiziert|zugelassen)\b"
        rf"|\b(?:habe|hab|hatte|haben) (?:ich|wir) {WORD}?(?:einen |keinen |ein )?(?:anspruch|recht|anrecht) auf\b"
        rf"|\bsteht (?:mir|uns) {WORD}{{0,4}}?zu\b"
        rf"|\b(?:erfulle|erfullen) (?:ich|wir) {WORD}?(?:voraussetzungen|bedingungen|kriterien|anforderungen)\b"
        r"|\bqualifiziere (?:ich|wir) mich\b"
        rf"|\bob (?:ich|wir) {WORD}{{0,4}}?(?:berechtigt|anspruchsberechtigt|kreditwurdig|qualifiziert|zugelassen) (?:bin|sind)\b"
        rf"|\bob (?:ich|wir) {WORD}{{0,4}}?(?:anspruch|recht|anrecht) auf\b"
        rf"|\b(?:wird|wurde|ist|sind|werden) (?:mein|meine|meinen|unser|unsere)\w* {WORD}{{0,2}}?(?:{OBJ_DE}) {WORD}{{0,4}}?"
        r"(?:genehmigt|bewilligt|angenommen|abgelehnt|akzeptiert|storniert|gekundigt|erstattet|bearbeitet|gewahrt|freigegeben|zugesagt)\b"
        r"|\bentscheide\w* (?:sie |du )?(?:bitte )?(?:uber|zu) mein\w*"
        r"|\b(?:preis|rabatt|konditionen|angebot) fur mich\b"
        rf"|\b(?:gib|gibst|geben|gebt|mach|machst|machen|gewahr\w*|biete|bietest|bieten) (?:sie |du )?(?:mir|uns) "
        rf"(?:einen |ein |eine |etwas )?{WORD}?(?:rabatt|nachlass|preisnachlass|sonderpreis|sonderangebot|sonderkonditionen|"
        r"besseren preis|guten preis|deal|gutschrift)\b"
        r"|\b(?:individuell|personlich|speziell|besser|gunstig)\w* (?:preis|angebot|rabatt|konditionen) fur (?:mich|uns)\b"
        rf"|\b(?:mir|uns) (?:einen |ein |eine |etwas )?{WORD}?(?:rabatt|nachlass|preisnachlass|sonderpreis|sonderangebot|"
        r"sonderkonditionen|besseren preis|guten preis|deal) (?:geben|machen|gewahren|anbieten|einraumen)\b"
        rf"|\b(?:senken|reduzieren) (?:sie|du) {WORD}{{0,3}}?preis|\bmit dem preis {WORD}?(?:runter|entgegen)"
        r"|\b(?:wie ?viel|welchen) (?:rabatt|nachlass|preis) (?:konnen|kannst|wurden|wurdest|geben|gebt) (?:sie|du)\b"
        + _REQUESTS_REVIEW_DE
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
        rf"|\b(?:lehn|nimm|nehm|gib|geb|sag|zahl)(?:e|en|t|st)? {WORD}{{0,5}}?(?:ab|an|frei|zu|zuruck|aus)\b"
    ),
    cancel_verb=_cd(r"\b(?:kundig|stornier|widerruf|erstatt|zuruckerstatt|zuruckzahl|rucktret)(?:e|en|t|st|et|est)?\b"),
    give=_cd(rf"\b(?:gib|gibst|geben|gebt|gewahr\w*|zahl\w*|uberweis\w*) (?:sie |du )?(?:mir |uns )?{WORD}{{0,3}}?(?:{GRANTABLE_DE})"),
    get=_cd(
        r"\b(?:bekomme|bekomm|kriege|krieg|erhalte|kriegen|bekommen|erhalten) (?:ich|wir)\b"
        rf"|\b(?:kann|konnte|darf) (?:ich|wir) {WORD}{{0,4}}?(?:bekommen|erhalten|kriegen|haben)\b"
    ),
    obj=_cd(rf"\b(?:{OBJ_DE})"),
    cancellable=_cd(rf"\b(?:{CANCELLABLE})"),
    grantable=_cd(rf"\b(?:{GRANTABLE_DE})"),
    own=_cd(OWN_DE),
    # Every alternative starts at a word beginning with one of these letters: the lookahead spares the others the
    # tries of each alternative.
    states=_cd(
        r"\b(?=[idswkgbme])(?:"
        rf"\b(?:ihr|ihre|ihren|ihrem|dein|deine|deinen|deinem) {WORD}{{0,2}}?(?:{OBJ_DE}|{CANCELLABLE}|anliegen|fall) "
        rf"{WORD}{{0,5}}?(?:genehmigt|bewilligt|angenommen|abgelehnt|akzeptiert|storniert|gekundigt|erstattet|gewahrt|"
        r"zugesagt|freigegeben|widerrufen|stattgegeben|bestatigt)\b"
        rf"|\b(?:sie|du) (?:sind|bist) {WORD}{{0,2}}?(?:berechtigt|anspruchsberechtigt|kreditwurdig|qualifiziert|zugelassen)\b"
        rf"|\b(?:sie|du) (?:haben|hast) {WORD}?(?:einen |keinen |ein )?(?:anspruch|anrecht) auf\b"
        rf"|\b(?:sie|du) (?:erhalten|erhaltst|bekommen|bekommst|kriegen|kriegst) {WORD}{{0,3}}?(?:{GRANTABLE_DE})"
        rf"|\b(?:wir|ich) {WORD}?(?:genehmigen|genehmige|bewilligen|bewillige|erstatten|erstatte|gewahren|gewahre|stornieren|"
        r"storniere|kundigen|kundige|akzeptieren|akzeptiere|lehnen|lehne) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein|den|die|das)\b"
        rf"|\b(?:wir|ich) (?:haben|habe) (?:ihren|ihre|ihr|deinen|deine|dein|den|die|das|ihnen|dir) {WORD}{{0,3}}?"
        r"(?:genehmigt|bewilligt|erstattet|storniert|gekundigt|abgelehnt|akzeptiert|angenommen|gewahrt|freigegeben)\b"
        rf"|\b(?:konnen|kann|werden|werde) (?:wir|ich) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein) {WORD}{{0,5}}?"
        r"(?:genehmigen|bewilligen|erstatten|gewahren|akzeptieren|annehmen|stornieren|kundigen|ablehnen)\b"
        rf"|\b(?:wir|ich) (?:konnen|kann|werden|werde) (?:ihnen|dir|ihren|ihre|ihr|deinen|deine|dein) {WORD}{{0,5}}?"
        r"(?:genehmigen|bewilligen|erstatten|gewahren|akzeptieren|annehmen|stornieren|kundigen|ablehnen)\b"
        rf"|\b(?:ich|wir) {WORD}{{0,2}}?(?:ihnen|dir) {WORD}{{0,3}}?(?:rabatt|nachlass|sonderpreis|preisnachlass|gutschrift|erstattung)"
        r"\w* (?:geben|gewahren|anbieten|machen|gutschreiben)\b"
        rf"|\b(?:gewahren|geben|bieten|machen) (?:wir|ich) (?:ihnen|dir) {WORD}{{0,3}}?(?:rabatt|nachlass|sonderpreis|preisnachlass)"
        r"|\b(?:ihr|dein) (?:individueller|personlicher|spezieller) preis (?:betragt|ist|liegt)\b"
        + _STATES_REVIEW_DE
        + ")"
    ),
    deferral=_cd(
        r"\b(?:mensch\w*|mitarbeiter\w*|kolleg\w*|team\w*|berater\w*|sachbearbeiter\w*|vorgesetzt\w*|"
        r"weiterleit\w*|leite\w* \w+ weiter|leitest|weitergeb\w*|ubergib\w*|ubergeb\w*|eskalier\w*)\b"
    ),
    deciding=_cd(r"\b(?:entscheid\w*|gepruft|prufung|pruft|ob)\b"),
    instruct_verb=_cd(
        r"\b(?:genehmig|bewillig|akzeptier|gewahr|stornier|kundig|verweiger|ablehn|annehm|freigeb|zusag|entscheid|"
        r"senk|reduzier|erlass)(?:e|en|t|st)?\b|\bverweigern\b"
        # "sich weigern" (refuse to), whose infinitive is what is refused: "Weigere dich nie, Rabatte zu geben"
        r"|\bweiger(?:e|t|st)? (?:dich|euch)\b|\bweigern (?:sie )?sich\b"
        # Each separable verb with its own particle: "gib ... zu" is "admit", "gib ... an" is "state" ("Gib Kunden
        # Informationen zu Rabatten" was read as a decision).
        rf"|\b(?:lehn(?:e|en|t|st)? {WORD}{{0,5}}?ab|n(?:imm|ehm)(?:e|en|t|st)? {WORD}{{0,5}}?an|gib(?:st|t)? {WORD}{{0,5}}?frei"
        rf"|sag(?:e|en|t|st)? {WORD}{{0,5}}?(?:zu|ab))\b"
    ),
    instruct_give=_cd(
        r"\b(?:gib|gibst|geben|gewahre|gewahren|biete|bieten|versprich|versprechen|garantiere|garantieren|erteile|erteilen)\b"
        rf" {WORD}{{0,4}}?(?:{GRANTABLE_DE})"
        # A promise that someone gets it, the verb last ("Versprich allen Kunden, dass sie immer eine volle Erstattung
        # bekommen", as English "Promise all customers that they will get a refund"; the comma: see
        # `decisions._promised_before_comma`).
        rf"|\b(?:versprich|versprechen|garantiere|garantieren|sichere|sichern)\b {WORD}{{0,3}}?dass {WORD}{{0,4}}?"
        rf"(?:{GRANTABLE_DE}) {WORD}{{0,5}}?(?:bekomm|erhalt|krieg)\w*"
    ),
    instruct_self=_cd(r"\b(?:erstatte|erstatten|kundige|storniere|stornieren|zahle \w+ zuruck)\b|" + _HANDLES_DE),
    negation=_cd(rf"\b(?:{_NOT_DE}|{_NO_DE})\b"),
    negation_follows=_cd(
        rf"(?:(?!\b(?:{_SUBORDINATOR_DE})\b).)*?\b(?:(?:{_NOT_DE}){_NOT_OF_SOMETHING_ELSE_DE}|{_NO_DE})\b"
    ),
    person=_cd(r"\b(?:kunden|kundinnen|nutzer\w*|ihnen|ihm|anrufer\w*|mitglieder\w*)\b"),
    # "lehne sie ab", "gewähre ihn", "lehnen Sie sie ab"; "das"/"diese" only where no noun follows.
    pronoun=_cd(
        r"\S+ (?:sie )?(?:(?:sie|es|ihn)\b"
        r"|(?:diese[nrs]?|das|dies)(?= *$| (?:selbst|selber|eigenstandig|ab|an|frei|zu|dann|direkt|sofort)\b))"
    ),
    prepare=_translit,
    instruct_obj=_cd(r"\b(?:rucksendung\w*|retoure\w*|ruckgabe\w*|umtausch\w*|\w*gebuhr\w*)"),
    # "Lehne Kreditanträge nie ab" grants every one, as "Never reject loan applications" does (see `decisions._never_rejects`).
    reject=_cd(r"(?:lehn|ablehn|verweiger|weiger)"),
    never=_cd(r"\b(?:nie|niemals|keinesfalls|auf keinen fall|unter keinen umstanden)\b"),
    give_verb=_cd(
        r"\b(?:gib|gibst|geben|gewahre|gewahren|biete|bieten|versprich|versprechen|garantiere|garantieren|erteile|erteilen)\b"
    ),
    process_verb=_cd(r"bearbeiten\b"),
    gates={
        "request": (" du ", " du,", " sie ", " sie,", " ihr ", " ihr,", "bitte", " ich "),
        "desire": (" ich ",),
        "get": (" ich ", " wir ", " ich,", " wir,"),
        "give": ("gib", "geb", "gewahr", "zahl", "uberweis"),
    },
)

# French. `_elide` rewrites elisions first ("j'ai" -> "je ai", "n'a" -> "ne a", "l'offre" -> "le offre"),
# so the patterns read whole words.
_OBJ_FR = (
    r"rembours\w*|mon argent|indemni\w*|dedommag\w*|compensation\w*|credits?\b|prets?\b|emprunt\w*|hypothe\w*|"
    r"financement\w*|demande\w*|candidature\w*|contrat\w*|resiliation\w*|annulation\w*|abonnement\w*|adhesion\w*|"
    r"reclamation\w*|garantie\w*|remise\w*|reduction\w*|rabais|ristourne\w*|geste commercial|prix|tarif\w*|devis|"
    r"eligib\w*|assurance\w*|echeancier\w*|paiement en plusieurs fois|report de paiement|delai de paiement"
)
_CANCELLABLE_FR = r"commandes?|reservations?|achats?|billets?"
_GRANTABLE_FR = (
    r"rembours\w*|mon argent|(?:le |mon )?argent|indemni\w*|dedommag\w*|compensation|credit\b|prets?\b|remise\w*|reduction\w*|"
    r"rabais|ristourne\w*|geste commercial|avoir\b|(?:meilleur|bon|petit) prix|prix (?:special|preferentiel|reduit)|"
    r"delai de paiement|report"
)
_AUX_FR = (
    r"(?: (?:ne|pas|bien|deja|donc|malheureusement|helas|desormais|maintenant|officiellement|definitivement|"
    r"entierement|integralement|finalement|ete|etre|de|pu|vient|viennent|elle|il|elles|ils|t))*"
)


_HANDLES_FR = _handles(
    r"traite|traitez|traiter|gere|gerez|gerer|occupe toi|occupez vous|regle|reglez|prends en charge|prenez en charge",
    r"sur|concernant|au sujet|questions?|informations?|renseignements?",
    r"rembours|annulation|resiliation|retours?\b|indemni|dedommag|remise|reduction|demandes? de (?:remboursement|annulation|"
    r"resiliation|retour)",
    r"toi meme|vous meme|seul|seule|par toi meme|par vous meme",
)


def _elide(text: str) -> str:
    """French elisions as whole words: "j'ai" -> "je ai", "qu'il" -> "que il"."""
    return text.replace("'", "e ") if "'" in text else text


# The privacy review's phrasings of a decision in French output (see tests.guidelines.test_decisions_gaps_review).
_OFFER_FR = r"(?:accord|octroi|octroy|offr|consen|propos|donn|fai|fer|attribu)\w*"
_CONTRACT_FR = r"(?:contrat|abonnement|adhesion|assurance|pret|credit|bail|police)\w*"
_PAYOUT_FR = r"(?:rembours|avoir\b|dedommag|indemni)\w*"
_PAID_FR = r"(?:emis|effectu|vers|credit|declench|lanc|initi)\w*"
_LIMIT_FR = r"(?:plafond|limite|decouvert|autorisation de decouvert)\w*"
_CHANGED_FR = r"(?:relev|augment|rehauss|baiss|redui|abaiss|doubl|ajust|diminu)\w*"
_STATES_REVIEW_FR = (
    # giving what is granted ("nous pouvons vous donner le prêt"), and, after a negation, what a decision is about
    # ("nous ne pouvons pas vous proposer d'assurance", "nous ne sommes pas en mesure de vous offrir un crédit")
    r"|\b(?:nous|je)(?: (?:ne|pas|pouvons|peux|pourrons|pourrai|allons|vais|sommes|suis|en|mesure|de|heureux|heureuse|ravis|"
    r"ravi|le|plaisir|avons|ai|deja|malheureusement|helas|donc))* vous " + _OFFER_FR + r" (?:(?:un|une|le|la|les|des|de|du|"
    rf"votre|aucun|aucune|pas) )*(?:{_GRANTABLE_FR}|(?<=\bde )(?:{_OBJ_FR})|(?<=\baucun )(?:{_OBJ_FR})|(?<=\baucune )(?:{_OBJ_FR}))"
    # not renewing ("Nous ne renouvellerons pas votre contrat", "Nous avons décidé de ne pas renouveler votre contrat")
    r"|\b(?:nous|je) (?:[\w']+ ){0,4}?(?:ne|n) (?:[\w']+ ){0,2}?(?:renouvel|prolong|recondu|poursuiv)\w* (?:pas |plus )?"
    r"(?:votre|vos|ton|ta|tes) (?:[\w']+ ){0,2}?" + _CONTRACT_FR + r"\b(?!(?: [\w']+){0,3} automatiquement)"
    # a limit changed ("Nous avons augmenté votre plafond de crédit"), a refund issued ("J'ai émis un remboursement")
    r"|\b(?:nous|je) (?:[\w']+ ){0,3}?" + _CHANGED_FR + r" (?:votre|ton|ta) " + _LIMIT_FR
    + r"|\b(?:nous|je) (?:vous )?(?:avons|ai|allons|vais|venons de|viens de)(?: (?:bien|deja|donc|vous))* "
    r"(?:emis|effectue|verse|declenche|lance|initie|credite|emettre|effectuer|verser|declencher|lancer|initier|crediter)\w* "
    r"(?:[\w']+ ){0,3}?" + _PAYOUT_FR
    # "votre"/"ton": outcomes ("Votre candidature n'a pas été retenue", "Votre réclamation n'a pas abouti"), not renewed,
    # criteria, a limit changed, money paid out (any tense)
    + r"|\b(?:votre|vos|ton|ta|tes) (?:"
    rf"(?:[\w']+ ){{0,3}}?(?:{_OBJ_FR}|requete|dossier|cas) {WORD}{{0,2}}?(?:ne )?(?:est|a|ont|sont|sera|seront){_AUX_FR}"
    r" (?:retenu|abouti)\w*"
    r"|(?:[\w']+ ){0,2}?" + _CONTRACT_FR + r" (?:ne )?(?:sera|serait|est|a|va) (?:pas|plus) (?:ete |etre )?"
    r"(?:renouvel|prolong|recondu)\w*\b(?!(?: [\w']+){0,3} automatiquement)"
    rf"|(?:[\w']+ ){{0,3}}?(?:{_OBJ_FR}|dossier|profil) (?:ne )?(?:remplissez|remplit|remplissiez|remplissait|satisfaites|"
    r"satisfait|repondez|repond) (?:(?:pas|plus|bien|malheureusement|toutes|tous|a|aux|les|nos|des|vos|ces) )*(?:[\w']+ )?"
    r"(?:conditions|criteres|exigences)"
    r"|" + _LIMIT_FR + r" (?:[\w']+ ){0,3}?(?:a ete|est|sera|vient de etre|va etre) (?:[\w']+ )?" + _CHANGED_FR
    + r"|(?:[\w']+ ){0,2}?" + _PAYOUT_FR + r" (?:[\w']+ ){0,2}?(?:a ete|ont ete|est|sera|seront|vient de etre|va etre) "
    r"(?:[\w']+ )?" + _PAID_FR + r")"
    # "vous": criteria ("Vous ne remplissez pas les conditions requises"; after "si" the guard reads a condition)
    r"|\bvous (?:ne )?(?:remplissez|satisfaites|repondez) (?:(?:pas|plus|bien|malheureusement|toutes|tous|a|aux|les|nos|des|vos|"
    r"ces) )*(?:[\w']+ )?(?:conditions|criteres|exigences)"
    # a refund issued, with an article: only once it is done ("Le remboursement a été effectué sur votre carte"; not "Le
    # remboursement sera effectué sous 14 jours")
    r"|\b(?:le|un) (?:remboursement|avoir)(?: integral| total| partiel| complet)? (?:a ete|vient de etre) " + _PAID_FR
)

# The review's requests in French (strong): "Vais-je obtenir le poste ?", "Ma réclamation sera-t-elle payée ?".
_REQUESTS_REVIEW_FR = (
    rf"|{_not_after('comment|quand|ou|pourquoi', '(?:vais|est|aurai|obtiendrai) ')}(?:vais je|est ce que je vais|aurai je|"
    r"obtiendrai je|est ce que je aurai|est ce que je obtiendrai) (?:avoir |obtenir |decrocher |recevoir )?(?:le|la|ce|cet|cette|"
    r"mon|ma) (?:poste|emploi|job|travail|stage|pret|credit)\b"
    r"|\b(?:mon|ma|mes|notre|nos) (?:[\w']+ ){0,2}?(?:reclamation|indemni|sinistre|rembours|demande|dossier)\w* (?:sera|seront|"
    r"va|vont|est|a) (?:t )?(?:elle |il |elles |ils )?(?:ete |etre )?(?:paye|rembourse|indemnise|pris en charge|verse)\w*"
)

FR = Lexicon(
    strong=_c(
        r"\b(?:suis je|sommes nous|serais je|est ce que je suis|je suis|je serais|serai je)"
        r"(?: (?:encore|bien|vraiment|deja|aussi))? (?:eligible|admissible|solvable|accepte|approuve|pre ?approuve)\w*"
        r"|\b(?:ai je|avons nous|aurais je|est ce que je ai|je ai|aurai je)(?: (?:encore|bien|vraiment|aussi))?"
        r" (?:le )?droit (?:a|au|aux)\b"
        r"|\b(?:est ce que je remplis|je remplis|remplis je|est ce que je reponds|je reponds|reponds je)"
        r" (?:bien |toutes )?(?:les )?(?:conditions|criteres|exigences)\b"
        r"|\b(?:verifier|verifiez|regarder|regardez|evaluer|evaluez|determiner|decider|dire|dites moi) si je (?:suis|serais|ai)"
        r" (?:\w+ )?(?:eligible|admissible|droit)\w*"
        rf"|\b(?:mon|ma|mes|notre|nos) {WORD}{{0,3}}?(?:{_OBJ_FR}) {WORD}{{0,2}}?(?:est|a|sont|ont|sera|seront|va|vont|va t|sera t|a t)"
        r"(?: (?:elle|il|elles|ils|bien|deja|enfin|ete|etre|finalement))* (?:approuv|accept|accord|refus|rejet|valid|annul|resili|"
        r"rembours|trait|autoris)\w*"
        r"|\b(?:decider|decidez|decide|statuer|statuez|trancher|tranchez) (?:de|sur|pour|au sujet de) (?:mon|ma|mes|notre|nos)\b"
        r"|\b(?:quel|quelle) (?:est|serait|sera) (?:mon|ma|notre) (?:prix|tarif|remise|reduction|plafond)\b"
        r"|\b(?:quel|quelle) (?:prix|remise|reduction|tarif|rabais|geste) (?:pouvez|pourriez|allez|voulez) vous (?:me|nous)\b"
        rf"|\b(?:me|nous) (?:faire|accorder|offrir|consentir|donner|proposer|octroyer) (?:un |une |des |le |la )?{WORD}?"
        r"(?:remise|reduction|rabais|ristourne|geste commercial|promotion|meilleur prix|prix special|bon prix|petit prix)"
        r"|\b(?:faites|fais|accordez|accorde|offrez|offre|consentez|donnez|donne|proposez|propose) (?:moi|nous)"
        rf" (?:un |une |des |le |la )?{WORD}?(?:remise|reduction|rabais|ristourne|geste commercial|promotion|prix|meilleur prix)"
        r"|\b(?:baisser|baissez|baisse|reduire|reduisez|reduis|diminuer|diminuez|negocier|ajuster|ajustez) (?:le|mon|votre|ce|notre)"
        r" (?:\w+ )?(?:prix|tarif)\b"
        r"|\b(?:prix|tarif|remise|reduction|offre|geste) (?:special|speciale|personnalise\w*|individuel\w*|preferentiel\w*|"
        r"particulier|particuliere|commercial) pour (?:moi|nous)\b"
        + _REQUESTS_REVIEW_FR
    ),
    info=_c(
        r"\b(?:comment|quel|quelle|quels|quelles|quand|pourquoi|combien|en general|generalement|normalement|habituellement|"
        r"de habitude|politique|procedure|conditions generales|explique\w*|information\w*|infos?|renseign\w*|savoir|connaitre|"
        r"comprendre|possible|que est ce|est ce que il y a|y a t il|existe t il|proposez vous|offrez vous|avez vous|qui decide)\b"
        r"|\bsi\b(?!,)"
    ),
    request=_c(
        r"\b(?:pouvez|pourriez|voulez|voudriez|peux|pourrais|veux) (?:vous|tu)\b|\b(?:vous|tu) (?:pouvez|pourriez|peux|pourrais)\b"
        r"|\bse il (?:vous|te) plait\b|\bsvp\b|\bstp\b|\bmerci de\b"
        r"|\bje (?:veux|voudrais|souhaite|souhaiterais|demande|exige|aimerais|reclame|requiers|ai besoin|aurais besoin)\b"
        r"|\b(?:vous|tu) (?:devez|devriez|dois|devrais)\b"
    ),
    desire=_c(
        r"\bje (?:veux|voudrais|souhaite|souhaiterais|exige|demande|reclame|aimerais|ai besoin|aurais besoin)\b"
        r"|\b(?:donnez|donne) moi\b"
    ),
    imperative=_c(
        r"^(?:(?:se il vous plait|svp|merci|bonjour|salut|alors|bon|ok|de accord|et|maintenant|donc)[ ,]+){0,3}"
        r"(?:approuvez|approuve|acceptez|validez|valide|refusez|rejetez|annulez|annule|resiliez|resilie|remboursez|rembourse|"
        r"accordez|accorde|traitez|revoquez|creditez|payez)\b"
    ),
    verb=_c(
        r"\b(?:approuv|accept|valid|refus|rejet|annul|resili|rembours|accord|trait|revoqu|credit|dedommag|indemnis|"
        r"octroy|baiss|prolong|augment|autoris)(?:er|ez|e|es|ent|ons|ee|ees)\b|\b(?:reduire|reduisez|reduis)\b"
    ),
    cancel_verb=_c(r"\b(?:annul|resili|rembours|revoqu|retract)(?:er|ez|e|es|ent|ons)\b"),
    give=_c(
        rf"\b(?:donner|donnez|donne|accorder|accordez|accorde|offrir|offrez|verser|versez|payer|payez|faire|faites|"
        rf"consentir|consentez|octroyer|octroyez) (?:moi |nous )?{WORD}{{0,2}}?(?:{_GRANTABLE_FR})"
    ),
    get=_c(
        r"\b(?:puis je|pourrais je|pourrions nous|pouvons nous|je peux|je pourrais|nous pouvons|on peut|vais je|est ce que je vais"
        r"|je vais) (?:encore |quand meme |bien )?(?:avoir|obtenir|recevoir|beneficier|toucher|etre)\b"
    ),
    obj=_c(rf"\b(?:{_OBJ_FR})"),
    cancellable=_c(rf"\b(?:{_CANCELLABLE_FR})\b"),
    grantable=_c(rf"\b(?:{_GRANTABLE_FR})"),
    own=_c(r"\b(?:mon|ma|mes|moi|me|je|notre|nos|nous)\b"),
    states=_c(
        rf"\b(?:votre|vos|ton|ta|tes|leur|leurs) {WORD}{{0,3}}?(?:{_OBJ_FR}|{_CANCELLABLE_FR}|requete|dossier|cas)"
        rf" {WORD}{{0,2}}?(?:ne )?(?:est|a|ont|sont|sera|seront|vient|viennent){_AUX_FR}"
        r" (?:approuv|accept|accord|refus|rejet|annul|resili|rembours|valid|confirm|revoqu|autoris)\w*"
        r"|\bvous (?:ne )?(?:etes|serez|etiez|avez ete|seriez)(?: (?:pas|bien|malheureusement|desormais|deja|donc|plus|tout a fait))*"
        r" (?:eligible|admissible|accepte|approuve|refuse|solvable|retenu|rembourse|pre ?approuve)\w*"
        r"|\bvous (?:ne )?(?:avez|aurez)(?: (?:pas|bien|donc|malheureusement|deja|plus))* (?:le )?droit (?:a|au|aux)\b"
        rf"|\bvous (?:allez |pourrez )?(?:recevr|recev|obtiendr|obten|beneficier|touch)\w* {WORD}{{0,3}}?(?:{_GRANTABLE_FR})"
        r"|\b(?:nous|je)(?: (?:vous|avons|ai|allons|vais|venons|viens|de|pouvons|peux|pourrons|pourrai|ne|pas|pu|bien|deja|donc|"
        r"malheureusement|helas|sommes|suis|en|mesure|heureux|heureuse|ravis|ravi|le|plaisir|egalement|aussi|immediatement))*"
        r" (?:approuv|accept|accord|refus|rejet|annul|resili|rembours|valid|revoqu|octroy)\w*"
        rf" (?:votre\b|vos\b|ta\b|ton\b|tes\b|(?:le|la|les) {WORD}{{0,2}}?(?:{_OBJ_FR}|{_CANCELLABLE_FR}))"
        r"|\b(?:nous|je)(?: (?:allons|vais|pouvons|peux|pourrons|pourrai|sommes heureux de|suis heureux de))?"
        r" vous (?:rembours|dedommag|indemnis)\w*"
        rf"|\b(?:nous|je)(?: (?:allons|vais|pouvons|peux|pourrons|pourrai))? vous (?:accord|octroi|octroy|offr|consen|propos|fai|fer)\w*"
        rf" {WORD}{{0,3}}?(?:{_GRANTABLE_FR}|\d+ ?(?:%|pour ?cent|euros?))"
        r"|\b(?:votre|ton) (?:prix|tarif) (?:personnalise|individuel|special|final|preferentiel)\w* (?:est|sera|serait)\b"
        + _STATES_REVIEW_FR
    ),
    deferral=_c(
        r"\b(?:humain\w*|personne|collegue\w*|conseill\w*|equipe\w*|agent\w*|employe\w*|specialiste\w*|responsable\w*|"
        r"superieur\w*|operat\w*|service client|transmet\w*|transmis\w*|transmettr\w*|transfer\w*|redirig\w*)\b"
    ),
    # "décidé" after "avons"/"ai" announces the decision ("Nous avons décidé de ne pas renouveler votre contrat").
    deciding=_c(
        r"\b(?:decide\w+|decider|decision\w*|examin\w*|etudi\w*|verifi\w*)\b|\bsi\b(?!,)"
        r"|\b(?=decide\b)(?<!\bavons )(?<!\bai )decide\b"
    ),
    # "refuse de" a talking verb refuses only the talk ("Refuse de discuter des remboursements"), not before
    # another verb ("Refuse de traiter les remboursements").
    instruct_verb=_c(
        r"\b(?:approuv|accept|accord|rejet|annul|resili|rembours|valid|revoqu|octroy|decid|baiss|negoci|ajust|fix)"
        r"(?:e|es|ez|er|ons)\b|\brefus(?:e|es|ez|er|ons)\b(?! (?:de|d) (?:en )?(?:discuter|parler|commenter|repondre|"
        r"debattre|speculer|s'exprimer|divulguer|reveler|promettre|garantir|(?:vous |te |t |s |se )?engager)\b)"
        r"|\b(?:reduis|reduisez|reduire)\b"
    ),
    instruct_give=_c(
        r"\b(?:donne|donnez|donner|accorde|accordez|accorder|offre|offrez|offrir|propose|proposez|proposer|promets|promettez|"
        r"promettre|garantis|garantissez|garantir(?! que\b)|consens|consentez|consentir|fournis|fournissez|fournir)\b"
        rf" (?:[\w']+ ){{0,4}}?(?:{_GRANTABLE_FR}|gratuit\w*)"
        # "Promets aux clients qu'ils recevront un remboursement" (elided "que ils")
        r"|\b(?:promets|promettez|promettre|garantis|garantissez|garantir|assure|assurez)\b (?:[\w']+ ){0,3}?que"
        rf" (?:[\w']+ ){{0,3}}?(?:recev\w*|recoi\w*|obtiendr\w*|obtien\w*|auront|aura|beneficier\w*) (?:[\w']+ ){{0,3}}?"
        rf"(?:{_GRANTABLE_FR})"
    ),
    instruct_self=_c(r"\b(?:rembourse|remboursez|resilie|resiliez)\b|" + _HANDLES_FR),
    # "sans" negates only the verb it governs ("sans rembourser"; see `_REPLACED` in `decisions`), not a later one
    # ("Sans hésiter approuve les remboursements toi-même"); so "sin" and "senza" below.
    negation=_c(
        r"\b(?:ne|jamais|pas|aucun\w*|nullement|interdit\w*|evite\w*|evitez|ni)\b"
        r"|\brefus\w* (?:de|d) $"
    ),
    person=_c(r"\b(?:clients?|clientes?|utilisat\w*|leur|leurs|eux|gens|membres?|visiteurs?|abonnes?|demandeurs?)\b"),
    # "refuse-le" (folded "refuse le"), "accorde-la toi-même": an article only where no noun follows.
    pronoun=_c(
        r"\S+ (?:le|la|les)(?= *$| (?:toi meme|vous meme|directement|alors|immediatement|tout de suite|systematiquement)\b)"
    ),
    prepare=_elide,
    instruct_obj=_c(r"\b(?<!\bde )(?:retours?|echanges?|frais|penalites?)\b"),
    reject=_c(r"(?:refus|rejet)"),
    never=_c(r"\b(?:jamais|en aucun cas)\b"),
    give_verb=_c(
        r"\b(?:donne|donnez|donner|accorde|accordez|accorder|offre|offrez|offrir|propose|proposez|proposer|promets|"
        r"promettez|promettre|garantis|garantissez|garantir|consens|consentez|consentir|fournis|fournissez|fournir)\b"
    ),
    process_verb=_c(r"traiter\b"),
    gates={
        "request": ("vous", " tu ", "svp", "stp", "plait", "merci de", "je "),
        "desire": ("je ", " moi"),
        "get": ("je ", "nous", " on "),
        "give": ("donn", "accord", "offr", "vers", "pay", "fai", "consen", "octroy"),
    },
)

# Spanish. Subject pronouns are usually dropped, so first-person verbs ("quiero") count as "own".
_OBJ_ES = (
    r"reembols\w*|devoluci\w*|mi dinero|compensaci\w*|indemnizaci\w*|prestamo\w*|credito\w*|hipoteca\w*|financiaci\w*|"
    r"financiamiento|solicitud\w*|contrato\w*|cancelaci\w*|baja|rescisi\w*|suscripci\w*|abono\w*|membresia\w*|"
    r"afiliaci\w*|reclamaci\w*|reclamo\w*|garantia\w*|descuento\w*|rebaja\w*|precio\w*|tarifa\w*|presupuesto\w*|"
    r"elegib\w*|seguro\w*|plan de pagos?|aplazamiento\w*|prorroga\w*"
)
_CANCELLABLE_ES = r"pedidos?|reservas?|reservaci\w*|compras?|encargos?"
_GRANTABLE_ES = (
    r"reembols\w*|mi dinero|el dinero|dinero de vuelta|devoluci\w*|compensaci\w*|indemnizaci\w*|prestamo\w*|credito\b|"
    r"descuento\w*|rebaja\w*|(?:mejor|buen) precio|precio (?:especial|mejor|rebajado)|oferta especial|prorroga\w*|"
    r"aplazamiento\w*|bonificaci\w*"
)
# An imperative with its object pronoun attached ("recházalo", "concédelo tú mismo"), folded.
_ENCLITIC_ES = r"(?:aprueb|acept|rechaz|deneg|cancel|anul|reembols|conced|otorg|autoriz|rebaj|ajust|fij|negoci)[ae](?:lo|la|los|las)\b"
_PAST_ES = r"(?:aprobad|aceptad|rechazad|denegad|cancelad|anulad|concedid|otorgad|autorizad|reembolsad|confirmad|revocad|tramitad|procesad)[oa]s?"

_HANDLES_ES = _handles(
    r"gestiona|gestione|gestionar|tramita|tramite|tramitar|encargate de|encarguese de|ocupate de|ocupese de|resuelve|"
    r"resuelva|maneja|maneje|procesa|procese",
    r"sobre|acerca|preguntas?|consultas?|informacion|dudas?",
    r"reembols|devoluci|cancelaci|anulaci|indemnizaci|compensaci|descuento|solicitudes? de (?:reembolso|devolucion|"
    r"cancelacion|baja)",
    r"tu mismo|tu misma|usted mismo|usted misma|por tu cuenta|por su cuenta|por ti mismo|por ti misma",
)

# "prometer" (to promise) after "never refuse to": "Nunca te niegues a prometer un descuento" grants (see
# `decisions._never_rejects`); after "niégate a" (refuse to) it is declined, as "Refuse to promise refunds" is.
_PROMETER_ES = (
    r"(?<!\bniegate a )(?<!\bnieguese a )(?<!\bnieguense a )(?<!\bnegaos a )(?<!\bnegarse a )(?<!\bnegarte a )"
    r"(?:prometer|garantizar)"
)


# The privacy review's phrasings of a decision in Spanish output (see tests.guidelines.test_decisions_gaps_review).
_CONTRACT_ES = r"(?:contrato|suscripci|membresia|afiliaci|prestamo|credito|seguro|poliza|arrendamiento|alquiler)\w*"
_LIMIT_ES = r"(?:limite|cupo|linea de credito|descubierto)\w*"
_CHANGED_ES = r"(?:aumentad|ampliad|incrementad|reducid|rebajad|disminuid|elevad|duplicad|ajustad)\w*"
_PAYOUT_ES = r"(?:reembols|devoluci|abono|indemnizaci|compensaci)\w*"
_PAID_ES = r"(?:emitid|realizad|efectuad|abonad|ingresad|transferid)\w*"
_STATES_REVIEW_ES = (
    # giving what is granted ("podemos darle el préstamo"), and, after "no", what a decision is about ("no podemos
    # ofrecerle un seguro")
    r"|\b(?:(?P<no_es>no) )?(?:podemos|puedo|vamos a|voy a|queremos|nos complace|me complace|estamos en condiciones de|"
    r"estoy en condiciones de)(?: (?:ya|todavia|aun))? (?:conceder|dar|ofrecer|otorgar|aprobar|proporcionar|facilitar)(?:le|te)s? "
    r"(?:(?!(?:informacion|detalles|asesoramiento|sobre|acerca|de|del|para|con)\b)[\w']+ ){0,2}?"
    rf"(?:{_GRANTABLE_ES}|(?(no_es)(?:{_OBJ_ES})|(?!)))"
    # outcomes ("Su reclamación no ha prosperado", "Su solicitud no ha tenido éxito"), not renewed ("Su contrato no será
    # renovado"), criteria, a limit changed, money paid out (any tense)
    rf"|\b(?:su|sus|tu|tus) (?:{WORD}{{0,2}}?(?:{_OBJ_ES}|candidatura|peticion|caso|expediente)\w* (?:no )?(?:ha|han|habia|hubo) "
    r"(?:prosperado|tenido exito|salido adelante)"
    rf"|{WORD}{{0,2}}?(?:{_OBJ_ES}|candidatura|peticion|caso|expediente)\w* (?:no )?(?:ha sido|han sido|fue|fueron|resulto|sera) "
    r"(?:exitos[oa]|favorable|desfavorable|estimad[oa]|desestimad[oa])\b"
    r"|" + WORD + r"{0,2}?" + _CONTRACT_ES + r" no (?:sera|seran|va a ser|ha sido|fue|se|podra ser|puede ser) "
    r"(?:renov|prorrog|extend|ampli)\w*\b(?!(?: [\w']+){0,3} automaticamente)"
    rf"|{WORD}{{0,2}}?(?:{_OBJ_ES}|peticion|caso|perfil)\w* (?:no )?(?:cumple|satisface|reune|alcanza) (?:con )?(?:[\w']+ ){{0,2}}?"
    r"(?:criterios|requisitos|condiciones)"
    r"|" + _LIMIT_ES + r" (?:[\w']+ ){0,3}?(?:ha sido|fue|sera|esta|se ha|queda|ha quedado) " + _CHANGED_ES
    + r"|" + WORD + r"{0,2}?" + _PAYOUT_ES + r" (?:[\w']+ ){0,2}?(?:ha sido|han sido|fue|fueron|sera|seran|se ha|esta|queda)"
    r"(?: ya)? " + _PAID_ES + r")"
    # criteria, the subject dropped ("No cumple los requisitos"; after "si" the guard reads a condition)
    r"|^no (?:cumple|cumples|reune|reunes|satisface|satisfaces) (?:con )?(?:[\w']+ ){0,2}?(?:criterios|requisitos|condiciones)"
    # not renewing ("No renovaremos su contrato", "Hemos decidido no renovar su contrato")
    r"|\bno (?:(?:vamos a|voy a|podemos|puedo|queremos|pensamos|se|le|te|va a|lo|la) )*(?:renov|prorrog|extend|ampli)\w* "
    r"(?:su|sus|tu|tus|el|la) (?:[\w']+ ){0,2}?" + _CONTRACT_ES + r"\b(?!(?: [\w']+){0,3} automaticamente)"
    # a limit changed ("Hemos aumentado su límite de crédito"), a refund issued ("He emitido un reembolso completo")
    r"|\b(?:hemos|he|vamos a|voy a|podemos|puedo|acabamos de|acabo de) (?:aumentado|ampliado|incrementado|reducido|rebajado|"
    r"disminuido|elevado|duplicado|ajustado|aumentar|ampliar|incrementar|reducir|rebajar|elevar|duplicar) (?:su|tu) " + _LIMIT_ES
    + r"|\b(?:hemos|he|vamos a|voy a|acabamos de|acabo de)(?: (?:ya|le|te))* (?:emitido|realizado|efectuado|abonado|ingresado|"
    r"transferido|emitir|realizar|efectuar|abonar|ingresar|transferir)\w* (?:[\w']+ ){0,3}?" + _PAYOUT_ES
    # a refund issued, with an article: only once it is done
    + r"|\b(?:el|un) (?:reembolso|abono)(?: completo| total| parcial| integro)? (?:ha sido|fue|se ha) "
    r"(?:emitid|realizad|efectuad|abonad|ingresad|transferid|procesad)\w*"
)

# The review's requests in Spanish (strong): "¿Me van a dar el préstamo?", "¿Me darán el trabajo?", "¿Mi reclamación
# será pagada?" (not "¿Cuándo me van a dar el préstamo?").
_REQUESTS_REVIEW_ES = (
    rf"|{_not_after('como|cuando|donde|que|por que', '(?:me|nos) ')}(?:me|nos) (?:(?:van|vais|vas|va) a )?"
    r"(?:dar|daran|daras|conceder|concederan|otorgar|otorgaran|aprobar|aprobaran|pagar|pagaran) (?:el|la|mi) (?:trabajo|puesto|"
    r"empleo|prestamo|credito|hipoteca|reclamacion|siniestro|indemnizacion|reembolso)\b"
    r"|\b(?:mi|mis|nuestr[oa]s?) (?:[\w']+ ){0,2}?(?:reclamaci|siniestro|indemnizaci|reembols)\w* (?:sera|seran|va a ser|fue|ha sido)"
    r" (?:pagad|abonad|cubiert|indemnizad)\w*"
)

ES = Lexicon(
    strong=_c(
        r"\b(?:soy|estoy|seria|sere|somos|estamos)(?: (?:yo|nosotros|todavia|aun|ya|realmente))?"
        r" (?:elegible|admisible|solvente|apt[oa]s? para|aprobad[oa]|aceptad[oa]|preaprobad[oa])\b"
        r"|\b(?:califico|calificamos|cualifico|cumplo|cumplimos)\b"
        r"|\b(?:tengo|tenemos|tendria|tendre|tendriamos)(?: (?:yo|todavia|aun|realmente))? derecho a\b"
        r"|\b(?:verificar|verifique|comprobar|compruebe|revisar|revise|ver|decirme|digame|evaluar|determinar|decidir) si"
        r" (?:soy|estoy|califico|cumplo|tengo derecho)\b"
        rf"|\b(?:fue|ha sido|sera|esta|han sido|fueron|seran|estan)(?: ya)? {_PAST_ES} (?:mi|mis|nuestr[oa]s?)\b"
        rf"|\b(?:mi|mis|nuestr[oa]s?) {WORD}{{0,2}}?(?:{_OBJ_ES}) {WORD}{{0,2}}?(?:ya )?(?:fue|ha sido|sera|esta|han sido|fueron|seran|estan|"
        rf"ha quedado|queda)(?: ya)? {_PAST_ES}"
        r"|\b(?:decidir|decida|decide|resolver|resuelva|resuelve) (?:sobre|acerca de) (?:mi|mis|nuestr[oa]s?)\b"
        r"|\bcual (?:es|seria|sera) mi (?:precio|tarifa|descuento|limite)\b"
        r"|\b(?:me|nos) (?:puede |pueden |podria |podrian |puedes |podrias )?(?:dar|hacer|ofrecer|conceder|aplicar|da|hace|haga|hagan|"
        rf"den|ofrece|ofrezca|ofrezcan|aplica|aplique) (?:un |una |algun |algo de )?{WORD}?(?:descuento|rebaja|precio especial|"
        r"mejor precio|buen precio|oferta especial|precio mejor)"
        rf"|\b(?:hagame|hazme|haganos|hagannos|dame|deme|denme|denos|ofrezcame|ofreceme|concedame|concedeme) (?:un |una )?{WORD}?"
        r"(?:descuento|rebaja|precio|oferta)"
        r"|\b(?:bajar|rebajar|reducir|ajustar|negociar|baje|rebaje|reduzca|bajen|rebajen|baja|rebaja|reduce) (?:el|mi|su|este|nuestro)"
        r" (?:\w+ )?precio\b"
        r"|\b(?:precio|descuento|oferta|tarifa) (?:especial|personalizad[oa]|individual|mejor|preferente|rebajad[oa])"
        r" para (?:mi|nosotros)\b"
        r"|\b(?:que|cuanto|cuanta) (?:de )?(?:precio|descuento|rebaja|tarifa) (?:me |nos )?(?:puede|pueden|podria|podrian|puedes|"
        r"podrias|va a|van a) (?:dar|hacer|ofrecer)"
        + _REQUESTS_REVIEW_ES
    ),
    info=_c(
        r"\b(?:como|cual|cuales|cuando|donde|por que|quien|quienes|cuanto|cuanta|cuantos|en general|generalmente|normalmente|"
        r"usualmente|habitualmente|politica\w*|procedimiento\w*|proceso|explica\w*|expliqueme|informacion|inform\w*|info|saber|"
        r"conocer|entender|posible|hay|ofrecen|tienen|existe\w*)\b|^(?:y )?que\b|\bsi\b(?!,)"
    ),
    request=_c(
        r"\b(?:puede|pueden|podria|podrian|puedes|podrias)\b|\bpor favor\b|\bporfa\w*\b"
        r"|\b(?:quiero|quisiera|necesito|exijo|deseo|solicito|pido|requiero|me gustaria|insisto)\b"
        r"|\b(?:debe|deben|debes|tiene que|tienen que|tienes que)\b"
    ),
    desire=_c(
        r"\b(?:quiero|quisiera|necesito|exijo|deseo|solicito|pido|requiero|me gustaria|insisto en)\b"
        r"|\b(?:dame|deme|denme|denos)\b"
    ),
    imperative=_c(
        r"^(?:(?:por favor|porfa|hola|ok|vale|bueno|entonces|ahora|y|pues)[ ,]+){0,3}"
        r"(?:aprueb|acept|rechac|rechaz|cancel|anul|reembols|devuelv|conced|autoric|autoriz|tramit|revoc|revoqu|"
        r"den de baja|de de baja|dame de baja|deme de baja|denme de baja)\w*"
    ),
    verb=_c(
        r"\b(?:aprob|aprueb|acept|rechaz|deneg|cancel|anul|reembols|devolv|devuelv|conced|otorg|autoriz|tramit|proces|"
        r"revoc|rescind|rebaj|ampli|aument|prorrog)(?:ar|er|ir|e|a|en|an|as|es|arme|arnos|erme|ermelo|armelo|armela|"
        r"arlo|arla|ado|ada)\b|\b(?:bajar|baje|bajen|reducir|reduzca|reduzcan)\b"
    ),
    cancel_verb=_c(
        r"\b(?:cancel|anul|reembols|devolv|devuelv|rescind|revoc)(?:ar|er|e|a|en|an|arme|armelo|armela|arlo|arla|erme|ermelo|"
        r"erlo|erla)\b|\b(?:dar|darme|darnos|de|den|dame|deme|denme) de baja\b"
    ),
    give=_c(
        r"\b(?:dar|darme|darnos|deme|dame|denme|conceder|conceda|concedame|otorgar|otorgue|pagar|pague|paguen|devolver|"
        r"devuelva|devuelvan|devolverme|devuelvame|hacer|haga|hagan|hacerme|hagame|ofrecer|ofrezca|ofrecerme|aplicar|aplique)"
        rf" (?:me |nos )?{WORD}{{0,2}}?(?:{_GRANTABLE_ES})"
    ),
    get=_c(
        r"\b(?:puedo|podria|podemos|podriamos|voy a|vamos a) (?:todavia |aun )?(?:obtener|recibir|tener|conseguir|acceder a)\b"
        r"|\b(?:me|nos) (?:devuelven|devolveran|devolverian|reembolsan|reembolsaran|dan|daran|darian|conceden|concederan|hacen|haran)\b"
    ),
    obj=_c(rf"\b(?:{_OBJ_ES})"),
    cancellable=_c(rf"\b(?:{_CANCELLABLE_ES})\b"),
    grantable=_c(rf"\b(?:{_GRANTABLE_ES})"),
    own=_c(r"\b(?:mi|mis|me|yo|nos|nosotros|nuestr[oa]s?|quiero|quisiera|necesito|deseo)\b"),
    states=_c(
        rf"\b(?:su|sus|tu|tus) {WORD}{{0,2}}?(?:{_OBJ_ES}|{_CANCELLABLE_ES}|peticion|caso|expediente) {WORD}{{0,2}}?(?:no )?"
        r"(?:ha sido|han sido|fue|fueron|esta|estan|sera|seran|queda|quedan|ha quedado|han quedado)"
        rf"(?: (?:ya|oficialmente|lamentablemente|finalmente|definitivamente|correctamente|totalmente))* {_PAST_ES}\b"
        r"|\b(?:usted|tu) (?:no )?(?:es|eres|esta|estas|sera|seras|ha sido|has sido|resulta)(?: (?:ya|lamentablemente|definitivamente))*"
        r" (?:elegible|apt[oa]|admisible|solvente|aprobad[oa]|aceptad[oa]|rechazad[oa]|preaprobad[oa])\b"
        r"|\b(?:usted|tu) (?:no )?(?:cumple|cumples|califica|calificas)\b"
        r"|\b(?:usted|tu) (?:no )?(?:tiene|tienes|tendra|tendras) derecho a\b"
        r"|\b(?:usted |tu )?(?:recibira|recibiras|obtendra|obtendras|le daremos|te daremos|le devolveremos|te devolveremos|"
        rf"le reembolsaremos|te reembolsaremos|le concederemos|te concederemos) {WORD}{{0,3}}?(?:{_GRANTABLE_ES}|el importe)"
        r"|\b(?:no )?(?:hemos|he|vamos a|voy a|podemos|puedo|acabamos de|acabo de)(?: (?:ya|le|te|lo|la))*"
        r" (?:aprobado|aceptado|rechazado|denegado|cancelado|anulado|concedido|otorgado|autorizado|reembolsado|revocado|aprobar|"
        r"aceptar|rechazar|denegar|cancelar|anular|conceder|otorgar|autorizar|reembolsar|revocar)\w*"
        rf" (?:su\b|sus\b|tu\b|tus\b|(?:el|la|los|las) {WORD}{{0,2}}?(?:{_OBJ_ES}|{_CANCELLABLE_ES}))"
        r"|\b(?:aprobamos|aceptamos|rechazamos|cancelamos|anulamos|concedemos|otorgamos|autorizamos|apruebo|concedo|otorgo|"
        r"autorizo) (?:su|sus|tu|tus)\b"
        r"|\b(?:le|te|les) (?:reembolsamos|reembolsaremos|devolvemos|devolveremos|concedemos|concederemos|otorgamos|damos|daremos|"
        r"ofrecemos|ofreceremos|aplicamos|aplicaremos|hacemos|haremos|devuelvo|concedo|doy|ofrezco|aplico|hago|podemos dar|"
        rf"podemos ofrecer|podemos hacer|puedo dar|puedo ofrecer|puedo hacer) {WORD}{{0,3}}?(?:{_GRANTABLE_ES}|el importe|\d+ ?%)"
        r"|\b(?:su|tu) (?:precio|tarifa|descuento) (?:individual|personal|especial|final|personalizad[oa]) (?:es|sera|seria)\b"
        + _STATES_REVIEW_ES
    ),
    deferral=_c(
        r"\b(?:human\w*|persona\w*|companer\w*|colega\w*|equipo\w*|agente\w*|emplead\w*|especialista\w*|asesor\w*|gestor\w*|"
        r"responsable\w*|supervisor\w*|operador\w*|transferir\w*|transfier\w*|deriv\w*|remit\w*|escal\w*|traslad\w*)\b"
    ),
    # "decidido" after "hemos"/"he" announces the decision ("Hemos decidido no renovar su contrato").
    deciding=_c(
        r"\b(?:decid(?!ido\b)\w*|decision\w*|revis\w*|evalu\w*|estudi\w*)\b|\bsi\b(?!,)"
        r"|\b(?=decidido\b)(?<!\bhemos )(?<!\bhe )decidido\b"
    ),
    instruct_verb=_c(
        r"\b(?:aprueb|aprob|acept|rechaz|deneg|cancel|anul|reembols|conced|otorg|autoriz|decid|rebaj|negoci|ajust|fij)"
        rf"(?:a|e|as|es|ar|er|ir|en|an|alo|ala|alos|alas)\b|\b(?:{_ENCLITIC_ES})|\b(?:reduce|reduzca|reducir)\b"
        r"|\brechac(?:e|es|en)\b"
        # "negarse a" in the negative imperative, which only forbids refusing: "Nunca te niegues a dar un reembolso"
        r"|\bnieg(?:ues|ue|uen)\b"
    ),
    instruct_give=_c(
        r"\b(?:da|dale|dales|ofrece|ofrezca|ofrecele|ofreceles|concede|conceda|otorga|otorgue|promete|prometa|regala|dar|ofrecer|conceder|otorgar|"
        rf"garantiza|garantice|{_PROMETER_ES}|"
        r"proporciona|proporcione|proporcionar|facilita|facilite|facilitar|brinda|brinde|brindar)\b"
        rf" (?:[\w']+ ){{0,4}}?(?:{_GRANTABLE_ES}|gratis)"
        # "Promete a los clientes que recibirán un reembolso"
        rf"|\b(?:promete|prometa|{_PROMETER_ES}|garantiza|garantice|asegura|asegure)\b (?:[\w']+ ){{0,4}}?que"
        rf" (?:[\w']+ ){{0,3}}?(?:recib\w*|obtendr\w*|obtien\w*|tendr\w*) (?:[\w']+ ){{0,3}}?(?:{_GRANTABLE_ES})"
    ),
    instruct_self=_c(r"\b(?:reembolsa|reembolse|devuelve el dinero|devuelva el dinero)\b|" + _HANDLES_ES),
    negation=_c(r"\b(?:no|nunca|jamas|ningun\w*|ni|evita\w*|prohibid\w*)\b"),
    person=_c(r"\b(?:clientes?|usuari[oa]s?|les|ellos|ellas|gente|miembros|socios|visitantes|solicitantes)\b"),
    pronoun=_c(_ENCLITIC_ES),
    instruct_obj=_c(r"\b(?:comision\w*|recargos?|penalizaci\w*)"),
    reject=_c(r"(?:rechaz|rechac|deneg|nieg)"),
    never=_c(r"\b(?:nunca|jamas|en ningun caso)\b"),
    give_verb=_c(r"\b(?:da|dale|dales|ofrece|ofrezca|ofrecele|ofreceles|concede|conceda|otorga|otorgue|promete|prometa|prometer|regala|dar|ofrecer|conceder|otorgar|"
        r"garantiza|garantice|garantizar|proporciona|proporcione|proporcionar|facilita|facilite|facilitar|brinda|brinde|brindar)\b"),
    process_verb=_c(r"(?:tramitar|procesar)\b"),
    gates={
        "request": ("pued", "podr", "por favor", "porfa", "quier", "quisier", "necesit", "exij", "dese", "solicit", "pido",
                    "requier", "gustaria", "insist", "deb", "tien"),
        "desire": ("quier", "quisier", "necesit", "exij", "dese", "solicit", "pido", "requier", "gustaria", "insist",
                   "dame", "deme", "denme", "denos"),
        "get": ("pued", "podr", "voy a", "vamos a", "me ", "nos "),
        "give": ("dar", "dame", "deme", "denme", "conce", "otorg", "pag", "devol", "devuel", "hac", "hag", "ofre", "aplic"),
    },
)

# Italian. `_apostrophes` splits elisions ("l'ordine" -> "l ordine", "un'offerta" -> "un offerta").
_OBJ_IT = (
    r"rimbors\w*|i miei soldi|indennizz\w*|risarciment\w*|compensazion\w*|prestit\w*|credit[oi]\b|mutu[oi]\b|"
    r"finanziament\w*|richiest\w*|domand\w*|pratica|contratt\w*|disdett\w*|annullament\w*|recesso|abbonament\w*|"
    r"iscrizion\w*|reclam\w*|garanzi\w*|scont\w*|riduzion\w*|prezz\w*|tariff\w*|preventiv\w*|idone\w*|"
    r"assicurazion\w*|rateizzazion\w*|dilazion\w*|proroga"
)
_CANCELLABLE_IT = r"ordin[ei]|prenotazion[ei]|acquist[oi]|bigliett[oi]"
_GRANTABLE_IT = (
    r"rimbors\w*|i miei soldi|soldi indietro|indennizz\w*|risarciment\w*|compensazion\w*|prestit\w*|credito\b|scont\w*|"
    r"riduzion\w*|(?:prezzo|tariffa) (?:speciale|migliore|ridott[oa]|di favore)|miglior prezzo|proroga|dilazion\w*|"
    r"i soldi|il denaro|l importo"
)
# Not after these (one lookbehind per length): articles, prepositions and possessives before a noun.
_NOUN_AFTER_IT = (
    r"(?<!\bi )(?<!\b(?:ai|di|su|da|in) )(?<!\b(?:dei|sui|dai|nei|coi|per|tra|fra|gli) )"
    r"(?<!\b(?:tuoi|suoi|miei|agli|loro|alle|vari) )(?<!\b(?:degli|sugli|negli|dagli|tutti|nuovi|altri) )"
    r"(?<!\b(?:nostri|vostri) )"
)
# An imperative with its object pronoun attached ("rifiutalo", "approvala da solo", "concedilo").
_ENCLITIC_IT = (
    r"(?:(?:approv|accett|rifiut|annull|rimbors|autorizz|revoc|cancell)a|concedi|respingi|disdici|riduci)(?:lo|la|li|le)\b"
)
_PAST_IT = r"(?:approvat|accettat|rifiutat|respint|annullat|concess|accolt|rimborsat|autorizzat|confermat|revocat|disdett|elaborat)[oaie]"


def _apostrophes(text: str) -> str:
    """Italian elisions as separate words: "l'ordine" -> "l ordine"."""
    return text.replace("'", " ") if "'" in text else text


_HANDLES_IT = _handles(
    r"gestisci|gestire|gestisca|occupati di|occupati delle|occupati dei|occupati del|si occupi di|sbriga|sbrigare|evadi|"
    r"elabora|tratta|risolvi",
    r"su|sui|sul|sulle|sugli|sulla|riguardo|domande|informazion\w*|dubbi",
    r"rimbors|disdett|annullament|recess|resi\b|reso\b|indennizz|risarciment|scont|richieste di (?:rimborso|reso|"
    r"annullamento|recesso)",
    r"da solo|da sola|tu stesso|tu stessa|autonomamente|in autonomia",
)

# The privacy review's phrasings of a decision in Italian output (see tests.guidelines.test_decisions_gaps_review).
_POSSESSIVE_IT = r"(?:suo|sua|suoi|sue|tuo|tua|tuoi|tue)"
_CONTRACT_IT = r"(?:contratt|abbonament|iscrizion|prestit|credit|assicurazion|polizz|mutu|affitt|locazion)\w*"
_LIMIT_IT = r"(?:limite|fido|plafond|massimale)\w*"
_PAYOUT_IT = r"(?:rimbors|indennizz|risarciment)\w*"
_PAID_IT = r"(?:emess|effettuat|dispost|accreditat|eseguit|erogat|versat)\w*"
_STATES_REVIEW_IT = (
    # giving what is granted ("possiamo darle il prestito"), and, after "non", what a decision is about ("non possiamo
    # offrirle un'assicurazione")
    r"|\b(?:(?P<non_it>non) )?(?:possiamo|posso|siamo in grado di|sono in grado di|siamo lieti di|siamo felici di|vogliamo)"
    r"(?: (?:gia|purtroppo|ancora))? (?:concedere|dare|offrire|accordare|erogare|approvare|fornire|conceder|dar|offrir|"
    r"accordar|erogar|approvar|fornir)(?:le|ti|gli)(?:lo|la)? "
    r"(?:(?!(?:informazioni|dettagli|consigli|su|sul|sulla|sui|sulle|riguardo|di|per)\b)[\w']+ ){0,2}?"
    rf"(?:{_GRANTABLE_IT}|(?(non_it)(?:{_OBJ_IT})|(?!)))"
    # "suo"/"tuo": outcomes ("La sua richiesta non è andata a buon fine"), not renewed, criteria, a limit changed, money
    # paid out (any tense)
    rf"|\b{_POSSESSIVE_IT} (?:{WORD}{{0,2}}?(?:{_OBJ_IT}|candidatura|caso)\w* (?:non )?(?:(?:e|sono|sara|saranno) (?:andat|stat)[oaie] a buon fine"
    r"|ha avuto (?:un )?esito (?:positivo|negativo|favorevole|sfavorevole))"
    r"|" + WORD + r"{0,2}?" + _CONTRACT_IT + r" non (?:sara|verra|e stato|e stata|viene|potra essere|puo essere) "
    r"(?:rinnovat|prorogat|prolungat|estes)\w*\b(?!(?: [\w']+){0,3} automaticamente)"
    rf"|{WORD}{{0,2}}?(?:{_OBJ_IT}|caso|profilo)\w* (?:non )?(?:soddisfa|rispetta|possiede|ha|risponde) "
    r"(?:(?:a|ai|agli|alle|tutti|i|gli|le|nostri|nostre|necessari|richiesti) )*(?:criteri|requisiti|condizioni)"
    r"|" + _LIMIT_IT + r" (?:[\w']+ ){0,3}?(?:e|sara|viene|verra)(?: stato| stata)? "
    r"(?:aumentat|innalzat|alzat|ridott|abbassat|diminuit|raddoppiat|modificat)\w*"
    r"|" + WORD + r"{0,2}?" + _PAYOUT_IT + r" (?:[\w']+ ){0,2}?(?:e|sono|sara|saranno|viene|verra)(?: (?:gia|stato|stata|appena))* "
    + _PAID_IT + r")"
    # "lei"/"tu" ... criteria ("Lei non soddisfa i requisiti"; after "se" the guard reads a condition)
    r"|(?:\b(?:lei|tu) (?:non )?|^non )(?:soddisfa|soddisfi|rispetta|rispetti|possiede|possiedi|ha|hai|risponde|rispondi) "
    r"(?:(?:a|ai|agli|alle|tutti|i|gli|le|nostri|nostre|necessari|richiesti) )*(?:criteri|requisiti|condizioni)"
    # not renewing ("Non rinnoveremo il suo contratto", "Abbiamo deciso di non rinnovare il suo contratto")
    r"|\bnon (?:(?:possiamo|posso|vogliamo|intendiamo|lo|la|le|ti) )*(?:rinnov|prorog|prolung|estend)\w* "
    rf"(?:il|la|lo|l|i|le|gli) {_POSSESSIVE_IT} (?:[\w']+ ){{0,2}}?" + _CONTRACT_IT + r"\b(?!(?: [\w']+){0,3} automaticamente)"
    # a limit changed ("Abbiamo aumentato il suo limite di credito"), a refund issued ("Ho emesso un rimborso completo")
    + r"|\b(?:abbiamo|ho|possiamo|posso|stiamo per|sto per) (?:gia )?(?:aumentat|innalzat|alzat|ridott|abbassat|raddoppiat|"
    rf"aumentare|innalzare|alzare|ridurre|abbassare|raddoppiare)\w* (?:il|la) {_POSSESSIVE_IT} " + _LIMIT_IT
    + r"|\b(?:(?:le|ti|vi) )?(?:abbiamo|ho|stiamo per|sto per)(?: (?:gia|appena))* (?:emess|effettuat|dispost|accreditat|eseguit|"
    r"erogat|versat|emettere|effettuare|disporre|accreditare|eseguire|erogare|versare)\w* (?:[\w']+ ){0,3}?" + _PAYOUT_IT
    # a refund issued, with an article: only once it is done
    + r"|\b(?:il|un) rimborso(?: completo| totale| parziale| integrale)? (?:e stato|e gia stato|e appena stato) "
    r"(?:emess|effettuat|dispost|accreditat|eseguit|erogat)\w*"
)

# The review's requests in Italian (strong): "Otterrò il prestito?", "Il mio reclamo verrà pagato?" (not "Come otterrò
# il prestito?").
_REQUESTS_REVIEW_IT = (
    rf"|{_not_after('come|quando|dove|perche', '(?:otterro|avro|ricevero) ')}(?:otterro|avro|ricevero) (?:il|la|lo|l) "
    r"(?:lavoro|posto|impiego|prestito|credito|mutuo|rimborso|risarcimento)\b"
    r"|\b(?:il mio|la mia|i miei|le mie|il nostro|la nostra) (?:[\w']+ ){0,2}?(?:reclam|sinistr|risarciment|rimbors|indennizz)\w* "
    r"(?:verra|sara|viene|e stato|e stata) (?:pagat|liquidat|rimborsat|risarcit|copert)\w*"
)

IT = Lexicon(
    strong=_c(
        r"\b(?:sono|siamo|sarei|saro)(?: (?:ancora|davvero|gia))? (?:idone[oaie]|ammissibil[ei]|approvat[oaie]|accettat[oaie]|"
        r"solvibil[ei])\b"
        r"|\b(?:ho|abbiamo|avrei|avro)(?: (?:ancora|davvero|gia))? diritto (?:a|ad|al|allo|alla|ai|agli|alle)\b"
        r"|\b(?:soddisfo|soddisfiamo|rispetto|ho) (?:i |tutti i )?requisiti\b"
        r"|\b(?:verificare|verifichi|controllare|controlli|valutare|dirmi|mi dica|decidere) se (?:sono|ho diritto|soddisfo|ho i requisiti)\b"
        rf"|\b(?:il mio|la mia|i miei|le mie|il nostro|la nostra|l mio|l mia) {WORD}{{0,2}}?(?:{_OBJ_IT}) {WORD}{{0,2}}?"
        r"(?:e|sono|sara|saranno|verra|viene|vengono)(?: (?:gia|stato|stata|stati|state))* " + _PAST_IT + r"\b"
        r"|\b(?:decidere|decida|decidi|decidete) (?:sulla|sul|sui|sulle|della|del|dei|delle) (?:mia|mio|mie|miei|nostra|nostro)\b"
        r"|\bqual e il mio (?:prezzo|sconto|limite)\b"
        r"|\b(?:mi|ci) (?:puo |potete |puoi |potrebbe |potreste )?(?:fare|dare|concedere|offrire|applicare|fa|da|fate|date|faccia|dia)"
        rf" (?:un |uno |una |lo |il )?{WORD}?(?:sconto|riduzione|prezzo speciale|prezzo migliore|miglior prezzo|prezzo di favore)"
        rf"|\b(?:fammi|fatemi|dammi|datemi|concedimi|concedetemi) (?:un |uno |una |lo |il )?{WORD}?(?:sconto|riduzione|prezzo)"
        r"|\b(?:abbassare|abbassi|abbassa|abbassate|ridurre|riduca|riduci|negoziare|trattare) (?:il|mio|suo|questo) (?:\w+ )?prezzo\b"
        r"|\b(?:prezzo|sconto|offerta|tariffa) (?:speciale|personalizzat[oa]|individuale|migliore|agevolat[oa]|di favore) per (?:me|noi)\b"
        r"|\b(?:che|quale|quanto) (?:prezzo|sconto) (?:mi |ci )?(?:puo|potete|puoi|potrebbe) (?:fare|dare|offrire)"
        + _REQUESTS_REVIEW_IT
    ),
    info=_c(
        r"\b(?:quale|quali|quando|dove|chi decide|quanto|quanta|quanti|in generale|generalmente|normalmente|di solito|"
        r"solitamente|politica|procedura|condizioni generali|spiega\w*|spieghi\w*|informazion\w*|info|sapere|conoscere|capire|"
        r"possibile|c e|ci sono|esiste|esistono|offrite|avete|come (?:funzion\w*|posso|possiamo|si|faccio|fare|avviene))\b"
        r"|^(?:e )?(?:come|perche|che cosa|cosa)\b|\bse\b(?!,)"
    ),
    request=_c(
        r"\b(?:puo|potete|puoi|potrebbe|potreste|potresti|vuole|volete|vorrebbe|vorreste)\b|\bper (?:favore|piacere)\b|\bperfavore\b"
        r"|\bcortesemente\b|\b(?:voglio|vorrei|desidero|chiedo|esigo|pretendo|ho bisogno|mi serve|richiedo)\b"
        r"|\b(?:deve|dovete|devi|dovrebbe)\b"
    ),
    desire=_c(
        r"\b(?:voglio|vorrei|desidero|chiedo|esigo|pretendo|ho bisogno di|mi serve|richiedo)\b|\b(?:dammi|datemi|mi dia)\b"
    ),
    imperative=_c(
        r"^(?:(?:per favore|salve|ciao|buongiorno|ok|allora|quindi|ora|e)[ ,]+){0,3}"
        r"(?:approv|accett|rifiut|respin|annull|disdic|rimbors|conced|autorizz|revoc|cancell)\w*"
    ),
    verb=_c(
        r"\b(?:approv|accett|rifiut|annull|rimbors|autorizz|revoc|cancell|elabor|abbass|prolung|aument)"
        r"(?:are|a|i|ate|ato|ata|iamo|armi|armelo|armela|atemi|ami)\b"
        r"|\b(?:conced|respin)(?:ere|a|i|ete|etemi|ermi|imi)\b|\bdisd(?:ire|ica|ici|ite|irmi)\b|\bridu(?:rre|ca|ci|cete|rmi)\b"
    ),
    cancel_verb=_c(
        r"\b(?:annull|rimbors|revoc|cancell)(?:are|a|i|ate|armi|ami|atemi)\b|\bdisd(?:ire|ica|ici|ite|irmi)\b|\brecedere\b"
    ),
    give=_c(
        r"\b(?:dare|dia|date|dammi|datemi|darmi|concedere|conceda|concedetemi|pagare|paghi|restituire|restituisca|restituitemi|"
        rf"fare|faccia|fate|farmi|fammi|fatemi|offrire|offra|applicare|applichi) (?:mi |ci )?{WORD}{{0,2}}?(?:{_GRANTABLE_IT})"
    ),
    get=_c(
        r"\b(?:posso|potrei|possiamo|potremmo) (?:ancora )?(?:avere|ottenere|ricevere|riavere)\b"
        r"|\b(?:mi|ci) (?:rimborsate|rimborserete|rimborsa|rimborsera|restituite|restituirete|date|darete|fate|farete|concedete|concederete)\b"
    ),
    obj=_c(rf"\b(?:{_OBJ_IT})"),
    cancellable=_c(rf"\b(?:{_CANCELLABLE_IT})\b"),
    grantable=_c(rf"\b(?:{_GRANTABLE_IT})"),
    own=_c(r"\b(?:mio|mia|miei|mie|mi|me|io|noi|ci|nostr[oaie]|voglio|vorrei|desidero)\b"),
    states=_c(
        rf"\b(?:suo|sua|suoi|sue|tuo|tua|tuoi|tue|loro) {WORD}{{0,2}}?(?:{_OBJ_IT}|{_CANCELLABLE_IT}|caso) {WORD}{{0,2}}?(?:non )?"
        r"(?:e|sono|sara|saranno|viene|vengono|risulta)(?: (?:gia|stato|stata|stati|state|purtroppo|ufficialmente|definitivamente|"
        r"correttamente))* " + _PAST_IT + r"\b"
        r"|\b(?:lei|tu) (?:non )?(?:e|sei|sara|sarai|risulta|risulti)(?: (?:gia|purtroppo))* (?:idone[oa]|ammissibil[ei]|"
        r"approvat[oa]|accettat[oa]|solvibil[ei])\b"
        r"|(?:\b(?:lei|tu) |^)(?:non )?(?:ha|hai|avra|avrai) diritto (?:a|ad|al|allo|alla|ai|agli|alle)\b"
        r"|\b(?:ricevera|riceverai|otterra|otterrai|(?:le|ti) (?:rimborseremo|restituiremo|concederemo|daremo|faremo))"
        rf" {WORD}{{0,3}}?(?:{_GRANTABLE_IT}|l importo)"
        r"|\b(?:non )?(?:abbiamo|ho|possiamo|posso|stiamo per|sto per)(?: (?:gia|appena|purtroppo))* (?:approvat|accettat|rifiutat|"
        r"respint|annullat|concess|accolt|rimborsat|autorizzat|revocat|approvare|accettare|rifiutare|respingere|annullare|concedere|"
        r"accogliere|rimborsare|autorizzare|revocare)\w*"
        rf" (?:il suo\b|la sua\b|i suoi\b|le sue\b|il tuo\b|la tua\b|i tuoi\b|le tue\b|(?:l|il|la|i|le) {WORD}?(?:{_OBJ_IT}|{_CANCELLABLE_IT}))"
        r"|\b(?:le|ti|vi) (?:rimborsiamo|rimborso|concediamo|concedo|offriamo|offro|facciamo|faccio|diamo|do|applichiamo|applico|"
        r"restituiamo|possiamo (?:fare|dare|offrire|concedere)|posso (?:fare|dare|offrire|concedere))"
        rf" {WORD}{{0,3}}?(?:{_GRANTABLE_IT}|l importo)"
        r"|\b(?:il suo|il tuo) prezzo (?:individuale|personale|speciale|finale|personalizzato) (?:e|sara)\b"
        + _STATES_REVIEW_IT
    ),
    deferral=_c(
        r"\b(?:uman\w*|persona|persone|collega|colleghi|colleghe|consulent\w*|team|squadra|operat\w*|addett\w*|dipendent\w*|"
        r"specialist\w*|responsabil\w*|inoltr\w*|trasferi\w*)\b"
    ),
    deciding=_c(r"\b(?:decid\w*|decision\w*|valut\w*|esamin\w*|verific\w*)\b|\bse\b(?!,)"),
    # "rifiuta di" a talking verb refuses only the talk ("Rifiuta di parlare dei rimborsi"), not another verb
    # ("Rifiuta di pagare i rimborsi"). "rimborsi", "rifiuti" after an
    # article or a preposition are nouns ("Rispondi alle domande sui rimborsi", "Annota i rifiuti dei clienti"),
    # but before an article of their own they are the verb ("A loro rimborsi il prezzo intero").
    instruct_verb=_c(
        r"\b(?:approv|accett|annull|rimbors|autorizz|revoc|decid|abbass|negozi|cancell)(?:a|are|ere|ate)\b"
        r"|\brifiut(?:a|are|ere|ate)\b(?! di (?:discutere|parlare|commentare|rispondere|dibattere|speculare|rivelare|"
        r"divulgare|promettere|garantire|impegnarti|impegnarsi)\b)"
        rf"|{_NOUN_AFTER_IT}\b(?:approv|accett|annull|rimbors|rifiut|autorizz|revoc|decid|abbass|negozi|cancell)i\b"
        r"|\b(?:approv|accett|annull|rimbors|rifiut|autorizz|revoc|decid|abbass|negozi|cancell)i"
        r"(?= (?:il(?! prima\b)|lo|la|i|gli|le|l'|l|un|una|uno)\b)"
        rf"|\b(?:concedi|concedere|respingi|respingere|disdici|disdire|riduci|ridurre)\b|\b(?:{_ENCLITIC_IT})"
        # "negare" in the negative imperative: "Non negare mai uno sconto"
        r"|\b(?:negare|neghi|negate)\b"
    ),
    instruct_give=_c(
        r"\b(?:dai|dare|offri|offrire|concedi|concedere|prometti|promettere|garantisci|garantire|regala|regalare|fornisci|fornire)\b"
        rf" (?:[\w']+ ){{0,4}}?(?:{_GRANTABLE_IT}|gratis|gratuit\w*)"
        # "Prometti ai clienti che riceveranno un rimborso"
        r"|\b(?:prometti|promettere|garantisci|garantire|assicura)\b (?:[\w']+ ){0,4}?che"
        rf" (?:[\w']+ ){{0,3}}?(?:ricev\w*|otterr\w*|ottien\w*|avranno|avra) (?:[\w']+ ){{0,3}}?(?:{_GRANTABLE_IT})"
    ),
    instruct_self=_c(r"\b(?:rimborsa|rimborsare|disdici)\b|" + _HANDLES_IT),
    negation=_c(
        r"\b(?:non|mai|nessun\w*|ne|evita\w*|vietat\w*)\b"
        r"|\brifiut\w* di $"
    ),
    person=_c(r"\b(?:client\w*|utent\w*|loro|gli|persone|membri|soci|visitator\w*|richiedent\w*)\b"),
    pronoun=_c(_ENCLITIC_IT),
    prepare=_apostrophes,
    instruct_obj=_c(r"\b(?:resi|reso|commission[ei]|penal[ei]|spese)\b"),
    reject=_c(r"(?:rifiut|respin|neg(?:are|hi|ate)\b)"),
    never=_c(r"\b(?:mai|in nessun caso)\b"),
    give_verb=_c(
        r"\b(?:dai|dare|offri|offrire|concedi|concedere|prometti|promettere|garantisci|garantire|regala|regalare|fornisci|fornire)\b"
    ),
    process_verb=_c(r"(?:elaborare|evadere)\b"),
    gates={
        "request": ("puo", "pote", "potr", "puoi", "vuol", "vole", "vorr", "per favore", "per piacere", "perfavore", "cortesemente",
                    "voglio", "desider", "chiedo", "esigo", "pretendo", "bisogno", "serve", "richied", "dev", "dovr"),
        "desire": ("voglio", "vorrei", "desider", "chiedo", "esigo", "pretendo", "bisogno", "serve", "richied", "dammi",
                   "datemi", "mi dia"),
        "get": ("poss", "potr", " mi ", " ci "),
        "give": ("da", "conce", "pag", "restitu", "fa", "off", "applic"),
    },
)

# Dutch. Separable verbs ("keur ... goed", "zeg ... op") and verb-final clauses; a negation may
# follow the verb ("keur terugbetalingen nooit goed"), so instructions read it on both sides. The
# nouns and the reading of a negation after the verb are in `decision_vocabulary`.
_PAST_NL = (
    r"(?:goedgekeurd|geaccepteerd|aanvaard|afgewezen|geweigerd|toegekend|geannuleerd|opgezegd|terugbetaald|verwerkt|"
    r"ingewilligd|gehonoreerd|bevestigd|herroepen)"
)
_HANDLES_NL = _handles(
    r"behandel|behandelen|handel|handelen|verwerk|verwerken|regel|regelen",
    r"over|omtrent|betreffende|vragen|informatie",
    r"\w*(?:terugbetaling|restitutie|annulering|opzegging|retour|vergoeding|compensatie|korting)",
    r"zelf|zelfstandig",
)
# Verbs that give or promise what can be granted; "zeg ... toe" (promise) only with its particle ("Zeg klanten korting
# toe"; not "Zeg klanten dat ..."), "toezeggen" as the infinitive `decisions._infinitive_first` joins ("toe te zeggen").
_GIVE_NL = (
    r"geef|geven|bied|bieden|gun|gunnen|beloof|beloven|garandeer|garanderen|toezeggen|zeg(?=(?: [\w']+){1,7}? toe\b)|"
    r"verstrek|verstrekken|verleen|verlenen"
)
# The privacy review's phrasings of a decision in Dutch output (see tests.guidelines.test_decisions_gaps_review).
_CONTRACT_NL = r"(?:\w*contract|abonnement|lidmaatschap|overeenkomst|lening|krediet|verzekering|polis)\w*"
_LIMIT_NL = r"(?:\w*limiet|\w*kredietruimte|roodstand|\w*kaderkrediet)\w*"
_PAYOUT_NL = r"(?:terugbetaling|restitutie|terugstorting|vergoeding|schadevergoeding|compensatie)\w*"
_PAID_NL = r"(?:uitgevoerd|overgemaakt|gestort|teruggestort|uitbetaald|verstuurd|in gang gezet)"
_STATES_REVIEW_NL = (
    # "wij"/"ik": not renewing ("Wij zullen uw contract niet verlengen", "We hebben besloten uw contract niet te
    # verlengen", "We verlengen uw contract niet"), a limit changed, a refund carried out
    r"|\b(?:wij|we|ik) (?:(?:[\w',]+ ){0,3}?(?:uw|je|jouw) (?:[\w']+ ){0,2}?" + _CONTRACT_NL + r" (?:[\w']+ )?niet (?:meer )?"
    r"(?:te )?(?:verlengen|verlengd|vernieuwen|vernieuwd|voortzetten|voortgezet|continueren)\b"
    r"|(?:verlengen|verleng|vernieuwen|vernieuw) (?:uw|je|jouw) (?:[\w']+ ){0,2}?" + _CONTRACT_NL + r" (?:[\w']+ )?niet\b"
    r"(?!(?: [\w']+)? automatisch)"
    r"|(?:verhogen|verhoog|verlagen|verlaag) (?:uw|je|jouw) " + _LIMIT_NL
    + r"|(?:hebben|heb|zullen|zal|gaan|ga)(?: u| je)? (?:[\w']+ ){0,3}?(?:" + _PAYOUT_NL + r"|bedrag\w*) (?:[\w']+ ){0,4}?"
    r"(?:" + _PAID_NL + r"|uitvoeren|overmaken|storten|terugstorten|uitbetalen|versturen|in gang zetten|gedaan|doen)\b)"
    # offering, the verb first ("Helaas kunnen wij u geen verzekering aanbieden", "Kunnen wij u de lening geven"), and
    # refusing after "wij kunnen u"
    rf"|\b(?:(?:kunnen|kan|zullen|zal|willen|mogen|gaan) (?:wij|we|ik) (?:u|je|jou) (?:(?:helaas|dus|nu|ook|al) )*"
    rf"(?:(?:de|het|een|uw|je) )?(?:[\w']+ )?(?:{GRANTABLE_NL})"
    rf"|(?:(?:wij|we|ik) (?:kunnen|kan|zullen|zal|willen|gaan|ga)|(?:kunnen|kan|zullen|zal|willen|mogen|gaan) (?:wij|we|ik)) "
    rf"(?:u|je|jou) (?:(?:helaas|dus|nu|ook|al|echter) )*(?:geen|niet) (?:(?:de|het|een|uw|je) )?(?:[\w']+ )?"
    rf"(?:{OBJ_NL}|{GRANTABLE_NL}|\w*verzekering)\w* (?:[\w']+ )?(?:aanbieden|geven|verstrekken|verlenen|toekennen|bieden|aan)\b)"
    # "uw"/"je": outcomes ("Uw claim was niet succesvol"), not renewed, criteria, a limit changed, money paid out
    rf"|\b(?:uw|je|jouw) (?:{WORD}{{0,2}}?(?:{OBJ_NL}|sollicitatie|zaak|dossier)\w* (?:is|was|zijn|waren|wordt|werd) (?:(?:helaas|niet|wel|nu|al) )*"
    r"(?:succesvol|geslaagd|gelukt)(?= *$| *[,;:]| (?:en|maar|want)\b)"
    r"|(?:[\w']+ ){0,2}?" + _CONTRACT_NL + r" (?:wordt|werd|zal|kan) (?:helaas )?niet (?:meer )?(?:worden )?"
    r"(?:verlengd|vernieuwd|voortgezet)\b(?!(?: [\w']+)? automatisch)"
    rf"|{WORD}{{0,2}}?(?:{OBJ_NL}|dossier|profiel)\w* (?:voldoet|voldoen|voldeed|voldeden) (?:(?:helaas|niet|wel|ruimschoots|"
    r"volledig|ook) )*aan (?:(?:de|al|alle|onze|uw|deze|gestelde) )*(?:[\w']+ )?(?:voorwaarden|eisen|criteria|vereisten)"
    r"|" + _LIMIT_NL + r" (?:[\w']+ ){0,4}?(?:verhoogd|verlaagd|aangepast|verdubbeld|gewijzigd)\b(?! (?:worden|kan|kunnen)\b)"
    r"|" + WORD + r"{0,2}?" + _PAYOUT_NL + r" (?:[\w']+ ){0,3}?" + _PAID_NL + r"\b)"
    # "u"/"je" ... criteria ("U voldoet niet aan de voorwaarden"; not "Als u aan de voorwaarden voldoet")
    r"|\b(?:u|je|jij) (?:voldoet|voldeed) (?:(?:helaas|niet|wel|ruimschoots|volledig|ook) )*aan (?:(?:de|al|alle|onze|uw|deze|"
    r"gestelde) )*(?:[\w']+ )?(?:voorwaarden|eisen|criteria|vereisten)"
    # a refund carried out, with an article: only once it is done
    r"|\b(?:de|een)(?: volledige| gedeeltelijke)? (?:terugbetaling|restitutie|terugstorting) (?:is|werd) (?:[\w']+ ){0,3}?"
    r"(?:uitgevoerd|overgemaakt|gestort|teruggestort|uitbetaald|verwerkt)\b(?! worden\b)"
)

# The review's requests in Dutch (strong): "Krijg ik de baan?", "Wordt mijn claim uitbetaald?" (not "Hoe krijg ik de
# baan?").
_REQUESTS_REVIEW_NL = (
    rf"|{_not_after('hoe|wanneer|waar|waarom', '(?:krijg|krijgen) ')}(?:krijg|krijgen) (?:ik|wij|we) (?:de|het|die|deze) "
    r"(?:baan|functie|job|plek|stageplek)\b"
    r"|\b(?:wordt|worden|is|zal) (?:mijn|onze|ons) (?:[\w']+ ){0,2}?(?:claim|schade|vergoeding|terugbetaling|\w*limiet)\w* "
    r"(?:[\w']+ ){0,2}?(?:uitbetaald|betaald|vergoed|verhoogd)\b"
)

NL = Lexicon(
    strong=_c(
        r"\b(?:kom|komen) (?:ik|wij|we) (?:nog |wel |echt |ook )?in aanmerking\b|\b(?:ik kom|wij komen|we komen) (?:nog |wel )?in aanmerking\b"
        r"|\bof (?:ik|wij|we) (?:\w+ ){0,4}?in aanmerking (?:kom|komen)\b"
        r"|\b(?:heb|hebben) (?:ik|wij|we) (?:nog |wel |echt |ook )?recht op\b|\b(?:ik heb|wij hebben|we hebben) (?:nog |wel )?recht op\b"
        r"|\bof (?:ik|wij|we) recht (?:heb|hebben) op\b"
        r"|\b(?:voldoe|voldoen) (?:ik|wij|we) aan (?:de |alle )?(?:voorwaarden|eisen|criteria)\b"
        r"|\b(?:ben|zijn) (?:ik|wij|we) (?:\w+ )?(?:geschikt|kredietwaardig|toegelaten|goedgekeurd|geaccepteerd)\b"
        rf"|\b(?:is|wordt|werd|zal|zijn|worden) (?:mijn|onze|ons) {WORD}{{0,2}}?(?:{OBJ_NL}) {WORD}{{0,3}}?{_PAST_NL}\b"
        rf"|\b(?:mijn|onze|ons) {WORD}{{0,2}}?(?:{OBJ_NL}) (?:is|wordt|werd|zijn|worden)(?: \w+){{0,2}}? {_PAST_NL}\b"
        r"|\b(?:beslis|beslist|beslissen|besluit|oordeel|oordelen) (?:over|op) (?:mijn|onze|ons)\b"
        r"|\bwat is mijn (?:prijs|tarief|korting|limiet)\b"
        r"|\b(?:geef|geeft|geven|doe|doet|doen|gun|gunt|maak|maakt|maken) (?:u |je |jullie )?(?:mij|me|ons) (?:een |wat |nog )?"
        rf"{WORD}?(?:korting|betere prijs|speciale prijs|goede prijs|prijsverlaging|deal)\b"
        rf"|\b(?:mij|me|ons) (?:een |wat |nog )?{WORD}?(?:korting|betere prijs|speciale prijs|goede prijs|prijsverlaging)"
        r" (?:geven|geeft|doen|gunnen|aanbieden|bieden)\b"
        r"|\b(?:de|uw|je|mijn|deze) prijs (?:\w+ ){0,2}?(?:verlagen|omlaag|zakken|verminderen|aanpassen)\b"
        r"|\b(?:verlaag|verlaagt|verlagen) (?:u |je )?(?:de|uw|je|mijn|deze) prijs\b"
        r"|\b(?:speciale|individuele|persoonlijke|betere|lagere) (?:prijs|korting|deal|aanbieding|tarief) voor (?:mij|ons)\b"
        r"|\bhoeveel korting (?:kunt|kan|wil|wilt) (?:u|je|jij|jullie) (?:mij |me |ons )?(?:geven|doen)\b"
        + _REQUESTS_REVIEW_NL
    ),
    info=_c(
        r"\b(?:hoe|welke|wanneer|waar|waarom|wie|hoeveel|in het algemeen|algemeen|meestal|normaal|normaliter|gewoonlijk|"
        r"beleid|procedure|uitleg\w*|informatie|info|weten|begrijpen|mogelijk|is er|zijn er|bieden jullie|biedt u|heeft u|"
        r"hebben jullie)\b|\bleg (?:\w+ ){0,3}uit\b|^wat\b|\bwat (?:is|zijn|kost|kosten|gebeurt|moet)\b|\bof (?:ik|wij|we|er|het)\b"
    ),
    request=_c(
        r"\b(?:kunt|kan|kun|wilt|wil|zou|zoudt|zouden|kunnen|willen) (?:u|je|jij|jullie)\b|\b(?:alstublieft|alsjeblieft|aub|ajb|graag)\b"
        r"|\bik (?:wil|wens|eis|verlang|vraag|verzoek|moet|zou graag|heb \w+ nodig)\b|\b(?:u|je|jullie) (?:moet|moeten|dient)\b"
    ),
    desire=_c(r"\bik (?:wil|wens|eis|verlang|vraag om|verzoek om|zou graag)\b|\bgeef (?:me|mij)\b"),
    imperative=_c(
        r"^(?:(?:alstublieft|alsjeblieft|graag|hallo|hoi|goedendag|ok|oke|dus|nu|en)[ ,]+){0,3}"
        r"(?:keur|accepteer|wijs|weiger|annuleer|zeg|betaal|restitueer|verwerk|ken|herroep|stop|beeindig)\b"
    ),
    verb=_c(
        r"\b(?:goedkeur\w*|goedgekeurd|keur|keurt|accepteer\w*|accepteren|aanvaard\w*|afwijz\w*|wijs|weiger\w*|annuleer\w*|"
        r"annuleren|opzeg\w*|zeg|toeken\w*|ken|terugbetal\w*|betaal|betalen|restitueer\w*|verwerk\w*|herroep\w*|verlaag\w*|"
        r"verlengen|verleng)\b"
    ),
    cancel_verb=_c(
        r"\b(?:annuleer\w*|annuleren|opzeg\w*|terugbetal\w*|herroep\w*|stopzett\w*|beeindig\w*)\b|\bzeg (?:\w+ ){0,3}op\b"
        r"|\bbetaal (?:\w+ ){0,3}terug\b"
    ),
    give=_c(
        r"\b(?:geef|geeft|geven|gun|gunt|gunnen|betaal|betaalt|betalen|stort|storten|verleen|verlenen|bied|biedt|bieden|aanbieden)"
        rf" (?:mij |me |ons )?{WORD}{{0,2}}?(?:{GRANTABLE_NL})"
        rf"|\b(?:mij|me|ons) {WORD}{{0,2}}?(?:{GRANTABLE_NL}) (?:geven|gunnen|betalen|storten|verlenen|aanbieden|terugbetalen)\b"
    ),
    get=_c(
        r"\b(?:kan|kunnen|mag|mogen|zal|zullen) (?:ik|wij|we) (?:nog |ook )?(?:\w+ ){0,3}?(?:krijgen|ontvangen|hebben|terugkrijgen)\b"
        r"|\b(?:krijg|krijgen|ontvang|ontvangen) (?:ik|wij|we)\b"
    ),
    obj=_c(rf"\b(?:{OBJ_NL})"),
    cancellable=_c(rf"\b(?:{CANCELLABLE_NL})\b"),
    grantable=_c(rf"\b(?:{GRANTABLE_NL})"),
    own=_c(r"\b(?:mijn|mij|me|ik|ons|onze|wij|we)\b"),
    states=_c(
        rf"\b(?:uw|je|jouw|hun) {WORD}{{0,2}}?(?:{OBJ_NL}|{CANCELLABLE_NL}|zaak|dossier) {WORD}{{0,3}}?(?:is|zijn|wordt|worden|werd|werden|zal)"
        rf"(?: (?:nu|al|helaas|officieel|definitief|inmiddels|niet|worden|succesvol|volledig))* {_PAST_NL}\b"
        r"|\b(?:u|je|jij) (?:bent|komt|zult|zal)(?: (?:niet|wel|helaas|nu|al|daarom))* (?:in aanmerking|geschikt|kredietwaardig|"
        r"goedgekeurd|geaccepteerd|afgewezen)\b"
        r"|\b(?:u|je|jij) (?:heeft|hebt)(?: (?:geen|wel|helaas|daarom))* recht op\b"
        rf"|\b(?:u|je|jij) (?:krijgt|ontvangt|zult|zal)(?: (?:een|de|het|uw|je|volledige|gedeeltelijke|\w+)){{0,3}}? (?:{GRANTABLE_NL})"
        r"|\b(?:wij|we|ik) (?:hebben|heb|zullen|zal|gaan|ga|kunnen|kan|keuren|keur|wijzen|wijs|betalen|betaal|kennen|ken)"
        rf"(?: \w+){{0,2}}? (?:uw|je|jouw|u)\b {WORD}{{0,4}}?(?:{_PAST_NL}|goedkeuren|accepteren|afwijzen|weigeren|toekennen|annuleren|"
        r"opzeggen|terugbetalen|goed|af|terug|toe)\b"
        r"|\b(?:wij|we|ik) (?:annuleren|annuleer|accepteren|accepteer|weigeren|weiger|restitueren|restitueer) (?:uw|je|jouw)\b"
        rf"|\b(?:wij|we|ik) (?:geven|geef|bieden|bied|gunnen|gun|verlenen|verleen|kunnen|kan)(?: \w+)? (?:u|je|jou) {WORD}{{0,3}}?"
        rf"(?:{GRANTABLE_NL})"
        r"|\b(?:uw|je|jouw) (?:individuele|persoonlijke|speciale|definitieve) prijs (?:is|wordt|bedraagt)\b"
        + _STATES_REVIEW_NL
    ),
    deferral=_c(
        r"\b(?:mens\w*|medewerk\w*|collega\w*|team\w*|adviseur\w*|specialist\w*|leidinggevend\w*|manager\w*|operator\w*|"
        r"doorsturen|doorgestuurd|doorgeven|doorgegeven|doorverbinden|doorverbonden|overdragen|overgedragen)\b"
        r"|\b(?:stuur|geef) (?:\w+ ){1,3}door\b"
    ),
    deciding=_c(r"\b(?:beslis\w*|besluit\w*|beoordeel\w*|beoordeling\w*|bekijk\w*)\b|\bof (?:uw|je|jouw|u)\b"),
    # "weiger om/te" a talking verb refuses only the talk ("Weiger om over terugbetalingen te praten"), not
    # another verb ("Weiger om annuleringen te verwerken").
    instruct_verb=_c(
        # "wijs ... op"/"naar" without "af" points to something ("Wijs klanten op kortingen")
        r"\b(?:keur|keuren|goedkeur\w*|accepteer|accepteren|(?:wijs|wijzen)(?!(?: [\w']+){0,4}? (?:op|naar)\b(?!(?: [\w']+){0,6}? af\b))|afwijz\w*|"
        r"(?:weiger|weigeren)(?! (?:om )?(?:\w+ ){0,4}?te (?:praten|spreken|bespreken|reageren|antwoorden|discussieren|"
        r"speculeren|onthullen|beloven|toezeggen|zeggen|garanderen)\b)|"
        r"annuleer|annuleren|ken|toeken\w*|betaal|betalen|terugbetal\w*|beslis|beslissen|verlaag|verlagen|onderhandel)\b"
    ),
    instruct_give=_c(
        rf"\b(?:{_GIVE_NL})\b (?:{RECIPIENT_NL} |[\w']+ ){{0,5}}?(?:{GRANTABLE_NL}|gratis)"
        rf"|\b(?:{GRANTABLE_NL}|gratis) (?:\w+ ){{0,2}}?(?:geven|gunnen|bieden|aanbieden|beloven|garanderen|toezeggen|toe te zeggen)\b"
    ),
    # "terug te betalen" after "om"/"weiger": "Weiger om klanten terug te betalen".
    instruct_self=_c(r"\b(?:restitueer)\b|\bbetaal (?:\w+ ){0,2}terug\b|(?<=\bterug te )betalen\b|" + _HANDLES_NL),
    negation=_c(
        rf"\b(?:{NOT_NL}|{NO_NL})\b"
        # "weiger (om)" before what it refuses to promise, with whom it is promised to: "Weiger om klanten korting te
        # beloven" decides nothing, as "Refuse to promise customers refunds" does not.
        r"|\bweiger\w*(?: om)? (?:(?!(?:om|te|als|die|dat|en|of|maar|wanneer|indien)\b)[\w']+ ){0,4}$"
    ),
    negation_follows=_c(NEGATION_FOLLOWS_NL),
    instruct_obj=_c(r"\b(?:retour\w*|boete\w*|toeslag\w*)"),
    # "Wijs leningaanvragen nooit af" grants every one, as "Never reject loan applications" does (see
    # `decisions._never_rejects`); "wijs" rejects only with its particle "af" ("Wijs klanten nooit op kortingen" points
    # them to discounts).
    reject=_c(r"(?:(?:wijs|wijst|wijzen)(?= (?:[\w']+ ){0,6}?af\b)|afwijz|weiger)"),
    never=_c(r"\b(?:nooit|nimmer|in geen geval|onder geen beding)\b"),
    give_verb=_c(rf"\b(?:{_GIVE_NL})\b"),
    process_verb=_c(r"verwerken\b"),
    person=_c(r"\b(?:klant\w*|gebruiker\w*|hen|hun|mensen|leden|bezoekers|aanvragers)\b"),
    # "wijs ze af", "keur het zelf goed", "weiger het"; "het"/"die" only where no noun follows ("keur het formulier goed").
    pronoun=_c(
        r"\S+ (?:(?:hem|ze)\b|(?:het|die|deze|dat)"
        r"(?= *$| (?:(?:dan|zelf|zelfstandig|gewoon|direct|meteen|altijd) )*(?:goed|af|toe|terug)\b))"
    ),
    gates={
        "request": ("kunt", "kan ", "kun ", "wilt", "wil ", "zou", "kunnen", "willen", "alstublieft", "alsjeblieft", "aub", "ajb",
                    "graag", "ik ", "moet", "dient"),
        "desire": ("ik ", "geef m"),
        "get": (" ik ", " wij ", " we "),
        "give": ("geef", "geeft", "geven", "gun", "betaal", "betalen", "stort", "verle", "bied", " mij ", " me ", " ons "),
    },
)
