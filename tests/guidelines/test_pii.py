"""PII detection with presidio's pattern recognizers on blank spaCy pipelines, English and German."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from guidelines.pii import detect_pii, redact

CASES = [
    # language, text, entity, the text of the entity
    ("en", "Write to jane.doe@example.com please", "EMAIL_ADDRESS", "jane.doe@example.com"),
    ("de", "Schreiben Sie an max.mustermann@beispiel.de bitte", "EMAIL_ADDRESS", "max.mustermann@beispiel.de"),
    ("en", "Call me on +49 30 12345678 tomorrow", "PHONE_NUMBER", "+49 30 12345678"),
    ("de", "Rufen Sie mich unter +49 170 1234567 an", "PHONE_NUMBER", "+49 170 1234567"),
    ("de", "Meine Telefonnummer ist 030 12345678", "PHONE_NUMBER", "030 12345678"),
    ("en", "My number is (212) 555-0123", "PHONE_NUMBER", "(212) 555-0123"),
    ("en", "My IBAN is DE89 3704 0044 0532 0130 00, thanks", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("de", "Meine IBAN lautet DE89370400440532013000.", "IBAN_CODE", "DE89370400440532013000"),
    ("en", "card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("de", "Kreditkarte 4111-1111-1111-1111", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("en", "my ip is 192.168.10.25", "IP_ADDRESS", "192.168.10.25"),
    ("de", "Meine IP-Adresse ist 2001:db8::8a2e:370:7334 laut Router", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("de", "Meine Steuer-ID ist 86095742719", "DE_TAX_ID", "86095742719"),
    ("de", "Meine Steuernummer ist 181/815/08155", "DE_TAX_NUMBER", "181/815/08155"),
    ("de", "Rentenversicherungsnummer 65170839J003", "DE_SOCIAL_SECURITY", "65170839J003"),
    ("de", "Krankenversichertennummer A123456780", "DE_HEALTH_INSURANCE", "A123456780"),
    ("de", "USt-IdNr. DE123456789", "DE_VAT_ID", "DE123456789"),
    ("de", "Personalausweis T22000129", "DE_ID_CARD", "T22000129"),
    ("de", "Kennzeichen M AB 1234", "DE_KFZ", "M AB 1234"),
]


@pytest.mark.parametrize(("language", "text", "entity", "found"), CASES)
def test_each_entity_is_found_and_redacted(language: str, text: str, entity: str, found: str) -> None:
    spans = detect_pii(text, language)
    assert [(s.entity, text[s.start : s.end]) for s in spans] == [(entity, found)]
    assert redact(text, spans) == text.replace(found, f"<{entity}>")


def test_a_passport_number_is_found() -> None:
    text = "Reisepassnummer C01X00T41"
    (span,) = detect_pii(text, "de")
    assert text[span.start : span.end] == "C01X00T41" and span.entity in ("DE_PASSPORT", "DE_ID_CARD")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "What are your opening hours?"),
        ("en", "The order 12345 costs 49.99 EUR and arrives in 3 days."),
        ("de", "Die Bestellung 12345 kostet 49,99 EUR und kommt in 3 Tagen."),
        ("de", "Wir haben von 9 bis 17 Uhr geöffnet."),
        ("en", "Version 2.1 is out since 2024."),
        ("en", ""),
    ],
)
def test_ordinary_text_has_no_pii(language: str, text: str) -> None:
    assert detect_pii(text, language) == []


def test_an_ipv6_address_in_letters_only_is_found_and_a_colon_in_prose_is_not_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [s.entity for s in detect_pii("my address is dead:beef::cafe ok", "en")] == ["IP_ADDRESS"]
    # Text that cannot hold any entity we look for skips the analyzer (about 1 ms for this sentence).
    from guidelines import pii

    calls: list[str] = []
    engine = pii.analyzer()
    analyze = engine.analyze
    monkeypatch.setattr(engine, "analyze", lambda **kw: calls.append(kw["text"]) or analyze(**kw))  # the real one, counted
    assert detect_pii("Please note: I am an AI assistant, not a human. Hello, how can I help?", "en") == []
    assert [s.entity for s in detect_pii("Call me at 030 1234567", "en")] == ["PHONE_NUMBER"]
    assert calls == ["Call me at 030 1234567"]


def test_several_entities_in_one_message_and_other_languages() -> None:
    text = "Mail jane@example.org or call +49 30 1234567, IBAN DE89 3704 0044 0532 0130 00."
    spans = detect_pii(text, "fr")  # no French pipeline: patterns work all the same
    assert [s.entity for s in spans] == ["EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE"]
    assert redact(text, spans) == "Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>, IBAN <IBAN_CODE>."


def test_only_the_entities_asked_for() -> None:
    text = "Mail jane@example.org or call +49 30 1234567"
    assert [s.entity for s in detect_pii(text, "en", entities=["PHONE_NUMBER"])] == ["PHONE_NUMBER"]


def test_nothing_is_downloaded_or_fetched() -> None:
    """In a fresh interpreter with every network call refused, detection still works and no
    connection was even attempted (tldextract's suffix list, spaCy models)."""
    script = textwrap.dedent(
        """
        import json, socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(repr(args[:2]))
            raise OSError("network is closed")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from guidelines.pii import detect_pii
        spans = detect_pii("mail jane.doe@example.co.uk, web 10.0.0.1", "de")
        print(json.dumps({"entities": [s.entity for s in spans], "attempts": attempts}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"entities": ["EMAIL_ADDRESS", "IP_ADDRESS"], "attempts": []}
