"""Text no database stores: the NUL character. PostgreSQL refuses it in a statement (text and jsonb), SQLite
keeps it, a trap for every reader; so it is refused where text comes in (HTTP: core.http; the chat's frames:
realtime.protocol), naming the field."""

from __future__ import annotations

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
