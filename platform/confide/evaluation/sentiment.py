"""Sentiment of a conversation, from lexicons that ship inside packages (nothing is downloaded):

- English: VADER (`vaderSentiment`), its compound score in [-1, 1].
- German: the German Polarity Lexicon (Klenner, Clematide, Wiegand, Peters, v1.1 2010;
  Apache-2.0), carried in `data/german-polarity.tsv` with its licence: about 8,000 base forms
  (lemmas) with a polarity in [-1, 1]. A word is looked up as written (lower-cased), else by its lemma
  from `simplemma`, so "schöner", "ärgerlichen" and "Problemen" count; the lookup stays exact (no umlaut
  folding), so "schon" never counts as "schön". Scored here the way VADER scores: weights summed with
  negation ("nicht", "kein" … within three words before flip and dampen a word) and intensifiers
  ("sehr", "total" …), normalised into [-1, 1]. SentiWS, used before, is not: its licence
  (CC BY-NC-SA) forbids commercial use.
- Other languages: no measure (None), rather than a wrong one.

It measures the conversation (did it end better than it started?), never a person: the trend is the
mean score of the visitor's messages in the last third minus that in the first third.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

GERMAN_LEXICON_NAME = "german-polarity"
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
GERMAN_NEGATIONS = frozenset({"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts", "ohne", "weder"})
GERMAN_BOOSTERS = {
    "sehr": 0.293, "total": 0.293, "extrem": 0.293, "echt": 0.2, "wirklich": 0.2, "absolut": 0.293,
    "völlig": 0.293, "ziemlich": 0.15, "besonders": 0.2, "äußerst": 0.293, "etwas": -0.293, "kaum": -0.293,
}
# Chat thanks that the lexicon lacks (it has the noun "Dank", not "danke" or its verb); used only where it has no entry.
# Likewise customer-service complaints it lacks ("kaputt", "defekt", "leider" have no entry).
GERMAN_SUPPLEMENT = {"danke": 0.7, "vielendank": 1.0, "kaputt": -0.7, "defekt": -0.7, "leider": -0.3}
# Where the lexicon's sign is plainly wrong (it rates "wüten", to rage, +1.0); these replace its entry.
GERMAN_CORRECTIONS = {"wüten": -1.0}
# Polite requests and transactions, frequent in customer chats, that the lexicon rates directly or through
# their lemma ("bitte" -> "bitten" +1.0, "möchte" -> "mögen" +1.0, "bezahlt" -> "bezahlen" -1.0, "dauert" ->
# "dauern" -1.0, "verschiedene" -> "verschieden" -1.0, deceased; "erledigt" -0.7, worn out) but that tell
# nothing of a mood there.
GERMAN_NEUTRAL = frozenset({
    "bitte", "bitten", "möchte", "möchten", "möchtest", "möchtet", "bezahlen", "kaufen", "dauern", "verschieden", "erledigt", "erledigen",
    # letter formulas and account or appointment business ("Sehr geehrte …" +1.0 via "geehrt", "kündigen" -0.7, "angemeldet" +0.7)
    "geehrt", "geehrte", "geehrter", "geehrten", "kündigen", "gekündigt", "absagen", "abgesagt", "anmelden", "angemeldet", "abmelden",
})
# A closing formula's adjective ("Mit freundlichen Grüßen", "Liebe Grüße") says nothing of a mood either.
GERMAN_GREETINGS = frozenset({"gruß", "grüße", "grüßen"})
NEGATION_SCALAR = -0.74  # VADER's
WEIGHT_SCALE = 4.0  # the German weights are in [-1, 1]; VADER's lexicon in [-4, 4]
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


GERMAN_POLARITY_FILE = Path(__file__).with_name("data") / "german-polarity.tsv"  # word <TAB> polarity; "#" lines: attribution


@lru_cache(maxsize=1)
def german_lexicon() -> dict[str, float]:
    """Lower-cased base form -> polarity in [-1, 1] (0: rated neutral). Where two entries fold together,
    the word counts with their mean if they agree in sign ("Lachen" 0.7, "lachen" 1.0), else as neutral
    ("Staunen" -0.7, "staunen" +1.0; "Wagen" 0, "wagen" 0.7)."""
    readings: dict[str, list[float]] = {}
    for line in GERMAN_POLARITY_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            form, polarity = line.split("\t")
            readings.setdefault(unicodedata.normalize("NFC", form).lower(), []).append(float(polarity))
    lexicon = {
        word: round(sum(values) / len(values), 4) if len({math.copysign(1.0, v) if v else 0.0 for v in values}) == 1 else 0.0
        for word, values in readings.items()
    }
    lexicon.update(GERMAN_CORRECTIONS)
    for word, value in GERMAN_SUPPLEMENT.items():
        lexicon.setdefault(word, value)
    return lexicon


@lru_cache(maxsize=1)
def _german_lemmatizer() -> Lemmatizer:
    # The low-memory dictionary backend: about 15 MB resident instead of about 100 MB, some µs more per new word.
    return Lemmatizer(cache_max_size=8192, lemmatization_strategy=DefaultStrategy(low_memory=True))


def _german_weight(token: str, lexicon: dict[str, float]) -> float | None:
    """The weight of a word as written, else of its lemma; exact on the lower-cased form."""
    word = token.lower()
    if word in GERMAN_NEUTRAL:
        return None
    weight = lexicon.get(word)
    if weight is not None:
        return weight
    lemma = _german_lemmatizer().lemmatize(token, "de").lower()
    if lemma in GERMAN_NEUTRAL or lemma in GERMAN_BOOSTERS or lemma in GERMAN_NEGATIONS:
        return None
    return lexicon.get(lemma)


def _normalize(total: float) -> float:
    return max(-1.0, min(1.0, total / math.sqrt(total * total + ALPHA)))


def german_score(text: str) -> float:
    lexicon = german_lexicon()
    tokens = WORD.findall(unicodedata.normalize("NFC", text))
    words = [t.lower() for t in tokens]
    total = 0.0
    for i, word in enumerate(words):
        if word in GERMAN_BOOSTERS or word in GERMAN_NEGATIONS or (i + 1 < len(words) and words[i + 1] in GERMAN_GREETINGS):
            continue
        weight = _german_weight(tokens[i], lexicon)
        if not weight:
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
    return {"en": "vader", "de": GERMAN_LEXICON_NAME}.get(primary)


def score(text: str, language: str) -> float | None:
    """The compound sentiment of one message in [-1, 1], or None where no lexicon covers the language."""
    lexicon = lexicon_for(language)
    if lexicon == "vader":
        return english_score(text)
    if lexicon == GERMAN_LEXICON_NAME:
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
