"""The end-customer websocket: `/v1/widget/{widget_key}/chat`.

A connection opens with a hello frame (the visitor or customer token travels there, never in the URL),
joins a new or resumed conversation, and then sends messages. Each visitor message is stored before it
is acknowledged; each avatar reply streams as deltas and is stored before its final frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession

from avatars.responders.prompt import offers_human
from avatars.service import resolve_widget
from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.chats.tokens import customer_visitor_id, verify_customer_token
from confide.chats.writer import DuplicateClientMessage
from confide.core import events
from confide.core.clock import as_utc, utcnow
from confide.core.errors import is_outage
from confide.core.futures import cancel_and_wait
from confide.core.ids import new_id
from confide.core.services import subject_key
from confide.privacy.gate import Purpose, PurposeNotInstructed
from confide.privacy.holds import ERASED
from confide.realtime import channels
from confide.realtime.budget import FrameBudget
from confide.realtime.delivery import SeqDelivery
from confide.realtime.live import ORIGIN_NOT_ALLOWED_DETAIL, TENANT_CLOSED_DETAIL, UNKNOWN_WIDGET_DETAIL, erased_among
from confide.realtime.protocol import (
    CLOSED_DETAIL,
    ERASED_DETAIL,
    INTERNAL_ERROR_DETAIL,
    SERVICE_UNAVAILABLE_DETAIL,
    CloseCode,
    End,
    FrameError,
    Hello,
    Ping,
    Rating,
    Say,
    Typing,
    ack_frame,
    encode,
    error_frame,
    frame_error_frame,
    frame_failed_frame,
    message_frame,
    parse,
    queue_update,
    visitor_frames,
)
from confide.realtime.replies import AVATARS_TURN, AvatarTurn, HistoryWindow
from confide.realtime.runtime import ChatRuntime, LoadedAvatar
from confide.realtime.transitions import purge_unless_stored

log = logging.getLogger("confide.realtime.visitor")

# The conversation's status after each kind of event frame, so the connection knows without asking
# the database whether the avatar answers now (an operator may take over from another node).
# A connection's place in its visitor's group (the cap on open connections) lasts the idle timeout plus
# this margin, and is renewed on a frame at most this often: a frame comes at least every idle timeout,
# so the place never lapses while the connection is open.
MEMBERSHIP_MARGIN_SECONDS = 60.0
MEMBERSHIP_RENEWAL_SECONDS = 30.0
WAITING_FRAMES = 32  # frames read off the socket while an earlier one (a message's reply) is still being handled
# The margin, past the LLM's whole-reply time limit, for the purpose check and the store (answer_claim_seconds).
ANSWER_CLAIM_MARGIN_SECONDS = 30
# How many client_message_ids whose store failed (raised) a connection remembers (`_answers_again`).
FAILED_STORES_KEPT = 16
CLIENT_ID_TAKEN_DETAIL = "Another message of this conversation has this client_message_id, so this one was not stored: send it with a new id."
STATUS_AFTER_EVENT = {"handoff": "waiting", "operator_joined": "operator", "operator_left": "avatar", "closed": "closed", "reopened": "avatar"}


def answer_claim_seconds(runtime: ChatRuntime) -> int:
    """How long the turn of the connection that stored a visitor message may still store its reply: the LLM's
    whole-reply time limit as this deployment configures it (none without an LLM endpoint: the built-in
    responder does not wait on anyone) and ANSWER_CLAIM_MARGIN_SECONDS. A resend of the message meanwhile is
    acked and left to that turn, and checked again when the time is up (`_answers_again`)."""
    config = runtime.responders.default_openai
    return math.ceil(config.total_timeout if config is not None else 0) + ANSWER_CLAIM_MARGIN_SECONDS


async def _sleep_until(when: datetime) -> None:
    """Sleep until `when` (as utcnow tells the time); at once if it has passed."""
    delay = (when - utcnow()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


class Refused(Exception):
    def __init__(self, code: CloseCode, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code, self.slug, self.detail = code, slug, detail
        self.extra = extra  # more of the problem object: `retry_after` for rate-limited


class VisitorConnection:
    def __init__(self, runtime: ChatRuntime, websocket: WebSocket) -> None:
        self.rt = runtime
        self.ws = websocket
        self.settings = runtime.settings
        self.connection_id = new_id("wsc")
        self.tenant_id = ""
        self.avatar_id = ""
        self.widget_key = ""  # the key and Origin header it opened with: a rotation or an origin removed cuts it (live.py)
        self.page_origin: str | None = None
        self.visitor_id = ""
        self.customer_ref: str | None = None
        self.conversation: Conversation | None = None
        self.avatar: LoadedAvatar | None = None
        self.language = "en"
        self.delivery: SeqDelivery | None = None
        self.history: HistoryWindow | None = None
        # The seq of the avatar's last message that offered the visitor a person: if nothing came after
        # it, a plain "yes" (in the six languages the guard reads) is a request for one.
        self.offer_seq = 0
        self.turn: AvatarTurn | None = None  # the speculative turn answering now, which a take-over abandons
        self.strikes = 0
        self.refused_until = 0.0  # loop time at which the rate window that last refused a message ends
        self.frames = FrameBudget(runtime.settings.chat_frame_burst)
        self.member_time = 0.0  # loop time the connection's membership in its visitor's group was last renewed
        self.counted = False  # added (or being added) to its visitor's group of open connections: removed at the end
        self.gone = False
        self.origin = ""  # this connection's subscription: what it publishes is not echoed back to it
        # client_message_ids whose store raised on this connection (it may have committed all the same), oldest first
        self.failed_stores: dict[str, None] = {}
        # Resends acked while the storing connection's turn may still answer: each checked when that time is up
        # (`_check_later`), one per client_message_id; `answering` once such a check has claimed its message.
        self.checks: dict[str, asyncio.Task[None]] = {}
        self.answering: set[str] = set()

    @property
    def conversation_id(self) -> str:
        """Its conversation's id once the hello opened or resumed one (live.py cuts it when that is erased)."""
        return self.conversation.id if self.conversation is not None else ""

    # ---- sending ---------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        """Send, or note that the client is gone: a reply in progress is still stored for its resume."""
        if self.gone:
            return
        try:
            await self.ws.send_text(encode(frame))
        except Exception:  # the socket closed under us (WebSocketDisconnect, ClientDisconnected, RuntimeError)
            self.gone = True

    async def send(self, frame: dict[str, Any]) -> None:
        if self.delivery is not None:
            await self.delivery.send_unsequenced(frame)
        else:
            await self._send(frame)

    async def _to_others(self, frame: dict[str, Any]) -> None:
        """The conversation's other connections (operators, the visitor's other tabs, other nodes); not this one."""
        assert self.conversation is not None
        await self.rt.publish(channels.conversation(self.conversation.id), frame, self.origin)

    async def error(self, slug: str, detail: str, **extra: Any) -> None:
        await self.send(error_frame(slug, detail, **extra))

    async def refuse(self, code: CloseCode, slug: str, detail: str, **extra: Any) -> None:
        with contextlib.suppress(Exception):
            await self._send(error_frame(slug, detail, close_code=int(code), **extra))
            await self.ws.close(code=int(code), reason=slug[:120])

    async def _unavailable(self, exc: Exception) -> None:
        """The connection cannot go on (its database or broker is away): an error frame and close code
        1013, on which a client reconnects after a back-off, rather than a close without a word."""
        log.warning("visitor connection failed", extra={"error_type": type(exc).__name__})
        await self.refuse(CloseCode.TRY_AGAIN_LATER, "service-unavailable", SERVICE_UNAVAILABLE_DETAIL)

    async def cut(self, code: CloseCode, slug: str, detail: str) -> None:
        """Closed from outside (its tenant was closed, its widget key rotated, its origin no longer allowed;
        live.py): the error frame and the close, then nothing more goes out, and the connection ends at its
        next receive."""
        if self.gone:
            return
        self.gone = True
        with contextlib.suppress(Exception):
            await self.ws.send_text(encode(error_frame(slug, detail, close_code=int(code))))
            await self.ws.close(code=int(code), reason=slug[:120])

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self, widget_key: str) -> None:
        try:
            await self._run(widget_key)
        except Exception as exc:  # a fault of ours, not an outage: said in one frame and close code 1011, its type logged
            log.error("visitor connection failed", extra={"error_type": type(exc).__name__})
            await self.refuse(CloseCode.INTERNAL_ERROR, "internal-error", INTERNAL_ERROR_DETAIL)
        finally:
            self.rt.live.discard(self.tenant_id, self)

    async def _run(self, widget_key: str) -> None:
        try:
            await self._serve(widget_key)
        finally:
            self._release()
            if self.counted:  # among the visitor's connections: no longer (also when refused after that)
                with contextlib.suppress(Exception):
                    await self.rt.broker.member_remove(channels.visitor_connections_group(self.visitor_id), self.connection_id)

    async def _serve(self, widget_key: str) -> None:
        try:
            hello = await self._open(widget_key)
            await self._start(hello)
        except Refused as refused:
            await self.refuse(refused.code, refused.slug, refused.detail, **refused.extra)
            return
        except WebSocketDisconnect:
            return
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self._unavailable(exc)  # the database or the broker away: say so, the widget comes back
            return
        try:
            assert self.conversation is not None
            async with self.rt.broker.subscribe(channels.conversation(self.conversation.id)) as subscription:
                self.origin = subscription.origin
                # Subscribed first, forwarding only after the welcome and its catch-up: a frame published
                # meanwhile waits in the subscription and is then dropped as seen or sent in order. Forwarded
                # earlier, it found nothing sent yet and replayed the conversation from seq 1 ahead of the
                # welcome, a resume's duplicates.
                await self._welcome(hello)
                forwarder = asyncio.create_task(self._forward(subscription), name="confide-visitor-forward")
                try:
                    await self._receive_loop()
                finally:
                    await cancel_and_wait(forwarder)
                    await self._stop_checks()
        except WebSocketDisconnect:
            pass
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self._unavailable(exc)  # subscribing (the broker away) or the welcome's reads failed

    def _release(self) -> None:
        """Break the connection's reference cycles (its delivery holds its bound send), so it is freed
        when it ends rather than by a full garbage collection, which over thousands of closed
        connections paused every chat for a second (bench.chat)."""
        self.delivery = self.history = self.avatar = self.conversation = None

    async def _open(self, widget_key: str) -> Hello:
        s = self.settings
        client = self.ws.client
        if client:
            decision = await self.rt.broker.hit(subject_key("ws:addr", client.host, s.resolved_secret_key), s.chat_address_connects_per_window, s.chat_rate_window_seconds)
            if not decision.allowed:
                raise Refused(
                    CloseCode.RATE_LIMITED, "rate-limited", f"Too many connections from your address; retry in {decision.retry_after} s.", retry_after=decision.retry_after
                )
        notices_seen = self.rt.live.avatar_notices
        self.widget_key, self.page_origin = widget_key, self.ws.headers.get("origin")
        async with self.rt.sessionmaker() as session:
            target = await resolve_widget(session, widget_key)
            if target is None:
                raise Refused(CloseCode.UNKNOWN_WIDGET, "unknown-widget", UNKNOWN_WIDGET_DETAIL)
            if not target.allows_origin(self.page_origin):
                raise Refused(CloseCode.ORIGIN_NOT_ALLOWED, "origin-not-allowed", ORIGIN_NOT_ALLOWED_DETAIL)
            self.tenant_id, self.avatar_id = target.tenant_id, target.avatar_id
        if not self.rt.live.add(self.tenant_id, self):  # closed since the widget resolved: not let in
            raise Refused(CloseCode.TENANT_CLOSED, "tenant-closed", TENANT_CLOSED_DETAIL)
        self.rt.live.add_visitor(self)  # a key rotation or an origin removed from now on cuts it (live.py)
        if self.rt.live.avatar_notices != notices_seen:  # one came after the key and origin were checked: once more
            refusal = await self.rt.live.visitor_refusal(self)
            if refusal is not None:
                raise Refused(*refusal)
        self.live_version_id = target.live_version_id
        try:
            raw = await asyncio.wait_for(self.ws.receive(), s.chat_hello_timeout_seconds)
        except TimeoutError as exc:
            raise Refused(CloseCode.IDLE, "hello-timeout", "Send a hello frame first.") from exc
        if raw["type"] == "websocket.disconnect" or self.gone:
            raise WebSocketDisconnect(raw.get("code", 1000))
        try:
            frame = parse(visitor_frames, raw.get("text") if raw.get("text") is not None else raw.get("bytes"), s.chat_max_frame_bytes)
        except FrameError as exc:  # its `errors` too, as the same fault in a later frame has them (protocol.md)
            raise Refused(CloseCode.BAD_HELLO, exc.slug, exc.detail, **({"errors": exc.errors} if exc.errors else {})) from exc
        if not isinstance(frame, Hello):
            raise Refused(CloseCode.BAD_HELLO, "hello-expected", "The first frame must be a hello.")
        return frame

    async def _identify(self, hello: Hello) -> str | None:
        """Sets visitor_id (and customer_ref); returns a freshly issued visitor token, if any."""
        if hello.customer_token:
            async with self.rt.sessionmaker() as session:
                secrets_in_force = await chats.customer_secrets(session, tenant_id=self.tenant_id)
            customer_ref = verify_customer_token(hello.customer_token, secrets_in_force)
            if customer_ref is None:
                raise Refused(CloseCode.UNAUTHORIZED, "invalid-customer-token", "The customer token is forged, expired, valid for more than 24 hours, or signed with another secret.")
            self.customer_ref = customer_ref
            self.visitor_id = customer_visitor_id(self.tenant_id, customer_ref)
            return None
        if hello.visitor_token:
            visitor_id = self.rt.tokens.verify(hello.visitor_token, tenant_id=self.tenant_id, avatar_id=self.avatar_id)
            if visitor_id is None:
                raise Refused(CloseCode.UNAUTHORIZED, "invalid-visitor-token", "The visitor token is forged, expired or belongs to another chat.")
            self.visitor_id = visitor_id
            return None
        token, self.visitor_id = self.rt.tokens.issue(tenant_id=self.tenant_id, avatar_id=self.avatar_id)
        return token

    async def _start(self, hello: Hello) -> None:
        s = self.settings
        self.issued_token = await self._identify(hello)
        group = channels.visitor_connections_group(self.visitor_id)
        self.counted = True  # before the await: an add that timed out may still have been made (removing one that was not is harmless)
        await self.rt.broker.member_add(group, self.connection_id, s.chat_idle_timeout_seconds + MEMBERSHIP_MARGIN_SECONDS)
        self.member_time = self.frames.last = asyncio.get_running_loop().time()
        if len(await self.rt.broker.members(group)) > s.chat_max_connections_per_visitor:
            await self.rt.broker.member_remove(group, self.connection_id)
            raise Refused(CloseCode.TOO_MANY_CONNECTIONS, "too-many-connections", "Too many open chat connections for this visitor.")
        self.resumed = False
        async with self.rt.sessionmaker() as session:
            if hello.resume is not None:
                erasures_seen = self.rt.live.erasure_notices
                conversation = await chats.get_conversation(session, tenant_id=self.tenant_id, conversation_id=hello.resume.conversation_id)
                if conversation is None or conversation.visitor_id != self.visitor_id or conversation.avatar_id != self.avatar_id:
                    raise Refused(CloseCode.UNAUTHORIZED, "conversation-not-yours", "No such conversation for this visitor.")
                if conversation.status != "closed":
                    self.conversation, self.resumed = conversation, True
                    if self.rt.live.erasure_notices != erasures_seen and await erased_among(session, [conversation.id]):
                        # Erased after it was read, its notice heard before this connection named it (live.py): as if cut.
                        raise Refused(CloseCode.CONVERSATION_ERASED, "conversation-erased", ERASED_DETAIL)
            version_id = self.conversation.avatar_version_id if self.conversation else self.live_version_id
            avatar = await self.rt.load_version(session, tenant_id=self.tenant_id, version_id=version_id) if version_id else None
            if avatar is None:
                raise Refused(CloseCode.UNKNOWN_WIDGET, "unknown-widget", "This chat is not available right now.")
            self.avatar = avatar
            self.language = self.conversation.language if self.conversation else avatar.snapshot.pick_language(hello.language)
            if self.resumed and hello.resume is not None and self.conversation is not None:
                await self._recall_offer(session, self.conversation.id, min(hello.resume.last_seq, self.conversation.last_seq))
            if self.conversation is None:
                if self.gone:  # cut (its tenant closed) or left while this ran: no conversation for nobody
                    raise WebSocketDisconnect(1000)
                try:
                    await self.rt.gate.authorize(
                        session, tenant_id=self.tenant_id, purpose=Purpose.ANSWER_CHAT, actor=self.avatar_id, subject_ref=self.visitor_id
                    )
                except PurposeNotInstructed as exc:
                    raise Refused(CloseCode.UNAVAILABLE, "purpose-not-instructed", "Chats are not being answered right now.") from exc
                self.conversation = await chats.create_conversation(
                    session,
                    tenant_id=self.tenant_id,
                    avatar_id=self.avatar_id,
                    avatar_version_id=version_id,
                    visitor_id=self.visitor_id,
                    customer_ref=self.customer_ref,
                    language=self.language,
                )
                # The first avatar message of every conversation says that it is an AI (EU AI Act Art. 50).
                greeting = avatar.snapshot.messages_for(self.language).get("greeting", "")
                disclosure = avatar.guidelines.disclosure(self.language)
                await chats.append(
                    session, tenant_id=self.tenant_id, conversation_id=self.conversation.id, author="avatar", text=f"{disclosure} {greeting}".strip()
                )
                await session.commit()
                await self.rt.publish(channels.operators(self.tenant_id), queue_update(self.conversation))
                self.rt.emit(events.CONVERSATION_STARTED, self.conversation)
        # The LLM's history window is kept in memory only for avatars that answer through an LLM.
        self.history = HistoryWindow() if avatar.snapshot.responder.get("engine") == "openai" else None
        self.delivery = SeqDelivery(self._send, self.rt.sessionmaker, self.conversation.id, tag_conversation=False, observe=self._observe)

    async def _recall_offer(self, session: AsyncSession, conversation_id: str, last_seq: int) -> None:
        """On a resume, whether the last message the client has (up to its last_seq) is the avatar's
        offer of a person: the catch-up replays only what came after it, so without this a "yes"
        after a reconnect (an idle timeout, a drop) would not answer the offer. One query per
        connection, none per message."""
        if last_seq <= 0:
            return
        # Seqs have no gaps: the client's last message is the one at last_seq.
        for last in await chats.replay(session, conversation_id=conversation_id, after_seq=last_seq - 1, upto_seq=last_seq):
            if last.kind == "message" and last.author == "avatar" and offers_human(last.text, self.language):
                self.offer_seq = last_seq

    async def _welcome(self, hello: Hello) -> None:
        assert self.conversation is not None and self.avatar is not None and self.delivery is not None
        snapshot = self.avatar.snapshot
        welcome: dict[str, Any] = {
            "type": "welcome",
            "conversation_id": self.conversation.id,
            "resumed": self.resumed,
            "status": self.conversation.status,
            "language": self.language,
            "disclosure": self.avatar.guidelines.disclosure(self.language),
            "avatar": {"name": snapshot.name, "appearance": snapshot.appearance},
            "limits": {"max_frame_bytes": self.settings.chat_max_frame_bytes, "max_message_chars": self.settings.chat_max_message_chars},
        }
        if self.issued_token:
            welcome["visitor_token"] = self.issued_token
        await self.send(welcome)
        # A last_seq past the conversation's end (a client's bug, or a guess) would hide what comes next.
        after = min(hello.resume.last_seq, self.conversation.last_seq) if (self.resumed and hello.resume) else 0
        await self.delivery.catch_up(after)
        if after == 0 and self.history is not None:
            self.history.primed = True  # the catch-up from the start went through the window: no re-read at the first turn

    async def _answered_by(self, turn: AvatarTurn) -> None:
        """Let a speculative turn show its reply and wait for it. A take-over (or a handoff, a close) seen meanwhile
        abandons it (`_observe`): its cancellation ends the wait, not this frame's handling."""
        task = turn.release()
        self.turn = turn
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            task.cancel()  # this connection is ending: its turn with it, as when it was awaited directly
            raise
        finally:
            self.turn = None
        if not task.cancelled():
            task.result()  # its error, if it failed, is this frame's

    def _observe(self, frame: dict[str, Any]) -> None:
        """Every sequenced frame this connection sends, in seq order: the status it leaves the
        conversation in, and the LLM's history window."""
        status = STATUS_AFTER_EVENT.get(frame.get("type", ""))
        if status is not None and self.conversation is not None:
            self.conversation.status = status
            if status not in AVATARS_TURN and self.turn is not None:
                self.turn.abandon()  # an LLM reply still on its way stops now: nobody will see it
        elif frame.get("type") == "message" and frame.get("author") == "avatar" and offers_human(frame.get("text", ""), self.language):
            self.offer_seq = frame["seq"]  # also a reply this connection did not ask for (another tab's, a resume's catch-up)
        if self.history is not None:
            self.history.observe(frame)

    async def _forward(self, subscription: Any) -> None:
        """Frames from the broker: other nodes' and operators' writes, delivered in seq order."""
        assert self.delivery is not None
        async for raw in subscription:
            frame = orjson.loads(raw)
            if frame.get("seq") is not None:
                await self.delivery.deliver(frame)
            elif frame.get("type") == "typing" and frame.get("author") != "visitor":
                await self.delivery.send_unsequenced(frame)

    # ---- frames ----------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        """Handle the frames the reader takes off the socket, one after another. A message's avatar turn is awaited
        here (a later frame waits for it); the socket is read meanwhile (_read), so a frame sent during a long reply
        no longer stalls the websocket's own pings: uvicorn stops reading while a frame waits for the app, and its
        keepalive then closed the chat with 1011."""
        s = self.settings
        received: asyncio.Queue[Any] = asyncio.Queue()
        reader = asyncio.create_task(self._read(received), name="confide-visitor-read")
        try:
            while True:
                raw = await received.get()
                if raw is None or self.gone:  # gone: frames queued before a cut are not handled
                    return
                try:
                    if not self.frames.spend(asyncio.get_running_loop().time(), s.chat_frames_per_second, s.chat_frame_burst):
                        await self._strike("Too many frames; slow down.", self.frames.retry_after(s.chat_frames_per_second))
                        continue
                    if self.frames.last - self.member_time >= MEMBERSHIP_RENEWAL_SECONDS:
                        await self._renew_membership()
                    frame = parse(visitor_frames, raw.get("text"), s.chat_max_frame_bytes)
                    strikes = self.strikes
                    await self._handle(frame)
                    if self.strikes == strikes:
                        self.strikes = 0  # a frame went through: the client slowed down, so earlier strikes are forgiven
                except FrameError as exc:
                    await self.send(frame_error_frame(exc))
                except _Flood:
                    return
                except WebSocketDisconnect:  # the socket is gone: the caller ends the connection
                    raise
                except Exception as exc:  # noqa: BLE001 - a bug or the database away: this frame fails, the connection stays
                    log.warning("visitor frame failed", extra={"error_type": type(exc).__name__})
                    await self.send(frame_failed_frame())
                if self.gone:
                    return
        finally:
            await cancel_and_wait(reader)

    async def _read(self, received: asyncio.Queue[Any]) -> None:
        """Take frames off the socket as they come and pass them on, in order (the frame allowance is spent as each
        is handled, so its answers keep their order); None when the connection ends (closed, idle). At most
        WAITING_FRAMES (or the frame burst) wait to be handled: past it a frame is refused as rate-limited at once, so
        frames sent during a long reply cannot pile up in memory."""
        s = self.settings
        try:
            while True:
                try:
                    async with asyncio.timeout(s.chat_idle_timeout_seconds):  # no task per frame, unlike wait_for
                        raw = await self.ws.receive()
                except TimeoutError:
                    await self.refuse(CloseCode.IDLE, "idle-timeout", "Closed after a long silence; reconnect to resume.")
                    return
                if raw["type"] == "websocket.disconnect" or self.gone:
                    return
                if received.qsize() >= max(s.chat_frame_burst, WAITING_FRAMES):
                    await self._strike("Too many frames waiting for the reply; slow down.", 1)
                else:
                    received.put_nowait(raw)
        except (_Flood, WebSocketDisconnect, RuntimeError):  # flooding (closed already), or the socket gone
            return
        finally:
            received.put_nowait(None)

    async def _renew_membership(self) -> None:
        """Renew the connection's place under the per-visitor cap (see MEMBERSHIP_MARGIN_SECONDS). The
        broker away costs the renewal only, never the frame (as the rate check fails open)."""
        self.member_time = self.frames.last
        try:
            await self.rt.broker.member_add(channels.visitor_connections_group(self.visitor_id), self.connection_id, self.settings.chat_idle_timeout_seconds + MEMBERSHIP_MARGIN_SECONDS)
        except Exception as exc:  # noqa: BLE001 - tried again MEMBERSHIP_RENEWAL_SECONDS later, not on every frame meanwhile
            log.warning("renewing a visitor connection's place failed", extra={"error_type": type(exc).__name__})

    async def _rate_check(self) -> bool:
        s = self.settings
        try:
            decision = await self.rt.broker.hit(f"ws:msg:{self.visitor_id}", s.chat_visitor_messages_per_window, s.chat_rate_window_seconds)
        except Exception:
            return True  # the broker is away: fail open rather than drop the customer's message
        if decision.allowed:
            return True
        self.refused_until = asyncio.get_running_loop().time() + decision.retry_after
        await self._strike(f"Too many messages; wait {decision.retry_after} s.", decision.retry_after)
        return False

    async def _strike(self, detail: str, retry_after: int) -> None:
        """A rate-limited frame: an error, and after chat_flood_strikes of them the close."""
        self.strikes += 1
        await self.error("rate-limited", detail, retry_after=retry_after)
        if self.strikes >= self.settings.chat_flood_strikes:
            # Its retry_after is the last refusal's: a client waits it before it reconnects (a new connection
            # starts with a full frame allowance, but the message window may still be spent).
            await self.refuse(CloseCode.RATE_LIMITED, "rate-limited", f"Closed for flooding; reconnect in {retry_after} s at the earliest.", retry_after=retry_after)
            raise _Flood

    async def _handle(self, frame: Any) -> None:
        if isinstance(frame, Say):
            await self._on_message(frame)  # rate-checked there, alongside the avatar's speculative start
        elif isinstance(frame, Typing):
            assert self.conversation is not None
            await self._to_others({"type": "typing", "author": "visitor", "active": frame.active, "conversation_id": self.conversation.id})
        elif isinstance(frame, Rating):
            if await self._rate_check():
                await self._on_rating(frame)
        elif isinstance(frame, End):
            await self._on_end()
        elif isinstance(frame, Ping):
            await self.send({"type": "pong"})
        elif isinstance(frame, Hello):
            raise FrameError("unexpected-hello", "This connection has already said hello.")

    async def _on_message(self, frame: Say) -> None:
        assert self.conversation is not None and self.avatar is not None and self.delivery is not None
        too_long = len(frame.text) > self.settings.chat_max_message_chars
        if self.conversation.status == "closed":
            # Nobody would answer it, and a conversation's transcript purge runs when it closes. Rate-checked as
            # any message first: looking for it among the stored ones costs a read and a guideline check.
            if not await self._rate_check():
                return
            if too_long or not await self._acked_as_stored(frame):  # one too long was never stored
                raise FrameError("conversation-closed", CLOSED_DETAIL)
            return
        # An LLM avatar's turn may start before the rate check (speculative, below); only then is the
        # message checked before it too, so a refused flood costs no guideline or PII work.
        early = (
            not too_long
            and self.history is not None
            and self.conversation.status == "avatar"
            and asyncio.get_running_loop().time() >= self.refused_until
        )
        # The avatar's last message offered a person and nothing came since: a plain yes asks for one.
        after_offer = self.offer_seq > 0 and self.offer_seq == self.delivery.sent_seq
        verdict = self.avatar.guidelines.check_input(frame.text, self.language, after_offer=after_offer) if early else None
        duplicate = False
        speculative: AvatarTurn | None = None
        if verdict is not None and not verdict.blocks:
            # The LLM works while the message is rate-checked and stored; the turn shows nothing before
            # the ack and is dropped (finally) unless the store lets it answer. Not while the rate window
            # that refused this connection's last message lasts: a flood begins at most one LLM call
            # per window and connection.
            speculative = AvatarTurn(self.rt, self.avatar, self.conversation, self.language, self.delivery, origin=self.origin, history=self.history, speculative=True)
            speculative.begin(visitor_text=verdict.passed_on(frame.text), verdict=verdict, reply_to=frame.client_message_id)
        try:
            if speculative is not None:
                # One loop turn for the turn to build its request and put it on the wire, before this
                # task's own round trips (the rate check, the store) take their turn on the loop.
                await asyncio.sleep(0)
            if not await self._rate_check():
                return
            if too_long:
                raise FrameError("message-too-long", f"Messages are limited to {self.settings.chat_max_message_chars} characters.")
            if verdict is None:
                verdict = self.avatar.guidelines.check_input(frame.text, self.language, after_offer=after_offer)
            stored_text = verdict.passed_on(frame.text)
            self.delivery.storing.add(frame.client_message_id)  # from here until its ack is delivered (finally)
            try:
                message, status = await self.rt.writer.append(
                    tenant_id=self.tenant_id,
                    conversation_id=self.conversation.id,
                    author="visitor",
                    text=stored_text,
                    client_message_id=frame.client_message_id,
                    redacted=stored_text != frame.text,
                    verdict={"action": verdict.action, "rule_ids": list(verdict.rule_ids), "handoff_reason": verdict.handoff_reason} if verdict.rule_ids else None,
                    rule_ids=verdict.rule_ids,
                    when=chats.LIVE_STATUSES,  # closed or erased meanwhile (by staff, on another node): not stored
                )
            except chats.WrongStatus as exc:
                if exc.status != "closed" or not await self._acked_as_stored(frame, stored_text):
                    await self._not_live(exc.status)
                self.conversation.status = exc.status
                return
            except DuplicateClientMessage:
                if speculative is not None:
                    await speculative.drop()  # a resend: answered already, or answered below from the stored text
                    speculative = None
                async with self.rt.sessionmaker() as session:
                    found = await chats.find_by_client_id(session, conversation_id=self.conversation.id, client_message_id=frame.client_message_id)
                    answered = found is not None and found.seq is not None and await chats.has_reply_after(session, conversation_id=self.conversation.id, seq=found.seq)
                    conversation = await chats.get_conversation(session, tenant_id=self.tenant_id, conversation_id=self.conversation.id)
                if found is None or conversation is None:
                    raise
                if not _same_message(found, stored_text):
                    # Another message has this id: acked as a duplicate, this text would be lost without a word.
                    raise FrameError("client-message-id-taken", CLIENT_ID_TAKEN_DETAIL)
                message, status, duplicate = found, conversation.status, True
                # An old seq: sent as is, not through ordered delivery (which would drop it as seen).
                await self.delivery.send_unsequenced(ack_frame(message, duplicate=True))
                if answered or (status == "avatar" and not await self._answers_again(found, verdict)):
                    return  # its reply, if one is on its way, comes from the broker as the other tabs' frames do
            except Exception:
                # Perhaps stored all the same (the connection dropped after the commit): then no turn answers it
                # but this connection's, at the resend its `frame-failed` asks for (`_answers_again`).
                self._note_failed_store(frame.client_message_id)
                raise
            self.conversation.status = status
            if not duplicate:
                self.failed_stores.pop(frame.client_message_id, None)  # stored now, and this connection answers it
                await self.delivery.deliver(ack_frame(message, duplicate=False))
                if self.history is not None and message.seq is not None:
                    self.history.add(message.seq, "visitor", message.text)
                await self._to_others(message_frame(message, conversation_id=self.conversation.id))
            if status != "avatar":
                return  # an operator has it, or it waits for one: the avatar stays quiet
            if speculative is not None:
                turn, speculative = speculative, None  # released: no longer the finally's to drop
                await self._answered_by(turn)
                return
            turn = AvatarTurn(self.rt, self.avatar, self.conversation, self.language, self.delivery, origin=self.origin, history=self.history)
            await turn.answer(visitor_text=message.text, verdict=verdict, reply_to=frame.client_message_id, visitor_seq=message.seq)
        finally:
            self.delivery.storing.discard(frame.client_message_id)
            if speculative is not None:
                await speculative.drop()

    async def _acked_as_stored(self, frame: Say, stored_text: str | None = None) -> bool:
        """The conversation has ended: a resend of a message stored before the end is acked as the duplicate it is
        (refused as `conversation-closed`, it read as not stored). Anything else is not stored: False. (Without
        stored transcripts, the end purged it: then it is no longer stored, and refused.)"""
        assert self.conversation is not None and self.avatar is not None and self.delivery is not None
        async with self.rt.sessionmaker() as session:
            found = await chats.find_by_client_id(session, conversation_id=self.conversation.id, client_message_id=frame.client_message_id)
        if found is None or found.seq is None:
            return False
        if stored_text is None:
            stored_text = self.avatar.guidelines.check_input(frame.text, self.language).passed_on(frame.text)
        if not _same_message(found, stored_text):
            return False
        await self.delivery.send_unsequenced(ack_frame(found, duplicate=True))
        return True

    async def _answers_again(self, message: Any, verdict: Any) -> bool:
        """Whether this connection answers now a resent message the avatar has not answered yet. The connection
        that stored it answers it (on whichever node): its turn may still be on its way, and a second turn
        here would store a second reply. The stored message is that turn's claim, without a write of its
        own: it lasts answer_claim_seconds from the store, longer than any reply may take. A resend meanwhile
        is not answered now, but this connection looks again when that time is up (`_check_later`): the widget
        sends a message again only until its first ack, so no later resend may come. Past it, the turn ended
        without storing a reply (its node went down, say): the first connection to claim the message in the
        broker (one counter, on every node the same) answers it, and any other does not.
        Answered at once, claimed all the same: a message whose store on this very connection raised, so that no
        turn of its began (a connection to the database that dropped after the commit)."""
        assert self.conversation is not None
        window = answer_claim_seconds(self.rt)
        stored_at = as_utc(message.created_at)
        if message.client_message_id in self.failed_stores:
            del self.failed_stores[message.client_message_id]
            return await self._claim(message, window)
        if stored_at is not None and (utcnow() - stored_at).total_seconds() < window:
            self._check_later(message, verdict, stored_at + timedelta(seconds=window))
            return False
        return await self._claim(message, window)

    async def _claim(self, message: Any, window: int) -> bool:
        """Claim the answer to a visitor message in the broker, for `window` seconds: True for one claimant only."""
        assert self.conversation is not None
        try:
            claim = await self.rt.broker.hit(f"ws:answer:{self.conversation.id}:{message.client_message_id}", 1, window)
        except Exception:  # noqa: BLE001 - the broker is away: answered rather than left unanswered
            return True
        return claim.allowed

    def _note_failed_store(self, client_message_id: str) -> None:
        """Remember that this connection's store of `client_message_id` raised (the last FAILED_STORES_KEPT)."""
        self.failed_stores.pop(client_message_id, None)
        self.failed_stores[client_message_id] = None
        if len(self.failed_stores) > FAILED_STORES_KEPT:
            self.failed_stores.pop(next(iter(self.failed_stores)))

    def _check_later(self, message: Any, verdict: Any, due: datetime) -> None:
        """At `due`, answer `message` (claimed in the broker) unless a reply is stored by then or the
        conversation is no longer the avatar's. One check per message per connection; those still waiting
        end with the connection (`_stop_checks`)."""
        key = message.client_message_id
        if key in self.checks:
            return
        task = asyncio.create_task(self._check_at(message, verdict, due), name="confide-visitor-answer-check")
        self.checks[key] = task
        task.add_done_callback(lambda done: self.checks.pop(key, None) if self.checks.get(key) is done else None)

    async def _check_at(self, message: Any, verdict: Any, due: datetime) -> None:
        conversation, avatar, delivery, key = self.conversation, self.avatar, self.delivery, message.client_message_id
        assert conversation is not None and avatar is not None and delivery is not None
        try:
            await _sleep_until(due)
            if self.gone:
                return
            async with self.rt.sessionmaker() as session:
                answered = await chats.has_reply_after(session, conversation_id=conversation.id, seq=message.seq)
                current = await chats.get_conversation(session, tenant_id=self.tenant_id, conversation_id=conversation.id)
            if answered or current is None or current.status != "avatar":
                return
            # From the claim on it runs to its end, as a turn of the receive loop does: cancelled between a claim
            # Redis took and the turn, it would leave the message claimed and unanswered for the whole window.
            self.answering.add(key)
            if not await self._claim(message, answer_claim_seconds(self.rt)):
                return
            turn = AvatarTurn(self.rt, avatar, conversation, self.language, delivery, origin=self.origin, history=self.history)
            await turn.answer(visitor_text=message.text, verdict=verdict, reply_to=key, visitor_seq=message.seq)
        except Exception as exc:  # noqa: BLE001 - nobody awaits it: its error type is logged
            log.warning("answering a resent visitor message failed", extra={"error_type": type(exc).__name__})
        finally:
            self.answering.discard(key)

    async def _stop_checks(self) -> None:
        """The connection ends: checks still waiting are cancelled; one answering already is let finish."""
        waiting = [task for key, task in self.checks.items() if key not in self.answering]
        answering = [task for key, task in self.checks.items() if key in self.answering]
        for task in waiting:
            await cancel_and_wait(task)
        if answering:
            await asyncio.wait(answering)

    async def _on_rating(self, frame: Rating) -> None:
        assert self.conversation is not None
        try:
            try:
                await self._rate(frame, closed=self.conversation.status == "closed")
            except chats.WrongStatus as exc:
                if exc.status != "closed":
                    raise
                await self._rate(frame, closed=True)  # closed meanwhile (staff, another node): its comment is checked again
        except chats.WrongStatus as exc:
            await self._not_live(exc.status)

    async def _not_live(self, status: str) -> None:
        """The conversation changed under this connection (an operator closed it, the business erased it) and what
        the visitor sent was not stored: say so. An erased one is gone for good, so the connection ends."""
        assert self.conversation is not None
        self.conversation.status = status
        if status == ERASED:
            await self.cut(CloseCode.CONVERSATION_ERASED, "conversation-erased", ERASED_DETAIL)
            return
        raise FrameError("conversation-closed", CLOSED_DETAIL)

    async def _rate(self, frame: Rating, *, closed: bool) -> None:
        """Store the rating; `closed`: the conversation has ended (its comment is kept only where transcripts are)."""
        assert self.conversation is not None and self.delivery is not None
        async with self.rt.sessionmaker() as session:
            if closed and frame.comment:
                instructions = await self.rt.gate.instructions(session, self.tenant_id)
                if not instructions.store_transcripts:
                    frame = frame.model_copy(update={"comment": None})  # the text was purged at close; keep only the score
            redacted = False
            if frame.comment and self.avatar is not None:  # as a message's text: redacted before it is stored or shown
                comment = self.avatar.guidelines.redact_pii(frame.comment, self.language)
                redacted = comment != frame.comment
                frame = frame.model_copy(update={"comment": comment})
            message, _ = await chats.append(
                session,
                tenant_id=self.tenant_id,
                conversation_id=self.conversation.id,
                author="visitor",
                kind="event",
                event="rating",
                text=frame.comment or "",
                redacted=redacted,
                verdict={"score": frame.score, "resolved": frame.resolved},
                rating=frame.score,
                # a comment goes to a closed conversation only once checked above: not past a close's purge unseen
                when=(*chats.LIVE_STATUSES, "closed") if closed or not frame.comment else chats.LIVE_STATUSES,
            )
            await session.commit()
        self.rt.emit(events.RATING_RECEIVED, self.conversation, score=frame.score, resolved=frame.resolved, message_id=message.id)
        await self.delivery.deliver(message_frame(message))
        await self._to_others(message_frame(message, conversation_id=self.conversation.id))

    async def _on_end(self) -> None:
        assert self.conversation is not None and self.delivery is not None
        if self.conversation.status == "closed":
            return
        try:
            async with self.rt.sessionmaker() as session:
                message, _ = await chats.append(
                    session,
                    tenant_id=self.tenant_id,
                    conversation_id=self.conversation.id,
                    author="visitor",
                    kind="event",
                    event="closed",
                    status="closed",
                    when=chats.LIVE_STATUSES,  # an operator's close (or an erasure) that came first stands: closed once
                )
                await session.commit()
        except chats.WrongStatus as exc:
            self.conversation.status = exc.status  # closed already: its `closed` frame comes (or came) from the broker
            if exc.status == ERASED:
                await self.cut(CloseCode.CONVERSATION_ERASED, "conversation-erased", ERASED_DETAIL)
            return
        self.conversation.status = "closed"
        purged = await purge_unless_stored(self.rt, self.conversation)
        # Emitted before anyone sees `closed`, so whoever saw it can wait for the subscribers (drain).
        self.rt.emit(events.CONVERSATION_CLOSED, self.conversation, closed_by="visitor", transcript_purged=purged)
        await self.delivery.deliver(message_frame(message))
        await self._to_others(message_frame(message, conversation_id=self.conversation.id))
        await self.rt.publish(channels.operators(self.tenant_id), queue_update(self.conversation))
        await self.send({"type": "rating_request", "conversation_id": self.conversation.id})


class _Flood(Exception):
    pass


def _same_message(stored: Any, stored_text: str) -> bool:
    """Whether a message stored with a client_message_id is the visitor message `stored_text` (what a frame's text is
    stored as) sent again. Compared as stored, redacted the same way: texts that differ only in what the PII
    redaction removed are one message (nothing of what they differ in would have been kept)."""
    return stored.author == "visitor" and stored.kind == "message" and stored.text == stored_text


async def visitor_chat(websocket: WebSocket, widget_key: str) -> None:
    """End customers chat with a published avatar. Protocol: docs/protocol.md."""
    await websocket.accept()
    connection = VisitorConnection(websocket.app.state.chat, websocket)
    await connection.run(widget_key)

