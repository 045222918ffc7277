"""ledger: the checkpoint's Merkle root of live serial blocks computed in PostgreSQL (nothing on SQLite)

Revision ID: 9e5f6a7b8c29
Revises: 8c4d5e6f7a18
Create Date: 2026-11-22 10:00:00
"""
from alembic import op  # noqa: F401


revision = '9e5f6a7b8c29'
down_revision = '8c4d5e6f7a18'
branch_labels = None
depends_on = None

# The PL/pgSQL this revision once installed was a second implementation of the registry's rules; it is gone
# (every rule is written once, in Python). A fresh database never gets it; revision 0c1d2e3f4a5b drops it
# from databases migrated before.


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
