"""registry fast path: one-statement transfer and retirement halves on PostgreSQL (nothing on SQLite)

Revision ID: 3c5e9a7d1f20
Revises: 8b1f0c2d4e6a
Create Date: 2026-11-22 05:00:00
"""
from pathlib import Path

from alembic import op

revision = '3c5e9a7d1f20'
down_revision = '8b1f0c2d4e6a'
branch_labels = None
depends_on = None

SQL = Path(__file__).resolve().parent.parent / "sql" / "registry_fastpath_1.sql"
FUNCTIONS = ("ccer_fast_confirm(integer, integer, text, integer, text[], text)",
             "ccer_fast_propose(text, integer, text, integer, text, text, integer, integer, text)",
             "ccer_payload_project(jsonb)", "ccer_plain_payload(jsonb)", "ccer_available(integer, integer, integer)", "ccer_request_state(approval_requests)",
             "ccer_serial(serial_blocks)", "ccer_block_state(serial_blocks)", "ccer_usable(registry_accounts)", "ccer_decline(text)",
             "ccer_now()")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for signature in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
