"""ccer reference load | list | show"""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..infra.actor import Actor
from ..infra.errors import ValidationError
from . import main


@main.group("reference")
def reference() -> None:
    """Reference data the registry maintains: grid-factor editions, fuel defaults, holiday calendars, offset ratio."""


@reference.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["grid-factors", "fuels", "calendar", "offset-ratio"]), help="refuse a file of another kind")
@click.option("--by", "by", default="cli", show_default=True, help="who loads it (recorded with the data set and in the ledger)")
@click.pass_obj
def load(obj, file: Path, kind: str | None, by: str) -> None:
    """Load FILE (CSV with '# key: value' header lines) as the next version of its edition."""
    from ..reference import services

    if not file.is_file():
        raise ValidationError(f"no such file: {file}", field="FILE")
    with obj.session() as session:
        row = services.load(session, Actor.system(by), file.read_bytes(), filename=file.name, kind=kind)
        click.echo(f"loaded {row.kind} {row.edition} version {row.version} ({row.status}) sha256 {row.sha256}")


@reference.command("list")
@click.option("--kind", type=click.Choice(["grid-factors", "fuels", "calendar", "offset-ratio"]))
@click.pass_obj
def list_(obj, kind: str | None) -> None:
    """Every data set, packaged or loaded, with its status and whether it is in force."""
    from ..reference import services

    with obj.session() as session:
        for d in services.listing(session, kind):
            force = "in force" if d["in_force"] else "replaced"
            who = f"  loaded by {d['loaded_by']} {d['loaded_at']}" if d["loaded_by"] else ""
            click.echo(f"{d['kind']:<13} {d['edition']:<10} v{d['version']}  {d['status']:<11} {force:<8} {d['origin']}  {d['title']}{who}")


@reference.command("show")
@click.argument("kind", type=click.Choice(["grid-factors", "fuels", "calendar", "offset-ratio"]))
@click.argument("edition")
@click.option("--version", type=int, help="a replaced version (default: the one in force)")
@click.pass_obj
def show(obj, kind: str, edition: str, version: int | None) -> None:
    """One data set with its provenance and content, as JSON."""
    from ..reference import services

    with obj.session() as session:
        click.echo(json.dumps(services.show(session, kind, edition, version), ensure_ascii=False, indent=2, default=str))
