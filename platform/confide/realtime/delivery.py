"""Ordered, gap-free delivery of sequenced frames to one websocket.

Frames reach a connection by two roads (its own writes, and the broker for other nodes' writes), so
they can arrive out of order or, after a broker hiccup, not at all. A connection remembers the last
seq it sent; a frame at or below it is a duplicate and dropped, a frame beyond the next one first
pulls the missing ones from the database. So a client sees every seq once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from confide.chats import service as chats
from confide.realtime.protocol import ack_frame, message_frame

Send = Callable[[dict[str, Any]], Awaitable[None]]


class SeqDelivery:
    def __init__(
        self,
        send: Send,
        sessionmaker: async_sessionmaker[AsyncSession],
        conversation_id: str,
        *,
        tag_conversation: bool,
        observe: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._send = send
        self._observe = observe  # sees every sequenced frame sent, in order (the visitor's history window)
        self._sessionmaker = sessionmaker
        self.conversation_id = conversation_id
        self._tag = tag_conversation
        self.sent_seq = 0
        self.lock = asyncio.Lock()
        # The client ids of the messages this connection is storing: a gap fill that meets one (a frame after it, from
        # another node, came first) sends its ack in its place, since the ack that follows would be dropped as seen.
        self.storing: set[str] = set()

    async def deliver(self, frame: dict[str, Any]) -> None:
        """Send a frame carrying `seq` (a message, an event, or an ack), filling any gap before it."""
        async with self.lock:
            seq = frame["seq"]
            if seq <= self.sent_seq:
                return
            if seq > self.sent_seq + 1:
                await self._fill(upto=seq - 1)
            await self._send(frame)
            self.sent_seq = seq
            if self._observe is not None:
                self._observe(frame)

    async def catch_up(self, after_seq: int) -> None:
        """Send everything stored after `after_seq` (a resume), then continue live."""
        async with self.lock:
            self.sent_seq = max(self.sent_seq, after_seq)
            await self._fill(upto=None)

    async def send_unsequenced(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            await self._send(frame)

    async def send_beside(self, frames: list[dict[str, Any]]) -> asyncio.Task[None]:
        """Send unsequenced `frames` from a task of their own while the caller goes on (storing the
        message they belong to). The lock is taken here and released when the task ends, however
        it ends: nothing is delivered before or between them, not even a gap fill that would replay
        that message ahead of its own text."""
        await self.lock.acquire()
        try:
            task = asyncio.create_task(self._send_all(frames), name="confide-send-beside")
        except BaseException:
            self.lock.release()
            raise
        task.add_done_callback(lambda _: self.lock.release())
        return task

    async def _send_all(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            await self._send(frame)

    async def _fill(self, upto: int | None) -> None:
        async with self._sessionmaker() as session:
            missed = await chats.replay(session, conversation_id=self.conversation_id, after_seq=self.sent_seq, upto_seq=upto)
        for message in missed:
            if message.author == "visitor" and message.client_message_id in self.storing:
                frame = ack_frame(message, duplicate=False)
            else:
                frame = message_frame(message, conversation_id=self.conversation_id if self._tag else None)
            await self._send(frame)
            self.sent_seq = message.seq or self.sent_seq
            if self._observe is not None:
                self._observe(frame)
