"""Alembic, driven from code: migrations are the only way the schema is created or changed."""
from __future__ import annotations

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
        return [d for d in compare_metadata(ctx, Base.metadata) if not _ignored(d)]


def _ignored(diff) -> bool:
    # alembic's own version table is not a model
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"
