"""Text folding for rule matching: one canonical form for rules and messages alike.

Evasions that must not slip past a rule: case ("REFUND"), accents and umlauts ("rëfünd",
"Kündigung" vs "Kundigung"), compatibility forms (fullwidth "ｒｅｆｕｎｄ", ligatures), zero-width
and other invisible characters, and spaced-out letters ("r e f u n d", "r.e.f.u.n.d"). Rules and
messages are folded by the same function, so a phrase matches whatever spelling folds like it.

The folded form is lower case (NFKD, then Unicode case folding), without combining marks or
format characters, with every character that is neither a letter, a digit, sentence punctuation
(. , ! ? ; :) nor an apostrophe turned into a space, runs of spaces collapsed, and runs of three
or more single letters separated by spaces or dots joined into one word.

`fold` is the fast path (C-level string operations only); `fold_with_origins` builds the same
string character by character and also says which original character each folded one came from,
for the rare case where a match has to be rewritten in the original text (output `replace`
rules). Both agree; a test holds them to it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

# Combining marks (accents), format characters (zero-width space and joiners, soft hyphen, BOM,
# bidi controls) and the Mongolian vowel separator: dropped, so they cannot split a word.
_STRIP = regex.compile(r"[\p{M}\p{Cf}\u180e]+")
# Apostrophe look-alikes become "'", Unicode line separators become newlines.
_SPECIAL = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "\u2032": "'", "`": "'",
            "\u2028": "\n", "\u2029": "\n", "\x85": "\n"}
_SPECIAL_RE = re.compile("[" + "".join(_SPECIAL) + "]")
_TO_SPACE = re.compile(r"[^\w .,!?;:'\n]|_")
_ASCII_BYTES = bytes(
    c if (chr(c).isalnum() or chr(c) in ".,!?;:'\n") else (39 if c == 96 else 32) for c in range(128)
) + bytes(range(128, 256))
# Fast path for Latin-1 text (German, French, Spanish, ... prose): common typographic characters
# outside Latin-1 become spaces first, then one bytes.translate does the rest. The tables are
# computed from `fold_char` below, so both paths agree by construction.
_TYPOGRAPHIC = "\u201e\u201c\u201d\u201a\u2039\u203a\u2013\u2014\u2022\u20ac"
# After NFKD, text whose only non-ASCII characters are combining marks (accents) or invisible
# format characters can drop them with a plain ASCII encode.
_DROPPABLE_ONLY = re.compile(r"[^\x00-\x7f\u0300-\u036f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")

# Whitespace runs collapse to one space (one newline if the run holds a newline), and runs of at
# least three single letters or digits separated by one to three spaces, dots or commas become
# one word.
_SEP = r"[ .,]{1,3}"
# Every spaced-out run has a single letter with a separator on each side followed by another
# single letter; the literal-prefixed finders are fast, the check runs only where they hit.
_SINGLE_FINDERS = [re.compile(rf"{re.escape(sep)}[^\W_][ .,]") for sep in " .,"]
_RUN_AT = re.compile(r"[^\W_][ .,]{1,3}[^\W_](?![^\W_])")
_SPACES = re.compile(r"(?P<nl> *\n[ \n]*)|(?P<ws>  +)")
_RUN = re.compile(rf"(?<![^\W_])[^\W_](?:{_SEP}[^\W_](?![^\W_])){{2,}}")


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text plus the spans (in folded coordinates) that came from spaced-out runs.

    Inside such a run every position counts as a word boundary: "get a r e f u n d" folds to
    "get arefund" (the run cannot tell the article from the word), and "refund" still matches."""

    text: str
    runs: tuple[tuple[int, int], ...] = ()

    def is_boundary(self, index: int) -> bool:
        text = self.text
        if index <= 0 or index >= len(text):
            return True
        if not (text[index - 1].isalnum() and text[index].isalnum()):
            return True
        return any(start < index < end for start, end in self.runs)


def _fold_decomposed(text: str) -> str:
    """Fold text that is already NFKD-decomposed and case folded."""
    text = _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group()], text)
    text = _STRIP.sub("", text)
    return _TO_SPACE.sub(" ", text)


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """The folded form of one character (the slow path, which must agree with `_map_chars`)."""
    if char.isascii():
        return chr(_ASCII_BYTES[ord(char.lower())])
    return _fold_decomposed(unicodedata.normalize("NFKD", char).casefold())


def _latin1_tables() -> tuple[bytes, list[tuple[bytes, bytes]], re.Pattern[bytes]]:
    """bytes.translate table, multi-character replacements and unsafe bytes for Latin-1 text."""
    table = bytearray(range(256))
    replacements: list[tuple[bytes, bytes]] = []
    unsafe = []
    for code in range(256):
        folded = fold_char(chr(code))
        if not folded.isascii():
            unsafe.append(code)
        elif len(folded) == 1:
            table[code] = ord(folded)
        else:
            replacements.append((bytes([code]), folded.encode("ascii")))
    pattern = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in unsafe) + b"]")
    return bytes(table), replacements, pattern


def _map_chars(text: str) -> str:
    """Step one of the fast path: per-character folding with C-level string operations."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_BYTES).decode("ascii")
    if "\u2019" in text:
        text = text.replace("\u2019", "'")
    for char in _TYPOGRAPHIC:
        if char in text:
            text = text.replace(char, " ")
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = None
    if raw is not None:
        for source, target in _LATIN1_REPLACEMENTS:
            if source in raw:
                raw = raw.replace(source, target)
        if _LATIN1_UNSAFE.search(raw) is None:
            return raw.translate(_LATIN1_TABLE).decode("ascii")
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    if _DROPPABLE_ONLY.search(decomposed) is None:
        return decomposed.encode("ascii", "ignore").translate(_ASCII_BYTES).decode("ascii")
    return _fold_decomposed(decomposed)


_LATIN1_TABLE, _LATIN1_REPLACEMENTS, _LATIN1_UNSAFE = _latin1_tables()


def _run_spans(text: str) -> list[tuple[int, int]]:
    """Spans of spaced-out runs. A run starts at most four characters before the first single
    letter the finders report, so the full pattern only runs near those places."""
    hints = sorted(
        match.start() + 1
        for finder in _SINGLE_FINDERS
        for match in finder.finditer(text)
        if _RUN_AT.match(text, match.start() + 1)
    )
    spans: list[tuple[int, int]] = []
    for hint in hints:
        if spans and hint < spans[-1][1]:
            continue
        for start in range(max(0, hint - 4), hint + 1):
            if spans and start < spans[-1][1]:
                continue
            match = _RUN.match(text, start)
            if match is not None:
                spans.append(match.span())
                break
    return spans


def _apply_edits(
    text: str, origins: list[int] | None
) -> tuple[str, list[int] | None, tuple[tuple[int, int], ...]]:
    """Step two, shared by both paths: collapse whitespace and spaced-out runs."""
    edits: list[tuple[int, int, str]] = [(start, end, "run") for start, end in _run_spans(text)]
    if "  " in text or "\n" in text:
        spaces = [(m.start(), m.end(), m.lastgroup or "ws") for m in _SPACES.finditer(text)]
        if edits:
            spaces = [e for e in spaces if not any(s <= e[0] < t for s, t, _ in edits)]
        edits = sorted(edits + spaces)
    if not edits:
        return text, origins, ()
    pieces: list[str] = []
    new_origins: list[int] | None = [] if origins is not None else None
    runs: list[tuple[int, int]] = []
    length = 0
    last = 0
    for start, end, kind in edits:
        pieces.append(text[last:start])
        if new_origins is not None and origins is not None:
            new_origins.extend(origins[last:start])
        length += start - last
        if kind == "run":
            kept = [i for i in range(start, end) if text[i].isalnum()]
            replacement = "".join(text[i] for i in kept)
            runs.append((length, length + len(replacement)))
            if new_origins is not None and origins is not None:
                new_origins.extend(origins[i] for i in kept)
        else:
            replacement = "\n" if kind == "nl" else " "
            if new_origins is not None and origins is not None:
                new_origins.append(origins[start])
        pieces.append(replacement)
        length += len(replacement)
        last = end
    pieces.append(text[last:])
    if new_origins is not None and origins is not None:
        new_origins.extend(origins[last:])
    return "".join(pieces), new_origins, tuple(runs)


def fold(text: str) -> Folded:
    """Fold a message or a rule phrase for matching."""
    folded, _, runs = _apply_edits(_map_chars(text), None)
    return Folded(folded, runs)


def fold_with_origins(text: str) -> tuple[Folded, list[int]]:
    """Fold and also return, for each folded character, the index of its original character."""
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        mapped = fold_char(char)
        chars.append(mapped)
        origins.extend([index] * len(mapped))
    folded, new_origins, runs = _apply_edits("".join(chars), origins)
    assert new_origins is not None
    return Folded(folded, runs), new_origins


def fold_phrase(phrase: str) -> str:
    """A rule phrase in folded form, trimmed of surrounding spaces and punctuation."""
    return fold(phrase).text.strip(" \n.,!?;:'")


def spelling_variants(phrase: str) -> set[str]:
    """German spellings without umlauts or sharp s: "Kündigung" also as "Kuendigung"."""
    variants = {phrase}
    lowered = phrase.lower()
    if any(c in lowered for c in "äöüß"):
        variants.add(lowered.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss"))
    return variants
