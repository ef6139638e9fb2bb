"""Benchmark of the guideline checker: `python -m bench.guidelines`.

- check: a 50-rule set (keywords, phrases, regex patterns, banned phrases, escalations, style)
  over 1,000 mixed English and German end-customer messages of up to 2 KB, PII detection off;
  the per-message latency of `check_input`, and of `check_output` on the same texts.
- pii: `detect_pii` on messages of about 500 characters, half of them holding PII.

Prints one JSON object as its last line.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
from collections.abc import Callable

from bench.common import machine, percentile, percentiles
from guidelines.checker import compile_guidelines
from guidelines.pii import analyzer, detect_pii
from guidelines.rules import GuidelineSetSpec

MESSAGES = 1_000
PII_MESSAGES = 300
ROUNDS = 5  # each message is timed ROUNDS times; percentiles are over each message's best time

_EN = (
    "hello there I ordered a jacket last week and it still has not arrived can you tell me where it is "
    "what are your opening hours on saturday do you ship to austria the size chart says medium but it fits "
    "like a small how do refunds work in general is there a discount for students my colleague recommended "
    "your shop the delivery was quick and the packaging was nice but the colour is different from the photo "
    "could you explain the warranty terms for electronics how long does shipping take to switzerland"
).split()
_DE = (
    "hallo ich habe letzte Woche eine Jacke bestellt und sie ist immer noch nicht da wo ist meine Lieferung "
    "wie sind Ihre Öffnungszeiten am Samstag liefern Sie auch nach Österreich die Größentabelle sagt M aber "
    "sie fällt klein aus wie funktioniert eine Rückerstattung im Allgemeinen gibt es Rabatte für Studierende "
    "die Lieferung war schnell und die Verpackung schön aber die Farbe weicht vom Foto ab können Sie mir die "
    "Garantiebedingungen erklären wie lange dauert der Versand in die Schweiz grüße aus München"
).split()
_SPICE = [
    "Can you approve my refund?", "Kannst du meinen Kredit genehmigen?", "I want to talk to a human.",
    "Ich möchte mit einem Mitarbeiter sprechen.", "What do you think about the election?", "Was halten Sie von der Wahl?",
    "Am I eligible for the loyalty discount?", "Kündige meinen Vertrag.", "This is a c r y p t o question.",
]


def build_spec() -> GuidelineSetSpec:
    """A realistic 50-rule set."""
    rules: list[dict[str, object]] = []
    topics = ["politics", "religion", "medical", "legal", "crypto", "weapons", "gambling", "competitors", "drugs", "adult"]
    for i, topic in enumerate(topics * 2):
        rules.append({
            "id": f"topic-{i}", "kind": "forbidden_topic", "action": "refuse" if i % 3 else "handoff",
            "keywords": [f"{topic}{j}" for j in range(30)] + [topic, f"{topic}-talk"],
            "phrases": [f"tell me about {topic}", f"was denken sie über {topic}", "election", "Wahlkampf"][: 2 + i % 3],
            "message": {"en": f"I do not discuss {topic}.", "de": f"Über {topic} spreche ich nicht."},
        })
    for i in range(10):
        rules.append({
            "id": f"pattern-{i}", "kind": "forbidden_topic", "action": "refuse",
            "patterns": [rf"\bcode\s*{i}\d{{3}}\b", rf"\bpromo(?:tion)?[- ]?{i}[a-z]{{2}}\b"],
            "message": {"en": "I cannot help with that.", "de": "Dabei kann ich nicht helfen."},
        })
    for i in range(10):
        rules.append({
            "id": f"banned-{i}", "kind": "banned_phrase", "action": "replace" if i % 2 else "block",
            "phrases": [f"guaranteed{i}", f"risk free {i}", f"garantiert {i}"],
            **({"replacement": "(removed)"} if i % 2 else {}),
        })
    for i in range(5):
        rules.append({
            "id": f"escalate-{i}", "kind": "escalation",
            "phrases": ["talk to a human", "speak to a person", "mit einem Mitarbeiter sprechen", "Beschwerde", "complaint"][i:] or ["manager"],
        })
    for i in range(5):
        rules.append({"id": f"style-{i}", "kind": "style", "instruction": f"Keep answers short and friendly ({i})."})
    return GuidelineSetSpec.model_validate({"rules": rules, "pii": {"redact": False}, "max_reply_chars": 4000})


def build_messages(rng: random.Random, count: int) -> list[str]:
    messages = []
    for i in range(count):
        words = _DE if i % 2 else _EN
        length = int(20 * (100 ** rng.random()))  # log-uniform, 20 to 2,000 characters
        parts: list[str] = []
        size = 0
        while size < length:
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14))).capitalize() + rng.choice([".", "?", "!"])
            if rng.random() < 0.05:
                sentence = rng.choice(_SPICE)
            parts.append(sentence)
            size += len(sentence) + 1
        messages.append(" ".join(parts)[:2048])
    return messages


def build_pii_messages(rng: random.Random, count: int) -> list[str]:
    samples = ["jane.doe@example.com", "+49 30 12345678", "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111",
               "192.168.10.25", "2001:db8::8a2e:370:7334", "030 1234567", "Steuer-ID 86095742719"]
    messages = []
    for i in range(count):
        words = _DE if i % 2 else _EN
        text = " ".join(rng.choice(words) for _ in range(90))[:500]
        if i % 2 == 0:
            cut = rng.randint(0, len(text) - 1)
            text = f"{text[:cut]} {rng.choice(samples)} {text[cut:]}"[:520]
        messages.append(text)
    return messages


def _time(fn: Callable[[str, str], object], items: list[tuple[str, str]]) -> list[float]:
    timings = []
    for text, language in items:
        start = time.perf_counter_ns()
        fn(text, language)
        timings.append((time.perf_counter_ns() - start) / 1000)
    return timings


def _measure(fn: Callable[[str, str], object], items: list[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """(each message's best time over ROUNDS passes, every single time). The best time is what
    the code costs; the spread of all times adds whatever else the machine was doing."""
    rounds = [_time(fn, items) for _ in range(ROUNDS)]
    return [min(times) for times in zip(*rounds)], [t for times in rounds for t in times]


def main() -> None:
    rng = random.Random(20261129)
    spec = build_spec()
    start = time.perf_counter()
    compiled = compile_guidelines(spec, "bench-v1")
    compile_ms = (time.perf_counter() - start) * 1000
    messages = build_messages(rng, MESSAGES)
    items = [(m, "de" if i % 2 else "en") for i, m in enumerate(messages)]
    verdicts: dict[str, int] = {}
    for text, language in items:
        action = compiled.check_input(text, language).action
        verdicts[action] = verdicts.get(action, 0) + 1

    gc.disable()
    check, check_all = _measure(compiled.check_input, items)
    output, output_all = _measure(compiled.check_output, items)
    gc.enable()

    start = time.perf_counter()
    analyzer()
    pii_load_ms = (time.perf_counter() - start) * 1000
    pii_items = [(m, "de" if i % 4 in (1, 3) else "en") for i, m in enumerate(build_pii_messages(rng, PII_MESSAGES))]
    _time(detect_pii, pii_items[:20])  # warm up
    pii_found = sum(1 for text, language in pii_items if detect_pii(text, language))
    pii_timings, pii_all = _measure(detect_pii, pii_items)

    result = {
        "benchmark": "guidelines",
        "rules": len(spec.rules),
        "messages": len(messages),
        "message_chars_p50": int(percentile([float(len(m)) for m in messages], 0.5)),
        "message_chars_max": max(len(m) for m in messages),
        "input_verdicts": verdicts,
        "compile_ms": round(compile_ms, 2),
        "timing": f"per message, best of {ROUNDS} passes; *_all_* over every pass",
        **percentiles("check", check, unit="us", digits=1),
        **percentiles("check_all", check_all, unit="us", digits=1, points=(0.99,)),
        **percentiles("output_check", output, unit="us", digits=1),
        **percentiles("output_check_all", output_all, unit="us", digits=1, points=(0.99,)),
        "pii_messages": len(pii_items),
        "pii_message_chars": 500,
        "pii_messages_with_findings": pii_found,
        "pii_load_ms": round(pii_load_ms, 1),
        **percentiles("pii", pii_timings, unit="us", digits=1),
        **percentiles("pii_all", pii_all, unit="us", digits=1, points=(0.99,)),
        "machine": machine(),
    }
    print(json.dumps(result), file=sys.stdout)


if __name__ == "__main__":
    main()
