"""registry fast path: a group's events appended once at its end, the clock read once per group (nothing on SQLite)

Revision ID: 7f3b2c8d1e45
Revises: 6e1a4b7c9d02
Create Date: 2026-11-22 09:00:00
"""
from alembic import op

from ccer.migrate import drop_postgres_functions, run_postgres_sql

revision = '7f3b2c8d1e45'
down_revision = '6e1a4b7c9d02'
branch_labels = None
depends_on = None

FUNCTIONS = ("ccer_fast_confirm(integer, integer, integer, text[], text, timestamptz)",
             "ccer_fast_propose(text, integer, text, integer, text, text, integer, integer, timestamptz)",
             "ccer_append_events(timestamptz, integer[], text[], text[], text[], text[], text[])")


def upgrade() -> None:
    run_postgres_sql(op, "registry_fastpath_3.sql")


def downgrade() -> None:
    # the functions as the earlier files define them (each file replaces what it defines)
    drop_postgres_functions(op, FUNCTIONS)
    for filename in ("ledger_sealing_1.sql", "registry_fastpath_1.sql", "registry_fastpath_2.sql"):
        run_postgres_sql(op, filename)
