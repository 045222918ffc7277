"""methodology proposals

Revision ID: 7ba8729a15c9
Revises: 721907a0f31d
Create Date: 2026-11-22 02:57:18.384385
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = '7ba8729a15c9'
down_revision = '721907a0f31d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('methodology_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('package', sa.LargeBinary(), nullable=False),
    sa.Column('package_sha256', sa.String(length=64), nullable=False),
    sa.Column('conformance_json', sa.Text(), nullable=False),
    sa.Column('publicity_start', sa.Date(), nullable=True),
    sa.Column('publicity_end', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['organisations.id'], name=op.f('fk_methodology_proposals_author_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_methodology_proposals'))
    )
    with op.batch_alter_table('methodology_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_methodology_proposals_code'), ['code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('methodology_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_methodology_proposals_code'))

    op.drop_table('methodology_proposals')
