"""parcels spatial index: PostGIS geometry (EPSG:4490) with a GiST index and an equal-area area on PostgreSQL;
an R*Tree of parcel boxes on SQLite (issue #19). Both are kept by the database itself from the stored WKB
(PostgreSQL: generated columns) or the stored box (SQLite: triggers), so every writer — the boundary upload,
COPY in the bench, the demo — keeps the index without knowing it exists.

Revision ID: a19c0de00019
Revises: e5e0c0de0005
"""
from alembic import op
import sqlalchemy as sa

revision = 'a19c0de00019'
down_revision = 'e5e0c0de0005'
branch_labels = None
depends_on = None

#: Albers equal-area for China, CLCD's projection (gis.md §1.1; gis/area.py ALBERS_CHINA), as a user SRID
ALBERS_SRID = 990105
ALBERS_PROJ4 = "+proj=aea +lat_0=0 +lat_1=25 +lat_2=47 +lon_0=105 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def upgrade() -> None:
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        for name in ('min_lon', 'min_lat', 'max_lon', 'max_lat'):
            batch_op.add_column(sa.Column(name, sa.Double(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(f"INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text, srtext) "
                   f"SELECT {ALBERS_SRID}, 'CCER', {ALBERS_SRID}, '{ALBERS_PROJ4}', "
                   f"'PROJCS[\"CGCS2000 / Albers China (CLCD)\",GEOGCS[\"China Geodetic Coordinate System 2000\","
                   f"DATUM[\"China_2000\",SPHEROID[\"CGCS2000\",6378137,298.257222101]],PRIMEM[\"Greenwich\",0],"
                   f"UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Albers_Conic_Equal_Area\"],"
                   f"PARAMETER[\"latitude_of_center\",0],PARAMETER[\"longitude_of_center\",105],"
                   f"PARAMETER[\"standard_parallel_1\",25],PARAMETER[\"standard_parallel_2\",47],"
                   f"PARAMETER[\"false_easting\",0],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]' "
                   f"WHERE NOT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = {ALBERS_SRID})")
        # the stored WKB is in WGS 84 coordinates; CGCS2000 agrees with it to centimetres (no datum shift is applied)
        op.execute("ALTER TABLE project_parcels ADD COLUMN geom geometry(Geometry, 4490) "
                   "GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromWKB(wkb), 4490)) STORED")
        op.execute(f"ALTER TABLE project_parcels ADD COLUMN area_ea_m2 double precision "
                   f"GENERATED ALWAYS AS (ST_Area(ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), 4490), {ALBERS_SRID}))) STORED")
        op.execute("CREATE INDEX ix_project_parcels_geom ON project_parcels USING gist (geom)")
    else:
        # R*Tree boxes (32-bit floats, rounded outwards: a filter, never the answer)
        op.execute("CREATE VIRTUAL TABLE parcel_boxes USING rtree(id, min_lon, max_lon, min_lat, max_lat)")
        op.execute("CREATE TRIGGER parcel_boxes_insert AFTER INSERT ON project_parcels WHEN NEW.min_lon IS NOT NULL BEGIN "
                   "INSERT INTO parcel_boxes VALUES (NEW.id, NEW.min_lon, NEW.max_lon, NEW.min_lat, NEW.max_lat); END")
        op.execute("CREATE TRIGGER parcel_boxes_update AFTER UPDATE ON project_parcels BEGIN "
                   "DELETE FROM parcel_boxes WHERE id = OLD.id; "
                   "INSERT INTO parcel_boxes SELECT NEW.id, NEW.min_lon, NEW.max_lon, NEW.min_lat, NEW.max_lat "
                   "WHERE NEW.min_lon IS NOT NULL; END")
        op.execute("CREATE TRIGGER parcel_boxes_delete AFTER DELETE ON project_parcels BEGIN "
                   "DELETE FROM parcel_boxes WHERE id = OLD.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_project_parcels_geom")
        op.execute("ALTER TABLE project_parcels DROP COLUMN IF EXISTS area_ea_m2")
        op.execute("ALTER TABLE project_parcels DROP COLUMN IF EXISTS geom")
        op.execute(f"DELETE FROM spatial_ref_sys WHERE srid = {ALBERS_SRID}")
    else:
        for trigger in ('parcel_boxes_insert', 'parcel_boxes_update', 'parcel_boxes_delete'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS parcel_boxes")
    with op.batch_alter_table('project_parcels', schema=None) as batch_op:
        for name in ('max_lat', 'max_lon', 'min_lat', 'min_lon'):
            batch_op.drop_column(name)
