"""Folding: every evasion of a phrase folds to the phrase, and the fast path agrees with the slow one."""

from __future__ import annotations

import random

import pytest

from guidelines.normalize import fold, fold_phrase, fold_with_origins


@pytest.mark.parametrize(
    "text",
    [
        "refund", "REFUND", "ReFuNd", "rëfünd", "réfund", "ｒｅｆｕｎｄ", "re\u200bfund", "re\u00adfund", "re\ufefffund",
        "r e f u n d", "r.e.f.u.n.d", "r. e. f. u. n. d", "r  e  f  u  n  d", "r,e,f,u,n,d", "re\u0301fund",
    ],
)
def test_evasions_fold_to_the_plain_word(text: str) -> None:
    assert fold(text).text == "refund"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Kündigung", "kundigung"),
        ("STRASSE Straße", "strasse strasse"),
        ("„Zitat“ – gut", "zitat gut"),
        ("don’t", "don't"),
        ("talk_to-a*human", "talk to a human"),
        ("line one\n\n\nline two", "line one\nline two"),
        ("ﬁnance", "finance"),
        ("İstanbul", "istanbul"),
        ("Ελληνικά", "ελληνικα"),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold(text).text.strip() == folded


def test_a_run_inside_a_sentence_keeps_word_boundaries_inside_it() -> None:
    folded = fold("get a r e f u n d now")
    assert folded.text == "get arefund now"
    start = folded.text.index("refund")
    assert folded.is_boundary(start) and folded.is_boundary(start + len("refund"))
    assert not fold("arefund").is_boundary(1)


def test_ordinary_single_letter_words_are_not_joined() -> None:
    assert fold("I want a refund, a voucher or a gift").text == "i want a refund, a voucher or a gift"


def test_fast_and_slow_paths_agree_and_origins_point_back() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ äöüßé .,!?\n  \u200b’„“–€ﬁｒ\u0301Ω"
    samples = ["get a r e f u n d", "Straße „Zitat“ – don’t…", "µ æ ð ½ ¼ ¨ ß"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    for text in samples:
        slow, origins = fold_with_origins(text)
        assert fold(text) == slow, text
        assert len(origins) == len(slow.text)
        assert all(0 <= i < len(text) for i in origins)
        assert origins == sorted(origins)


def test_origins_map_a_match_back_to_the_original_text() -> None:
    text = "Das ist ein  K-Ü-N-D-I-G-U-N-G-Problem"
    folded, origins = fold_with_origins(text)
    start = folded.text.index("kundigung")
    assert text[origins[start]] == "K"
    assert text[origins[start + len("kundigung") - 1]] == "G"


def test_phrases_are_trimmed() -> None:
    assert fold_phrase("  Talk to a HUMAN!  ") == "talk to a human"
    assert fold_phrase("!!!") == ""
