"""What a check answers: the verdict, and the spans of text it concerns.

A verdict never carries the matched text itself (that may be personal data), only offsets into
the text that was checked, the ids of the rules that fired, and what to say or send instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["allow", "redact", "refuse", "handoff"]
HandoffReason = Literal["customer_request", "policy_restriction", "decision_required"]


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) in the checked text, what was found there, and how sure the detector is."""

    start: int
    end: int
    entity: str
    score: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "entity": self.entity, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True)
class Verdict:
    """allow: send as is. redact: send `redacted_text` instead (PII replaced, phrases rewritten,
    reply truncated). refuse: do not answer; say `message`. handoff: a human takes over, for
    `handoff_reason`; say `message` meanwhile. `rule_ids` lists every rule that fired."""

    action: Action
    rule_ids: tuple[str, ...] = ()
    message: str | None = None
    handoff_reason: HandoffReason | None = None
    redacted_text: str | None = None
    spans: tuple[Span, ...] = ()

    @property
    def blocks(self) -> bool:
        """Whether the checked text must not be passed on (refuse or handoff)."""
        return self.action in ("refuse", "handoff")

    def passed_on(self, text: str) -> str:
        """What to pass on of the checked `text`: the redacted text where there is one."""
        return self.redacted_text if self.redacted_text is not None else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule_ids": list(self.rule_ids),
            "message": self.message,
            "handoff_reason": self.handoff_reason,
            "redacted_text": self.redacted_text,
            "spans": [span.as_dict() for span in self.spans],
        }


ALLOW = Verdict("allow")
