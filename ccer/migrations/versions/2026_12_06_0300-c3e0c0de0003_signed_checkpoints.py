"""signed checkpoints: each checkpoint carries the registry's Ed25519 signature and the id of its key

Revision ID: c3e0c0de0003
Revises: b2e0c0de0002
Create Date: 2026-12-06 03:00:00

Checkpoints taken before this revision stay unsigned; `ccer ledger verify` names them, and
`ccer ledger sign-checkpoints` signs them after a verification of the chain they anchor.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c3e0c0de0003'
down_revision = 'b2e0c0de0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('signature')
