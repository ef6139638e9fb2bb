"""chats: room on each conversation page for heap-only (HOT) updates of the per-message counter

Every chat message updates its conversation row (the seq counter; the activity time at most once in
ten seconds, see chats.service.ACTIVITY_RESOLUTION). With full pages such an update writes a new entry
into each of the table's nine indexes and leaves the old one for VACUUM; with free space on the page
it stays on the page (HOT) and the next visitor of the page prunes the old version. In bench.chat
at 1,000 msgs/s PostgreSQL went from 0.40 to 0.29-0.33 cores (95% of the updates HOT). The price:
conversation pages are half full. The option applies to pages written from now on: an existing
table's full pages get room once rewritten (VACUUM FULL conversation, or pg_repack without the lock).
PostgreSQL only; a table option, so the models do not carry it.

Revision ID: c0003
Revises: c0002
Create Date: 2026-11-29 21:45:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = 'c0003'
down_revision: str | None = 'c0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 50  # with 70 (and a one-second resolution) 83% of bench.chat's updates were HOT; with 50, 95%


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE conversation SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE conversation RESET (fillfactor)")
