"""ccer legacy record-project | record-batch | list: old-regime CCERs (Measures Art. 49; MEE notice 2023-10-24 [S6];
ccer/issuance/legacy.py). The registry records a project filed before 2017-03-14 and its old batches, as a named
registry user (`--as`, the permission the services check); the batches are then issued like any registered batch
(`ccer registry issue`, maker–checker)."""
from __future__ import annotations

import click

from ..infra import bounds
from ..infra.errors import NotFound, ValidationError
from . import main

AS_REGISTRY = click.option("--as", "username", required=True, help="the registry user recording it")


@main.group("legacy")
def legacy_group() -> None:
    """Old-regime CCERs: projects filed before 2017-03-14, their old batches and what their CCERs may be used for."""


def _registry_user(session, username: str):
    from .registry_cmd import _user

    return _user(session, username)


@legacy_group.command("record-project")
@click.option("--title", required=True)
@click.option("--filing-no", required=True, help="the old regime's filing (备案) number")
@click.option("--filed-on", required=True, help="the filing date YYYY-MM-DD, before 2017-03-14 (Measures Art. 49)")
@click.option("--owner-uscc", required=True, help="the owner's 统一社会信用代码")
@click.option("--sector", required=True, help="the two-digit field its serials carry (01 energy … 14 forestry)")
@click.option("--old-methodology", required=True, help="e.g. CM-001-V01")
@click.option("--province")
@AS_REGISTRY
@click.pass_obj
def record_project(obj, title, filing_no, filed_on, owner_uscc, sector, old_methodology, province, username) -> None:
    """Record a project filed under the old regime, with its filing number."""
    from sqlalchemy import select

    from ..auth.models import Organisation
    from ..issuance import legacy

    with obj.session() as session:
        actor = _registry_user(session, username)
        owner = session.execute(select(Organisation).where(Organisation.uscc == owner_uscc.strip().upper())).scalar_one_or_none()
        if owner is None:
            raise NotFound(f"no organisation with 统一社会信用代码 {owner_uscc}", field="owner-uscc")
        p = legacy.record_project(session, actor, title=title, old_methodology=old_methodology, sector=sector, owner_id=owner.id,
                                  province=province, filing_no=filing_no, filed_on=filed_on)
        click.echo(f"project {p.id}: registry No. {p.registry_no:06d} {p.methodology_code} {p.title} — filing {filing_no}, "
                   f"{owner.name}; record its old batches: ccer legacy record-batch {p.id} …")


def _vintages(pairs: tuple[str, ...]) -> dict:
    """--vintage 2016=1000 … → {"2016": 1000}; the service checks the years against the period."""
    out = {}
    for pair in pairs:
        year, _, quantity = pair.partition("=")
        if not (year.strip().isdigit() and quantity.strip().isdigit() and 1 <= int(quantity) <= bounds.MAX_TONNES):
            raise ValidationError(f"{pair!r} is not YEAR=TONNES (whole tCO2e ≥ 1)", field="vintage", rule="Trading Rules Art. 10")
        out[year.strip()] = int(quantity)
    return out


@legacy_group.command("record-batch")
@click.argument("project_id", type=int)
@click.option("--start", required=True, help="first day of the batch's period, YYYY-MM-DD")
@click.option("--end", required=True, help="last day of the batch's period, YYYY-MM-DD")
@click.option("--vintage", "vintages", multiple=True, required=True, help="YEAR=TONNES, as filed; repeat for each vintage")
@click.option("--source", required=True, help="where the figures come from (the old registry's record)")
@click.option("--number", type=int, help="the batch number (default: the next one)")
@AS_REGISTRY
@click.pass_obj
def record_batch(obj, project_id, start, end, vintages, source, number, username) -> None:
    """Record an old batch of an old-regime project as filed, registered; issue it with `ccer registry issue`."""
    from ..issuance import legacy
    from ..projects import monitoring

    with obj.session() as session:
        actor = _registry_user(session, username)
        project = legacy.get_project(session, project_id)
        mp = monitoring.import_listed_batch(session, actor, project.id, start, end, _vintages(vintages), source, number=number)
        click.echo(f"batch {mp.number} of project {project.registry_no:06d}: {mp.verified_quantity:,} tCO2e {mp.status}; "
                   f"issue it: ccer registry issue --batch-id {mp.id} --as USER")


@legacy_group.command("list")
@click.pass_obj
def list_(obj) -> None:
    """The old-regime projects with their filing, old batches and what their CCERs may be used for."""
    from ..issuance import legacy
    from ..projects.models import Project

    with obj.session() as session:
        rows = legacy.views(session, list(session.execute(legacy.projects_query().order_by(Project.id)).scalars()))
        if not rows:
            click.echo("no old-regime project is recorded")
        for r in rows:
            u = r["uses"]
            click.echo(f"{r['id']:>5} {r['registry_no']:06d} filing {r['filing_no']} of {r['filed_on']} {r['methodology_code']} "
                       f"{r['title']} ({r['owner']}): {len(r['batches'])} batch{'' if len(r['batches']) == 1 else 'es'}, {r['quantity']:,} tCO2e, {r['issued']:,} issued; "
                       f"national ETS until {u['national_ets_until']}, other uses {u['other_uses']}")
