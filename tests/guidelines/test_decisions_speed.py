"""Long instructions with one decision verb per word (2,000 characters, the most a style instruction holds):
the guard reads them like short ones. Timings are not asserted here; the reading of such input used to be
quadratic in its length (see `_MAX_VERBS` in `guidelines.decisions`)."""

import pytest

from guidelines.decisions import instructs_decision, states_decision


def _repeat(word: str) -> str:
    return " ".join([word] * (2000 // (len(word) + 1)))


@pytest.mark.parametrize(
    ("word", "instructs"),
    [
        ("keur", False),
        ("approve", False),
        ("refuse to", False),
        ("genehmige", False),
        ("approuve", False),
        ("aprueba", False),
        ("approva", False),
        ("not approve", False),
        ("keur niet", False),
        ("geef korting", True),
        ("gib rabatt", True),
        ("refund", True),
    ],
)
def test_long_repeated_words(word: str, instructs: bool) -> None:
    text = _repeat(word)
    assert (instructs_decision(text) is not None) is instructs
    assert states_decision(text) is False
