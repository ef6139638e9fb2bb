"""Sentiment of a conversation, from lexicons that ship inside packages (nothing is downloaded):

- English: VADER (`vaderSentiment`), its compound score in [-1, 1].
- German: the SentiWS word list as packaged by `gersent` (inflected forms with weights in [-1, 1]),
  scored here the way VADER scores: weights summed with negation ("nicht", "kein" … within three
  words before flip and dampen a word) and intensifiers ("sehr", "total" …), normalised into [-1, 1].
- Other languages: no measure (None), rather than a wrong one.

It measures the conversation (did it end better than it started?), never a person: the trend is the
mean score of the visitor's messages in the last third minus that in the first third.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
GERMAN_NEGATIONS = frozenset({"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts", "ohne", "weder"})
GERMAN_BOOSTERS = {
    "sehr": 0.293, "total": 0.293, "extrem": 0.293, "echt": 0.2, "wirklich": 0.2, "absolut": 0.293,
    "völlig": 0.293, "ziemlich": 0.15, "besonders": 0.2, "äußerst": 0.293, "etwas": -0.293, "kaum": -0.293,
}
# Chat thanks that SentiWS lacks (it has "danke" but not the noun of "vielen Dank"); used only where it has no entry.
GERMAN_SUPPLEMENT = {"dank": 0.3, "dankeschön": 0.4, "vielendank": 0.4}
NEGATION_SCALAR = -0.74  # VADER's
WEIGHT_SCALE = 4.0  # SentiWS weights are in [-1, 1]; VADER's lexicon in [-4, 4]
ALPHA = 15.0  # VADER's normalisation constant


@dataclass(frozen=True, slots=True)
class Trend:
    lexicon: str
    messages: int
    start: float
    end: float

    @property
    def trend(self) -> float:
        return round(self.end - self.start, 4)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _gersent_folder() -> Path:
    # Located without importing the package (its module has a stray `is` comparison that warns).
    spec = importlib.util.find_spec("gersent")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the gersent package (German SentiWS lexicon) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "wordlists" / "de"


@lru_cache(maxsize=1)
def german_lexicon() -> dict[str, float]:
    """Lower-cased inflected form -> weight; where two forms fold together, the stronger weight wins."""
    lexicon: dict[str, float] = {}
    folder = _gersent_folder()
    for name in ("positive.json", "negative.json"):
        for word, weight in json.loads((folder / name).read_text(encoding="utf-8")).items():
            key, value = word.lower(), float(weight)
            if abs(value) > abs(lexicon.get(key, 0.0)):
                lexicon[key] = value
    for word, value in GERMAN_SUPPLEMENT.items():
        lexicon.setdefault(word, value)
    return lexicon


def _normalize(total: float) -> float:
    return max(-1.0, min(1.0, total / math.sqrt(total * total + ALPHA)))


def german_score(text: str) -> float:
    lexicon = german_lexicon()
    words = [w.lower() for w in WORD.findall(text)]
    total = 0.0
    for i, word in enumerate(words):
        weight = lexicon.get(word)
        if weight is None or word in GERMAN_BOOSTERS:
            continue
        valence = weight * WEIGHT_SCALE
        window = words[max(0, i - 3) : i]
        for before in window:
            boost = GERMAN_BOOSTERS.get(before)
            if boost is not None:
                valence += math.copysign(1.0, valence) * boost  # an intensifier adds strength, a dampener takes it away
        if any(before in GERMAN_NEGATIONS for before in window):
            valence *= NEGATION_SCALAR
        total += valence
    if total:
        total += math.copysign(min(text.count("!"), 4) * 0.292, total)
    return round(_normalize(total), 4)


def english_score(text: str) -> float:
    return round(float(_vader().polarity_scores(text)["compound"]), 4)


def lexicon_for(language: str) -> str | None:
    primary = (language or "").split("-")[0].lower()
    return {"en": "vader", "de": "sentiws"}.get(primary)


def score(text: str, language: str) -> float | None:
    """The compound sentiment of one message in [-1, 1], or None where no lexicon covers the language."""
    lexicon = lexicon_for(language)
    if lexicon == "vader":
        return english_score(text)
    if lexicon == "sentiws":
        return german_score(text)
    return None


def trend(texts: list[str], language: str) -> Trend | None:
    """Mean score of the first third of the visitor's messages vs. the last third (at least one each)."""
    lexicon = lexicon_for(language)
    texts = [t for t in texts if t.strip()]
    if lexicon is None or not texts:
        return None
    scores = [s for s in (score(t, language) for t in texts) if s is not None]
    third = max(1, len(scores) // 3)
    start = sum(scores[:third]) / third
    end = sum(scores[-third:]) / third
    return Trend(lexicon=lexicon, messages=len(scores), start=round(start, 4), end=round(end, 4))
