"""chats: the inbox — conversation tags, keyset indexes, full-text search over message text

Full-text search is dialect-specific and kept out of the models (tests/test_migrations.py and env.py
skip these names, see confide.chats.search.include_name):
- PostgreSQL: a generated column chat_message.search_vector = to_tsvector('simple', text), stored, with a
  GIN index: the words of a message are parsed once, when it is written, not on every search.
- SQLite: an FTS5 table with external content (chat_message, by rowid), kept in sync by triggers,
  so deleting or rewriting a message removes its words from the index too (erasure reaches it).

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-02 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import confide.core.db


revision: str = 'c0002'
down_revision: str | None = 'c0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    # unicode61 without removing diacritics: the same words match as PostgreSQL's 'simple' configuration.
    "CREATE VIRTUAL TABLE chat_message_fts USING fts5(text, content='chat_message', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER chat_message_fts_ai AFTER INSERT ON chat_message BEGIN "
    "INSERT INTO chat_message_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER chat_message_fts_ad AFTER DELETE ON chat_message BEGIN "
    "INSERT INTO chat_message_fts(chat_message_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    "CREATE TRIGGER chat_message_fts_au AFTER UPDATE OF text ON chat_message BEGIN "
    "INSERT INTO chat_message_fts(chat_message_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO chat_message_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "INSERT INTO chat_message_fts(chat_message_fts) VALUES ('rebuild')",  # index the messages already stored
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS chat_message_fts_au",
    "DROP TRIGGER IF EXISTS chat_message_fts_ad",
    "DROP TRIGGER IF EXISTS chat_message_fts_ai",
    "DROP TABLE IF EXISTS chat_message_fts",
]
POSTGRES_SEARCH = [
    "ALTER TABLE chat_message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX ix_chat_message_search_vector ON chat_message USING gin (search_vector)",
]
POSTGRES_SEARCH_DROP = [
    "DROP INDEX IF EXISTS ix_chat_message_search_vector",
    "ALTER TABLE chat_message DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table('conversation_tag',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.String(), nullable=False),
    sa.Column('conversation_id', sa.String(), nullable=False),
    sa.Column('tag', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', confide.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_tag_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_conversation_tag_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_tag')),
    sa.UniqueConstraint('conversation_id', 'tag', name=op.f('uq_conversation_tag_conversation_id_tag'))
    )
    with op.batch_alter_table('conversation_tag', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_tag_tenant_tag', ['tenant_id', 'tag'], unique=False)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_tenant_created', ['tenant_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_conversation_tenant_rating', ['tenant_id', 'rating', 'id'], unique=False)
        batch_op.create_index('ix_conversation_tenant_status_updated', ['tenant_id', 'status', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_conversation_tenant_updated', ['tenant_id', 'updated_at', 'id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == 'postgresql':
        for statement in POSTGRES_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    elif dialect == 'postgresql':
        for statement in POSTGRES_SEARCH_DROP:
            op.execute(statement)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_tenant_updated')
        batch_op.drop_index('ix_conversation_tenant_status_updated')
        batch_op.drop_index('ix_conversation_tenant_rating')
        batch_op.drop_index('ix_conversation_tenant_created')

    with op.batch_alter_table('conversation_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_tag_tenant_tag')

    op.drop_table('conversation_tag')
