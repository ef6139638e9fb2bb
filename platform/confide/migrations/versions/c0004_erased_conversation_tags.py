"""chats: the tags of conversations erased before tags went with them

Tags are free staff text that can name the customer; erasure now deletes them with the conversation's
content (chats.models classifies `tag` as communication). Stubs erased earlier still carry theirs: they
go here. Nothing to undo: a deletion for erasure is not restored.

Revision ID: c0004
Revises: c0003
Create Date: 2026-12-01 00:30:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = 'c0004'
down_revision: str | None = 'c0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM conversation_tag WHERE conversation_id IN (SELECT id FROM conversation WHERE status = 'erased')")


def downgrade() -> None:
    pass
