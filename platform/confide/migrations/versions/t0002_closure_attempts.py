"""tenants: tenant_closure.attempts, the failed rounds a closure was retried automatically before it fails

A closure whose erasure failed, or whose finishing raised, is tried again by the erasure worker's
after-pass hook (nobody may be left to send the DELETE again); the count bounds it.

Revision ID: t0002
Revises: t0001
Create Date: 2026-12-01 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 't0002'
down_revision: str | None = 't0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tenant_closure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('tenant_closure', schema=None) as batch_op:
        batch_op.drop_column('attempts')
