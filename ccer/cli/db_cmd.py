"""ccer db upgrade | check | current"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from ..infra import migrate
from ..infra.db import make_engine
from . import main


@main.group("db")
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade(obj, revision: str) -> None:
    """Create or migrate the database schema."""
    migrate.upgrade(obj.settings.database_url, revision)
    click.echo(f"database at {migrate.current_revision(obj.engine)} ({obj.engine.url.render_as_string(hide_password=True)})")


@db.command("current")
@click.pass_obj
def current(obj) -> None:
    click.echo(migrate.current_revision(obj.engine) or "empty (run `ccer db upgrade`)")


@db.command("check")
@click.option("--scratch", is_flag=True, help="migrate a fresh temporary SQLite database instead of the configured one")
@click.pass_obj
def check(obj, scratch: bool) -> None:
    """Fail when the models and the migrations disagree."""
    if scratch:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'check.sqlite3'}"
            migrate.upgrade(url)
            engine = make_engine(url)
            diffs = migrate.differences(engine)
            engine.dispose()
    else:
        url, engine = obj.settings.database_url, obj.engine
        at, head = migrate.current_revision(engine), migrate.head_revision(url)
        if at != head:
            click.echo(f"error: database is at {at or 'no revision'}, migrations end at {head}: run `ccer db upgrade`", err=True)
            sys.exit(1)
        diffs = migrate.differences(engine)
    if diffs:
        click.echo("error: models and migrations disagree; write a migration for:", err=True)
        for d in diffs:
            click.echo(f"  {d}", err=True)
        sys.exit(1)
    click.echo("models and migrations agree")
