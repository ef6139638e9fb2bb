"""evaluation: conversation_metrics.covered_seq, the last seq its measures include

A conversation reopened and closed again is measured anew from its messages. Where the earlier text is gone
(purged at an earlier close because the tenant keeps no transcripts, or by retention), what is left measures
only the later part: it has to join the stored measures, and only with the messages after those already in
them. Rows written before this migration have no covered_seq: such a row is joined with every message left.

Revision ID: e0004
Revises: e0003
Create Date: 2026-12-01 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e0004'
down_revision: str | None = 'e0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('evaluation_conversation_metrics', sa.Column('covered_seq', sa.Integer(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+ drops a column itself), as e0003 does: no copy of the table.
    op.drop_column('evaluation_conversation_metrics', 'covered_seq')
