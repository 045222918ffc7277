"""registry fast path: one-statement transfer and retirement halves on PostgreSQL (nothing on SQLite)

Revision ID: 3c5e9a7d1f20
Revises: 8b1f0c2d4e6a
Create Date: 2026-11-22 05:00:00
"""
from alembic import op  # noqa: F401


revision = '3c5e9a7d1f20'
down_revision = '8b1f0c2d4e6a'
branch_labels = None
depends_on = None

# The PL/pgSQL this revision once installed was a second implementation of the registry's rules; it is gone
# (every rule is written once, in Python). A fresh database never gets it; revision 0c1d2e3f4a5b drops it
# from databases migrated before.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
