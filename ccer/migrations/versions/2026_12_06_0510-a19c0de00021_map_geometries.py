"""map geometries (issue #19): the parcels in Web Mercator as a generated column on PostgreSQL (a tile then
transforms nothing per parcel), and each sink project's footprint — the convex hull of its parcels, drawn at
low zooms instead of thousands of parcels smaller than a pixel — on both databases.

Revision ID: a19c0de00021
Revises: d7r0ef000021
"""
from alembic import op
import sqlalchemy as sa

revision = 'a19c0de00021'
down_revision = 'd7r0ef000021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_footprints',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('wkb', sa.LargeBinary(), nullable=False),
    sa.Column('parcels', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_footprints_project_id_projects')),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_footprints'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # the stored WKB is in WGS 84 coordinates (ProjectParcel.wkb)
        for table in ('project_parcels', 'project_footprints'):
            op.execute(f"ALTER TABLE {table} ADD COLUMN geom_3857 geometry(Geometry, 3857) "
                       f"GENERATED ALWAYS AS (ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), 4326), 3857)) STORED")
        op.execute("CREATE INDEX ix_project_footprints_geom_3857 ON project_footprints USING gist (geom_3857)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE project_parcels DROP COLUMN IF EXISTS geom_3857")
    op.drop_table('project_footprints')
