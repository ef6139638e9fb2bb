"""Text no database stores: the NUL character. PostgreSQL refuses it in a statement (text and jsonb), SQLite
keeps it, a trap for every reader; so it is refused where text comes in (HTTP: core.http; the chat's frames:
realtime.protocol), naming the field."""

from __future__ import annotations

import unicodedata
from typing import Any


def nul_path(data: Any) -> tuple[Any, ...] | None:
    """The path of the first text holding a NUL character (a key holding one names itself), or None.
    Walked without recursion: a frame or body may nest as deep as JSON parsing allows."""
    stack: list[tuple[Any, Any]] = [(None, data)]  # (link, value); a link is (the parent's link, key or index)
    while stack:
        link, value = stack.pop()
        key = link[1] if link is not None else None
        if (isinstance(value, str) and "\x00" in value) or (isinstance(key, str) and "\x00" in key):
            path: list[Any] = []
            while link is not None:
                link, step = link
                path.append(step)
            return tuple(reversed(path))
        if isinstance(value, dict):
            stack.extend(((link, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((link, i), value[i]) for i in reversed(range(len(value))))
    return None


# Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI): they reorder the
# text after them, so a name holding one shows differently from how it reads ("Trojan Source" spoofing, a member list
# where one name runs into the next). The marks LRM, RLM and ALM change no order and stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that show as nothing: the Hangul fillers and the blank braille pattern.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def check_name(value: str) -> str:
    """A name people see in lists (an account's, a tenant's, an avatar's, a key's): no control characters or line
    separators (a line break, a tab), no bidirectional controls, and at least one visible character (a name of zero-width spaces passed
    `min_length` and showed as nothing). Zero-width joiners stay allowed: emoji sequences and Persian need them."""
    for char in value:
        if char in _BIDI_CONTROLS:
            raise ValueError(f"Must not contain the bidirectional control character U+{ord(char):04X}")
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError(f"Must not contain the control character U+{ord(char):04X}")
        if category in ("Zl", "Zp"):
            raise ValueError(f"Must not contain the line or paragraph separator U+{ord(char):04X}")
    if all(char.isspace() or char in _BLANK_GLYPHS or unicodedata.category(char) in ("Cf", "Zs", "Mn") for char in value):
        raise ValueError("Must contain a visible character")
    return value
