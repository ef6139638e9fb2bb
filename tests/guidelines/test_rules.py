"""Validation of guideline sets: bad input is rejected with a message that names the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from guidelines.rules import MAX_RULES, GuidelineSetSpec

REFUSE = {"message": {"en": "I do not talk about that.", "de": "Darüber spreche ich nicht."}}


def topic(rule_id: str = "t1", **fields: Any) -> dict[str, Any]:
    return {"id": rule_id, "kind": "forbidden_topic", **REFUSE, **fields}


def error_of(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        GuidelineSetSpec.model_validate(data)
    return caught.value.errors()[0]


def test_an_empty_set_is_valid_because_the_builtins_always_apply() -> None:
    spec = GuidelineSetSpec.model_validate({})
    assert spec.rules == [] and spec.languages == ["en", "de"] and spec.pii.redact is True


def test_every_rule_kind_validates() -> None:
    spec = GuidelineSetSpec.model_validate(
        {
            "rules": [
                {"id": "tone", "kind": "style", "instruction": "Be warm and brief."},
                topic("politics", keywords=["election", "Wahl"], phrases=["vote for"], patterns=[r"\bparty\s+\w+"]),
                {"id": "cheap", "kind": "banned_phrase", "phrases": ["cheap"], "action": "replace", "replacement": "affordable"},
                {"id": "promise", "kind": "banned_phrase", "phrases": ["guaranteed"]},
                {"id": "human", "kind": "escalation", "phrases": ["talk to a human", "Beschwerde"]},
            ],
            "languages": ["EN", "de-at"],
            "default_language": "en",
            "disclosure": {"de-AT": "Servus, ich bin ein KI-Assistent."},
        }
    )
    assert spec.languages == ["en", "de-AT"]  # canonical BCP 47 case
    assert spec.style_instructions() == ["Be warm and brief."]


@pytest.mark.parametrize(
    ("data", "loc", "words"),
    [
        ({"rules": [topic(patterns=["(unclosed"])]}, ("rules", 0, "forbidden_topic", "patterns", 0), "invalid regex"),
        ({"rules": [topic(patterns=["(a+)+b"])]}, ("rules", 0, "forbidden_topic", "patterns", 0), "nested repetition"),
        ({"rules": [topic(patterns=[r"(\w*x)*"])]}, ("rules", 0, "forbidden_topic", "patterns", 0), "nested repetition"),
        ({"rules": [topic(patterns=[r"(a)\1"])]}, ("rules", 0, "forbidden_topic", "patterns", 0), "backreference"),
        ({"rules": [topic(patterns=["x*"])]}, ("rules", 0, "forbidden_topic", "patterns", 0), "empty text"),
        ({"rules": [{"id": "x", "kind": "telepathy"}]}, ("rules", 0), "does not match any of the expected tags"),
        ({"rules": [{"id": "x"}]}, ("rules", 0), "kind"),
        ({"languages": ["en", "english"]}, ("languages", 1), "BCP 47"),
        ({"languages": ["de_DE"]}, ("languages", 0), "BCP 47"),
        ({"languages": ["xx"]}, ("languages", 0), "BCP 47"),
        ({"default_language": "klingon!"}, ("default_language",), "BCP 47"),
        ({"languages": ["de"], "default_language": "en"}, ("default_language",), "one of languages"),
        ({"languages": ["en", "en"]}, ("languages",), "repeat"),
        ({"rules": [topic(phrases=["x"], message={"fr": "non"})]}, ("rules", 0, "forbidden_topic", "message", "fr"), "not among languages"),
        ({"rules": [topic(phrases=["x"]), topic(phrases=["y"])]}, ("rules", 1, "forbidden_topic", "id"), "more than once"),
        ({"rules": [topic("builtin:pii", phrases=["x"])]}, ("rules", 0, "forbidden_topic", "id"), "reserved"),
        ({"rules": [topic("has space", phrases=["x"])]}, ("rules", 0, "forbidden_topic", "id"), "pattern"),
        ({"rules": [topic(phrases=["x"], colour="red")]}, ("rules", 0, "forbidden_topic", "colour"), "Extra inputs"),
        ({"rules": [topic()]}, ("rules", 0, "forbidden_topic"), "at least one of phrases, keywords or patterns"),
        ({"rules": [topic(phrases=["!!!"])]}, ("rules", 0, "forbidden_topic", "phrases", 0), "letters or digits"),
        ({"rules": [{"id": "b", "kind": "banned_phrase", "phrases": ["x"], "action": "replace"}]}, ("rules", 0, "banned_phrase"), "replacement"),
        ({"rules": [{"id": "b", "kind": "banned_phrase", "phrases": ["x"], "replacement": "y"}]}, ("rules", 0, "banned_phrase"), "no replacement"),
        ({"rules": [{"id": "e", "kind": "escalation", "keywords": ["a"], "min_keywords": 2}]}, ("rules", 0, "escalation"), "min_keywords"),
        ({"pii": {"redact": True, "entities": ["PASSWORD"]}}, ("pii", "entities", 0), "Input should be"),
        ({"max_reply_chars": 10}, ("max_reply_chars",), "greater than or equal"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(data: dict[str, Any], loc: tuple[Any, ...], words: str) -> None:
    error = error_of(data)
    assert error["loc"] == loc
    assert words.lower() in error["msg"].lower()


@pytest.mark.parametrize(
    ("instruction", "index"),
    [
        ("Approve refunds under 50 EUR yourself.", 1),
        ("Genehmige Kündigungen selbst.", 1),
        ("You may grant discounts up to 10% to loyal customers.", 1),
        ("Entscheide selbst über Kreditanträge.", 1),
        ("Tell customers that their refund is approved.", 1),
    ],
)
def test_a_style_rule_that_tells_the_avatar_to_decide_is_rejected_citing_art_22(instruction: str, index: int) -> None:
    error = error_of({"rules": [{"id": "tone", "kind": "style", "instruction": "Be kind."},
                                {"id": "bad", "kind": "style", "instruction": instruction}]})
    assert error["loc"] == ("rules", index, "style", "instruction")
    assert "Art. 22" in error["msg"] and "left to humans" in error["msg"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"rules": [topic(phrases=["x"], message={"en": "Your refund is approved."})]}, ("rules", 0, "forbidden_topic", "message", "en")),
        ({"rules": [{"id": "b", "kind": "banned_phrase", "phrases": ["x"], "action": "replace", "replacement": "Ihr Antrag wurde genehmigt"}]},
         ("rules", 0, "banned_phrase")),
        ({"handoff_message": {"de": "Ihr Antrag wurde abgelehnt."}}, ("handoff_message", "de")),
        ({"rules": [{"id": "g", "kind": "decision_guard", "enabled": False}]}, ("rules", 0)),
        ({"decision_guard": False}, ("decision_guard",)),
    ],
)
def test_anything_that_decides_or_switches_the_decision_guard_off_is_rejected(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    error = error_of(data)
    assert error["loc"] == loc
    assert "Art. 22" in error["msg"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"disclosure": None}, ("disclosure",)),
        ({"disclosure": False}, ("disclosure",)),
        ({"disclosure_enabled": False}, ("disclosure_enabled",)),
        ({"ai_disclosure": "off"}, ("ai_disclosure",)),
        ({"rules": [{"id": "d", "kind": "disclosure", "enabled": False}]}, ("rules", 0)),
        ({"disclosure": {"en": "Hello, I am Anna from support."}}, ("disclosure", "en")),
        ({"disclosure": {"de": "Hallo, ich bin ein echter Mensch und keine KI."}}, ("disclosure", "de")),
        ({"languages": ["en", "pl"]}, ("disclosure",)),  # no default wording for Polish
        ({"rules": [{"id": "s", "kind": "style", "instruction": "Never reveal that you are an AI."}]}, ("rules", 0, "style", "instruction")),
        ({"rules": [{"id": "s", "kind": "style", "instruction": "Gib dich als Mensch aus."}]}, ("rules", 0, "style", "instruction")),
    ],
)
def test_the_ai_disclosure_cannot_be_switched_off(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    error = error_of(data)
    assert error["loc"] == loc
    assert "Art. 50" in error["msg"]


@pytest.mark.parametrize("language", ["fr", "es", "it", "nl"])
def test_languages_with_a_default_disclosure_need_no_wording_of_their_own(language: str) -> None:
    spec = GuidelineSetSpec.model_validate({"languages": ["en", language]})
    assert spec.languages == ["en", language]


def test_french_with_its_own_disclosure_is_fine() -> None:
    spec = GuidelineSetSpec.model_validate({"languages": ["en", "fr"], "disclosure": {"fr": "Bonjour, je suis un assistant IA."}})
    assert spec.languages == ["en", "fr"]


def test_the_missing_disclosure_error_and_the_schema_name_every_language_with_a_default() -> None:
    message = error_of({"languages": ["en", "pl"]})["msg"]
    description = GuidelineSetSpec.model_json_schema()["properties"]["disclosure"]["description"]
    for text in (message, description):
        assert "en, de, fr, es, it, nl" in text


def test_oversized_sets_are_rejected() -> None:
    too_many_rules = {"rules": [{"id": f"r{i}", "kind": "escalation", "phrases": [f"p{i}"]} for i in range(MAX_RULES + 1)]}
    assert error_of(too_many_rules)["loc"] == ("rules",)
    per_rule = {"rules": [{"id": "r", "kind": "escalation", "keywords": [f"k{i}" for i in range(2001)]}]}
    assert error_of(per_rule)["loc"] == ("rules", 0, "escalation", "keywords")
    in_all = {"rules": [{"id": f"r{j}", "kind": "escalation", "keywords": [f"k{j}x{i}" for i in range(1700)]} for j in range(6)]}
    error = error_of(in_all)
    assert error["loc"] == ("rules",) and "10000 phrases and keywords" in error["msg"]
    assert error_of({"rules": [topic(phrases=["x" * 201])]})["loc"] == ("rules", 0, "forbidden_topic", "phrases", 0)


def test_the_spec_is_a_fastapi_body_with_422_errors_naming_the_field() -> None:
    app = FastAPI()

    @app.post("/sets")
    def create(spec: GuidelineSetSpec) -> dict[str, Any]:
        return spec.model_dump(mode="json")

    client = TestClient(app)
    ok = client.post("/sets", json={"rules": [{"id": "tone", "kind": "style", "instruction": "Be brief."}]})
    assert ok.status_code == 200 and ok.json()["rules"][0]["id"] == "tone"
    bad = client.post("/sets", json={"rules": [{"id": "x", "kind": "style", "instruction": "Genehmige Kündigungen selbst."}]})
    assert bad.status_code == 422
    detail = bad.json()["detail"][0]
    assert detail["loc"] == ["body", "rules", 0, "style", "instruction"] and "Art. 22" in detail["msg"]


def test_a_stored_spec_round_trips() -> None:
    spec = GuidelineSetSpec.model_validate({"rules": [topic(keywords=["Wahl"])], "languages": ["de", "en-GB"], "default_language": "de"})
    again = GuidelineSetSpec.model_validate(spec.model_dump(mode="json"))
    assert again == spec


def test_a_saved_version_still_runs_after_the_guard_grew_stricter() -> None:
    """A style instruction saved before the decision guard learned to refuse it: a new save is refused,
    but the saved version still compiles, so the avatars that run on it keep answering, and their
    replies are still guarded."""
    from guidelines.checker import compile_guidelines

    spec = {
        "rules": [
            {"id": "tone", "kind": "style", "instruction": "Approve refunds yourself if staff are not available."},
            {"id": "legal", "kind": "forbidden_topic", "phrases": ["lawsuit"],
             "message": {"en": "I cannot discuss that. Your refund is approved because our team is busy."}},
        ],
        "handoff_message": {"en": "Your refund is approved because our team is busy."},
    }
    with pytest.raises(ValidationError) as refused:
        GuidelineSetSpec.model_validate(spec)
    assert {error["type"] for error in refused.value.errors()} == {"art22"} and len(refused.value.errors()) == 3
    compiled = compile_guidelines(spec, "version-saved-under-an-older-guard")
    assert compiled.style_instructions() == ["Approve refunds yourself if staff are not available."]
    assert compiled.check_output("Your refund is approved.", "en").blocks
