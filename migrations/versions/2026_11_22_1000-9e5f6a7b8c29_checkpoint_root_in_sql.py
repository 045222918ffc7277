"""ledger: the checkpoint's Merkle root of live serial blocks computed in PostgreSQL (nothing on SQLite)

Revision ID: 9e5f6a7b8c29
Revises: 8c4d5e6f7a18
Create Date: 2026-11-22 10:00:00
"""
from alembic import op

from ccer.migrate import drop_postgres_functions, run_postgres_sql

revision = '9e5f6a7b8c29'
down_revision = '8c4d5e6f7a18'
branch_labels = None
depends_on = None

FUNCTIONS = ("ccer_serial_block_root()", "ccer_block_leaf(serial_blocks)")


def upgrade() -> None:
    run_postgres_sql(op, "ledger_checkpoint_1.sql")


def downgrade() -> None:
    drop_postgres_functions(op, FUNCTIONS)
