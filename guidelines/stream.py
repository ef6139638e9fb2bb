"""Checking avatar output while it streams: nothing unchecked ever reaches the end customer.

The guard buffers the deltas the model produces and releases text only up to a sentence boundary,
and only after the buffered text passed the output checks. A phrase split across deltas ("your
lo" + "an is appr" + "oved.") is therefore whole when it is checked. Each check also reads the
last `overlap` characters already released, so a match that runs across a release point is still
seen; when no sentence ends for `max_hold` characters the guard releases up to a space but keeps
at least `overlap` characters back, so no term can straddle that point unseen.

Replace-action rules rewrite the text before it is released; block-action rules, forbidden topics
and announced decisions stop the stream with a verdict (what was released before stays released:
it had passed). The maximum reply length truncates the reply and ends the stream.

    guard = compiled.output_guard("de")
    for delta in llm_stream:
        for chunk in guard.feed(delta):
            await send(chunk)
        if guard.stopped:
            break
    released, verdict = guard.finish()
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from guidelines import decisions
from guidelines.normalize import fold, fold_with_origins
from guidelines.rules import BUILTIN_MAX_LENGTH, BannedPhraseRule
from guidelines.verdict import ALLOW, Span, Verdict

if TYPE_CHECKING:  # the checker builds guards; only its type is needed here
    from guidelines.checker import CompiledGuidelines

_BOUNDARY = re.compile(r"[.!?\u2026\u3002]+[\"'\u201d\u2019)\]]*\s+|\n+")
_SPACE = re.compile(r"\s+")


def truncate(text: str, limit: int) -> str:
    """Cut a reply to at most `limit` characters, at a sentence end or a space if one is near."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    sentence_end = max(head.rfind(mark) for mark in ".!?\n")
    if sentence_end >= limit // 2:
        return head[: sentence_end + 1].rstrip()
    space = head.rfind(" ")
    if space >= limit // 2:
        return head[:space].rstrip()
    return head


class GuardResult(NamedTuple):
    released: list[str]
    verdict: Verdict


class OutputGuard:
    """Checks one streamed reply. Not thread-safe; one guard per reply."""

    def __init__(self, compiled: CompiledGuidelines, language: str) -> None:
        self._compiled = compiled
        self._language = language
        self.overlap = max(64, 4 * compiled.output_matcher.max_term_chars)
        self.max_hold = max(600, 4 * self.overlap)
        self._buffer = ""
        self._tail = ""  # the last `overlap` characters released, as the model wrote them
        self._released: list[str] = []
        self._released_chars = 0
        self._consumed = 0  # characters of the model's text dealt with (released or rewritten)
        self._rule_ids: list[str] = []
        self._spans: list[Span] = []
        self._verdict: Verdict | None = None  # set once the stream is stopped
        self._rewritten = False

    @property
    def stopped(self) -> bool:
        """Whether the reply was blocked or cut; further deltas are ignored."""
        return self._verdict is not None

    def feed(self, delta: str) -> list[str]:
        """Take the next delta; return the text that may be sent now (possibly nothing)."""
        if self._verdict is not None or not delta:
            return []
        self._buffer += delta
        cut = self._release_point()
        return self._release(cut) if cut else []

    def finish(self) -> GuardResult:
        """End of the reply: check and release what is left, and say how the reply went."""
        released = self._release(len(self._buffer)) if self._verdict is None and self._buffer else []
        if self._verdict is not None:
            return GuardResult(released, self._verdict)
        if not self._rule_ids:
            return GuardResult(released, ALLOW)
        return GuardResult(released, self._redact_verdict())

    def _redact_verdict(self) -> Verdict:
        return Verdict(
            "redact", tuple(dict.fromkeys(self._rule_ids)), redacted_text="".join(self._released), spans=tuple(self._spans)
        )

    def _release_point(self) -> int:
        """Where the buffer may be cut: after its last sentence end, or after a space if held too long."""
        last = None
        for last in _BOUNDARY.finditer(self._buffer):
            pass
        if last is not None:
            return last.end()
        if len(self._buffer) > self.max_hold:
            limit = len(self._buffer) - self.overlap
            space = None
            for space in _SPACE.finditer(self._buffer, 0, limit):
                pass
            return space.end() if space is not None else limit
        return 0

    def _release(self, cut: int) -> list[str]:
        compiled = self._compiled
        tail_len = len(self._tail)
        window = self._tail + self._buffer
        folded = fold(window)
        hits = compiled.output_hits(folded)
        # Announced decisions are read sentence by sentence, from the start of the sentence that
        # is still open in the released tail: a sentence released earlier was judged whole.
        open_sentence = 0
        for boundary in _BOUNDARY.finditer(self._tail):
            open_sentence = boundary.end()
        decision = decisions.states_decision_folded(
            folded.text if open_sentence == 0 else fold(self._tail[open_sentence:] + self._buffer).text
        )
        if hits or decision:
            origins = fold_with_origins(window)[1]
            # Map to the window as written; drop matches that lie wholly in released text.
            spans = [(h, origins[h.start], origins[h.end - 1] + 1) for h in hits]
            spans = [(h, s, e) for h, s, e in spans if e > tail_len]
            rules = compiled.output_matcher.rules
            blocking = [h for h, s, e in spans if not _replaces(rules[h.rule]) or s < tail_len]
            if blocking or decision:
                verdict = compiled.blocking_verdict(blocking, decision, self._language)
                if verdict is None:  # replace rules straddling released text: cannot rewrite, so block
                    rule_ids = tuple(rules[h.rule].id for h in blocking)
                    verdict = Verdict("refuse", rule_ids, compiled.refusal_message(None, self._language))
                return self._stop(verdict)
            # Do not cut through a phrase that will be rewritten.
            for _, start, end in spans:
                if start - tail_len < cut < end - tail_len:
                    cut = start - tail_len
            if cut <= 0:
                return []
        chunk = self._buffer[:cut]
        out = chunk
        if hits:
            out, replaced, ids = compiled.rewrite(chunk, [h for h in compiled.output_hits(fold(chunk))])
            if ids:
                offset = self._consumed
                self._spans.extend(Span(s.start + offset, s.end + offset, s.entity) for s in replaced)
                self._rule_ids.extend(ids)
        self._buffer = self._buffer[cut:]
        self._tail = (self._tail + chunk)[-self.overlap :]
        self._consumed += len(chunk)
        room = compiled.max_reply_chars - self._released_chars
        if len(out) > room:
            out = truncate(out, room)
            if self._released and self._released[-1].rstrip()[-1:] in ".!?" and out.rstrip()[-1:] not in ".!?":
                out = ""  # end the reply after its last whole sentence rather than mid-sentence
            self._rule_ids.append(BUILTIN_MAX_LENGTH)
            self._emit(out)
            self._verdict = self._redact_verdict()
            self._buffer = ""
            return [out] if out else []
        self._emit(out)
        return [out] if out else []

    def _emit(self, text: str) -> None:
        if text:
            self._released.append(text)
            self._released_chars += len(text)

    def _stop(self, verdict: Verdict) -> list[str]:
        self._verdict = verdict
        self._buffer = ""
        return []


def _replaces(rule: object) -> bool:
    return isinstance(rule, BannedPhraseRule) and rule.action == "replace"
