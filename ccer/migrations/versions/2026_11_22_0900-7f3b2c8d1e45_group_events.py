"""registry fast path: a group's events appended once at its end, the clock read once per group (nothing on SQLite)

Revision ID: 7f3b2c8d1e45
Revises: 6e1a4b7c9d02
Create Date: 2026-11-22 09:00:00
"""
from alembic import op  # noqa: F401


revision = '7f3b2c8d1e45'
down_revision = '6e1a4b7c9d02'
branch_labels = None
depends_on = None

# The PL/pgSQL this revision once installed was a second implementation of the registry's rules; it is gone
# (every rule is written once, in Python). A fresh database never gets it; revision 0c1d2e3f4a5b drops it
# from databases migrated before.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
