"""Alembic, driven from code: migrations are the only way the schema is created or changed."""
from __future__ import annotations

import warnings

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .. import PACKAGE, load_models
from .db import Base


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PACKAGE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def differences(engine: Engine) -> list:
    """What the models have that the migrated database does not, and vice versa (empty when in step)."""
    load_models()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        with warnings.catch_warnings():  # PostGIS's geometry type is unknown to SQLAlchemy; the column is ignored below
            warnings.filterwarnings("ignore", "Did not recognize type 'geometry'")
            return [d for d in compare_metadata(ctx, Base.metadata) if not _ignored(d)]


#: what the database keeps for the parcels' spatial index itself (migration a19c0de00019): PostGIS's
#: spatial_ref_sys, the generated geometry and area columns, the GiST index; SQLite's R*Tree and its shadow tables
SPATIAL_TABLES = ("spatial_ref_sys", "parcel_boxes", "parcel_boxes_node", "parcel_boxes_rowid", "parcel_boxes_parent")
SPATIAL_COLUMNS = (("project_parcels", "geom"), ("project_parcels", "area_ea_m2"), ("project_parcels", "geom_3857"),
                   ("project_footprints", "geom_3857"))
#: the explorer's pg_trgm GIN indexes of full-text search, kept by migration f1e7c0de0017 on PostgreSQL only
#: (ccer.explorer.indexes.TRIGRAM_INDEXES)
SEARCH_INDEXES = ("ix_projects_title_trgm", "ix_organisations_name_trgm")


def _ignored(diff) -> bool:
    if not isinstance(diff, tuple):
        return False
    # alembic's own version table is not a model
    if diff[0] == "remove_table":
        return diff[1].name == "alembic_version" or diff[1].name in SPATIAL_TABLES
    if diff[0] == "remove_column":
        return (diff[2], diff[3].name) in SPATIAL_COLUMNS
    if diff[0] == "remove_index":
        return diff[1].name in ("ix_project_parcels_geom", "ix_project_footprints_geom_3857") or diff[1].name in SEARCH_INDEXES
    return False
