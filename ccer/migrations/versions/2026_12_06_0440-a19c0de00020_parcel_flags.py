"""parcel flags: what the stored boundary check found about each parcel (invalid, ineligible, overlap), for
the map's VVB and registry view (issue #19)

Revision ID: a19c0de00020
Revises: a19c0de00019
"""
from alembic import op
import sqlalchemy as sa

revision = 'a19c0de00020'
down_revision = 'a19c0de00019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        batch_op.drop_column('flags')
