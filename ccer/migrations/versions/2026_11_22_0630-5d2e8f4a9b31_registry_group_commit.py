"""registry fast path: group commit of concurrent calls (ccer_fast_batch; nothing on SQLite)

Revision ID: 5d2e8f4a9b31
Revises: 3c5e9a7d1f20
Create Date: 2026-11-22 06:30:00
"""
from alembic import op  # noqa: F401


revision = '5d2e8f4a9b31'
down_revision = '3c5e9a7d1f20'
branch_labels = None
depends_on = None

# The PL/pgSQL this revision once installed was a second implementation of the registry's rules; it is gone
# (every rule is written once, in Python). A fresh database never gets it; revision 0c1d2e3f4a5b drops it
# from databases migrated before.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
