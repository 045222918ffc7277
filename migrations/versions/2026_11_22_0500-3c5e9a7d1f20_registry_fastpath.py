"""registry fast path: one-statement transfer and retirement halves on PostgreSQL (nothing on SQLite)

Revision ID: 3c5e9a7d1f20
Revises: 8b1f0c2d4e6a
Create Date: 2026-11-22 05:00:00
"""
from alembic import op

from ccer.migrate import drop_postgres_functions, run_postgres_sql

revision = '3c5e9a7d1f20'
down_revision = '8b1f0c2d4e6a'
branch_labels = None
depends_on = None

FUNCTIONS = ("ccer_fast_confirm(integer, integer, text, integer, text[], text)",
             "ccer_fast_propose(text, integer, text, integer, text, text, integer, integer, text)",
             "ccer_payload_project(jsonb)", "ccer_plain_payload(jsonb)", "ccer_available(integer, integer, integer)", "ccer_request_state(approval_requests)",
             "ccer_serial(serial_blocks)", "ccer_block_state(serial_blocks)", "ccer_usable(registry_accounts)", "ccer_decline(text)",
             "ccer_now()")


def upgrade() -> None:
    run_postgres_sql(op, "registry_fastpath_1.sql")


def downgrade() -> None:
    drop_postgres_functions(op, FUNCTIONS)
