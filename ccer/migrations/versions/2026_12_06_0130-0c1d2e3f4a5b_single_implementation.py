"""every rule in one language: drop the PL/pgSQL twins of the registry's rules (nothing on SQLite)

The sealing, fast-path, group-commit and checkpoint-root functions that earlier revisions installed on
PostgreSQL re-implemented in SQL what ccer/ledger and ccer/issuance implement in Python. Sealing, block
cutting, maker–checker and Merkle roots now run in Python on every database; this drops every function
of that family (all were named ccer_*). Nothing to do on a fresh database.

Revision ID: 0c1d2e3f4a5b
Revises: 9e5f6a7b8c29
Create Date: 2026-12-06 01:30:00
"""
from alembic import op

revision = '0c1d2e3f4a5b'
down_revision = '9e5f6a7b8c29'
branch_labels = None
depends_on = None

DROP_CCER_FUNCTIONS = """
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = current_schema() AND p.proname LIKE 'ccer\\_%' LOOP
    EXECUTE 'DROP FUNCTION IF EXISTS ' || f || ' CASCADE';
  END LOOP;
END $$;
"""


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(DROP_CCER_FUNCTIONS)


def downgrade() -> None:
    pass  # the twins are not restored: there is one implementation
