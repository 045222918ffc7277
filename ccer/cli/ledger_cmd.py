"""ccer ledger verify | checkpoint | export-checkpoint"""
from __future__ import annotations

import json
import sys

import click

from .. import events
from ..db import mutating
from . import main


@main.group("ledger")
def ledger() -> None:
    """The hash-chained event log."""


@ledger.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r"), help="an exported checkpoint to check against")
@click.pass_obj
def verify(obj, checkpoint_file) -> None:
    """Recompute the chain and cross-check the state it vouches for; exit 1 naming the first bad event."""
    with obj.session() as session:
        report = events.verify(session)
        if checkpoint_file is not None and report.ok:
            cp = json.load(checkpoint_file)
            from sqlalchemy import select

            ev = session.execute(select(events.Event).where(events.Event.seq == cp["seq"])).scalar_one_or_none()
            if ev is None or ev.hash != cp["head_hash"]:
                report.problems.append(events.Problem(cp["seq"], "does not match the exported checkpoint: history was rewritten"))
    if not report.ok:
        for p in report.problems:
            click.echo(f"FAIL {p}", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.events} events, head {report.head}, {report.subjects} subjects match their vouched state, "
               f"{report.checkpoints} checkpoints")


@ledger.command("checkpoint")
@click.pass_obj
def checkpoint(obj) -> None:
    """Record the chain head now."""
    with obj.session() as session:
        cp = mutating(events.checkpoint)(session)
        click.echo(f"checkpoint #{cp.seq} {cp.head_hash}")


@ledger.command("export-checkpoint")
@click.pass_obj
def export_checkpoint(obj) -> None:
    """Print the latest checkpoint as JSON, to keep outside the platform."""
    with obj.session() as session:
        cp = mutating(events.checkpoint)(session)
        click.echo(json.dumps({"seq": cp.seq, "head_hash": cp.head_hash, "created_at": cp.created_at.isoformat()}))
