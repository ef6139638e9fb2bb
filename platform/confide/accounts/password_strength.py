"""How easy a password is to guess: zxcvbn's estimate (common passwords, words, names, dates, keyboard
patterns, repeats), with the account's own details as words an attacker knows (NIST SP 800-63B asks for
that rather than composition rules, which push people to 'Password1!').

The estimate runs on the request's event loop, so its work is bounded: zxcvbn's time grows with length and,
much faster, with every look-alike character it could read as a letter (a crafted 72-character password of
'!$%(+0123…' took 2.8 s). Symbols that look like letters are read as those letters first ('P@$$w0rd!1' is
'Passw0rdi1', still a common password), which leaves its substitution search the digits only, and only the
first ESTIMATED_CHARS characters are estimated: about 13 ms at worst on a slow machine, 1-3 ms usually.
(Digits stay digits: read as letters, '1234567890123' no longer looked like a sequence.)"""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn
from zxcvbn.matching import L33T_TABLE

MIN_SCORE = 3  # zxcvbn's scale: 0 guessed at once ... 3 "safely unguessable" ... 4
MIN_LENGTH = 10
ESTIMATED_CHARS = 32  # common passwords are far shorter; a longer one is judged by its start

_AS_LETTERS = str.maketrans({sub: letter for letter, subs in reversed(L33T_TABLE.items()) for sub in subs if not sub.isdigit()})


def _words(details: Iterable[str | None]) -> list[str]:
    words: list[str] = []
    for detail in details:
        if detail:
            local = detail.partition("@")[0] if "@" in detail else ""  # "maria.gonzalez", and "mariagonzalez"
            words.extend([detail, *detail.replace("@", " ").replace(".", " ").replace("-", " ").split()])
            words.extend([local, local.replace(".", "").replace("-", "").replace("_", "")] if local else [])
    return [word.translate(_AS_LETTERS) for word in words]


def weakness(password: str, details: Iterable[str | None] = ()) -> str | None:
    """Why `password` is too easy to guess, in words for its owner; None when it is not. `details`: the
    account's address, names and company."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters"
    estimate = zxcvbn(password.translate(_AS_LETTERS)[:ESTIMATED_CHARS], user_inputs=_words(details))
    if estimate["score"] >= MIN_SCORE:
        return None
    feedback = estimate["feedback"]
    why = " ".join(part for part in (feedback.get("warning"), *feedback.get("suggestions", ())) if part)
    return "This password is too easy to guess" + (f": {why}" if why else "; use a few uncommon words")
