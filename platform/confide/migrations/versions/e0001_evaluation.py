"""evaluation: outcomes, metrics, daily aggregates, unanswered questions, scores, webhooks

Revision ID: e0001
Revises: 0001
Create Date: 2026-11-29 16:48:05.241304
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import confide.core.db


revision: str = 'e0001'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = ('evaluation',)
depends_on: str | Sequence[str] | None = 'c0001'


def upgrade() -> None:
    op.create_table('evaluation_daily_aggregate',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('conversations', sa.Integer(), nullable=False),
    sa.Column('turns', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('duration_count', sa.Integer(), nullable=False),
    sa.Column('handed_off', sa.Integer(), nullable=False),
    sa.Column('human_involved', sa.Integer(), nullable=False),
    sa.Column('contained', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('unresolved', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('first_response_count', sa.Integer(), nullable=False),
    sa.Column('first_response_seconds', sa.Float(), nullable=False),
    sa.Column('response_count', sa.Integer(), nullable=False),
    sa.Column('response_seconds', sa.Float(), nullable=False),
    sa.Column('fallback_answers', sa.Integer(), nullable=False),
    sa.Column('with_fallback', sa.Integer(), nullable=False),
    sa.Column('rule_hits', sa.Integer(), nullable=False),
    sa.Column('sentiment_count', sa.Integer(), nullable=False),
    sa.Column('sentiment_start_sum', sa.Float(), nullable=False),
    sa.Column('sentiment_end_sum', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_daily_aggregate_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_daily_aggregate')),
    sa.UniqueConstraint('tenant_id', 'avatar_id', 'day', name=op.f('uq_evaluation_daily_aggregate_tenant_id_avatar_id_day'))
    )
    with op.batch_alter_table('evaluation_daily_aggregate', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_daily_aggregate_tenant_day', ['tenant_id', 'day'], unique=False)

    op.create_table('evaluation_daily_count',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_daily_count_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_daily_count')),
    sa.UniqueConstraint('tenant_id', 'avatar_id', 'day', 'dimension', 'key', name=op.f('uq_evaluation_daily_count_tenant_id_avatar_id_day_dimension_key'))
    )
    with op.batch_alter_table('evaluation_daily_count', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_daily_count_tenant_day', ['tenant_id', 'day'], unique=False)

    op.create_table('evaluation_score_definition',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('min_value', sa.Float(), nullable=True),
    sa.Column('max_value', sa.Float(), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_score_definition_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_score_definition')),
    sa.UniqueConstraint('tenant_id', 'name_key', name=op.f('uq_evaluation_score_definition_tenant_id_name_key'))
    )
    op.create_table('webhook_endpoint',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('include_text', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_endpoint_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoint_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('endpoint_id', sa.String(), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_delivery_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_endpoint_at', ['endpoint_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('evaluation_conversation_metrics',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('conversation_id', sa.String(), nullable=True),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('avatar_version_id', sa.String(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('started_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('transcript_available', sa.Boolean(), nullable=False),
    sa.Column('turns', sa.Integer(), nullable=False),
    sa.Column('avatar_messages', sa.Integer(), nullable=False),
    sa.Column('operator_messages', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('first_response_seconds', sa.Float(), nullable=True),
    sa.Column('mean_response_seconds', sa.Float(), nullable=True),
    sa.Column('response_count', sa.Integer(), nullable=False),
    sa.Column('response_seconds_sum', sa.Float(), nullable=False),
    sa.Column('handed_off', sa.Boolean(), nullable=False),
    sa.Column('handoff_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('human_involved', sa.Boolean(), nullable=False),
    sa.Column('fallback_answers', sa.Integer(), nullable=False),
    sa.Column('rule_hits', sa.JSON(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('resolved_source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('contained', sa.Boolean(), nullable=False),
    sa.Column('sentiment_lexicon', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('sentiment_messages', sa.Integer(), nullable=False),
    sa.Column('sentiment_start', sa.Float(), nullable=True),
    sa.Column('sentiment_end', sa.Float(), nullable=True),
    sa.Column('sentiment_trend', sa.Float(), nullable=True),
    sa.Column('computed_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_evaluation_conversation_metrics_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_conversation_metrics_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_conversation_metrics')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_evaluation_conversation_metrics_conversation_id'))
    )
    with op.batch_alter_table('evaluation_conversation_metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_conversation_metrics_avatar_id'), ['avatar_id'], unique=False)
        batch_op.create_index('ix_evaluation_conversation_metrics_tenant_day', ['tenant_id', 'day'], unique=False)

    op.create_table('evaluation_score',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('definition_id', sa.String(), nullable=False),
    sa.Column('conversation_id', sa.String(), nullable=True),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('value_number', sa.Float(), nullable=True),
    sa.Column('value_label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('author_user_id', sa.String(), nullable=True),
    sa.Column('author_api_key_id', sa.String(), nullable=True),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_api_key_id'], ['api_key.id'], name=op.f('fk_evaluation_score_author_api_key_id_api_key'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_user_id'], ['user_account.id'], name=op.f('fk_evaluation_score_author_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_evaluation_score_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['definition_id'], ['evaluation_score_definition.id'], name=op.f('fk_evaluation_score_definition_id_evaluation_score_definition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_score_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_score'))
    )
    with op.batch_alter_table('evaluation_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_score_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_evaluation_score_tenant_definition', ['tenant_id', 'definition_id'], unique=False)

    op.create_table('evaluation_outcome',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('conversation_id', sa.String(), nullable=False),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('rating_message_id', sa.String(), nullable=True),
    sa.Column('rated_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('resolved_source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('resolved_at', confide.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_evaluation_outcome_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rating_message_id'], ['chat_message.id'], name=op.f('fk_evaluation_outcome_rating_message_id_chat_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_outcome_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_outcome')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_evaluation_outcome_conversation_id'))
    )
    with op.batch_alter_table('evaluation_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_outcome_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_evaluation_outcome_tenant_rated', ['tenant_id', 'rated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_outcome_rating_message_id'), ['rating_message_id'], unique=False)

    op.create_table('evaluation_unanswered_question',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('avatar_id', sa.String(), nullable=False),
    sa.Column('conversation_id', sa.String(), nullable=False),
    sa.Column('message_id', sa.String(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('normalized', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_evaluation_unanswered_question_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['chat_message.id'], name=op.f('fk_evaluation_unanswered_question_message_id_chat_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_evaluation_unanswered_question_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_unanswered_question'))
    )
    with op.batch_alter_table('evaluation_unanswered_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_unanswered_question_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_unanswered_question_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_evaluation_unanswered_question_tenant_day', ['tenant_id', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evaluation_unanswered_question', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_unanswered_question_tenant_day')
        batch_op.drop_index(batch_op.f('ix_evaluation_unanswered_question_message_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_unanswered_question_conversation_id'))

    op.drop_table('evaluation_unanswered_question')
    with op.batch_alter_table('evaluation_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_outcome_rating_message_id'))
        batch_op.drop_index('ix_evaluation_outcome_tenant_rated')
        batch_op.drop_index(batch_op.f('ix_evaluation_outcome_tenant_id'))

    op.drop_table('evaluation_outcome')
    with op.batch_alter_table('evaluation_score', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_score_tenant_definition')
        batch_op.drop_index(batch_op.f('ix_evaluation_score_conversation_id'))

    op.drop_table('evaluation_score')
    with op.batch_alter_table('evaluation_conversation_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_conversation_metrics_tenant_day')
        batch_op.drop_index(batch_op.f('ix_evaluation_conversation_metrics_avatar_id'))

    op.drop_table('evaluation_conversation_metrics')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_tenant_id'))
        batch_op.drop_index('ix_webhook_delivery_endpoint_at')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoint_tenant_id'))

    op.drop_table('webhook_endpoint')
    op.drop_table('evaluation_score_definition')
    with op.batch_alter_table('evaluation_daily_count', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_daily_count_tenant_day')

    op.drop_table('evaluation_daily_count')
    with op.batch_alter_table('evaluation_daily_aggregate', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_daily_aggregate_tenant_day')

    op.drop_table('evaluation_daily_aggregate')
