"""registry fast path: group commit of concurrent calls (ccer_fast_batch; nothing on SQLite)

Revision ID: 5d2e8f4a9b31
Revises: 3c5e9a7d1f20
Create Date: 2026-11-22 06:30:00
"""
from alembic import op

from ccer.migrate import drop_postgres_functions, run_postgres_sql

revision = '5d2e8f4a9b31'
down_revision = '3c5e9a7d1f20'
branch_labels = None
depends_on = None

FUNCTIONS = ("ccer_fast_batch(text)",)


def upgrade() -> None:
    run_postgres_sql(op, "registry_fastpath_2.sql")


def downgrade() -> None:
    drop_postgres_functions(op, FUNCTIONS)
