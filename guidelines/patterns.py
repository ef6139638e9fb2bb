"""Tenant-written regex patterns: validated once, matched against folded text with a time limit.

Two defences against catastrophic backtracking: at validation, patterns with nested repetition
(`(a+)+`, `(\\w*x)*`) or backreferences are rejected with a message naming the pattern; at run
time patterns run on the `regex` engine with a timeout, and a timeout counts as a match (a guard
fails closed).

Patterns are matched against folded text (lower case, no accents, see `normalize`), so they are
compiled case-insensitively and their non-ASCII letters are folded the same way ("Kündigung"
in a pattern matches "kundigung" in the folded message).
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]

import regex

from guidelines.normalize import fold_char

TIMEOUT_SECONDS = 0.05
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}
_BACKREFS = {sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS, getattr(sre_constants, "GROUPREF_IGNORE", None)}


class PatternError(ValueError):
    """Why a pattern was rejected, in words a tenant can act on."""


def fold_pattern(source: str) -> str:
    """Fold the non-ASCII literals of a pattern; ASCII (and so every escape) stays as written."""
    if source.isascii():
        return source
    return "".join(c if c.isascii() else fold_char(c) for c in source)


def _children(op: object, av: object) -> list[object]:
    if op in _REPEATS:
        return [av[2]]  # type: ignore[index]
    if op == sre_constants.SUBPATTERN:
        return [av[3]]  # type: ignore[index]
    if op == sre_constants.BRANCH:
        return list(av[1])  # type: ignore[index]
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [av[1]]  # type: ignore[index]
    if op == getattr(sre_constants, "ATOMIC_GROUP", None):
        return [av]
    return []


def _check_tree(items: object, repeated: bool) -> None:
    for op, av in items:  # type: ignore[attr-defined]
        if op in _BACKREFS:
            raise PatternError("backreferences are not allowed")
        inner_repeated = repeated
        if op in _REPEATS:
            _, high, _ = av
            if high > 1:
                if repeated:
                    raise PatternError("nested repetition such as (a+)+ can take exponential time")
                inner_repeated = True
        for child in _children(op, av):
            _check_tree(child, inner_repeated)


def check_pattern(source: str) -> None:
    """Raise PatternError unless the pattern compiles, is safe and cannot match empty text."""
    folded = fold_pattern(source)
    try:
        tree = sre_parser.parse(folded, re.IGNORECASE)
        regex.compile(folded, regex.IGNORECASE)
    except (re.error, regex.error) as error:
        raise PatternError(str(error)) from None
    _check_tree(tree, repeated=False)
    if regex.compile(folded, regex.IGNORECASE).fullmatch(""):
        raise PatternError("the pattern matches empty text, so it would fire on every message")


def compile_pattern(source: str) -> regex.Pattern[str]:
    return regex.compile(fold_pattern(source), regex.IGNORECASE)


def compile_any(sources: list[str]) -> regex.Pattern[str] | None:
    """One alternation of many patterns: a single pass tells whether any of them matches."""
    if not sources:
        return None
    return regex.compile("|".join(f"(?:{fold_pattern(s)})" for s in sources), regex.IGNORECASE)


def search(pattern: regex.Pattern[str], text: str) -> bool:
    """Whether the pattern matches; a pattern that runs out of time counts as matching."""
    try:
        return pattern.search(text, timeout=TIMEOUT_SECONDS) is not None
    except TimeoutError:
        return True
