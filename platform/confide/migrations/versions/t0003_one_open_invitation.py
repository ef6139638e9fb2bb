"""tenants: at most one open invitation per address and tenant, held by a partial unique index

The rule "one pending invitation per address" was only checked before the insert; on SQLite, whose reads
take no lock, two invitations sent at the same moment both passed the check. Open means neither accepted
nor revoked (an expired one stays open until a new invitation to its address revokes it).

Before the index is created, existing duplicates are resolved: open invitations' addresses are
normalised as the service does (trimmed, lower case), and of the open invitations to one address in one
tenant the newest (by created_at, then id) is kept; the others are revoked (revoked_at = now), so their
tokens stop working. The downgrade drops the index and leaves those invitations revoked.

Revision ID: t0003
Revises: t0002
Create Date: 2026-12-01 02:00:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import confide.core.db


revision: str = 't0003'
down_revision: str | None = 't0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "accepted_at IS NULL AND revoked_at IS NULL"

invitation = sa.table(
    'invitation',
    sa.column('id', sa.String()),
    sa.column('tenant_id', sa.String()),
    sa.column('email', sa.String()),
    sa.column('created_at', confide.core.db.UTCDateTime(timezone=True)),
    sa.column('accepted_at', confide.core.db.UTCDateTime(timezone=True)),
    sa.column('revoked_at', confide.core.db.UTCDateTime(timezone=True)),
)


def _open(t: sa.TableClause) -> sa.ColumnElement[bool]:
    return sa.and_(t.c.accepted_at.is_(None), t.c.revoked_at.is_(None))


def upgrade() -> None:
    inv = invitation
    normalised = sa.func.lower(sa.func.trim(inv.c.email))
    op.execute(sa.update(inv).where(_open(inv), inv.c.email != normalised).values(email=normalised))
    newer = inv.alias('newer')
    has_newer = sa.exists().where(
        newer.c.tenant_id == inv.c.tenant_id,
        newer.c.email == inv.c.email,
        _open(newer),
        sa.or_(newer.c.created_at > inv.c.created_at, sa.and_(newer.c.created_at == inv.c.created_at, newer.c.id > inv.c.id)),
    )
    op.execute(sa.update(inv).where(_open(inv), has_newer).values(revoked_at=datetime.now(UTC)))
    op.create_index('uq_invitation_open_email', 'invitation', ['tenant_id', 'email'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('uq_invitation_open_email', table_name='invitation', sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
