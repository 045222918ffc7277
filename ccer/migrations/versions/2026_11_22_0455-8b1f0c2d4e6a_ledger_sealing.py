"""ledger sealing: events are written pending (no seq/hash yet) and chained afterwards by the head's holder

Revision ID: 8b1f0c2d4e6a
Revises: fbcf49132a90
Create Date: 2026-11-22 04:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '8b1f0c2d4e6a'
down_revision = 'fbcf49132a90'
branch_labels = None
depends_on = None

# The PL/pgSQL this revision once installed beside its index was a second implementation of the registry's rules; it is gone
# (every rule is written once, in Python). A fresh database never gets it; revision 0c1d2e3f4a5b drops it
# from databases migrated before.


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        for name, kind in (('seq', sa.Integer()), ('prev_hash', sa.String(length=64)), ('hash', sa.String(length=64))):
            batch_op.alter_column(name, existing_type=kind, nullable=True)
        batch_op.create_index('ix_events_pending', ['id'], unique=False,
                              postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_pending')
        for name, kind in (('seq', sa.Integer()), ('prev_hash', sa.String(length=64)), ('hash', sa.String(length=64))):
            batch_op.alter_column(name, existing_type=kind, nullable=False)
