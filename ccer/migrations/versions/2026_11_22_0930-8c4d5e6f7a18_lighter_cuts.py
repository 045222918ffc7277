"""serial blocks and events: fewer index entries and foreign-key checks per transfer and retirement

Serial blocks: one foreign key (issuance, project, vintage) → issuances instead of one to issuances and one
to projects (a block can no longer claim another project or vintage than its issuance's); the issuance
index covers an issuance's first block only, the retirement index retired blocks only, and the parent
index, which no query used, is gone. Events: the action index is replaced by a credits index (issuances,
retirements, cancellations by seq) and a retirement-subject index.

Revision ID: 8c4d5e6f7a18
Revises: 7f3b2c8d1e45
Create Date: 2026-11-22 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '8c4d5e6f7a18'
down_revision = '7f3b2c8d1e45'
branch_labels = None
depends_on = None

CREDITS = "action IN ('ccer.issued', 'ccer.retired', 'ccer.force_cancelled')"
RETIREMENTS = "subject_type = 'retirement'"


def _where(predicate: str) -> dict:
    return {"postgresql_where": sa.text(predicate), "sqlite_where": sa.text(predicate)}


def upgrade() -> None:
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_issuances_id_project_id_vintage', ['id', 'project_id', 'vintage'])
    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_serial_blocks_project_id_projects', type_='foreignkey')
        batch_op.drop_constraint('fk_serial_blocks_issuance_id_issuances', type_='foreignkey')
        batch_op.create_foreign_key('fk_serial_blocks_issuance_id_issuances', 'issuances',
                                    ['issuance_id', 'project_id', 'vintage'], ['id', 'project_id', 'vintage'])
        batch_op.drop_index('ix_serial_blocks_parent_id')
        batch_op.drop_index('ix_serial_blocks_issuance_id')
        batch_op.drop_index('ix_serial_blocks_retirement_id')
        batch_op.create_index('ix_serial_blocks_issuance_id', ['issuance_id'], unique=False, **_where("parent_id IS NULL"))
        batch_op.create_index('ix_serial_blocks_retirement_id', ['retirement_id'], unique=False, **_where("retirement_id IS NOT NULL"))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_action')
        batch_op.create_index('ix_events_credits', ['seq'], unique=False, **_where(CREDITS))
        batch_op.create_index('ix_events_retirement', ['subject_id'], unique=False, **_where(RETIREMENTS))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_retirement')
        batch_op.drop_index('ix_events_credits')
        batch_op.create_index('ix_events_action', ['action'], unique=False)
    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_serial_blocks_retirement_id')
        batch_op.drop_index('ix_serial_blocks_issuance_id')
        batch_op.create_index('ix_serial_blocks_retirement_id', ['retirement_id'], unique=False)
        batch_op.create_index('ix_serial_blocks_issuance_id', ['issuance_id'], unique=False)
        batch_op.create_index('ix_serial_blocks_parent_id', ['parent_id'], unique=False)
        batch_op.drop_constraint('fk_serial_blocks_issuance_id_issuances', type_='foreignkey')
        batch_op.create_foreign_key('fk_serial_blocks_issuance_id_issuances', 'issuances', ['issuance_id'], ['id'])
        batch_op.create_foreign_key('fk_serial_blocks_project_id_projects', 'projects', ['project_id'], ['id'])
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.drop_constraint('uq_issuances_id_project_id_vintage', type_='unique')
