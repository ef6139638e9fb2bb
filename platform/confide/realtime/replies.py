"""The avatar's turn: guideline verdict on the visitor's message, the purpose gate, the responder,
the output guard on the stream, and storage before the final frame. Humans decide (Art. 22): a
request for a decision, or output that states one, becomes a handoff to an operator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from avatars.responders import Persona, ReplyRequest, ResponderSettings, Turn
from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.core import events
from confide.core.futures import cancel_and_wait
from confide.privacy.gate import Purpose, PurposeNotInstructed
from confide.privacy.instructions import llm_provider_authorised
from confide.realtime import channels
from confide.realtime.delivery import SeqDelivery
from confide.realtime.protocol import message_frame, queue_update
from confide.realtime.runtime import ChatRuntime, LoadedAvatar
from guidelines.pii import detect_pii, redact

log = logging.getLogger("confide.realtime.replies")

HISTORY_TURNS = 12
# The avatar speaks (a reply, a handoff) only while the conversation is its own: checked in the storing statement,
# so an operator's take-over, a close or an erasure that committed while the reply was on its way wins.
AVATARS_TURN = ("avatar",)


def handoff_text(avatar: LoadedAvatar, language: str, reason: str = "customer_request") -> str:
    return avatar.guidelines.handoff_message(language, decision=reason == "decision_required")


class HistoryWindow:
    """The last turns of one conversation as its visitor connection saw them, each text redacted at
    most once, so an LLM reply neither re-reads them from the database nor re-runs PII detection.

    Every sequenced frame reaches the connection once and in order (SeqDelivery), so after one
    priming read the window stays complete: messages from the avatar, operators and other tabs come
    as frames, the connection's own visitor messages are added at their ack."""

    def __init__(self, size: int = HISTORY_TURNS) -> None:
        self.size = size
        self.primed = False
        self._turns: dict[int, list[Any]] = {}  # seq -> [author, text, redacted text or None]
        self._redacted: dict[str, str] = {}  # texts redacted already for their own turn (the visitor's), by text

    def observe(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "message" and frame.get("seq"):
            self.add(frame["seq"], frame["author"], frame["text"])

    def add(self, seq: int, author: str, text: str) -> None:
        if seq in self._turns:
            return
        self._turns[seq] = [author, text, None]
        if len(self._turns) > 2 * self.size:
            for old in sorted(self._turns)[: len(self._turns) - self.size]:
                del self._turns[old]

    def remember(self, text: str, redacted: str) -> None:
        """`text` redacted already (the visitor's message, for its own turn): the next turn that
        needs it takes this rather than redacting it again."""
        if text not in self._redacted and len(self._redacted) >= 4:
            self._redacted.pop(next(iter(self._redacted)))
        self._redacted[text] = redacted

    def turns(self, *, after_seq: int, before_seq: int, redact_with: Any = None) -> list[Turn]:
        """Messages with after_seq < seq < before_seq, in order; texts passed through `redact_with`
        (text -> text) once each."""
        out = []
        for seq in sorted(self._turns):
            if after_seq < seq < before_seq:
                entry = self._turns[seq]
                text = entry[1]
                if redact_with is not None:
                    if entry[2] is None:
                        entry[2] = self._redacted.pop(text) if text in self._redacted else redact_with(text)
                    text = entry[2]
                out.append(Turn(entry[0] if entry[0] in ("visitor", "avatar", "operator") else "avatar", text))
        return out


class AvatarTurn:
    def __init__(
        self,
        runtime: ChatRuntime,
        avatar: LoadedAvatar,
        conversation: Conversation,
        language: str,
        delivery: SeqDelivery,
        *,
        origin: str = "",
        history: HistoryWindow | None = None,
        speculative: bool = False,
    ) -> None:
        self.rt = runtime
        # A speculative turn starts while the visitor's message is still being stored, so the LLM's
        # time to first token runs alongside the write; it shows nothing (no delta, no stored reply,
        # no handoff) until release(), and the caller cancels it if the message turns out to be a
        # resend or the conversation no longer the avatar's. Its history ends before the messages
        # still in flight when it began.
        self._go: asyncio.Event | None = asyncio.Event() if speculative else None
        self._before_seq = delivery.sent_seq + 1 if speculative else None
        self._task: asyncio.Task[None] | None = None
        self._streaming = False  # waiting on the responder's stream: what abandon() may cut short
        self.origin = origin
        self.history = history if history is not None else HistoryWindow()
        self.avatar = avatar
        self.conversation = conversation
        self.language = language
        self.delivery = delivery

    def begin(self, *, visitor_text: str, verdict: Any, reply_to: str) -> None:
        """Start a speculative turn (`answer` in a task of its own); then release() it, or drop() it."""
        self._task = asyncio.create_task(self.answer(visitor_text=visitor_text, verdict=verdict, reply_to=reply_to), name="confide-avatar-turn")

    def release(self) -> asyncio.Task[None]:
        """The visitor's message is stored and acked: the speculative turn may show its reply. Returns
        its task, to be awaited."""
        assert self._go is not None and self._task is not None
        self._go.set()
        return self._task

    async def drop(self) -> None:
        """Cancel a speculative turn that must not answer (its LLM request is closed). One that has
        failed already is read here (nobody else will): its error type is logged."""
        error = await cancel_and_wait(self._task)  # raises only the caller's own cancellation
        if error is not None:  # the turn no longer answers anyone; its error is only worth a line
            log.warning("a dropped avatar turn had failed", extra={"error_type": type(error).__name__})

    def abandon(self) -> None:
        """The conversation left the avatar (a take-over, a handoff, a close) while this speculative turn still waits
        on its responder: it is cancelled now, its LLM request closed, rather than left to run to the LLM's time
        limit, with the visitor's next frames waiting behind it. Once the stream has ended (the reply being stored,
        or a handoff being said) it runs to its end: its own status checks keep it from showing anything."""
        if self._streaming and self._task is not None:
            self._task.cancel()

    async def _hold(self) -> None:
        if self._go is not None:
            await self._go.wait()
            self._go = None

    async def answer(self, *, visitor_text: str, verdict: Any, reply_to: str, visitor_seq: int | None = None) -> None:
        if verdict.action == "refuse":
            # The rules that fired are recorded on the visitor's message already.
            await self._say(verdict.message or handoff_text(self.avatar, self.language), rule_ids=[])
            return
        if verdict.action == "handoff":
            await self.hand_off(verdict.handoff_reason or "customer_request", rule_ids=list(verdict.rule_ids))
            return
        gate, tenant_id, visitor_id = self.rt.gate, self.conversation.tenant_id, self.conversation.visitor_id
        snapshot = self.avatar.snapshot
        try:
            instructions = await gate.authorize_chat(self.rt.sessionmaker, tenant_id=tenant_id, purpose=Purpose.ANSWER_CHAT, actor=snapshot.avatar_id, subject_ref=visitor_id)
        except PurposeNotInstructed:
            await self.hand_off("policy_restriction", rule_ids=[])
            return
        responder = snapshot.responder
        external = False
        if responder.get("engine") == "openai" and llm_provider_authorised(instructions):
            try:
                await gate.authorize_chat(self.rt.sessionmaker, tenant_id=tenant_id, purpose=Purpose.EXTERNAL_LLM, actor=snapshot.avatar_id, subject_ref=visitor_id)
                external = True
            except PurposeNotInstructed:
                external = False
        if external and not self.history.primed:
            # Once per connection; from then on the window sees every message as a frame.
            after = max(0, self.delivery.sent_seq - HISTORY_TURNS)
            async with self.rt.sessionmaker() as session:
                for m in await chats.replay(session, conversation_id=self.conversation.id, after_seq=after, upto_seq=self.delivery.sent_seq):
                    if m.kind == "message" and m.seq is not None:
                        self.history.add(m.seq, m.author, m.text)
            self.history.primed = True
        history: list[Turn] = []
        text = visitor_text
        if external:
            scrub = (lambda t: redact(t, detect_pii(t, self.language))) if instructions.redact_pii_before_llm else None
            current = visitor_seq if visitor_seq is not None else (self._before_seq or self.delivery.sent_seq + 1)
            history = self.history.turns(after_seq=max(0, self.delivery.sent_seq - HISTORY_TURNS), before_seq=current, redact_with=scrub)
            if scrub is not None:
                text = scrub(visitor_text)
                self.history.remember(visitor_text, text)
        messages = snapshot.messages_for(self.language)
        request = ReplyRequest(
            persona=Persona(name=snapshot.name, role=snapshot.persona.get("role_description", ""), tone=snapshot.persona.get("tone_notes", "")),
            language=self.language,
            greeting=messages.get("greeting", ""),
            fallback=messages.get("fallback", ""),
            message=text,
            knowledge=self.avatar.knowledge,
            history=history,
            style=tuple(self.avatar.guidelines.style_instructions()),
            disclosure=self.avatar.guidelines.disclosure(self.language),
            settings=ResponderSettings(
                engine=responder.get("engine", "builtin"),
                model=responder.get("model") or "",
                temperature=float(responder.get("temperature", 0.3)),
                max_tokens=int(responder.get("max_tokens", 400)),
            ),
        )
        reply = self.rt.responders.stream(request, external_llm=external)
        guard = self.avatar.guidelines.output_guard(self.language)
        released: list[str] = []
        held: list[dict[str, Any]] = []  # the last delta's frames, sent while the reply is stored
        verdict = None  # the guard's final verdict, once it has seen the whole reply

        def frames_of(chunks: list[str]) -> list[dict[str, Any]]:
            start = len(released)
            released.extend(chunks)
            return [{"type": "delta", "reply_to": reply_to, "index": start + i, "text": chunk} for i, chunk in enumerate(chunks)]

        self._streaming = True
        try:
            async for delta in reply:
                chunks = guard.feed(delta)
                if reply.outcome.last:
                    # The whole reply is here: the guard's verdict is final, so the reply can be
                    # stored while its last text goes out, rather than after it. (A responder that
                    # cannot tell its last delta leaves `last` unset: the end of the stream says it.)
                    tail, verdict = guard.finish()
                    chunks = [*chunks, *tail]
                frames = frames_of(chunks)
                if frames:
                    await self._hold()
                    if self.conversation.status not in AVATARS_TURN:
                        return  # an operator took over (or it closed) while this reply streamed: it stops here, unstored
                if verdict is not None and not verdict.blocks:
                    held.extend(frames)
                else:
                    for frame in frames:
                        await self.delivery.send_unsequenced(frame)
        finally:
            self._streaming = False
            await reply.aclose()
        if verdict is None:
            tail, verdict = guard.finish()
            await self._hold()
            for frame in frames_of(tail):
                await self.delivery.send_unsequenced(frame)
        if verdict.blocks:
            # The stream stopped before the offending sentence; say so and let a human decide.
            await self.hand_off(verdict.handoff_reason or "decision_required", rule_ids=list(verdict.rule_ids), partial="".join(released))
            return
        fallback = reply.outcome.fallback_used or not released  # for evaluation: a question the avatar could not answer
        await self._say(
            "".join(released) or messages.get("fallback", ""),
            rule_ids=list(verdict.rule_ids),
            reply_to=reply_to,
            fallback=fallback,
            error=reply.outcome.error,
            deltas=held,
        )

    async def _say(
        self, text: str, *, rule_ids: list[str], reply_to: str | None = None, fallback: bool = False, error: str | None = None, deltas: list[dict[str, Any]] | None = None
    ) -> None:
        """Store the reply, then send its final frame. `deltas` (its last text) go out while the
        statement is on its way: the store's round trip no longer waits behind them."""
        await self._hold()
        if self.conversation.status not in AVATARS_TURN:
            return  # seen on this connection already; the store below checks it where it counts
        verdict: dict[str, Any] = {"rule_ids": rule_ids} if rule_ids else {}
        if fallback:
            verdict["fallback"] = True
            if error:
                verdict["error"] = error
        sending = await self.delivery.send_beside(deltas) if deltas else None
        try:
            message, _ = await self.rt.writer.append(
                tenant_id=self.conversation.tenant_id,
                conversation_id=self.conversation.id,
                author="avatar",
                text=text,
                verdict=verdict or None,
                rule_ids=rule_ids,
                rule_direction="output",
                when=AVATARS_TURN,
            )
        except asyncio.CancelledError:
            await cancel_and_wait(sending)
            raise
        except chats.WrongStatus:
            # An operator took over (or closed, or it was erased) while the reply was on its way: it is not stored and
            # gets no final frame; the visitor's widget drops its deltas at `operator_joined` / `closed` (protocol.md).
            if sending is not None:
                with contextlib.suppress(Exception):
                    await sending
            return
        except Exception:
            if sending is not None:  # the visitor still gets the text, as when it went out first
                with contextlib.suppress(Exception):
                    await sending
            raise
        if sending is not None:
            await sending
        frame = message_frame(message)
        if reply_to:
            frame["reply_to"] = reply_to
        await self.delivery.deliver(frame)
        await self.rt.publish(channels.conversation(self.conversation.id), message_frame(message, conversation_id=self.conversation.id), self.origin)

    async def hand_off(self, reason: str, *, rule_ids: list[str], partial: str = "") -> None:
        await self._hold()
        text = handoff_text(self.avatar, self.language, reason)
        try:
            async with self.rt.sessionmaker() as session:
                if partial.strip():
                    await chats.append(
                        session, tenant_id=self.conversation.tenant_id, conversation_id=self.conversation.id, author="avatar", text=partial, when=AVATARS_TURN
                    )
                message, status = await chats.append(
                    session,
                    tenant_id=self.conversation.tenant_id,
                    conversation_id=self.conversation.id,
                    author="system",
                    kind="event",
                    event="handoff",
                    text=text,
                    verdict={"reason": reason, "rule_ids": rule_ids},
                    status="waiting",
                    handoff_reason=reason,
                    when=AVATARS_TURN,  # a take-over, close or erasure that came first stands: no handoff over it
                )
                await session.commit()
        except chats.WrongStatus:
            return  # nothing stored (the partial text neither): a person has it already, or it ended
        self.conversation.status, self.conversation.handoff_reason = status, reason
        self.rt.emit(events.HANDOFF_REQUESTED, self.conversation, reason=reason)  # before anyone sees the handoff
        await self.delivery.deliver(message_frame(message))  # its `reason` from the stored verdict, as on a replay
        await self.rt.publish(channels.conversation(self.conversation.id), message_frame(message, conversation_id=self.conversation.id), self.origin)
        await self.rt.publish(channels.operators(self.conversation.tenant_id), queue_update(self.conversation))
