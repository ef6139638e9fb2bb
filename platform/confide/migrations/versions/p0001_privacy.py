"""privacy: instructions, processing log, consent, objections, contact, retention runs

Revision ID: p0001
Revises: 0001
Create Date: 2026-11-29 16:17:20.065998
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import confide.core.db


revision: str = 'p0001'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = ('privacy',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_message',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('consent_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('objection_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('concluded_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_message')),
    sa.UniqueConstraint('objection_token_hash', name=op.f('uq_contact_message_objection_token_hash'))
    )
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_message_concluded_at'), ['concluded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_message_email'), ['email'], unique=False)

    op.create_table('retention_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('started_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('removed', sa.JSON(), nullable=False),
    sa.Column('failed_steps', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_run'))
    )
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_run_started_at'), ['started_at'], unique=False)

    op.create_table('consent_record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sa.String(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('text_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('ip_prefix', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_consent_record_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_user_id'), ['user_id'], unique=False)

    op.create_table('newsletter_subscription',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sa.String(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('confirm_token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('confirm_expires_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_newsletter_subscription_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newsletter_subscription')),
    sa.UniqueConstraint('confirm_token_hash', name=op.f('uq_newsletter_subscription_confirm_token_hash'))
    )
    with op.batch_alter_table('newsletter_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newsletter_subscription_user_id'), ['user_id'], unique=False)

    op.create_table('objection',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sa.String(), nullable=False),
    sa.Column('grounds', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('effects', sa.JSON(), nullable=False),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_objection_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection'))
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_user_id'), ['user_id'], unique=False)

    op.create_table('processing_log',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('subject_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('instructions_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_processing_log_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processing_log'))
    )
    with op.batch_alter_table('processing_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processing_log_actor'), ['actor'], unique=False)
        batch_op.create_index('ix_processing_log_tenant_at', ['tenant_id', 'at'], unique=False)

    op.create_table('processing_instructions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('answer_chats', sa.Boolean(), nullable=False),
    sa.Column('store_transcripts', sa.Boolean(), nullable=False),
    sa.Column('evaluate', sa.Boolean(), nullable=False),
    sa.Column('operator_review', sa.Boolean(), nullable=False),
    sa.Column('external_llm', sa.Boolean(), nullable=False),
    sa.Column('redact_pii_before_llm', sa.Boolean(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('subprocessors', sa.JSON(), nullable=False),
    sa.Column('author_user_id', sa.String(), nullable=True),
    sa.Column('author_api_key_id', sa.String(), nullable=True),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_api_key_id'], ['api_key.id'], name=op.f('fk_processing_instructions_author_api_key_id_api_key'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_user_id'], ['user_account.id'], name=op.f('fk_processing_instructions_author_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_processing_instructions_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processing_instructions')),
    sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_processing_instructions_tenant_id_version'))
    )
    with op.batch_alter_table('processing_instructions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processing_instructions_author_api_key_id'), ['author_api_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_processing_instructions_author_user_id'), ['author_user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processing_instructions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processing_instructions_author_user_id'))
        batch_op.drop_index(batch_op.f('ix_processing_instructions_author_api_key_id'))

    op.drop_table('processing_instructions')
    with op.batch_alter_table('processing_log', schema=None) as batch_op:
        batch_op.drop_index('ix_processing_log_tenant_at')
        batch_op.drop_index(batch_op.f('ix_processing_log_actor'))

    op.drop_table('processing_log')
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_user_id'))

    op.drop_table('objection')
    with op.batch_alter_table('newsletter_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newsletter_subscription_user_id'))

    op.drop_table('newsletter_subscription')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_record_user_id'))

    op.drop_table('consent_record')
    with op.batch_alter_table('retention_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_run_started_at'))

    op.drop_table('retention_run')
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_message_email'))
        batch_op.drop_index(batch_op.f('ix_contact_message_concluded_at'))

    op.drop_table('contact_message')
