"""tenants: invitation.invited_by_api_key_id, the API key that sent an invitation

An invitation sent with an API key (an admin key holds members:manage) recorded no sender: invited_by is
the user who sent it, null for a key. So it outlived the key and the member who created the key: neither
revoking the key nor the member leaving (which revokes their keys) revoked it, and it could still be
accepted. Now it names the key, and revoking the key revokes its open invitations.

Open invitations sent before this migration by a key cannot be told apart from others by their key: they
are the open ones without invited_by (a member's are revoked with the member, and an erased account's
were revoked before invited_by was unlinked). Whether their key still lives is unknown, so they are
revoked (revoked_at = now); the key, or a member, sends them again. The downgrade drops the column and
leaves them revoked.

SQLite copies the invitation table to add the foreign key (batch mode); nothing refers to invitation, and
its partial unique index uq_invitation_open_email is created again on the copy.

Revision ID: t0004
Revises: t0003
Create Date: 2026-12-01 09:10:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import confide.core.db


revision: str = 't0004'
down_revision: str | None = 't0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = 'fk_invitation_invited_by_api_key_id_api_key'
INDEX = 'ix_invitation_invited_by_api_key_id'
OPEN = "accepted_at IS NULL AND revoked_at IS NULL"

invitation = sa.table(
    'invitation',
    sa.column('invited_by', sa.String()),
    sa.column('accepted_at', confide.core.db.UTCDateTime(timezone=True)),
    sa.column('revoked_at', confide.core.db.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    inv = invitation
    op.execute(
        sa.update(inv)
        .where(inv.c.invited_by.is_(None), inv.c.accepted_at.is_(None), inv.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_by_api_key_id', sa.String(), nullable=True))
        batch_op.create_foreign_key(FK, 'api_key', ['invited_by_api_key_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(INDEX, ['invited_by_api_key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_column('invited_by_api_key_id')
