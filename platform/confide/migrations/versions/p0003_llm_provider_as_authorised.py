"""privacy: processing_instructions.llm_provider, the LLM provider as the tenant authorised it

A tenant authorises the LLM provider by the register's id `llm`, whichever provider the operator configures.
The entry as it stood (name, location, transfer safeguard) is now kept with each version, so a change of
provider no longer carries the tenant's authorisation over (Art. 28(2) GDPR). Rows written before this
migration have none: each node fills them in at start-up with the provider configured then (privacy/runtime.py).

Revision ID: p0003
Revises: p0002
Create Date: 2026-12-01 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'p0003'
down_revision: str | None = 'p0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('processing_instructions', sa.Column('llm_provider', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('processing_instructions', 'llm_provider')
