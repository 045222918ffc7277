"""ccer project …: the registry operator's view of the lifecycle — list, show, checklist, and the registry's
own decisions (register, return, refuse, cancel, revoke). Owners and VVBs act through the API and pages."""
from __future__ import annotations

import click
from sqlalchemy import select

from ..infra.actor import Actor
from . import main

OPERATOR = Actor.system("cli")


@main.group("project")
def project() -> None:
    """Projects and reduction batches through the lifecycle."""


@project.command("list")
@click.option("--status")
@click.pass_obj
def list_(obj, status) -> None:
    from ..projects.models import Project

    with obj.session() as session:
        stmt = select(Project).order_by(Project.id)
        if status:
            stmt = stmt.where(Project.status == status)
        for p in session.execute(stmt).scalars():
            no = f"{p.registry_no:06d}" if p.registry_no else "------"
            click.echo(f"{p.id:>5} {no} {p.status:<10} {p.methodology_code} {p.title}")


@project.command("show")
@click.argument("project_id", type=int)
@click.pass_obj
def show(obj, project_id) -> None:
    """The record, its deadlines and its monitoring periods."""
    from ..projects import lifecycle
    from ..projects.models import MonitoringPeriod

    with obj.session() as session:
        p = lifecycle.get(session, project_id)
        view = lifecycle.public_view(session, p, OPERATOR)
        for key in ("title", "status", "registry_no", "methodology_code", "construction_start", "crediting_start", "crediting_end",
                    "publicity_start", "publicity_end", "validation_due", "review_due", "estimate_tco2e", "reason"):
            click.echo(f"{key:<20} {view[key] if view[key] is not None else '—'}")
        for mp in session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == p.id).order_by(MonitoringPeriod.number)).scalars():
            click.echo(f"batch {mp.number}: {mp.start}–{mp.end} {mp.status} verified={mp.verified_quantity} review_due={mp.review_due}")


@project.command("checklist")
@click.argument("project_id", type=int)
@click.option("--batch", type=int, help="a monitoring period's number instead of the project")
@click.pass_obj
def checklist(obj, project_id, batch) -> None:
    """The completeness and conformity checklist (Measures Art. 15, 22)."""
    from ..projects import lifecycle, monitoring
    from ..projects.models import MonitoringPeriod

    with obj.session() as session:
        p = lifecycle.get(session, project_id)
        if batch:
            mp = session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == p.id, MonitoringPeriod.number == batch)).scalar_one_or_none()
            if mp is None:
                raise click.BadParameter(f"project {project_id} has no batch {batch}", param_hint="--batch")
            items = monitoring.checklist(session, mp)
        else:
            items = lifecycle.checklist(session, p)
        for i in items:
            click.echo(f"{'✔' if i['ok'] else '✘'} {i['item']} [{i['rule']}]" + (f" — {i['detail']}" if i.get("detail") else ""))


@project.command("decide")
@click.argument("project_id", type=int)
@click.argument("decision", type=click.Choice(["register", "return", "refuse", "cancel", "revoke"]))
@click.option("--batch", type=int, help="decide on this monitoring period instead of the project")
@click.option("--reason")
@click.pass_obj
def decide(obj, project_id, decision, batch, reason) -> None:
    """The registry's decision on an application (or a cancellation / revocation of the project)."""
    from ..projects import lifecycle, monitoring
    from ..projects.models import MonitoringPeriod

    with obj.session() as session:
        if batch:
            mp = session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == project_id, MonitoringPeriod.number == batch)).scalar_one_or_none()
            if mp is None:
                raise click.BadParameter(f"project {project_id} has no batch {batch}", param_hint="--batch")
            mp = monitoring.fire(session, OPERATOR, mp.id, decision, reason=reason)
            click.echo(f"batch {mp.number} of project {project_id}: {mp.status}")
            if decision == "register":  # the issuance is the registry's two-user act (ccer/issuance/registry_acts.py)
                click.echo(f"issue it: ccer registry issue --batch-id {mp.id} --as USER; a second registry user confirms")
        else:
            p = lifecycle.fire(session, OPERATOR, project_id, decision, reason=reason)
            click.echo(f"project {p.id}: {p.status}" + (f", registry No. {p.registry_no:06d}" if p.registry_no else ""))
