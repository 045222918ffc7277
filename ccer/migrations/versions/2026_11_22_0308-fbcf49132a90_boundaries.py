"""boundaries: stored project parcels and their GIS boundary checks

Revision ID: fbcf49132a90
Revises: 7ba8729a15c9
Create Date: 2026-11-22 03:08:13.929950
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = 'fbcf49132a90'
down_revision = '7ba8729a15c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boundary_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.Column('eligible_parcels', sa.Integer(), nullable=False),
    sa.Column('parcels', sa.Integer(), nullable=False),
    sa.Column('cross_overlaps', sa.Integer(), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_boundary_checks_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boundary_checks'))
    )
    with op.batch_alter_table('boundary_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_boundary_checks_project_id'), ['project_id'], unique=False)

    op.create_table('project_parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.String(length=80), nullable=False),
    sa.Column('wkb', sa.LargeBinary(), nullable=False),
    sa.Column('area_ha', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_parcels_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_parcels'))
    )
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_parcels_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_parcels_project_id'))

    op.drop_table('project_parcels')
    with op.batch_alter_table('boundary_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_boundary_checks_project_id'))

    op.drop_table('boundary_checks')
