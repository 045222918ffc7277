"""ccer methodology list | show | calc | new | check"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..methodologies import conformance, inputs, registry, scaffold
from . import main


@main.group("methodology")
def methodology() -> None:
    """Methodology plug-ins: estimates, ex-post calculations, and the author's kit."""


@methodology.command("list")
def list_() -> None:
    for code, m in registry.installed().items():
        click.echo(f"{code}  {m.name_zh}  ({m.name_en}; sector {m.sector}; {m.status})")


@methodology.command("show")
@click.argument("code")
def show(code: str) -> None:
    """Everything a methodology declares, as JSON."""
    click.echo(json.dumps(registry.get(code).describe(), ensure_ascii=False, indent=2, default=str))


@methodology.command("calc")
@click.argument("code")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=".json, .csv or .xlsx")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--stage", type=click.Choice(inputs.STAGES), help="for CSV/XLSX input (default ex-post)")
@click.option("--project", "project_json", help="project facts as JSON, for CSV/XLSX input")
def calc(code: str, input_path: Path, fmt: str, stage: str | None, project_json: str | None) -> None:
    """Run the formulas on an input file; prints periods, totals and the trace."""
    m = registry.get(code)
    if not input_path.exists():
        raise click.BadParameter(f"{input_path} does not exist", param_hint="--input")
    try:
        project = json.loads(project_json) if project_json else None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--project")
    result = m.calculate(inputs.load(input_path, stage, project)).to_dict()
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{m.code} {m.name_zh} — {result['stage']}")
    click.echo(f"{'period':<25}{'BE':>16}{'PE':>14}{'LE':>10}{'ER':>16}")
    for p in result["periods"]:
        click.echo(f"{p['start'] + ' – ' + p['end']:<25}{p['BE']:>16,.4f}{p['PE']:>14,.4f}{p['LE']:>10,.4f}{p['ER']:>16,.4f}")
    t = result["total"]
    click.echo(f"{'total':<25}{t['BE']:>16,.4f}{t['PE']:>14,.4f}{t['LE']:>10,.4f}{t['ER']:>16,.4f}")
    click.echo(f"ER credited (whole tCO2e, rounded down): {t['ER_credited']:,}")
    for note in result["notes"]:
        click.echo(note)


@methodology.command("new")
@click.argument("code")
@click.option("--name", help="Chinese name of the methodology")
@click.option("--into", "root", type=click.Path(file_okay=False, path_type=Path), default=Path("methodologies"), show_default=True)
def new(code: str, name: str | None, root: Path) -> None:
    """Scaffold a methodology module that passes the conformance suite as it stands."""
    folder = scaffold.create(code, root, name)
    click.echo(f"created {folder}: edit __init__.py, data/defaults.json, examples/, README.md; then `ccer methodology check {folder}`")


@methodology.command("check")
@click.argument("code_or_path")
def check(code_or_path: str) -> None:
    """Run the conformance suite on an installed methodology or a module folder."""
    report = conformance.run(registry.resolve(code_or_path))
    for c in report.checks:
        click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name}" + (f" — {c.detail}" if c.detail and not c.ok else ""))
    click.echo(f"{report.code}: {'conforms' if report.ok else 'does NOT conform'} ({sum(c.ok for c in report.checks)}/{len(report.checks)} checks)")
    if not report.ok:
        sys.exit(1)
