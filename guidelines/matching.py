"""Matching many rules at once: every phrase and keyword of a set in one Aho-Corasick automaton,
every regex pattern in one alternation, so a message costs one pass over its folded text however
many rules the set holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick
import regex

from guidelines import patterns
from guidelines.normalize import Folded, fold_phrase, spelling_variants
from guidelines.rules import MatchingRule


@dataclass(frozen=True, slots=True)
class Hit:
    """Rule number `rule` (an index into the matcher's rules) matched folded[start:end]."""

    rule: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Entry:
    rule: int
    keyword: str | None  # the folded keyword, to count distinct keywords; None for phrases
    mode: str


def _automaton(terms: dict[str, tuple[_Entry, ...]]) -> ahocorasick.Automaton | None:
    if not terms:
        return None
    automaton = ahocorasick.Automaton()
    for key, entries in terms.items():
        automaton.add_word(key, (len(key), entries))
    automaton.make_automaton()
    return automaton


class RuleMatcher:
    """The phrases, keywords and patterns of some rules, compiled once."""

    def __init__(self, rules: Sequence[MatchingRule]) -> None:
        self.rules = list(rules)
        self._min_keywords = [rule.min_keywords for rule in self.rules]
        terms: dict[str, dict[tuple[int, str | None], _Entry]] = {}
        for index, rule in enumerate(self.rules):
            for words, is_keyword in ((rule.phrases, False), (rule.keywords, True)):
                for word in words:
                    keyword = fold_phrase(word) if is_keyword else None
                    for variant in spelling_variants(word):
                        key = fold_phrase(variant)
                        if key:
                            terms.setdefault(key, {})[(index, keyword)] = _Entry(index, keyword, rule.match)
        self.max_term_chars = max((len(key) for key in terms), default=0)
        self._automaton = _automaton({key: tuple(entries.values()) for key, entries in terms.items()})
        # The same terms without spaces, for texts with spaced-out runs: "t a l k to a h u m a n"
        # folds to "talk to ahuman", which the phrase "talk to a human" only matches squeezed.
        squeezed: dict[str, dict[tuple[int, str | None], _Entry]] = {}
        for key, entries in terms.items():
            squeezed.setdefault(key.replace(" ", ""), {}).update(entries)
        self._squeezed = _automaton({key: tuple(entries.values()) for key, entries in squeezed.items()})
        self._patterns = [
            (index, patterns.compile_pattern(source)) for index, rule in enumerate(self.rules) for source in rule.patterns
        ]
        self._any_pattern: regex.Pattern[str] | None = None
        if self._patterns:
            try:
                self._any_pattern = patterns.compile_any([s for rule in self.rules for s in rule.patterns])
            except regex.error:  # e.g. the same group name in two patterns: test them one by one
                self._any_pattern = None
        self.has_patterns = bool(self._patterns)

    def __bool__(self) -> bool:
        return bool(self._automaton is not None or self._patterns)

    def _term_matches(self, folded: Folded) -> list[tuple[int, int, tuple[_Entry, ...]]]:
        """(start, end, entries) of term matches in folded coordinates, boundaries not yet checked."""
        assert self._automaton is not None and self._squeezed is not None
        text = folded.text
        matches = [(last - length + 1, last + 1, entries) for last, (length, entries) in self._automaton.iter(text)]
        if folded.runs:
            seen = {(start, end) for start, end, _ in matches}
            reach = self.max_term_chars
            for run_start, run_end in folded.runs:  # only near runs: a squeezed match must overlap one
                low, high = max(0, run_start - reach), min(len(text), run_end + reach)
                positions = [i for i in range(low, high) if text[i] != " "]
                squeezed = "".join(text[i] for i in positions)
                for last, (length, entries) in self._squeezed.iter(squeezed):
                    start, end = positions[last - length + 1], positions[last] + 1
                    if (start, end) not in seen and any(s < end and start < e for s, e in folded.runs):
                        seen.add((start, end))
                        matches.append((start, end, entries))
        return matches

    def hits(self, folded: Folded) -> list[Hit]:
        """Every match of every rule, keyword thresholds applied."""
        text = folded.text
        found: list[Hit] = []
        if self._automaton is not None:
            keywords: dict[int, set[str]] | None = None
            keyword_hits: list[Hit] = []
            for start, end, entries in self._term_matches(folded):
                for entry in entries:
                    if entry.mode != "substring" and not folded.is_boundary(start):
                        continue
                    if entry.mode == "word" and not folded.is_boundary(end):
                        continue
                    if entry.keyword is None:
                        found.append(Hit(entry.rule, start, end))
                    else:
                        if keywords is None:
                            keywords = {}
                        keywords.setdefault(entry.rule, set()).add(entry.keyword)
                        keyword_hits.append(Hit(entry.rule, start, end))
            if keywords:
                enough = {rule for rule, seen in keywords.items() if len(seen) >= self._min_keywords[rule]}
                found.extend(hit for hit in keyword_hits if hit.rule in enough)
        if self._patterns and (self._any_pattern is None or patterns.search(self._any_pattern, text)):
            for index, pattern in self._patterns:
                try:
                    found.extend(Hit(index, m.start(), m.end()) for m in pattern.finditer(text, timeout=patterns.TIMEOUT_SECONDS))
                except TimeoutError:  # fail closed: a pattern that runs out of time counts as matching
                    found.append(Hit(index, 0, len(text)))
        return found

    def fired(self, folded: Folded) -> list[int]:
        """The rules that match, in rule order."""
        return sorted({hit.rule for hit in self.hits(folded)})
