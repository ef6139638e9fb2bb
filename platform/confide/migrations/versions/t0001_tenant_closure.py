"""tenants: tenant closures (DELETE /v1/tenants/{tenant_id}), kept after the tenant as the proof of deletion

Revision ID: t0001
Revises: 0001
Create Date: 2026-11-30 09:56:56.449841
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import confide.core.db


revision: str = 't0001'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = ('tenants',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tenant_closure',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('erasure_request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('requested_by_user_id', sa.String(), nullable=True),
    sa.Column('requested_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['user_account.id'], name=op.f('fk_tenant_closure_requested_by_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_closure')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_tenant_closure_tenant_id'))
    )
    with op.batch_alter_table('tenant_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_closure_requested_by_user_id'), ['requested_by_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenant_closure_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tenant_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_closure_status'))
        batch_op.drop_index(batch_op.f('ix_tenant_closure_requested_by_user_id'))

    op.drop_table('tenant_closure')
