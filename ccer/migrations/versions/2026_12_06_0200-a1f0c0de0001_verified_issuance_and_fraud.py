"""issuance only from verified reductions; fraud cases (Measures Art. 17, 21, 22, 42–47)

Revision ID: a1f0c0de0001
Revises: 0c1d2e3f4a5b
Create Date: 2026-12-06 02:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a1f0c0de0001'
down_revision = '0c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
