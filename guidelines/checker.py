"""The guideline checker: a guideline set version compiled once, then checked against every message.

Pure: rules and text in, a verdict out; no I/O. `compile_guidelines(spec, version_key)` builds the
fast form (one Aho-Corasick automaton and one regex alternation per side) and caches it by the
version key, so a conversation pays for compilation once per version, not per message.

The end customer's input is checked for forbidden topics, escalation triggers, requests that the
avatar decide the customer's case (always on, GDPR Art. 22), requests for a person (always on:
an avatar that offers a human must be able to deliver one) and, if the tenant says so, PII to
redact. The avatar's output is checked for banned phrases, forbidden topics, announced decisions
(always on) and the maximum reply length; `output_guard` does the same while the reply streams.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guidelines import decisions, pii, wording
from guidelines.matching import Hit, RuleMatcher
from guidelines.normalize import Folded, fold, fold_with_origins
from guidelines.rules import (
    BUILTIN_DECISION_GUARD,
    BUILTIN_MAX_LENGTH,
    BUILTIN_PII,
    BannedPhraseRule,
    EscalationRule,
    ForbiddenTopicRule,
    GuidelineSetSpec,
    stored_spec,
)
from guidelines.stream import OutputGuard, truncate
from guidelines.verdict import ALLOW, Span, Verdict

__all__ = ["CompiledGuidelines", "OutputGuard", "Span", "Verdict", "compile_guidelines"]

CACHE_SIZE = 256
BUILTIN_HUMAN_REQUEST = "builtin:human-request"
_CLAUSE_END = ".,!?;:"
CONTEXT_WORDS = 8  # words before a request phrase, within its clause, that say whose request it is
# A new clause for what it says of a request: "I tried everything but I want to talk to a person".
_CLAUSE_WORDS = frozenset("but aber mais pero ma maar however".split())


@dataclass(frozen=True, slots=True)
class _BuiltinPhrases:
    """The matching fields RuleMatcher reads, for a rule that is not a tenant's."""

    id: str
    phrases: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    min_keywords: int = 1
    patterns: tuple[str, ...] = ()
    match: str = "word"


# Every language's request phrases in one automaton, compiled once per process: a message costs one
# more pass over its folded text, whatever its language (visitors do not always write in the
# conversation's). Its rules: _DIRECT, phrases that ask for one of the service's people ("talk to an
# agent"); _ALONE, requests that count only as a sentence of their own ("human", "Mitarbeiter, bitte":
# within a sentence such words name a person, they do not ask for one); _VAGUE, "talk to someone",
# which needs a request cue before it; _WANT, "I want an agent", not followed by "to" or "for".
# The words around a hit then say whose request it is (_not_a_request); only hits pay for that.
_HUMAN_REQUEST = RuleMatcher([  # type: ignore[list-item]
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_DIRECT),
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_ALONE),
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_VAGUE),
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_WANT),
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_REACH_FRAMES),
    _BuiltinPhrases(BUILTIN_HUMAN_REQUEST, wording.HUMAN_REQUEST_SIGNALS),
])
_DIRECT, _ALONE, _VAGUE, _WANT, _REACH, _SIGNAL = range(6)
_SENTENCE_END = ".!?\n"
_WORD = re.compile(r"[^\s.,!?;:]+")  # a word between spaces and clause punctuation
_INFINITIVE = frozenset({"zu", "te"})  # "mit einem Mitarbeiter zu sprechen", "met een medewerker te spreken"


def _has(joined: str, phrases: tuple[str, ...]) -> bool:
    """Whether one of `phrases` occurs as whole words in `joined` (words, each with a space either side)."""
    return any(f" {phrase} " in joined for phrase in phrases)


def _clause_before(text: str, start: int, infinitive: bool = False) -> list[str]:
    """The words of the clause before text[start], at most CONTEXT_WORDS of them, punctuation dropped.
    An infinitive clause ("mit einem Mitarbeiter zu sprechen") reads on across one comma: the clause
    before it says what the infinitive is ("Ich habe vergessen, ...", "Ist es möglich, ...")."""
    before = text[max(0, start - 100):start]
    cut = max(before.rfind(mark) for mark in _CLAUSE_END)
    if infinitive and cut >= 0 and before[cut] == "," and before[cut + 1:].split() in ([], ["um"], ["om"]):
        before = before[:cut] + " " + before[cut + 1:]
        cut = max(before.rfind(mark) for mark in _CLAUSE_END)
    words = before[cut + 1:].split()[-CONTEXT_WORDS:]
    for i in range(len(words) - 1, -1, -1):
        if words[i] in _CLAUSE_WORDS:
            return words[i + 1:]
    return words


def _words_after(text: str, end: int) -> list[str]:
    after = text[end:end + 40]
    cut = min((i for i in (after.find(mark) for mark in _CLAUSE_END) if i >= 0), default=len(after))
    return after[:cut].split()[:3]


def _not_a_request(text: str, start: int, end: int, rule: int) -> bool:
    """Whether the request phrase at folded text[start:end] does not ask for a person now: the visitor
    does not want one, tells of a talk they will have or had, asks whether something requires one,
    speaks of someone else's wish or their own people, or (a vague "someone") asks for nothing."""
    phrase = text[start:end].split()
    before = _clause_before(text, start, len(phrase) > 1 and phrase[-2] in _INFINITIVE)
    after = _words_after(text, end)
    said = f" {' '.join(before)} "
    # What the visitor says of themselves before their wish no longer speaks of this request: "I've got a
    # question and want to talk to a person", "Ich habe ein Problem und möchte mit einem Mitarbeiter sprechen",
    # "I've had enough I want a human" (the wish in the phrase itself).
    ask = max((i for i, w in enumerate(before) if w in wording.HUMAN_REQUEST_ASK
               or f"{w} {before[i + 1] if i + 1 < len(before) else ''}" in wording.HUMAN_REQUEST_ASK), default=-1)
    if any(w in wording.HUMAN_REQUEST_WISH for w in phrase):
        story, recent = before, []
    else:
        wish = max(max((i for i, w in enumerate(before) if w in wording.HUMAN_REQUEST_WISH), default=-1), ask)
        story, recent = before[:max(wish, 0)], before[wish + 1:]
    said_recent = f" {' '.join(recent)} "
    if after and after[0] in wording.HUMAN_REQUEST_NOT_FOLLOWED_BY:
        return True  # "talk to a human resources manager"
    # The wish is someone's report of it: "I said I want a human" repeats it, "I never said ...", "Yesterday
    # I told your colleague ..." do not ask now.
    report = max((i for i, w in enumerate(story) if w in wording.HUMAN_REQUEST_REPORTED), default=-1)
    if report >= 0 and (
        any(w in wording.HUMAN_REQUEST_REPORT_NOT for w in story)
        or (story[report] in ("told", "tell") and story[report + 1:report + 2] and story[report + 1] not in wording.HUMAN_REQUEST_TOLD_TO)
    ):
        return True
    direct = len(before)
    while direct and before[direct - 1] in wording.HUMAN_REQUEST_INFINITIVE_MARKS:
        direct -= 1
    if direct and before[direct - 1] in wording.HUMAN_REQUEST_NARRATION_DIRECT:
        return True  # "I forgot to speak to an agent", not "I forgot my password can I talk to a human"
    if _has(said, wording.HUMAN_REQUEST_NOT_WANTED):
        return True
    polite = [w for w in before if w not in ("please", "just", "bitte", "svp")]
    if polite and polite[-1] in wording.HUMAN_REQUEST_DONT and "why" not in before:
        return True  # "please don't transfer me to an agent"
    if before[-2:] == ["do", "not"] and "why" not in before:
        return True
    if _has(said_recent, wording.HUMAN_REQUEST_NARRATION) or any(_has(said, words) for words in (wording.HUMAN_REQUEST_OBLIGATION, wording.HUMAN_REQUEST_INQUIRY)):
        return True  # narration before the wish is the visitor's story; "do I need to", "do you have" stay questions
    if any(w in wording.HUMAN_REQUEST_THIRD_PARTY for w in before):  # "they want to", "my son wants to": before the wish too
        return True
    near = before[:-1] if before and before[-1] in ("mit", "met") else before  # "Mijn vrouw wil met | een adviseur spreken"
    near = near[ask + 1:]  # not "Olvidé mi contraseña puedo hablar con un agente"
    if any(w in wording.HUMAN_REQUEST_POSSESSIVE for w in near[-wording.HUMAN_REQUEST_POSSESSIVE_WINDOW:]):
        return True
    if after:
        if after[0] in wording.HUMAN_REQUEST_ELSE:
            return True  # "someone else's account manager", "someone nearby"
        if len(after) > 1 and after[0] in wording.HUMAN_REQUEST_OF and after[1] in wording.HUMAN_REQUEST_POSSESSIVE:
            return True  # "someone at my bank", "alguien de mi familia", "qualcuno in famiglia"
        if any(w in wording.HUMAN_REQUEST_CHANNEL for w in after) or after[:2] == ["as", "well"]:
            return True  # "customer support via WhatsApp as well"
    if rule == _WANT and after and after[0] in wording.HUMAN_REQUEST_FOR:
        return True  # "I want an agent to sell my house"
    if rule == _VAGUE:
        return bool(before) and not _has(f"{said}{text[start:end]} ", wording.HUMAN_REQUEST_CUES)
    if rule == _REACH:  # a person to reach, without a modal of its own: a cue before it ("je peux" in it is none)
        return bool(before) and not _has(said, wording.HUMAN_REQUEST_CUES)
    return False


def requests_human(folded: Folded) -> bool:
    """Whether an end customer's message asks for a person, in any of the built-in languages: a request
    phrase that the words around it leave a request, or a sentence that is nothing but one ("human",
    "Stop. Human.", "Mitarbeiter bitte"). A person's name misspelt by one letter counts as the name
    ("talk to a humna", "mit einem Mitarbieter sprechen"): the message is read again with it mended."""
    request = _requests_human(folded)
    if request:
        return True
    if request is None and len(folded.text) > wording.HUMAN_REQUEST_SHORT_MESSAGE:
        return False  # no word that a request needs (wording.HUMAN_REQUEST_SIGNALS): no typo makes one
    typos = wording._typo_table or wording.human_request_typos()
    text = folded.text
    if typos.keys().isdisjoint(
        text.replace(",", " ").replace(".", " ").replace("?", " ").replace("!", " ").replace(";", " ").replace(":", " ").split()
    ):  # str.translate takes twice as long
        return False
    return bool(_requests_human(_mended(folded, typos)))


def _mended(folded: Folded, typos: Mapping[str, str]) -> Folded:
    """The folded text with every typo replaced by its noun, its spaced-out runs moved along with the
    text ("t a l k t o a humna": "talktoa human" still reads as "talk to a human")."""
    text = folded.text
    if not folded.runs:
        return Folded(_WORD.sub(lambda m: typos.get(m.group(), m.group()), text))
    pieces: list[str] = []
    edits: list[tuple[int, int, int]] = []  # (start, end, shift after end) of each replaced word, in order
    last = shift = 0
    for match in _WORD.finditer(text):
        noun = typos.get(match.group())
        if noun is not None:
            start, end = match.span()
            pieces += (text[last:start], noun)
            last = end
            shift += len(noun) - (end - start)
            edits.append((start, end, shift))

    def moved(index: int) -> int:
        before = 0
        for start, end, after in edits:
            if index < end:
                return index + before if index <= start else min(index + before, end + after)
            before = after
        return index + before

    pieces.append(text[last:])
    return Folded("".join(pieces), tuple((moved(start), moved(end)) for start, end in folded.runs))


def _requests_human(folded: Folded) -> bool | None:
    """True for a request; otherwise False if the message holds a word that a request needs
    (wording.HUMAN_REQUEST_SIGNALS, a frame), None if it holds none."""
    text = folded.text
    signalled = False
    for hit in _HUMAN_REQUEST.hits(folded):
        if hit.rule == _SIGNAL:
            signalled = True
        elif hit.rule == _ALONE:
            head, tail = text[:hit.start].rstrip(" ,"), text[hit.end:].lstrip(" ,")
            if (not head or head[-1] in _SENTENCE_END) and (not tail or tail[0] in _SENTENCE_END):
                return True
        elif hit.rule == _REACH:  # "i can call", "peut me rappeler": a request with a person next to it
            signalled = True
            phrase = wording.reach_request(text, hit.start, hit.end)
            if phrase is not None and not _not_a_request(text, phrase[0], phrase[1], _DIRECT if phrase[2] else _REACH):
                return True
        elif not _not_a_request(text, hit.start, hit.end, hit.rule):
            return True
    return False if signalled else None


def accepts_offer(folded: Folded) -> bool:
    """Whether a message is a plain yes ("yes please", "ja gerne", "oui", "sí", "ja graag"): the
    answer to the avatar's offer to connect the customer with a person."""
    text = folded.text
    return len(text) <= 60 and wording.plain_message(text) in wording.PLAIN_YES


def rewrites(rule: object) -> bool:
    """Whether a rule rewrites output (replace) rather than blocking it."""
    return isinstance(rule, BannedPhraseRule) and rule.action == "replace"


class CompiledGuidelines:
    """One guideline set version in checkable form. Immutable and safe to share between tasks."""

    def __init__(self, spec: GuidelineSetSpec, version_key: str) -> None:
        self.spec = spec
        self.version_key = version_key
        self.languages = tuple(spec.languages)
        self.default_language = spec.default_language
        self.max_reply_chars = spec.max_reply_chars
        rules = spec.rules
        input_rules = [
            r for r in rules
            if isinstance(r, EscalationRule) or (isinstance(r, ForbiddenTopicRule) and r.applies_to != "output")
        ]
        output_rules = [
            r for r in rules
            if isinstance(r, BannedPhraseRule) or (isinstance(r, ForbiddenTopicRule) and r.applies_to != "input")
        ]
        self.input_matcher = RuleMatcher(input_rules)
        self.output_matcher = RuleMatcher(output_rules)
        self._style = tuple(spec.style_instructions())

    # -- wording -------------------------------------------------------------------------------

    def resolve_language(self, language: str | None) -> str:
        """The allowed language closest to the requested one; the default language otherwise."""
        if language:
            if language in self.languages:
                return language
            wanted = wording.primary(language)
            for tag in self.languages:
                if wording.primary(tag) == wanted:
                    return tag
        return self.default_language

    def _choose(self, configured: Mapping[str, str], defaults: Mapping[str, str], language: str | None) -> str:
        return wording.choose(configured, defaults, self.resolve_language(language), self.default_language)

    def disclosure(self, language: str | None = None) -> str:
        """The AI disclosure the avatar's first message must carry (EU AI Act Art. 50)."""
        return self._choose(self.spec.disclosure, wording.DISCLOSURE, language)

    def with_disclosure(self, first_message: str, language: str | None = None) -> str:
        """The avatar's first message with the disclosure in front (once)."""
        disclosure = self.disclosure(language)
        if first_message.startswith(disclosure):
            return first_message
        return f"{disclosure}\n\n{first_message}" if first_message else disclosure

    def handoff_message(self, language: str | None = None, *, decision: bool = False) -> str:
        if decision and not self.spec.handoff_message:
            return self._choose({}, wording.DECISION_HANDOFF, language)
        return self._choose(self.spec.handoff_message, wording.HANDOFF, language)

    def refusal_message(self, rule: ForbiddenTopicRule | None, language: str | None = None) -> str:
        return self._choose(rule.message if rule is not None else {}, wording.REFUSAL, language)

    def style_instructions(self) -> list[str]:
        """Tone and style instructions, in rule order, for the LLM system prompt."""
        return list(self._style)

    # -- input -------------------------------------------------------------------------------------

    def check_input(
        self, text: str, language: str | None = None, *, detect_pii: bool | None = None, after_offer: bool = False
    ) -> Verdict:
        """Check an end customer's message. `detect_pii` overrides the set's PII setting.
        `after_offer`: the avatar's last message offered a person, so a plain yes asks for one.

        A request for a person hands off with reason customer_request whatever the set's rules
        say; it is looked for only when no other handoff (the decision guard, a tenant's rule)
        applies already, so those keep their reason and their rule ids."""
        folded = fold(text)
        fired = [self.input_matcher.rules[i] for i in self.input_matcher.fired(folded)] if self.input_matcher else []
        decision = decisions.requests_decision_folded(folded.text)
        request = not decision and not any(isinstance(r, EscalationRule) or r.action == "handoff" for r in fired) and (
            (after_offer and accepts_offer(folded)) or requests_human(folded)
        )
        spans: tuple[Span, ...] = ()
        redacted = None
        if self.spec.pii.redact if detect_pii is None else detect_pii:
            spans, redacted = self._pii(text, language)
        if not (fired or decision or spans or request):
            return ALLOW
        return self._input_verdict(fired, decision, spans, redacted, language, request)

    def _pii(self, text: str, language: str | None) -> tuple[tuple[Span, ...], str | None]:
        found = pii.detect_pii(text, self.resolve_language(language), self.spec.pii.entities, self.spec.pii.min_score)
        return (tuple(found), pii.redact(text, found)) if found else ((), None)

    def redact_pii(self, text: str, language: str | None = None) -> str:
        """An end customer's free text that is no message (a rating's comment): only the set's PII redaction applies
        (no rule answers it, nothing hands off), so it is kept and shown to staff as redacted as a message would be."""
        if not self.spec.pii.redact:
            return text
        _, redacted = self._pii(text, language)
        return redacted if redacted is not None else text

    def _input_verdict(
        self, fired: list[Any], decision: bool, spans: tuple[Span, ...], redacted: str | None, language: str | None,
        request: bool = False,
    ) -> Verdict:
        rule_ids = (
            ([BUILTIN_DECISION_GUARD] if decision else []) + [r.id for r in fired]
            + ([BUILTIN_HUMAN_REQUEST] if request else []) + ([BUILTIN_PII] if spans else [])
        )
        common = {"rule_ids": tuple(rule_ids), "spans": spans, "redacted_text": redacted}
        if request:  # no other handoff applies (see check_input); it wins over a refusal
            return Verdict("handoff", message=self.handoff_message(language), handoff_reason="customer_request", **common)
        if decision:
            return Verdict("handoff", message=self.handoff_message(language, decision=True),
                           handoff_reason="decision_required", **common)
        handoffs = [r for r in fired if isinstance(r, EscalationRule) or r.action == "handoff"]
        if handoffs:
            first = handoffs[0]
            if isinstance(first, EscalationRule):
                return Verdict("handoff", message=self.handoff_message(language), handoff_reason=first.reason, **common)
            message = self._choose(first.message, wording.HANDOFF, language)
            return Verdict("handoff", message=message, handoff_reason="policy_restriction", **common)
        if fired:
            return Verdict("refuse", message=self.refusal_message(fired[0], language), **common)
        return Verdict("redact", **common)

    # -- output ------------------------------------------------------------------------------------

    def output_hits(self, folded: Folded) -> list[Hit]:
        return self.output_matcher.hits(folded) if self.output_matcher else []

    def blocking_verdict(self, hits: list[Hit], decision: bool, language: str | None) -> Verdict | None:
        """The verdict for output that must not be sent, or None if it may (perhaps rewritten)."""
        rules = self.output_matcher.rules
        blocking = sorted({h.rule for h in hits if not rewrites(rules[h.rule])})
        if not (blocking or decision):
            return None
        rule_ids = tuple(([BUILTIN_DECISION_GUARD] if decision else []) + [rules[i].id for i in blocking])
        if decision:
            return Verdict("handoff", rule_ids, self.handoff_message(language, decision=True), "decision_required")
        first = rules[blocking[0]]
        if isinstance(first, ForbiddenTopicRule) and first.action == "handoff":
            return Verdict("handoff", rule_ids, self.handoff_message(language), "policy_restriction")
        refusing = first if isinstance(first, ForbiddenTopicRule) else None
        return Verdict("refuse", rule_ids, self.refusal_message(refusing, language))

    def rewrite(self, text: str, hits: list[Hit]) -> tuple[str, list[Span], list[str]]:
        """Apply replace rules to the original text. Returns new text, spans replaced (in the
        original text) and the ids of the rules applied."""
        rules = self.output_matcher.rules
        replacing = [h for h in hits if rewrites(rules[h.rule])]
        if not replacing:
            return text, [], []
        _, origins = fold_with_origins(text)
        chosen: list[tuple[int, int, Hit]] = []
        for hit in sorted(replacing, key=lambda h: (h.start, -(h.end - h.start))):
            start, end = origins[hit.start], origins[hit.end - 1] + 1
            if chosen and start < chosen[-1][1]:
                continue  # overlaps a longer or earlier match
            chosen.append((start, end, hit))
        pieces, last, spans = [], 0, []
        for start, end, hit in chosen:
            rule = rules[hit.rule]
            pieces.append(text[last:start])
            pieces.append(rule.replacement or "")
            spans.append(Span(start, end, f"rule:{rule.id}"))
            last = end
        pieces.append(text[last:])
        ids = list(dict.fromkeys(rules[h.rule].id for _, _, h in chosen))
        return "".join(pieces), spans, ids

    def check_output(self, text: str, language: str | None = None) -> Verdict:
        """Check a complete avatar reply before it is sent."""
        folded = fold(text)
        hits = self.output_hits(folded)
        decision = decisions.states_decision_folded(folded.text)
        blocked = self.blocking_verdict(hits, decision, language)
        if blocked is not None:
            return blocked
        rewritten, spans, rule_ids = self.rewrite(text, hits)
        if len(rewritten) > self.max_reply_chars:
            rewritten = truncate(rewritten, self.max_reply_chars)
            rule_ids.append(BUILTIN_MAX_LENGTH)
        if not rule_ids:
            return ALLOW
        return Verdict("redact", tuple(rule_ids), redacted_text=rewritten, spans=tuple(spans))

    def output_guard(self, language: str | None = None) -> OutputGuard:
        """A guard that checks a streamed reply chunk by chunk (see `guidelines.stream`)."""
        return OutputGuard(self, self.resolve_language(language))


_cache: OrderedDict[str, CompiledGuidelines] = OrderedDict()
_lock = threading.Lock()


def compile_guidelines(spec: GuidelineSetSpec | Mapping[str, Any], version_key: str) -> CompiledGuidelines:
    """The compiled form of a guideline set version, built once per `version_key` (an LRU of
    the last CACHE_SIZE versions). A version is immutable, so its key names its content. `spec` is
    a validated GuidelineSetSpec or a saved version's spec as stored, read with `stored_spec`
    (without the checks its texts passed when saved): never a request's body."""
    with _lock:
        compiled = _cache.get(version_key)
        if compiled is not None:
            _cache.move_to_end(version_key)
            return compiled
    if not isinstance(spec, GuidelineSetSpec):
        spec = stored_spec(spec)
    compiled = CompiledGuidelines(spec, version_key)
    with _lock:
        _cache[version_key] = compiled
        _cache.move_to_end(version_key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _lock:
        _cache.clear()
