"""privacy: erasure requests, legal holds, the erasure ledger; processing log indexed by subject

Revision ID: p0002
Revises: p0001
Create Date: 2026-11-29 16:52:13.755465
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import confide.core.db


revision: str = 'p0002'
down_revision: str | None = 'p0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = 'c0001'


def upgrade() -> None:
    op.create_table('erasure_request',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('subject_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('before', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('active_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
    sa.Column('requested_by_user_id', sa.String(), nullable=True),
    sa.Column('requested_by_api_key_id', sa.String(), nullable=True),
    sa.Column('requested_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('conversations_total', sa.Integer(), nullable=True),
    sa.Column('conversations_done', sa.Integer(), nullable=False),
    sa.Column('held_count', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('held_by', sa.JSON(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_api_key_id'], ['api_key.id'], name=op.f('fk_erasure_request_requested_by_api_key_id_api_key'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['user_account.id'], name=op.f('fk_erasure_request_requested_by_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_erasure_request_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_request')),
    sa.UniqueConstraint('tenant_id', 'active_key', name=op.f('uq_erasure_request_tenant_id_active_key'))
    )
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.create_index('ix_erasure_request_status', ['status'], unique=False)

    op.create_table('legal_hold',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by_user_id', sa.String(), nullable=True),
    sa.Column('created_by_api_key_id', sa.String(), nullable=True),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_by_user_id', sa.String(), nullable=True),
    sa.Column('released_by_api_key_id', sa.String(), nullable=True),
    sa.Column('release_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['created_by_api_key_id'], ['api_key.id'], name=op.f('fk_legal_hold_created_by_api_key_id_api_key'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'], name=op.f('fk_legal_hold_created_by_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_api_key_id'], ['api_key.id'], name=op.f('fk_legal_hold_released_by_api_key_id_api_key'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_user_id'], ['user_account.id'], name=op.f('fk_legal_hold_released_by_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_legal_hold_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.create_index('ix_legal_hold_tenant_target', ['tenant_id', 'target'], unique=False)

    op.create_table('erasure_ledger',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('subject_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('before', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('request_id', sa.String(), nullable=True),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['erasure_request.id'], name=op.f('fk_erasure_ledger_request_id_erasure_request'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_erasure_ledger_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_ledger')),
    sa.UniqueConstraint('tenant_id', 'kind', 'subject_hash', name=op.f('uq_erasure_ledger_tenant_id_kind_subject_hash'))
    )
    with op.batch_alter_table('processing_log', schema=None) as batch_op:
        batch_op.create_index('ix_processing_log_tenant_subject', ['tenant_id', 'subject_ref'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('processing_log', schema=None) as batch_op:
        batch_op.drop_index('ix_processing_log_tenant_subject')

    op.drop_table('erasure_ledger')
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_hold_tenant_target')

    op.drop_table('legal_hold')
    with op.batch_alter_table('erasure_request', schema=None) as batch_op:
        batch_op.drop_index('ix_erasure_request_status')

    op.drop_table('erasure_request')
