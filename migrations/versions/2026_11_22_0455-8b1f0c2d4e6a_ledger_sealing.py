"""ledger sealing: events are written pending (no seq/hash yet) and chained afterwards by the head's holder

Revision ID: 8b1f0c2d4e6a
Revises: fbcf49132a90
Create Date: 2026-11-22 04:55:00
"""
import sqlalchemy as sa
from alembic import op

from ccer.migrate import drop_postgres_functions, run_postgres_sql

revision = '8b1f0c2d4e6a'
down_revision = 'fbcf49132a90'
branch_labels = None
depends_on = None

FUNCTIONS = ("ccer_append_events(timestamptz, integer, text, text[], text[], text[], text[])", "ccer_seal(boolean)", "ccer_chain_pending(integer, text)", "ccer_take_head(boolean)",
             "ccer_event_hash(integer, timestamptz, integer, text, text, text, text, text, text)", "ccer_isoformat(timestamptz)")


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        for name, kind in (('seq', sa.Integer()), ('prev_hash', sa.String(length=64)), ('hash', sa.String(length=64))):
            batch_op.alter_column(name, existing_type=kind, nullable=True)
        batch_op.create_index('ix_events_pending', ['id'], unique=False,
                              postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))
    run_postgres_sql(op, "ledger_sealing_1.sql")


def downgrade() -> None:
    drop_postgres_functions(op, FUNCTIONS)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_pending')
        for name, kind in (('seq', sa.Integer()), ('prev_hash', sa.String(length=64)), ('hash', sa.String(length=64))):
            batch_op.alter_column(name, existing_type=kind, nullable=False)
