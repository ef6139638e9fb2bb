"""Conversation state transitions staff make, shared by the operator websocket and the REST inbox:
take over, hand back, close, reopen. Each stores a visible event in the conversation (so the visitor
and every watching operator see it, in order), publishes it and the queue update, and emits the
domain event. The status check and the change happen in one transaction with the conversation locked,
so two staff closing at once store one `closed` event, not two."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from confide.chats import service as chats
from confide.chats.models import Conversation, Message
from confide.core import events
from confide.core.errors import Conflict, NotFound
from confide.privacy.gate import Purpose, PurposeNotInstructed
from confide.privacy.holds import ERASED
from confide.realtime import channels
from confide.realtime.protocol import message_frame, queue_update
from confide.realtime.runtime import ChatRuntime

# action -> (event stored in the conversation, status after it)
ACTIONS: dict[str, tuple[str, str]] = {
    "take_over": ("operator_joined", "operator"),
    "hand_back": ("operator_left", "avatar"),
    "close": ("closed", "closed"),
    "reopen": ("reopened", "avatar"),
}


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Invalid transition"


@dataclass(frozen=True, slots=True)
class Transition:
    conversation: Conversation
    message: Message | None  # None: nothing changed (taking over what one already has)


def check(conversation: Conversation, action: str) -> None:
    """Raise InvalidTransition when `action` does not apply to the conversation's status."""
    if conversation.status == ERASED:
        raise InvalidTransition("The conversation's data was erased.")
    if action == "reopen" and conversation.status != "closed":
        raise InvalidTransition("Only a closed conversation can be reopened.")
    if action != "reopen" and conversation.status == "closed":
        raise InvalidTransition("The conversation is closed.")
    if action == "hand_back" and conversation.status != "operator":
        raise InvalidTransition("Only a conversation an operator has taken over can be handed back.")


async def _locked(session: AsyncSession, *, tenant_id: str, conversation_id: str) -> Conversation | None:
    """The conversation, locked for this transaction: FOR UPDATE on PostgreSQL; on SQLite, which has
    no row locks, a write first, so this transaction holds the database's write lock before it reads."""
    where = (Conversation.id == conversation_id, Conversation.tenant_id == tenant_id)
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(update(Conversation).where(*where).values(last_seq=Conversation.last_seq).execution_options(synchronize_session=False))
        return await session.scalar(select(Conversation).where(*where))
    return await session.scalar(select(Conversation).where(*where).with_for_update())


async def apply(rt: ChatRuntime, *, tenant_id: str, conversation_id: str, action: str, operator_id: str | None) -> Transition:
    """Apply `action` for a staff member (`operator_id`, a user id; None for an API key, which can close
    and reopen but not take over). Raises NotFound (also for another tenant's id) or InvalidTransition."""
    event, status = ACTIONS[action]
    async with rt.sessionmaker() as session:
        conversation = await _locked(session, tenant_id=tenant_id, conversation_id=conversation_id)
        if conversation is None:
            raise NotFound("No such conversation.")
        check(conversation, action)
        if action == "take_over" and conversation.status == "operator" and conversation.assignee_id == operator_id:
            return Transition(conversation, None)
        message, status = await chats.append(
            session,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            author="operator" if action != "close" else "system",
            kind="event",
            event=event,
            operator_id=operator_id,
            status=status,
            assignee_id=operator_id if status == "operator" else None,
        )
        await session.commit()
        await session.refresh(conversation)
    if status == "closed":
        purged = await purge_unless_stored(rt, conversation)
        # Emitted before anyone sees `closed`, so whoever saw it can wait for the subscribers (drain).
        rt.emit(events.CONVERSATION_CLOSED, conversation, closed_by="operator", transcript_purged=purged)
    await rt.publish(channels.conversation(conversation_id), message_frame(message, conversation_id=conversation_id))
    await rt.publish(channels.operators(tenant_id), queue_update(conversation))
    return Transition(conversation, message)


CLOSE_ACTOR = "conversation-close"  # the processing log's actor for keeping a closed conversation's transcript


async def purge_unless_stored(rt: ChatRuntime, conversation: Conversation) -> bool:
    """After a close, whoever closed: keeping the messages past the conversation is its own purpose
    (store_transcript), passed through the gate and so logged. Not instructed, the messages lived only for
    the conversation: subscribers (evaluation) read them first, then they go, before anyone sees `closed`."""
    try:
        await rt.gate.authorize_chat(
            rt.sessionmaker, tenant_id=conversation.tenant_id, purpose=Purpose.STORE_TRANSCRIPT, actor=CLOSE_ACTOR, subject_ref=conversation.visitor_id
        )
        return False
    except PurposeNotInstructed:
        pass
    await rt.events.emit_and_wait(events.TRANSCRIPT_PURGING, _payload(conversation))
    async with rt.sessionmaker() as session:
        # Locked and checked: a reopen that came while the subscribers read keeps its conversation whole (the next
        # close purges it); while it stays closed nothing can be added but what that close allows.
        current = await _locked(session, tenant_id=conversation.tenant_id, conversation_id=conversation.id)
        if current is None or current.status != "closed":
            return False
        await chats.purge_text(session, conversation_id=conversation.id)
        await session.commit()
    return True


def _payload(conversation: Conversation) -> dict[str, str]:
    return {"tenant_id": conversation.tenant_id, "conversation_id": conversation.id, "avatar_id": conversation.avatar_id}
