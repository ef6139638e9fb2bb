"""An avatar's knowledge: Q&A entries and document chunks, and a BM25 index over them.

The index is built once per knowledge snapshot and then searched on every chat message, so building
does the work (tokenising, stemming, BM25 statistics, postings) and a search only scores the few
entries that share a term with the query. Scores are normalised to 0..1 so that one threshold means
the same thing for a 5-entry and a 500-entry knowledge base."""

from __future__ import annotations

import heapq
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import Stemmer  # PyStemmer: the Snowball stemmers in C
from rank_bm25 import BM25Okapi

# ---------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True, slots=True)
class QAEntry:
    """A curated question and answer; several phrasings of the question may point to one answer."""

    id: str
    questions: Sequence[str]
    answer: str
    language: str | None = None  # BCP 47; None: the index's default language
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """An uploaded text (plain or Markdown); split into chunks for retrieval."""

    id: str
    title: str
    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document small enough to quote; its text starts with its heading trail, if any."""

    id: str
    document_id: str
    text: str
    title: str = ""
    language: str | None = None
    position: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result. ``score`` is normalised: 1.0 means the query's words are all matched."""

    kind: Literal["qa", "chunk"]
    id: str
    score: float
    text: str  # the answer (qa) or the chunk text (chunk)
    matched: str  # the best-matching question variant (qa) or the document title (chunk)
    document_id: str | None = None


# ---------------------------------------------------------------------------------------------------
# Tokenising: casefold, split on Unicode word characters, drop stopwords, stem by language, fold
# diacritics, so "Öffnungszeiten", "offnungszeit" and "Öffnungszeit" meet.

_WORD = re.compile(r"\w+")
_COMBINING = re.compile(r"[\u0300-\u036f]")

STOPWORDS = frozenset(
    # greetings carry nothing to search for
    "hi hello hey hallo "
    # en
    "a an and are as at be but by can could do does for from had has have how i if in is it its me my "
    "of on or our please so that the their them then there these this to was we were what when where "
    "which who why will with would you your "
    # de
    "aber als am an auch auf bei bin bis bitte das dass de dem den der des die doch du ein eine einem "
    "einen einer es fur für gibt hat haben ich ihr ihre im in ist ja kann konnen können man mit nicht "
    "noch oder sie sind so und uns vom von was wer wie wir wo zu zum zur".split()
)

# BCP 47 primary subtag -> Snowball algorithm
_SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french",
    "ga": "irish", "hu": "hungarian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nb": "norwegian", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "tr": "turkish",
}


def primary_language(language: str | None) -> str | None:
    """"de-CH" -> "de"; None stays None."""
    if not language:
        return None
    return language.split("-", 1)[0].split("_", 1)[0].lower()


def fold(text: str) -> str:
    """Lowercase and strip diacritics: "Öffnungszeiten" -> "offnungszeiten", "Straße" -> "strasse"."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


def words(text: str) -> list[str]:
    """The folded words of a text, stopwords included (for greeting detection and the like)."""
    return _WORD.findall(fold(text))


_local = threading.local()


def _stemmer(language: str) -> Any:
    """The Snowball stemmer for a language, one per thread (stemmers are not thread-safe). Its word
    cache is off: visitor words are stemmed and dropped, never kept in memory."""
    algorithm = _SNOWBALL.get(language)
    if algorithm is None:
        return None
    stemmers = _local.__dict__.setdefault("stemmers", {})
    stemmer = stemmers.get(algorithm)
    if stemmer is None:
        stemmer = stemmers[algorithm] = Stemmer.Stemmer(algorithm)
        stemmer.maxCacheSize = 0
    return stemmer


def terms(text: str, language: str | None = None) -> list[str]:
    """Search terms of a text: words without stopwords, stemmed for the language, diacritics folded."""
    stemmer = _stemmer(primary_language(language) or "")
    found = [w for w in _WORD.findall(text.casefold()) if fold(w) not in STOPWORDS]
    if stemmer is not None:
        found = stemmer.stemWords(found)
    return [fold(w) for w in found]


# ---------------------------------------------------------------------------------------------------
# Splitting documents

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^(=+|-{2,})[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_HEADING_LINE = re.compile(r"^#{1,6} ")
# Coarse to fine: paragraphs, lines, sentences, words.
_LEVELS = (
    (re.compile(r"\n[ \t]*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (re.compile(r"(?<=[.!?…:;])\s+"), " "),
    (re.compile(r"\s+"), " "),
)


def _sections(text: str) -> list[tuple[list[str], str]]:
    """(heading trail as Markdown lines, body) per section of a plain-text or Markdown document."""
    trail: list[tuple[int, str]] = []
    sections: list[tuple[list[str], str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        joined = "\n".join(body).strip()
        if joined:
            sections.append(([line for _, line in trail], joined))
        body.clear()

    def enter(level: int, title: str) -> None:
        flush()
        while trail and trail[-1][0] >= level:
            trail.pop()
        if title:
            trail.append((level, "#" * level + " " + title))

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            body.append(line)
            continue
        if in_fence:
            body.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            enter(len(atx.group(1)), atx.group(2).strip())
            continue
        setext = _SETEXT.match(line)
        if setext and body and body[-1].strip():
            title = body.pop().strip()
            enter(1 if setext.group(1)[0] == "=" else 2, title)
            continue
        body.append(line)
    flush()
    return sections


def _fit(text: str, budget: int, level: int = 0) -> list[str]:
    """Pieces of ``text`` of at most ``budget`` characters, split at the coarsest boundary that works."""
    text = text.strip()
    if len(text) <= budget:
        return [text] if text else []
    if level == len(_LEVELS):  # one "word" longer than the budget (a URL, a hash): cut it, nothing else fits
        return [text[i : i + budget] for i in range(0, len(text), budget)]
    pattern, joiner = _LEVELS[level]
    parts = [p.strip() for p in pattern.split(text) if p.strip()]
    if len(parts) == 1:
        return _fit(text, budget, level + 1)
    pieces: list[str] = []
    current = ""
    for part in parts:
        for piece in _fit(part, budget, level + 1):
            candidate = current + joiner + piece if current else piece
            if len(candidate) <= budget:
                current = candidate
            else:
                pieces.append(current)
                current = piece
    if current:
        pieces.append(current)
    return pieces


def _shorten(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def split_document(text: str, max_chars: int = 800) -> list[str]:
    """Split plain text or Markdown into chunks of at most ``max_chars`` characters.

    Splits at headings, then paragraphs, lines, sentences and finally between words; a single word
    longer than a chunk is the only thing ever cut. Each chunk starts with the Markdown heading trail
    of its section ("# Shop\\n## Opening hours\\n\\n...") so it reads on its own."""
    if max_chars < 40:
        raise ValueError("max_chars must be at least 40")
    chunks: list[str] = []
    for trail, body in _sections(text):
        prefix = "\n".join(trail)
        if len(prefix) > max_chars // 4:  # keep the nearest heading only, shortened if need be
            prefix = _shorten(trail[-1], max_chars // 4)
        budget = max_chars - (len(prefix) + 2 if prefix else 0)
        for piece in _fit(body, budget):
            chunks.append(f"{prefix}\n\n{piece}" if prefix else piece)
    return chunks


def chunk_document(document: Document, max_chars: int = 800) -> list[Chunk]:
    """The document's chunks with ids "<document id>:<position>"."""
    return [
        Chunk(
            id=f"{document.id}:{position}",
            document_id=document.id,
            text=text,
            title=document.title,
            language=document.language,
            position=position,
        )
        for position, text in enumerate(split_document(document.text, max_chars))
    ]


def chunk_body(text: str) -> str:
    """A chunk's text without its heading trail, for quoting it as an answer."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and (_HEADING_LINE.match(lines[start]) or not lines[start].strip()):
        start += 1
    return "\n".join(lines[start:]).strip() or text.strip()


# ---------------------------------------------------------------------------------------------------
# Index


class _BM25(BM25Okapi):
    """BM25 with Lucene's idf, log(1 + (N - n + 0.5) / (n + 0.5)), which stays positive.

    Okapi's plain idf goes negative for a term found in more than half the documents, which makes
    every score meaningless for the small knowledge bases avatars start with."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        n = self.corpus_size
        self.idf = {word: math.log(1 + (n - freq + 0.5) / (freq + 0.5)) for word, freq in nd.items()}
        self.average_idf = sum(self.idf.values()) / len(self.idf) if self.idf else 0.0


class _Corpus:
    """One BM25 corpus with postings, so a search scores only documents sharing a term with it.

    Each document keeps its declared language (None: not stated) and the language it was stemmed in
    (declared, else the index default), so a query is stemmed the same way as what it is scored
    against."""

    __slots__ = ("bm25", "postings", "declared", "stemmed", "stem_languages", "unseen_weight")

    def __init__(self, tokenized: list[list[str]], declared: list[str | None], stemmed: list[str | None]) -> None:
        self.declared = declared
        self.stemmed = stemmed
        self.stem_languages = tuple(dict.fromkeys(stemmed))
        self.postings: dict[str, list[int]] = {}
        for index, tokens in enumerate(tokenized):
            for term in set(tokens):
                self.postings.setdefault(term, []).append(index)
        # rank_bm25 divides by the corpus size; an empty or all-stopword corpus has nothing to score
        self.bm25 = _BM25(tokenized) if self.postings else None
        # a query word the knowledge never mentions weighs as much as a typical word of it
        self.unseen_weight = self.bm25.average_idf if self.bm25 else 1.0

    def scores(self, query: str, language: str | None) -> list[tuple[int, float]]:
        """(document, normalised score) for documents in ``language`` (or any, if None)."""
        if self.bm25 is None:
            return []
        results: list[tuple[int, float]] = []
        for stem_language in self.stem_languages:
            query_terms = list(dict.fromkeys(terms(query, stem_language)))
            if not query_terms:
                continue
            candidates = sorted(
                i
                for i in {i for term in query_terms for i in self.postings.get(term, ())}
                if self.stemmed[i] == stem_language and (language is None or self.declared[i] in (None, language))
            )
            if not candidates:
                continue
            raw = self.bm25.get_batch_scores(query_terms, candidates)
            ideal = sum(self.bm25.idf.get(term, self.unseen_weight) for term in query_terms)
            results.extend((i, min(1.0, score / ideal)) for i, score in zip(candidates, raw) if score > 0)
        return results


# A query's words found in a passage are weaker evidence of an answer than the same words in a
# curated question, so chunk scores count for this share of a Q&A score.
CHUNK_WEIGHT = 0.8


class KnowledgeIndex:
    """Search over an avatar's Q&A entries and document chunks. Build once per knowledge snapshot."""

    __slots__ = ("entries", "chunks", "language", "_qa", "_qa_owner", "_qa_variant", "_chunks")

    def __init__(
        self,
        entries: Iterable[QAEntry] = (),
        chunks: Iterable[Chunk] = (),
        *,
        language: str | None = None,
    ) -> None:
        """Index entries (each question variant on its own) and chunks (title, headings and text).

        ``language`` is the avatar's default language: it stems entries and chunks that name none."""
        index = self
        index.entries = tuple(entries)
        index.chunks = tuple(chunks)
        index.language = primary_language(language)
        default = index.language

        qa_tokens: list[list[str]] = []
        qa_declared: list[str | None] = []
        qa_stemmed: list[str | None] = []
        index._qa_owner = []
        index._qa_variant = []
        for entry in index.entries:
            lang = primary_language(entry.language)
            for variant in entry.questions:
                qa_tokens.append(terms(variant, lang or default))
                qa_declared.append(lang)
                qa_stemmed.append(lang or default)
                index._qa_owner.append(entry)
                index._qa_variant.append(variant)
        index._qa = _Corpus(qa_tokens, qa_declared, qa_stemmed)

        chunk_tokens = []
        chunk_declared: list[str | None] = []
        chunk_stemmed: list[str | None] = []
        for chunk in index.chunks:
            lang = primary_language(chunk.language)
            chunk_tokens.append(terms(f"{chunk.title}\n{chunk.text}", lang or default))
            chunk_declared.append(lang)
            chunk_stemmed.append(lang or default)
        index._chunks = _Corpus(chunk_tokens, chunk_declared, chunk_stemmed)

    @classmethod
    def build(
        cls,
        entries: Iterable[QAEntry] = (),
        chunks: Iterable[Chunk] = (),
        *,
        language: str | None = None,
    ) -> KnowledgeIndex:
        """Build the index once per knowledge snapshot and reuse it for every message."""
        return cls(entries, chunks, language=language)

    @classmethod
    def empty(cls) -> KnowledgeIndex:
        return cls()

    def __len__(self) -> int:
        return len(self.entries) + len(self.chunks)

    def search(self, query: str, language: str | None = None, limit: int = 5) -> list[Hit]:
        """Best hits first: Q&A entries (by their best question variant) and chunks, scores 0..1.

        With ``language``, only entries and chunks in that language (or with none) are searched."""
        lang = primary_language(language)
        best: dict[str, tuple[float, int]] = {}  # entry id -> (score, its best variant)
        for i, score in self._qa.scores(query, lang):
            owner = self._qa_owner[i].id
            if owner not in best or score > best[owner][0]:
                best[owner] = (score, i)
        # rank plain tuples and build Hits for the winners only: a search may score hundreds
        # Q&A before chunks on equal scores (curated beats extracted), then by id for determinism
        ranked = [(-score, 0, self._qa_owner[i].id, i) for score, i in best.values()]
        ranked += [(-score * CHUNK_WEIGHT, 1, self.chunks[i].id, i) for i, score in self._chunks.scores(query, lang)]
        hits = []
        for negative, kind, _, i in heapq.nsmallest(limit, ranked):
            if kind == 0:
                entry = self._qa_owner[i]
                hits.append(Hit("qa", entry.id, -negative, entry.answer, self._qa_variant[i]))
            else:
                chunk = self.chunks[i]
                hits.append(Hit("chunk", chunk.id, -negative, chunk.text, chunk.title, chunk.document_id))
        return hits
