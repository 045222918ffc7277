"""reference data sets the registry loads: grid-factor editions, fuel defaults, calendar years, offset ratio (issue 18)

Revision ID: d7r0ef000021
Revises: c6j0b5000020
Create Date: 2026-12-06 05:00:00
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = 'd7r0ef000021'
down_revision = 'c6j0b5000020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_datasets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('edition', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('published', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('content_json', sa.Text(), nullable=False),
    sa.Column('file_text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('loaded_by_id', sa.Integer(), nullable=True),
    sa.Column('loaded_by', sa.String(length=120), nullable=False),
    sa.Column('loaded_at', ccer.infra.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_datasets')),
    sa.UniqueConstraint('kind', 'edition', 'version', name=op.f('uq_reference_datasets_kind_edition_version'))
    )
    with op.batch_alter_table('reference_datasets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reference_datasets_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reference_datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reference_datasets_kind'))
    op.drop_table('reference_datasets')
