"""ccer ledger verify | seal | checkpoint | export-checkpoint | check-export | export | key | sign-checkpoints"""
from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import click

from .. import ledger as chain
from . import main


@main.group("ledger")
def ledger() -> None:
    """The hash-chained event log."""


def _checkpoint_arg(value: str) -> int | dict:
    """A checkpoint given as its seq, or as a file: `export-checkpoint`'s JSON or an export's checkpoint line."""
    if value.isdigit():
        return int(value)
    path = Path(value)
    if not path.exists():
        raise click.BadParameter(f"{value}: neither a seq nor a checkpoint file")
    obj = json.loads(path.read_text(encoding="utf-8"))
    obj = obj.get("checkpoint", obj) if isinstance(obj, dict) else obj
    if not isinstance(obj, dict) or "seq" not in obj or "head_hash" not in obj:
        raise click.BadParameter(f"{value}: not a checkpoint (it needs seq and head_hash)")
    return obj


def _key_arg(value: str | None) -> "chain.PublicKey | None":
    if value is None:
        return None
    text = value.strip()
    if len(text) != 64 and Path(text).exists():
        text = Path(text).read_text(encoding="utf-8").strip()
        if text.startswith("{"):
            text = json.loads(text)["public_key"]
    return chain.PublicKey.from_hex(text)


class _Bar:
    """Progress on standard error, one line rewritten in place (when it is a terminal)."""

    def __init__(self, quiet: bool):
        self.quiet, self.tty, self.stage = quiet, sys.stderr.isatty(), None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if self.tty:
            of = f"/{total:,}" if total else ""
            click.echo(f"\r{stage}: {done:,}{of}\033[K", err=True, nl=False)
            if total is not None and done >= total:
                click.echo("", err=True)
        self.stage = stage


@ledger.command("verify")
@click.option("--since", "since", help="verify only what follows a trusted checkpoint: its seq, or a checkpoint file "
                                       "(`export-checkpoint`, or an export's checkpoint line)")
@click.option("--checkpoint", "checkpoint_file", type=click.File("r"), help="an exported checkpoint to check the chain against")
@click.option("--key", help="the registry public key to check signatures with (hex or file; default: this instance's)")
@click.option("-q", "--quiet", is_flag=True, help="no progress")
@click.option("--jobs", type=click.IntRange(1), default=lambda: min(os.cpu_count() or 1, 2), show_default="2 if the machine has 2 cores",
              help="PostgreSQL, full verification: a second process scans the tables and runs the invariants while the chain is walked")
@click.pass_obj
def verify(obj, since, checkpoint_file, key, quiet, jobs) -> None:
    """Recompute the chain, check every checkpoint's signature and Merkle roots, compare the vouched states with
    the tables; exit 1 naming the first bad event. With --since: only the events after a trusted checkpoint and
    the subjects they touched."""
    base = _checkpoint_arg(since) if since else None
    public = _key_arg(key)
    # the loaded platform is no garbage, and the rows a verification reads (hundreds of thousands of tuples) make
    # no cycles: a collection every 700 of them would be pure cost (its processes still collect, 100 times rarer)
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100 * thresholds[0], *thresholds[1:])
    try:
        with obj.session() as session:
            report = chain.verify(session, since=base, progress=_Bar(quiet), key=public, jobs=jobs)
            if checkpoint_file is not None and report.ok:
                _against_kept(session, json.load(checkpoint_file), report, public or chain.public_key())
    finally:
        gc.set_threshold(*thresholds)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.ok:
        for p in report.problems:
            click.echo(f"FAIL {p}", err=True)
        sys.exit(1)
    scope = f"events #{report.since + 1}…#{report.events}" if report.since is not None else f"{report.events} events"
    click.echo(f"ok: {scope}, head {report.head}, {report.subjects} subjects match their vouched state, "
               f"{report.checkpoints} checkpoints" + (f"; {report.pending} events pending their place in the chain" if report.pending else ""))


def _against_kept(session, cp: dict, report, key) -> None:
    """A full verification passed: check a checkpoint kept outside against the chain."""
    from sqlalchemy import select

    cp = cp.get("checkpoint", cp)
    if cp.get("signature") is not None and not key.verifies(cp["signature"], cp["seq"], cp["head_hash"], cp.get("roots") or {}, cp.get("key_id")):
        report.problems.append(chain.Problem(cp["seq"], "the exported checkpoint's signature does not verify with the registry's key"))
    got = session.execute(select(chain.Event.hash).where(chain.Event.seq == cp["seq"])).scalar_one_or_none()
    if got != cp["head_hash"]:
        report.problems.append(chain.Problem(cp["seq"], "does not match the exported checkpoint: history was rewritten"))
        return
    stored = session.execute(select(chain.Checkpoint).where(chain.Checkpoint.seq == cp["seq"])).scalar_one_or_none()
    for name, root in cp.get("roots", {}).items():
        if stored is not None and stored.roots.get(name) == root:
            continue  # the verification just replayed the stored checkpoint's roots
        replayed = chain.merkle_roots({name: chain.replayed_states(session, name, cp["seq"])})[name]
        if replayed != root:
            report.problems.append(chain.Problem(cp["seq"], f"the {name} the events replay to differ from the exported checkpoint's Merkle root"))


@ledger.command("seal")
@click.pass_obj
def seal(obj) -> None:
    """Chain the events still pending (written while another transaction held the chain head)."""
    with obj.session() as session:
        click.echo(f"sealed {chain.seal_pending(session)} pending events; head #{chain.head(session)[0]}")


@ledger.command("checkpoint")
@click.pass_obj
def checkpoint(obj) -> None:
    """Record the chain head now, signed."""
    with obj.session() as session:
        cp = chain.take_checkpoint(session)
        click.echo(f"checkpoint #{cp.seq} {cp.head_hash} signed by {cp.key_id}")


@ledger.command("sign-checkpoints")
@click.pass_obj
def sign_checkpoints(obj) -> None:
    """Sign the checkpoints taken before checkpoints were signed, after a full verification of the chain."""
    from ..ledger.checkpoints import sign_unsigned

    with obj.session() as session:
        report = chain.verify(session)
        unsigned = [p for p in report.problems if "not signed" in p.message]
        if len(unsigned) != len(report.problems):
            for p in report.problems:
                click.echo(f"FAIL {p}", err=True)
            click.echo("error: the chain does not verify; nothing signed", err=True)
            sys.exit(1)
        n = sign_unsigned(session)
        session.commit()
    click.echo(f"signed {n} checkpoints with key {chain.public_key().id}")


@ledger.command("key")
@click.pass_obj
def key(obj) -> None:
    """Print the registry's public checkpoint key (JSON: algorithm, key_id, public_key), to publish."""
    click.echo(json.dumps(chain.public_key().as_dict()))


@ledger.command("export-checkpoint")
@click.option("--with-states", is_flag=True, help="include the states under each Merkle root (the holdings), so the roots can be recomputed offline")
@click.pass_obj
def export_checkpoint(obj, with_states) -> None:
    """Print a signed checkpoint of the head now as JSON, to keep outside the platform: the chain head and the
    Merkle root of every committed subject type (the registry's holdings)."""
    with obj.session() as session:
        cp = chain.take_checkpoint(session)
        out = cp.public()
        if with_states:
            out["leaves"] = {name: chain.merkle_leaves(chain.SUBJECT_TYPES[name], chain.replayed_states(session, name, cp.seq))
                             for name in cp.roots}
        click.echo(json.dumps(out, ensure_ascii=False))


@ledger.command("check-export")
@click.argument("checkpoint_file", type=click.File("r"))
@click.option("--key", help="the registry public key to check the signature with (hex or file)")
def check_export(checkpoint_file, key) -> None:
    """Offline, without the database: recompute each Merkle root of an exported checkpoint from its leaves (and
    check its signature when it carries one and a key is given)."""
    from ..infra import merkle

    cp = json.load(checkpoint_file)
    if "leaves" not in cp:
        click.echo("error: leaves: export the checkpoint with --with-states", err=True)
        sys.exit(2)
    bad = [name for name, root in cp["roots"].items() if merkle.root(cp["leaves"].get(name, [])) != root]
    for name in bad:
        click.echo(f"FAIL {name}: the leaves do not hash to the recorded root {cp['roots'][name]}", err=True)
    public = _key_arg(key)
    if public is not None and not public.verifies(cp.get("signature"), cp["seq"], cp["head_hash"], cp["roots"], cp.get("key_id")):
        click.echo(f"FAIL signature: not this registry key's ({public.id[:16]}…) signature of the checkpoint", err=True)
        bad.append("signature")
    if bad:
        sys.exit(1)
    counts = ", ".join(f"{len(cp['leaves'][n])} {n}" for n in cp["roots"])
    click.echo(f"ok: checkpoint #{cp['seq']} head {cp['head_hash']}; Merkle roots recomputed from {counts}")


@ledger.command("export")
@click.option("--since", "since", help="export only what follows a checkpoint: its seq, or a checkpoint file")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="the file to write (default: standard output)")
@click.option("--leaves", is_flag=True, help="give the checkpoint an export --since starts from its Merkle leaves (replayed)")
@click.option("--no-checkpoint", is_flag=True, help="do not take a checkpoint of the head first (a read-only export)")
@click.pass_obj
def export(obj, since, output, leaves, no_checkpoint) -> None:
    """Stream the public ledger as JSON lines (docs/ledger-format.md §9) — events, signed checkpoints, the
    registry's public key — for `ccer-verify` (verifier/) or any mirror. By default a signed checkpoint of the
    head is taken first, so that the export ends anchored."""
    from ..ledger import export as exporting

    base = _checkpoint_arg(since) if since else None
    with obj.session() as session:
        upto = None
        if not no_checkpoint:
            upto = chain.take_checkpoint(session).seq
        try:
            if output:
                with open(output, "w", encoding="utf-8", newline="\n") as f:
                    n = exporting.write(session, f, since=base, upto=upto, leaves=leaves)
                click.echo(f"wrote {n} lines to {output}", err=True)
            else:
                import io

                out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n") if hasattr(sys.stdout, "buffer") else sys.stdout
                exporting.write(session, out, since=base, upto=upto, leaves=leaves)
                out.flush()
        except ValueError as exc:
            click.echo(f"error: since: {exc}", err=True)
            sys.exit(1)
