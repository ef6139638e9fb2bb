"""evaluation: webhook_endpoint.revision, and each waiting delivery names the revision it was built from

A change of an endpoint's URL or include_text gives up the deliveries waiting for it. On PostgreSQL an
event building deliveries key-share-locks the endpoint, so the change waits and then gives those up too;
on SQLite reads take no lock, and a delivery built from the endpoint as it was, stored just after the
change committed, escaped the drop and went to the new URL. Now the change raises the endpoint's revision,
and webhook_outbox.(endpoint_id, endpoint_revision) is a foreign key to webhook_endpoint.(id, revision),
so the database refuses such a delivery (the dispatcher then gives it up, as the change would have).

Existing endpoints start at revision 0; existing outbox rows keep a null endpoint_revision (not checked).
SQLite copies webhook_outbox to add the foreign key (batch mode); webhook_endpoint only gains a column and
an index.

Revision ID: e0003
Revises: e0002
Create Date: 2026-12-01 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e0003'
down_revision: str | None = 'e0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = 'fk_webhook_outbox_endpoint_revision_webhook_endpoint'


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    op.create_index('uq_webhook_endpoint_id_revision', 'webhook_endpoint', ['id', 'revision'], unique=True)
    with op.batch_alter_table('webhook_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('endpoint_revision', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK, 'webhook_endpoint', ['endpoint_id', 'endpoint_revision'], ['id', 'revision'], ondelete='CASCADE', onupdate='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('webhook_outbox', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_column('endpoint_revision')
    op.drop_index('uq_webhook_endpoint_id_revision', table_name='webhook_endpoint')
    # In place (SQLite 3.35+ drops a column itself): a copy of webhook_endpoint would drop the original, and with
    # foreign keys on, SQLite deletes the rows that cascade from it (the outbox and the delivery log).
    op.drop_column('webhook_endpoint', 'revision')
