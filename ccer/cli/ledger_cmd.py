"""ccer ledger verify | checkpoint | export-checkpoint"""
from __future__ import annotations

import json
import sys

import click

from .. import ledger as chain
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
        report = chain.verify(session)
        if checkpoint_file is not None and report.ok:
            cp = json.load(checkpoint_file)
            from sqlalchemy import select

            ev = session.execute(select(chain.Event).where(chain.Event.seq == cp["seq"])).scalar_one_or_none()
            if ev is None or ev.hash != cp["head_hash"]:
                report.problems.append(chain.Problem(cp["seq"], "does not match the exported checkpoint: history was rewritten"))
            for name, root in cp.get("roots", {}).items():
                replayed = chain.merkle_roots({name: chain.replayed_states(session, name, cp["seq"])})[name]
                if replayed != root:
                    report.problems.append(chain.Problem(cp["seq"], f"the {name} the events replay to differ from the exported checkpoint's Merkle root"))
    if not report.ok:
        for p in report.problems:
            click.echo(f"FAIL {p}", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.events} events, head {report.head}, {report.subjects} subjects match their vouched state, "
               f"{report.checkpoints} checkpoints" + (f"; {report.pending} events pending their place in the chain" if report.pending else ""))


@ledger.command("seal")
@click.pass_obj
def seal(obj) -> None:
    """Chain the events still pending (written while another transaction held the chain head)."""
    with obj.session() as session:
        click.echo(f"sealed {chain.seal_pending(session)} pending events; head #{chain.head(session)[0]}")


@ledger.command("checkpoint")
@click.pass_obj
def checkpoint(obj) -> None:
    """Record the chain head now."""
    with obj.session() as session:
        cp = chain.take_checkpoint(session)
        click.echo(f"checkpoint #{cp.seq} {cp.head_hash}")


@ledger.command("export-checkpoint")
@click.option("--with-states", is_flag=True, help="include the states under each Merkle root (the holdings), so the roots can be recomputed offline")
@click.pass_obj
def export_checkpoint(obj, with_states) -> None:
    """Print a checkpoint of the head now as JSON, to keep outside the platform: the chain head and the
    Merkle root of every committed subject type (the registry's holdings)."""
    with obj.session() as session:
        cp = chain.take_checkpoint(session)
        out = {"seq": cp.seq, "head_hash": cp.head_hash, "created_at": cp.created_at.isoformat(), "roots": cp.roots}
        if with_states:
            out["leaves"] = {name: chain.merkle_leaves(chain.SUBJECT_TYPES[name], chain.replayed_states(session, name, cp.seq))
                             for name in cp.roots}
        click.echo(json.dumps(out, ensure_ascii=False))


@ledger.command("check-export")
@click.argument("checkpoint_file", type=click.File("r"))
def check_export(checkpoint_file) -> None:
    """Offline, without the database: recompute each Merkle root of an exported checkpoint from its leaves."""
    from .. import merkle

    cp = json.load(checkpoint_file)
    if "leaves" not in cp:
        click.echo("error: leaves: export the checkpoint with --with-states", err=True)
        sys.exit(2)
    bad = [name for name, root in cp["roots"].items() if merkle.root(cp["leaves"].get(name, [])) != root]
    for name in bad:
        click.echo(f"FAIL {name}: the leaves do not hash to the recorded root {cp['roots'][name]}", err=True)
    if bad:
        sys.exit(1)
    counts = ", ".join(f"{len(cp['leaves'][n])} {n}" for n in cp["roots"])
    click.echo(f"ok: checkpoint #{cp['seq']} head {cp['head_hash']}; Merkle roots recomputed from {counts}")
