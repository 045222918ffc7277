"""serial blocks: holding and range indexes over live blocks only; events: no index on the hash

Revision ID: 6e1a4b7c9d02
Revises: 5d2e8f4a9b31
Create Date: 2026-11-22 07:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '6e1a4b7c9d02'
down_revision = '5d2e8f4a9b31'
branch_labels = None
depends_on = None

LIVE = {"postgresql_where": sa.text("active"), "sqlite_where": sa.text("active = 1")}


def upgrade() -> None:
    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_serial_blocks_holding')
        batch_op.drop_index('ix_serial_blocks_range')
        batch_op.create_index('ix_serial_blocks_holding', ['account_id', 'status', 'project_id', 'vintage'], unique=False, **LIVE)
        batch_op.create_index('ix_serial_blocks_range', ['first', 'last'], unique=False, **LIVE)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_events_hash', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_events_hash', ['hash'])
    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_serial_blocks_range')
        batch_op.drop_index('ix_serial_blocks_holding')
        batch_op.create_index('ix_serial_blocks_range', ['first', 'last'], unique=False)
        batch_op.create_index('ix_serial_blocks_holding', ['account_id', 'active', 'status', 'project_id', 'vintage'], unique=False)
