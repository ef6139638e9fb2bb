"""The operator websocket: `/v1/tenants/{tenant_id}/chat/operator`. Staff (role operator and above) authenticate with their
bearer token in the hello frame, see the queue and the live conversations, join one (watch), take it
over (the avatar pauses), write to the end customer, leave private notes, hand it back, close it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy.exc import IntegrityError

from confide.chats import service as chats
from confide.chats.models import Conversation
from confide.core.auth import principal_from_token
from confide.core.errors import NotFound, is_outage
from confide.core.futures import cancel_and_wait
from confide.core.ids import new_id
from confide.core.tenancy import Permission, has_permission, resolve_tenant_context
from confide.privacy.gate import Purpose, PurposeNotInstructed
from confide.privacy.holds import ERASED
from confide.realtime import channels, transitions
from confide.realtime.budget import FrameBudget
from confide.realtime.delivery import SeqDelivery
from confide.realtime.live import TENANT_CLOSED_DETAIL
from confide.realtime.protocol import (
    INTERNAL_ERROR_DETAIL,
    SERVICE_UNAVAILABLE_DETAIL,
    CloseCode,
    ConversationAction,
    FrameError,
    OPERATOR_ID_PREFIX,
    OperatorHello,
    OperatorSay,
    OperatorTyping,
    Ping,
    QueueRequest,
    conversation_summary,
    encode,
    error_frame,
    frame_error_frame,
    frame_failed_frame,
    message_frame,
    operator_frames,
    parse,
)
from confide.realtime.runtime import ChatRuntime

log = logging.getLogger("confide.realtime.operator")

JOIN_SUBSCRIBE_SECONDS = 10.0  # a join whose subscribing takes longer (Redis not answering) fails, rather than hold up the connection
PRESENCE_TTL = 60.0
ACCESS_ENDED_DETAIL = "Your session, membership or permission has ended."


class _SignedOut(Exception):
    """The operator's session, membership or permission has ended: the connection is closed."""


ERASED_WHILE_JOINING = "This conversation's data was erased while you joined it; nothing is left to watch."
ERASED_NOTHING_TO_WATCH = "This conversation's data was erased; nothing is left to watch."


class _Flood(Exception):
    """Kept flooding after rate-limited errors: the connection is closed."""


class OperatorConnection:
    def __init__(self, runtime: ChatRuntime, websocket: WebSocket) -> None:
        self.rt = runtime
        self.ws = websocket
        self.settings = runtime.settings
        self.connection_id = new_id("wso")
        self.tenant_id = ""
        self.user_id = ""
        self.watching: dict[str, tuple[SeqDelivery, asyncio.Task[None]]] = {}
        self.send_lock = asyncio.Lock()
        self._token = ""  # the hello's bearer token, checked again before every action (_still_authorized)
        self.frames = FrameBudget(runtime.settings.chat_frame_burst)  # as for visitors: a flood gets errors, then the close
        self.strikes = 0
        self.cut_off = False  # closed from outside (cut): nothing more goes out
        self._notices_seen = 0  # access notices this node had heard when the hello's checks began

    async def _send(self, frame: dict[str, Any]) -> None:
        """Send, or note that the client has gone (as the visitor's connection does): a socket closed under us is
        not a fault of the server. Nothing more goes out then, and the connection ends at its next receive."""
        text = encode(frame)
        async with self.send_lock:
            if self.cut_off:
                return
            try:
                await self.ws.send_text(text)
            except Exception:  # noqa: BLE001 - the socket closed under us (WebSocketDisconnect, WebSocketDisconnected, ClientDisconnected)
                self.cut_off = True

    async def _send_unlocked(self, frame: dict[str, Any]) -> None:
        # SeqDelivery serialises per conversation; the socket still needs one writer at a time.
        await self._send(frame)

    async def refuse(self, code: CloseCode, slug: str, detail: str, **extra: Any) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send_text(encode(error_frame(slug, detail, close_code=int(code), **extra)))
            await self.ws.close(code=int(code), reason=slug)

    async def _unavailable(self, exc: Exception) -> None:
        """The connection cannot go on (its database or broker is away): an error frame and close code
        1013, on which a client reconnects after a back-off, rather than a close without a word."""
        log.warning("operator connection failed", extra={"error_type": type(exc).__name__})
        await self.cut(CloseCode.TRY_AGAIN_LATER, "service-unavailable", SERVICE_UNAVAILABLE_DETAIL)  # after any frame being written

    async def cut(self, code: CloseCode, slug: str, detail: str) -> None:
        """Closed from outside (its tenant was closed, live.py) or its access ended: after any frame being
        written, the error frame and the close; nothing more goes out, and the connection ends at its next receive."""
        async with self.send_lock:
            await self._cut_locked(code, slug, detail)

    async def _cut_locked(self, code: CloseCode, slug: str, detail: str) -> None:
        if self.cut_off:
            return
        self.cut_off = True
        with contextlib.suppress(Exception):
            await self.ws.send_text(encode(error_frame(slug, detail, close_code=int(code))))
            await self.ws.close(code=int(code), reason=slug)

    async def recheck(self) -> None:
        """The operator's access changed (a membership removed, a role changed, signed out; realtime/access.py):
        the re-check at once rather than at the next beat. The send lock is held meanwhile, so no frame (a
        visitor's message) reaches the operator between the notice and the verdict; one who may still
        operate keeps the connection and every frame, merely delayed. Raises when the database is away
        (the periodic re-check tries again)."""
        async with self.send_lock:
            if self.cut_off or not self.user_id:
                return
            if not await self._authorized():
                await self._cut_locked(CloseCode.UNAUTHORIZED, "unauthorized", ACCESS_ENDED_DETAIL)

    def watched(self) -> tuple[str, ...]:
        return tuple(self.watching)

    async def forget_erased(self, conversation_ids: set[str]) -> None:
        """An erasure purged these conversations (live.py): those watched stop, each with `left` (reason `erased`)."""
        for conversation_id in conversation_ids & self.watching.keys():
            watched = self.watching.pop(conversation_id, None)
            if watched is not None:
                watched[1].cancel()
                await self._send({"type": "left", "conversation_id": conversation_id, "reason": "erased"})

    async def run(self, tenant_id: str) -> None:
        try:
            await self._run(tenant_id)
        except Exception as exc:  # a fault of ours, not an outage: said in one frame and close code 1011, its type logged
            log.error("operator connection failed", extra={"error_type": type(exc).__name__})
            await self.cut(CloseCode.INTERNAL_ERROR, "internal-error", INTERNAL_ERROR_DETAIL)
        finally:
            self.rt.live.discard(self.tenant_id, self)

    def _stop_watching(self) -> None:
        for _, task in self.watching.values():
            task.cancel()
        self.watching = {}  # each delivery holds this connection's bound send: break the cycle (see visitor)

    async def _run(self, tenant_id: str) -> None:
        try:
            if not await self._hello(tenant_id):
                return
        except WebSocketDisconnect:
            return
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self._unavailable(exc)  # the database away
            return
        if not self.rt.live.add(self.tenant_id, self):  # closed since the hello's checks: not let in
            await self.refuse(CloseCode.TENANT_CLOSED, "tenant-closed", TENANT_CLOSED_DETAIL)
            return
        self.rt.live.add_operator(self)
        try:
            # An access notice came after the hello's checks and before this registration (it found nothing
            # to re-check here): checked again, once.
            if self.rt.live.access_notices != self._notices_seen and not await self._still_authorized():
                return
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self._unavailable(exc)
            return
        group = channels.presence_group(self.tenant_id)
        member = channels.presence_member(self.user_id, self.connection_id)
        try:
            await self.rt.broker.member_add(group, member, PRESENCE_TTL)
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self._unavailable(exc)  # the broker away
            return
        heartbeat = asyncio.create_task(self._heartbeat(group, member), name="confide-operator-presence")
        try:
            async with self.rt.broker.subscribe(channels.operators(self.tenant_id)) as subscription:
                # Subscribed before the welcome's reads, so no queue_update made meanwhile is lost; forwarded only once
                # the welcome is out (what came meanwhile waits in the subscription), so `welcome` is the first frame.
                await self._publish_presence(group)
                await self._send({"type": "welcome", "operator_id": self.user_id, **(await self._queue_snapshot())})
                forward = asyncio.create_task(self._forward_tenant(subscription), name="confide-operator-queue")
                try:
                    await self._receive_loop()
                finally:
                    await cancel_and_wait(forward)
        except WebSocketDisconnect:
            pass
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._stop_watching()  # none of them may hold the send lock the notice waits for
            await self._unavailable(exc)  # subscribing (the broker away) or the welcome's reads failed
        finally:
            heartbeat.cancel()
            self._stop_watching()
            with contextlib.suppress(Exception):  # the broker away: the presence entry runs out with its TTL
                await self.rt.broker.member_remove(group, member)
            with contextlib.suppress(Exception):
                await self._publish_presence(group)

    async def _publish_presence(self, group: str) -> list[str]:
        online = channels.online_users(await self.rt.broker.members(group))
        await self.rt.publish(channels.operators(self.tenant_id), {"type": "presence", "online": online})
        return online

    async def _authorized(self) -> bool:
        """The hello's checks again: an active user's live session, a membership of the tenant, the
        operate permission."""
        async with self.rt.sessionmaker() as session:
            principal = await principal_from_token(session, self._token)
            if principal is None or principal.kind != "user" or principal.status != "active" or principal.id != self.user_id:
                return False
            try:
                ctx = await resolve_tenant_context(session, principal, self.tenant_id)
            except NotFound:
                return False
        return has_permission(ctx.role, Permission.CHATS_OPERATE)

    async def _still_authorized(self) -> bool:
        """Checked again before every action and on every presence beat (and at once on an access notice,
        `recheck`): a session signed out (a password reset, a logout), a membership ended (a tenant closed)
        or a role lowered closes the connection with 4401 rather than leaving it open until the operator leaves."""
        if await self._authorized():
            return True
        await self.cut(CloseCode.UNAUTHORIZED, "unauthorized", ACCESS_ENDED_DETAIL)
        return False

    async def _hello(self, tenant_id: str) -> bool:
        try:
            raw = await asyncio.wait_for(self.ws.receive(), self.settings.chat_hello_timeout_seconds)
        except TimeoutError:
            await self.refuse(CloseCode.IDLE, "hello-timeout", "Send a hello frame with your token first.")
            return False
        if raw["type"] == "websocket.disconnect":
            return False
        try:
            hello = parse(operator_frames, raw.get("text"), self.settings.chat_max_frame_bytes)
        except FrameError as exc:
            await self.refuse(CloseCode.BAD_HELLO, exc.slug, exc.detail, **({"errors": exc.errors} if exc.errors else {}))  # as for a later frame
            return False
        if not isinstance(hello, OperatorHello):
            await self.refuse(CloseCode.BAD_HELLO, "hello-expected", "The first frame must be a hello with your token.")
            return False
        self._notices_seen = self.rt.live.access_notices
        async with self.rt.sessionmaker() as session:
            principal = await principal_from_token(session, hello.token)
            if principal is not None and principal.kind != "user":
                # A valid API key: not "invalid", but operating chats is a person's work (presence, take-over).
                await self.refuse(CloseCode.UNAUTHORIZED, "person-required", "Operators sign in as themselves: use a member's session token, not an API key.")
                return False
            if principal is None or principal.status != "active":
                await self.refuse(CloseCode.UNAUTHORIZED, "unauthorized", "The token is invalid, expired or revoked.")
                return False
            try:
                ctx = await resolve_tenant_context(session, principal, tenant_id)
            except NotFound:
                await self.refuse(CloseCode.UNAUTHORIZED, "not-found", "No such tenant.")
                return False
        if not has_permission(ctx.role, Permission.CHATS_OPERATE):
            await self.refuse(CloseCode.UNAUTHORIZED, "permission-denied", "Your role lacks the permission 'chats:operate'.")
            return False
        self.tenant_id, self.user_id, self._token = tenant_id, principal.id, hello.token
        return True

    async def _heartbeat(self, group: str, member: str) -> None:
        while True:
            await asyncio.sleep(PRESENCE_TTL / 3)
            if not await self._beat(group, member):
                return  # closed: the receive loop hears the disconnect

    async def _beat(self, group: str, member: str) -> bool:
        """Re-check access and renew this connection's presence entry. An entry that had gone (its TTL ran
        out while the broker was away, a restarted Redis) puts its user back online: everyone hears it."""
        try:
            if not await self._still_authorized():
                return False
        except Exception as exc:  # noqa: BLE001 - the database away: checked again next beat (actions check too)
            log.warning("operator re-authorisation failed", extra={"error_type": type(exc).__name__})
        with contextlib.suppress(Exception):  # the broker may be restarting; try again next beat
            was_there = member in await self.rt.broker.members(group)
            await self.rt.broker.member_add(group, member, PRESENCE_TTL)
            if not was_there:
                await self._publish_presence(group)
        return True

    async def _queue_snapshot(self) -> dict[str, Any]:
        """The queue and the live conversations, which listing is operator review (as `GET …/conversations`):
        logged, or, when the tenant's instructions do not allow it, both lists empty."""
        waiting: list[dict[str, Any]] = []
        live: list[dict[str, Any]] = []
        async with self.rt.sessionmaker() as session:
            try:
                await self.rt.gate.authorize(session, tenant_id=self.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=self.user_id)
            except PurposeNotInstructed:
                pass
            else:
                waiting = [conversation_summary(c) for c in await chats.conversations_in(session, tenant_id=self.tenant_id, statuses=("waiting",))]
                live = [conversation_summary(c) for c in await chats.conversations_in(session, tenant_id=self.tenant_id, statuses=("avatar", "operator"))]
                await session.commit()
        online = channels.online_users(await self.rt.broker.members(channels.presence_group(self.tenant_id)))
        return {"queue": waiting, "live": live, "online": online}

    async def _reviewing(self) -> bool:
        """Whether the tenant's instructions allow operator review now: the gate's cached instructions, so no query
        while they are cached (CONFIDE_INSTRUCTIONS_CACHE_SECONDS), and no processing-log entry (what is shown was
        logged when it was processed, and the join that shows a conversation was logged)."""
        return await self.rt.gate.allows(self.rt.sessionmaker, tenant_id=self.tenant_id, purpose=Purpose.OPERATOR_REVIEW)

    async def _forward_tenant(self, subscription: Any) -> None:
        async for raw in subscription:
            frame = orjson.loads(raw)
            if frame.get("type") == "queue_update" and not await self._reviewing():
                continue  # the queue is operator review: not shown while the tenant's instructions turn it off
            await self._send(frame)

    async def _forward_watched(self, delivery: SeqDelivery, live: Any, staff: Any, joined_notes: set[str]) -> None:
        """Forward a watched conversation's two channels until one of them finds operator review turned off (it
        returns then); raises what a forwarder raised."""
        forwards = [
            asyncio.create_task(self._forward_conversation(delivery, subscription, joined_notes), name="confide-operator-forward")
            for subscription in (live, staff)
        ]
        try:
            done, _ = await asyncio.wait(forwards, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for forward in forwards:
                await cancel_and_wait(forward)
        for forward in done:
            forward.result()

    async def _forward_conversation(self, delivery: SeqDelivery, subscription: Any, joined_notes: set[str]) -> None:
        """Forward one channel of a watched conversation. Every frame is operator review: checked first (the gate's
        cache), and once the tenant's instructions no longer allow it, that frame and every later one stay here
        (returns: `_watch` ends the watching). A note listed in `joined` already (stored before the join read the
        notes, published after it subscribed) is not sent again."""
        async for raw in subscription:
            if not await self._reviewing():
                return
            frame = orjson.loads(raw)
            if frame.get("seq") is not None:
                await delivery.deliver(frame)
            elif frame.get("type") == "note" and frame.get("id") in joined_notes:
                joined_notes.discard(frame["id"])  # each note is published once
            elif frame.get("author") != "operator" or frame.get("type") == "note":
                await delivery.send_unsequenced(frame)

    async def _receive_loop(self) -> None:
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.receive(), self.settings.chat_idle_timeout_seconds)
            except TimeoutError:
                await self.refuse(CloseCode.IDLE, "idle-timeout", "Closed after a long silence.")
                return
            if raw["type"] == "websocket.disconnect" or self.cut_off:  # frames queued before a cut are not handled
                return
            s = self.settings
            try:
                if not self.frames.spend(asyncio.get_running_loop().time(), s.chat_frames_per_second, s.chat_frame_burst):
                    await self._strike("Too many frames; slow down.", self.frames.retry_after(s.chat_frames_per_second))
                    continue
                frame = parse(operator_frames, raw.get("text"), s.chat_max_frame_bytes)
                await self._handle(frame)
                self.strikes = 0  # a frame went through: the client slowed down, so earlier strikes are forgiven
            except FrameError as exc:
                await self._send(frame_error_frame(exc))
            except (_SignedOut, _Flood):
                return
            except WebSocketDisconnect:  # the socket is gone: the caller ends the connection
                raise
            except Exception as exc:  # noqa: BLE001 - a bug or the database away: this frame fails, the connection stays
                log.warning("operator frame failed", extra={"error_type": type(exc).__name__})
                await self._send(frame_failed_frame())

    async def _strike(self, detail: str, retry_after: int) -> None:
        """A rate-limited frame: an error, and after chat_flood_strikes of them the close (as for visitors)."""
        self.strikes += 1
        await self._send(error_frame("rate-limited", detail, retry_after=retry_after))
        if self.strikes >= self.settings.chat_flood_strikes:
            await self.refuse(CloseCode.RATE_LIMITED, "rate-limited", f"Closed for flooding; reconnect in {retry_after} s at the earliest.", retry_after=retry_after)
            raise _Flood

    async def _conversation(self, conversation_id: str) -> Conversation:
        async with self.rt.sessionmaker() as session:
            conversation = await chats.get_conversation(session, tenant_id=self.tenant_id, conversation_id=conversation_id)
        if conversation is None:
            raise FrameError("not-found", "No such conversation.")
        return conversation

    async def _handle(self, frame: Any) -> None:
        if isinstance(frame, Ping):
            await self._send({"type": "pong"})
            return
        if isinstance(frame, OperatorHello):
            raise FrameError("unexpected-hello", "This connection has already said hello.")
        if not await self._still_authorized():
            raise _SignedOut
        if isinstance(frame, QueueRequest):
            await self._send({"type": "queue", **(await self._queue_snapshot())})
        elif isinstance(frame, ConversationAction):
            if frame.type == "join":
                await self._join(frame.conversation_id)
            elif frame.type == "leave":
                await self._leave(frame.conversation_id)
            else:
                await self._transition(frame.type, frame.conversation_id)
        elif isinstance(frame, OperatorSay):
            await self._say(frame)
        elif isinstance(frame, OperatorTyping):
            if (await self._conversation(frame.conversation_id)).status in ("closed", ERASED):
                return  # nobody is there to see it; not worth an error either
            await self.rt.publish(channels.conversation(frame.conversation_id), {"type": "typing", "author": "operator", "active": frame.active, "conversation_id": frame.conversation_id})

    async def _join(self, conversation_id: str) -> None:
        conversation = await self._conversation(conversation_id)
        if conversation.status == ERASED:  # refused as every other action on it is (and as one erased during the join)
            raise FrameError("invalid-transition", ERASED_NOTHING_TO_WATCH)
        async with self.rt.sessionmaker() as session:
            try:
                await self.rt.gate.authorize(session, tenant_id=self.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=self.user_id, subject_ref=conversation.visitor_id)
            except PurposeNotInstructed as exc:
                raise FrameError("purpose-not-instructed", "The tenant's instructions do not allow operator review.") from exc
        if conversation_id in self.watching:
            # Watched already: `joined` again, with no transcript (nothing was missed), so every join has its answer.
            notes = await self._notes(conversation_id)
            await self._send({"type": "joined", "conversation": conversation_summary(conversation), "notes": [message_frame(n, conversation_id=conversation_id) for n in notes]})
            return
        delivery = SeqDelivery(self._send, self.rt.sessionmaker, conversation_id, tag_conversation=True)
        subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        opened = asyncio.Event()
        joined_notes: set[str] = set()  # the ids of the notes `joined` lists: not sent again when their publication arrives
        task = asyncio.create_task(self._watch(delivery, subscribed, opened, joined_notes), name="confide-operator-watch")
        self.watching[conversation_id] = (delivery, task)
        try:
            # Raises what the subscribing raised (the broker away), or TimeoutError when it hangs (a Redis that
            # does not answer): the frame fails, the connection goes on.
            async with asyncio.timeout(JOIN_SUBSCRIBE_SECONDS):
                await subscribed
        except BaseException as exc:
            if self.watching.get(conversation_id, (None, None))[1] is task:
                del self.watching[conversation_id]  # not joined: the next join tries again
            await cancel_and_wait(task)
            current = asyncio.current_task()
            if isinstance(exc, asyncio.CancelledError) and current is not None and not current.cancelling():
                raise FrameError("invalid-transition", ERASED_WHILE_JOINING) from None  # forget_erased stopped it, not this connection ending
            raise
        try:
            # Read once subscribed, not before: a note has no seq, so one stored between a read and the subscribing would
            # be in neither. One stored before this read and published after the subscribing is in both: sent once.
            notes = await self._notes(conversation_id)
        except BaseException:
            if self.watching.get(conversation_id, (None, None))[1] is task:
                del self.watching[conversation_id]  # not joined: the next join tries again
            await cancel_and_wait(task)
            raise
        joined_notes.update(n.id for n in notes)
        if self.watching.get(conversation_id, (None, None))[1] is not task:  # erased while subscribing (forget_erased said `left`)
            raise FrameError("invalid-transition", ERASED_WHILE_JOINING)
        try:
            await self._send({"type": "joined", "conversation": conversation_summary(conversation), "notes": [message_frame(n, conversation_id=conversation_id) for n in notes]})
            await delivery.catch_up(0)
        finally:
            opened.set()

    async def _notes(self, conversation_id: str) -> list[Any]:
        async with self.rt.sessionmaker() as session:
            return [m for m in await chats.transcript(session, conversation_id=conversation_id, include_notes=True) if m.kind == "note"]

    async def _watch(self, delivery: SeqDelivery, subscribed: asyncio.Future[None], opened: asyncio.Event, joined_notes: set[str]) -> None:
        """Forward the conversation's frames; `subscribed` is set once both channels are subscribed, or
        gets the error that kept them from it (then the joiner reports it, not this task). Forwarding
        waits for `opened` (`joined` and the transcript sent): frames published meanwhile wait in the
        subscriptions, rather than replay the transcript ahead of `joined`. Once the tenant's instructions
        turn operator review off, the watching ends with `left` (reason `purpose-not-instructed`)."""
        conversation_id = delivery.conversation_id
        try:
            async with (
                self.rt.broker.subscribe(channels.conversation(conversation_id)) as live,
                self.rt.broker.subscribe(channels.conversation_staff(conversation_id)) as staff,
            ):
                subscribed.set_result(None)
                await opened.wait()
                await self._forward_watched(delivery, live, staff, joined_notes)
        except Exception as exc:
            if subscribed.done():
                raise
            subscribed.set_exception(exc)
            return
        finally:
            if not subscribed.done():  # cancelled while subscribing: nobody is left waiting
                subscribed.cancel()
        # Operator review is off: what the conversation said since was not shown, nor is anything more.
        watched = self.watching.get(conversation_id)
        if watched is not None and watched[1] is asyncio.current_task():  # not left, erased or joined anew meanwhile
            del self.watching[conversation_id]
            await self._send({"type": "left", "conversation_id": conversation_id, "reason": "purpose-not-instructed"})

    async def _leave(self, conversation_id: str) -> None:
        watched = self.watching.pop(conversation_id, None)
        if watched:
            watched[1].cancel()
        await self._send({"type": "left", "conversation_id": conversation_id})

    async def _authorize_review(self, conversation: Conversation) -> None:
        """Every operator action on a conversation is operator review: instructed, or nothing happens."""
        async with self.rt.sessionmaker() as session:
            try:
                await self.rt.gate.authorize(session, tenant_id=self.tenant_id, purpose=Purpose.OPERATOR_REVIEW, actor=self.user_id, subject_ref=conversation.visitor_id)
            except PurposeNotInstructed as exc:
                raise FrameError("purpose-not-instructed", "The tenant's instructions do not allow operator review.") from exc

    async def _authorize_keeping(self, conversation: Conversation) -> None:
        """A note on a closed conversation outlives the conversation: only where the tenant keeps transcripts past
        their end (store_transcript). Otherwise its text would stay after the close purged the rest."""
        async with self.rt.sessionmaker() as session:
            try:
                await self.rt.gate.authorize(session, tenant_id=self.tenant_id, purpose=Purpose.STORE_TRANSCRIPT, actor=self.user_id, subject_ref=conversation.visitor_id)
            except PurposeNotInstructed as exc:
                raise FrameError(
                    "purpose-not-instructed", "The tenant's instructions keep no transcript past a conversation's end, so a closed one takes no notes."
                ) from exc
            await session.commit()

    async def _transition(self, action: str, conversation_id: str) -> Any:
        await self._authorize_review(await self._conversation(conversation_id))
        try:
            done = await transitions.apply(self.rt, tenant_id=self.tenant_id, conversation_id=conversation_id, action=action, operator_id=self.user_id)
        except NotFound as exc:
            raise FrameError("not-found", "No such conversation.") from exc
        except transitions.InvalidTransition as exc:
            raise FrameError("invalid-transition", exc.detail) from exc
        if done.message is None:  # taking over what one already has: nothing happened
            if action == "take_over" and conversation_id not in self.watching:
                await self._join(conversation_id)  # its first join failed (Redis away): the take-over stood, the watching did not
            return done.conversation
        if conversation_id not in self.watching:
            await self._join(conversation_id)
        return done.conversation

    async def _say(self, frame: OperatorSay) -> None:
        conversation = await self._conversation(frame.conversation_id)
        await self._authorize_review(conversation)
        if conversation.status == ERASED:
            raise FrameError("invalid-transition", "This conversation's data was erased; nothing can be added to it.")
        # A note may go to a closed conversation only where its text may outlive the close (checked, then allowed below).
        keeping = frame.type == "note" and conversation.status == "closed"
        if keeping:
            await self._authorize_keeping(conversation)
        if len(frame.text) > self.settings.chat_max_message_chars:
            raise FrameError("message-too-long", f"Messages are limited to {self.settings.chat_max_message_chars} characters.")
        if frame.type == "message" and conversation.status != "operator":
            # Writing to the customer takes the conversation over, but a resend (or a taken id) must not: it stores nothing.
            async with self.rt.sessionmaker() as session:
                earlier = await chats.find_by_client_id(session, conversation_id=frame.conversation_id, client_message_id=OPERATOR_ID_PREFIX + frame.client_message_id)
            if earlier is not None:
                await self._resent(frame, earlier)
                return
            await self._transition("take_over", frame.conversation_id)
        if frame.conversation_id not in self.watching:
            await self._join(frame.conversation_id)
        try:
            try:
                message = await self._store(frame, keeping=keeping)
            except chats.WrongStatus as exc:
                if frame.type != "note" or keeping or exc.status != "closed":
                    raise
                # Closed since the read above, after the close's purge: kept only as any note on a closed conversation is.
                await self._authorize_keeping(conversation)
                message = await self._store(frame, keeping=True)
        except chats.WrongStatus as exc:
            raise FrameError("invalid-transition", f"The conversation is {exc.status} now, so this {frame.type} was not stored.") from exc
        except IntegrityError:
            async with self.rt.sessionmaker() as session:
                message = await chats.find_by_client_id(session, conversation_id=frame.conversation_id, client_message_id=OPERATOR_ID_PREFIX + frame.client_message_id)
            if message is None:
                raise
            await self._resent(frame, message)
            return
        await self._send({"type": "ack", "conversation_id": frame.conversation_id, "client_message_id": frame.client_message_id, "id": message.id, "seq": message.seq, "duplicate": False})
        channel = channels.conversation(frame.conversation_id) if frame.type == "message" else channels.conversation_staff(frame.conversation_id)
        await self.rt.publish(channel, message_frame(message, conversation_id=frame.conversation_id))


    async def _store(self, frame: OperatorSay, *, keeping: bool) -> Any:
        """The operator's message or note, checked again where it is stored: a close, hand-back or erasure that committed
        since it was read wins. A note goes to a closed conversation only when `keeping` (store_transcript passed)."""
        allowed = ("operator",) if frame.type == "message" else (*chats.LIVE_STATUSES, "closed") if keeping else chats.LIVE_STATUSES
        async with self.rt.sessionmaker() as session:
            message, _ = await chats.append(
                session,
                tenant_id=self.tenant_id,
                conversation_id=frame.conversation_id,
                author="operator",
                kind="message" if frame.type == "message" else "note",
                operator_id=self.user_id,
                client_message_id=OPERATOR_ID_PREFIX + frame.client_message_id,
                text=frame.text,
                when=allowed,
            )
            await session.commit()
        return message

    async def _resent(self, frame: OperatorSay, message: Any) -> None:
        """`frame`'s client_message_id is stored already as `message`: this frame sent again is acked as a duplicate;
        anything else is refused as taken."""
        kind = "message" if frame.type == "message" else "note"
        if message.operator_id != self.user_id or message.kind != kind or message.text != frame.text:
            # Not this frame sent again: the conversation's operators share one namespace of ids, and
            # acking another's message as this one's would lose this text without a word. (An operator's
            # text is stored as sent, never redacted; only a closing purge or an erasure empties it, after which
            # a late resend is refused as taken: it says so, and loses nothing unseen.)
            raise FrameError(
                "client-message-id-taken",
                "Another message of this conversation has this client_message_id, so this one was not stored: send it with a new id.",
            )
        await self._send({"type": "ack", "conversation_id": frame.conversation_id, "client_message_id": frame.client_message_id, "id": message.id, "seq": message.seq, "duplicate": True})


async def operator_chat(websocket: WebSocket, tenant_id: str) -> None:
    """Operators of a tenant work the chat queue. Protocol: docs/protocol.md."""
    await websocket.accept()
    await OperatorConnection(websocket.app.state.chat, websocket).run(tenant_id)
