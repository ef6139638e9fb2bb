"""PII detection and redaction for end-customer messages, with presidio-analyzer's pattern recognizers.

No model is downloaded, ever: presidio needs a spaCy pipeline only for tokens and lemmas (its
pattern recognizers bring their own regexes), so each language gets `spacy.blank(lang)`, built in
memory from the language data that ships inside the spaCy package, plus one tiny component that
sets each token's lemma to its lower-case form. Without that component a blank pipeline has empty
lemmas, and presidio's context words ("IBAN", "Telefon", "Steuer-ID"), which raise the score of a
weak match, would do nothing.

Other choices, each against a known pitfall:
- recognizers default to `supported_language="en"`: every one is instantiated per language;
- the phone recognizer runs libphonenumbers once per region: it tries a short list of regions;
- the email recognizer validates domains with `tldextract`, whose default instance fetches the
  public suffix list over the network: ours uses the snapshot bundled with tldextract, offline.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DeFuehrerscheinRecognizer,
    DeHealthInsuranceRecognizer,
    DeIdCardRecognizer,
    DeKfzRecognizer,
    DePassportRecognizer,
    DePlzRecognizer,
    DeSocialSecurityRecognizer,
    DeTaxIdRecognizer,
    DeTaxNumberRecognizer,
    DeVatIdRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
)
from spacy.language import Language

from guidelines.rules import DEFAULT_PII_ENTITIES
from guidelines.verdict import Span

ENGINE_LANGUAGES = ("en", "de")
PHONE_REGIONS = ("DE", "AT", "CH", "GB", "US", "FR", "NL", "BE", "IT", "ES")
DEFAULT_MIN_SCORE = 0.4

# Context words in every language the guidelines speak (en, de, fr, es, it, nl), for every
# pipeline: a customer writing German in an English conversation still says "Telefon", and French,
# Spanish, Italian and Dutch text is read with the English pipeline. Presidio compares them with
# token lemmas (our lower-cased tokens) by substring, so "iban" also finds "l'iban" and "dell'iban"
# (one token each), "phone" finds "téléphone", "tel" "teléfono", "telefono" and "telefoonnummer",
# "cell" "cellulare", "kaart" "betaalkaart". Accents are kept, so "tél" (the abbreviation),
# "numéro" and "número" are listed beside "numero". A word only raises the score of a match the
# recognizer already made; IBANs, card numbers and email addresses are validated to full score
# anyway, so the words matter most for phone numbers and IP addresses under a raised minimum score.
_CONTEXT = {
    "EMAIL_ADDRESS": ["email", "e-mail", "mail", "adresse", "address",
                      "courriel", "mél", "correo", "dirección", "direccion", "posta", "indirizzo", "adres"],
    "PHONE_NUMBER": ["phone", "number", "telephone", "cell", "mobile", "call", "telefon", "telefonnummer",
                     "nummer", "handy", "mobil", "anrufen", "tel", "rufnummer", "whatsapp",
                     "tél", "portable", "numéro", "numero", "appel", "joindre",
                     "móvil", "movil", "celular", "número", "llam", "llám",
                     "chiam", "recapito",
                     "mobiel", "gsm", "bellen", "bereikbaar"],
    "IBAN_CODE": ["iban", "bank", "account", "konto", "kontonummer", "bankverbindung", "überweisung",
                  "compte", "rib", "bancaire", "banque", "virement",
                  "cuenta", "bancaria", "banco", "transferencia",
                  "conto", "bancario", "bonifico",
                  "rekening", "overschrijving", "overmaken"],
    "CREDIT_CARD": ["credit", "card", "visa", "mastercard", "amex", "kreditkarte", "karte", "kartennummer",
                    "carte", "crédit", "tarjeta", "carta", "kaart"],
    "IP_ADDRESS": ["ip", "ipv4", "ipv6", "address", "adresse", "dirección", "direccion", "indirizzo", "adres"],
}

_offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, validating the domain against tldextract's bundled snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _offline_tld(pattern_text).fqdn != ""


@Language.component("confide_lower_lemma")
def lower_lemma(doc: spacy.tokens.Doc) -> spacy.tokens.Doc:
    """Lemma = lower-cased token, so presidio's context words can match."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """A presidio NLP engine over blank spaCy pipelines: tokenizer and lemmas, no model, no NER."""

    def __init__(self, languages: Sequence[str] = ENGINE_LANGUAGES) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in languages])

    def load(self) -> None:
        self.nlp = {}
        for model in self.models:
            nlp = spacy.blank(model["lang_code"])
            nlp.add_pipe("confide_lower_lemma")
            self.nlp[model["lang_code"]] = nlp


def _recognizers(language: str) -> list[EntityRecognizer]:
    recognizers: list[EntityRecognizer] = [
        OfflineEmailRecognizer(supported_language=language, context=_CONTEXT["EMAIL_ADDRESS"]),
        PhoneRecognizer(supported_language=language, context=_CONTEXT["PHONE_NUMBER"], supported_regions=PHONE_REGIONS),
        IbanRecognizer(supported_language=language, context=_CONTEXT["IBAN_CODE"]),
        CreditCardRecognizer(supported_language=language, context=_CONTEXT["CREDIT_CARD"]),
        IpRecognizer(supported_language=language, context=_CONTEXT["IP_ADDRESS"]),
    ]
    german = (
        DeTaxIdRecognizer, DeTaxNumberRecognizer, DePassportRecognizer, DeIdCardRecognizer, DeSocialSecurityRecognizer,
        DeHealthInsuranceRecognizer, DeFuehrerscheinRecognizer, DeVatIdRecognizer, DeKfzRecognizer, DePlzRecognizer,
    )
    recognizers.extend(cls(supported_language=language) for cls in german)
    return recognizers


def build_analyzer(languages: Sequence[str] = ENGINE_LANGUAGES) -> AnalyzerEngine:
    """An analyzer with pattern recognizers only, on blank pipelines. Takes a second to build."""
    nlp_engine = BlankSpacyNlpEngine(languages)
    nlp_engine.load()
    registry = RecognizerRegistry(
        recognizers=[r for lang in languages for r in _recognizers(lang)], supported_languages=list(languages)
    )
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=list(languages))


_analyzer: AnalyzerEngine | None = None
_analyzer_lock = threading.Lock()


def analyzer() -> AnalyzerEngine:
    """The shared analyzer, built on first use."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = build_analyzer()
    return _analyzer


def engine_language(language: str | None) -> str:
    """The pipeline for a BCP 47 tag: German for German, English (pattern-only anyway) otherwise."""
    primary = (language or "en").split("-", 1)[0].lower()
    return primary if primary in ENGINE_LANGUAGES else "en"


# Every entity we look for has a digit or an "@", but for an IPv6 address written in letters only
# ("dead:beef::cafe"), which has two colons with at most hex digits between them. Text without
# any of these (most chat messages, and prose with a colon: "Please note: ...") skips the analyzer.
_MAY_HOLD_PII = re.compile(r"[\d@]|:[0-9A-Fa-f]*:")


def _without_overlaps(spans: list[Span]) -> list[Span]:
    """Keep the best span where several overlap: higher score, then longer."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def detect_pii(
    text: str,
    language: str | None = "en",
    entities: Sequence[str] | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[Span]:
    """The PII spans in `text`, sorted, without overlaps."""
    if not text or _MAY_HOLD_PII.search(text) is None:
        return []
    results = analyzer().analyze(
        text=text,
        language=engine_language(language),
        entities=list(entities) if entities is not None else list(DEFAULT_PII_ENTITIES),
        score_threshold=min_score,
    )
    return _without_overlaps([Span(r.start, r.end, r.entity_type, float(r.score)) for r in results])


def redact(text: str, spans: Sequence[Span]) -> str:
    """Replace each span by its entity in angle brackets: "mail me at <EMAIL_ADDRESS>"."""
    pieces: list[str] = []
    last = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < last:
            continue
        pieces.append(text[last : span.start])
        pieces.append(f"<{span.entity}>")
        last = span.end
    pieces.append(text[last:])
    return "".join(pieces)
