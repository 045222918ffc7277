"""Workspace pages of 审定与核查机构 (validation and verification body) (issue 16): the inbox of engagements offered
(accept/decline beside the independence check), the 100-day clock per engagement, findings (raise CAR/CL/OBS, close),
the methodology's recomputation beside the owner's figures, and the report with its commitment."""
from __future__ import annotations

import json

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..infra import clock
from ..infra.errors import DomainError
from ..projects import comments, eligibility, lifecycle
from ..projects.guards import deadline
from ..projects.models import Project
from ..requests import current_actor, db_session
from ..validation import services as vv
from ..validation.models import Engagement, Finding
from . import labels
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt, finish, flash_outcome
from .panels import Item, Panel, provides
from .vv_forms import signed_report

ACTION = "workspace.vvb"


def _engagements(session, actor, status: str | None = None) -> list[Engagement]:
    stmt = select(Engagement).where(Engagement.vvb_id == actor.organisation_id)
    if status:
        stmt = stmt.where(Engagement.status == status)
    return list(session.execute(stmt.order_by(Engagement.id)).scalars())


def _subject(session, e: Engagement):
    """(record, title, this body's page of it) for an engagement: a project (validation) or a batch (verification)."""
    if e.subject_type == "project":
        p = session.get(Project, e.subject_id)
        return p, p.title, url_for("workspace.vvb_project", project_id=p.id)
    from ..projects.models import MonitoringPeriod

    mp = session.get(MonitoringPeriod, e.subject_id)
    return mp, f"{mp.project.title} · {_('批次')} {mp.number}", url_for("workspace.vvb_batch", batch_id=mp.id)


def _engaged(session, project_id: int) -> Project:
    """A project this body validates (accepted engagement); others are not found."""
    p = lifecycle.get(session, project_id)
    if not lifecycle.is_engaged(current_actor(), p):
        abort(404)
    return p


@provides("vvb")
def panel(session, actor) -> Panel:
    out = Panel("vvb", _("审定与核查机构"))
    for e in _engagements(session, actor):
        record, title, url = _subject(session, e)
        if e.status == "proposed":
            out.waiting.append(Item(title, url_for("workspace.vvb_index"), note=_("委托待接受")))
        elif e.status == "accepted" and record.status == "publicity":
            out.waiting.append(Item(title, url, deadline=deadline(session, record), note=_("审定中")))
        elif e.status == "accepted":
            out.owned.append(Item(title, url, note=labels.record_status(record)))
    return out


@bp.get("/vvb/")
@pages_of(ACTION)
def vvb_index():
    session, actor = db_session(), current_actor()
    today = clock.today(session)
    offered, current = [], []
    for e in _engagements(session, actor):
        record, title, url = _subject(session, e)
        p = record if e.subject_type == "project" else record.project
        if e.status == "proposed":
            problem = eligibility.vvb_problem(session, e.vvb_id, p)
            offered.append({"e": e, "p": p, "title": title, "problem": problem})
        elif e.status == "accepted":
            due = deadline(session, record)
            current.append({"e": e, "p": p, "record": record, "title": title, "url": url, "due": due,
                            "days_left": (due - today).days if due else None})
    return render_template("workspace/vvb/index.html", offered=offered, current=current, today=today)


@bp.post("/vvb/engagements/<int:engagement_id>/decide")
@pages_of(ACTION)
def vvb_decide(engagement_id: int):
    session = db_session()
    accept = request.form.get("accept") == "yes"
    flash_outcome(lambda: vv.decide_engagement(session, current_actor(), engagement_id, accept),
                  lambda _e: _("已接受委托。") if accept else _("已拒绝委托。"))
    return redirect(url_for("workspace.vvb_index"))


def _recompute(p: Project) -> dict | None:
    """The methodology run again on the owner's facts and design figures, as the VVB checks them."""
    try:
        return lifecycle.estimate(p.methodology_code, json.loads(p.facts_json or "{}"), json.loads(p.design_json or "[]"))
    except DomainError as err:
        return {"error": str(err)}


def _page(p: Project, errors: Errors | None = None, status: int = 200):
    session = db_session()
    owner = json.loads(p.estimate_json or "{}")
    due = deadline(session, p)
    return render_template("workspace/vvb/project.html", p=p, owner_estimate=owner, recomputed=_recompute(p),
                           findings=vv.findings_of(session, "project", p.id), comments=comments.of(session, "project", p.id),
                           due=due, today=clock.today(session), kinds=labels.FINDING_KINDS, form=request.form,
                           errors=errors or Errors(), commitment=lifecycle.VVB_COMMITMENT), status


def _after(p: Project, errors: Errors, done: str):
    return finish(p, errors, lambda e: _page(p, e, 422), done, url_for("workspace.vvb_project", project_id=p.id))


@bp.get("/vvb/projects/<int:project_id>")
@pages_of(ACTION)
def vvb_project(project_id: int):
    return _page(_engaged(db_session(), project_id))


@bp.post("/vvb/projects/<int:project_id>/findings")
@pages_of(ACTION)
def vvb_raise(project_id: int):
    session, p = db_session(), _engaged(db_session(), project_id)
    errors = Errors()
    attempt(lambda: vv.raise_finding(session, current_actor(), "project", p.id, request.form.get("kind", ""),
                                     request.form.get("text", "")), errors, {"kind", "text", "status"})
    return _after(p, errors, _("已提出发现。"))


@bp.post("/vvb/findings/<int:finding_id>/close")
@pages_of(ACTION)
def vvb_close(finding_id: int):
    session = db_session()
    f = session.get(Finding, finding_id)
    if f is None:
        abort(404)
    errors = Errors()
    accept = request.form.get("accept", "yes") == "yes"
    done = _("已关闭发现。") if accept else _("已退回业主重新答复。")
    if f.subject_type == "monitoring_period":
        from . import batches

        mp = batches._verified_by_me(f.subject_id)
        attempt(lambda: vv.close_finding(session, current_actor(), finding_id, accept), errors, {"status"})
        return batches._after("vvb", mp, errors, done)
    p = _engaged(session, f.subject_id)
    attempt(lambda: vv.close_finding(session, current_actor(), finding_id, accept), errors, {"status"})
    return _after(p, errors, done)


@bp.post("/vvb/projects/<int:project_id>/report")
@pages_of(ACTION)
def vvb_report(project_id: int):
    """The validation report: positive (validate) or negative (reject, with reasons); the body's commitment is
    signed over the report and the design document by the transition itself (lifecycle._report)."""
    session, p = db_session(), _engaged(db_session(), project_id)
    errors = Errors()
    signed_report(errors, "validate", lambda move, **context: lifecycle.fire(session, current_actor(), p.id, move, **context))
    return _after(p, errors, _("已出具审定报告。"))
