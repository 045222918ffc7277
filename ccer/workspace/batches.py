"""Reduction batches (monitoring periods) in the workspaces (issue 16): the owner uploads the monitored data
(CSV/XLSX; a refused file names its row and column), engages a verifier, publicises the accounting report, answers
findings and applies for exactly the verified quantity; the verifier verifies with its commitment; the registry
registers (which proposes the issuance a second registry user confirms, ccer/issuance/registry_acts.py).
One service call per POST, as on the project pages."""
from __future__ import annotations

import json
import re

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import Organisation
from ..infra import clock
from ..infra.errors import DomainError
from ..projects import comments, lifecycle, monitoring
from ..projects.guards import deadline
from ..projects.models import MonitoringPeriod
from ..requests import current_actor, db_session
from ..validation import services as vv
from ..validation.models import Engagement
from . import labels
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt, finish
from .vv_forms import engage_vvb, signed_report

#: what a workspace page takes as monitored data (the API's upload takes the same: ccer/projects/api.py)
UPLOAD_TYPES = (".csv", ".xlsx")
ROW = re.compile(r"^periods\[(\d+)\]\.?(.*)$")


def where_in_file(field: str | None) -> str | None:
    """A methodology error's field as the row and column of the uploaded sheet: periods[i] is data row i + 1,
    line i + 2 under the header line."""
    m = ROW.match(field or "")
    if not m:
        return None
    i, column = int(m.group(1)), m.group(2) or "—"
    return _("第 %(line)s 行（数据第 %(row)s 行），列 %(column)s", line=i + 2, row=i + 1, column=column)


def _batches(session, project_id: int) -> list[MonitoringPeriod]:
    return list(session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == project_id)
                                .order_by(MonitoringPeriod.number)).scalars())


def batches_of(session, project_id: int) -> list[MonitoringPeriod]:
    return _batches(session, project_id)


def _engagements(session, mp) -> list[Engagement]:
    return list(session.execute(select(Engagement).where(Engagement.subject_type == "monitoring_period",
                                                         Engagement.subject_id == mp.id).order_by(Engagement.id)).scalars())


def _page(role: str, mp: MonitoringPeriod, errors: Errors | None = None, status: int = 200):
    session = db_session()
    vvbs = [o for o in session.execute(select(Organisation).order_by(Organisation.name)).scalars() if "vvb" in o.role_names]
    recomputed = None
    if role == "vvb":
        try:
            recomputed = monitoring._calculate(mp.project, json.loads(mp.data_json))
        except DomainError as err:
            recomputed = {"error": str(err)}
    return render_template("workspace/batch.html", role=role, mp=mp, p=mp.project,
                           calculation=json.loads(mp.calculation_json or "{}"), recomputed=recomputed,
                           vintages=json.loads(mp.vintages_json or "{}"), quantity=monitoring.mp_quantity(mp),
                           engagements=_engagements(session, mp), vvbs=vvbs, vvb_names={o.id: o.name for o in vvbs},
                           findings=vv.findings_of(session, "monitoring_period", mp.id),
                           comments=comments.of(session, "monitoring_period", mp.id),
                           checklist=monitoring.checklist(session, mp) if role == "registry" else [],
                           due=deadline(session, mp), today=clock.today(session), kinds=labels.FINDING_KINDS,
                           form=request.form, errors=errors or Errors(), vvb_commitment=lifecycle.VVB_COMMITMENT,
                           owner_commitment=lifecycle.OWNER_COMMITMENT.replace("Art. 14", "Art. 21")), status


def _after(role: str, mp: MonitoringPeriod, errors: Errors, done: str):
    return finish(mp, errors, lambda e: _page(role, mp, e, 422), done, url_for(f"workspace.{role}_batch", batch_id=mp.id))


def _owned(batch_id: int) -> MonitoringPeriod:
    mp = monitoring.get(db_session(), batch_id)
    if not lifecycle.owns(current_actor(), mp):
        abort(404)
    return mp


def _verified_by_me(batch_id: int) -> MonitoringPeriod:
    mp = monitoring.get(db_session(), batch_id)
    if not lifecycle.is_engaged(current_actor(), mp):
        abort(404)
    return mp


# ---- the owner -------------------------------------------------------------------------------------------


@bp.get("/owner/batches/<int:batch_id>")
@pages_of("workspace.owner")
def owner_batch(batch_id: int):
    return _page("owner", _owned(batch_id))


@bp.post("/owner/batches/<int:batch_id>/engage")
@pages_of("workspace.owner")
def owner_batch_engage(batch_id: int):
    mp, session = _owned(batch_id), db_session()
    errors = Errors()
    engage_vvb(session, "verification", mp.id, errors)
    return _after("owner", mp, errors, _("已委托，等待对方接受。"))


@bp.post("/owner/batches/<int:batch_id>/fire/<transition>")
@pages_of("workspace.owner")
def owner_batch_fire(batch_id: int, transition: str):
    mp, session = _owned(batch_id), db_session()
    if transition not in ("publicise", "apply", "reapply"):
        abort(404)
    errors = Errors()
    if transition != "publicise" and request.form.get("commitment") != "yes":
        errors["commitment"] = _("申请登记须签署承诺书")  # Measures Art. 21
    else:
        context = {"quantity": mp.verified_quantity} if transition != "publicise" else {}
        attempt(lambda: monitoring.fire(session, current_actor(), mp.id, transition, **context), errors, {"status"})
    return _after("owner", mp, errors, _("已完成：") + transition)


# ---- the verifier ------------------------------------------------------------------------------------------


@bp.get("/vvb/batches/<int:batch_id>")
@pages_of("workspace.vvb")
def vvb_batch(batch_id: int):
    return _page("vvb", _verified_by_me(batch_id))


@bp.post("/vvb/batches/<int:batch_id>/findings")
@pages_of("workspace.vvb")
def vvb_batch_raise(batch_id: int):
    mp, session = _verified_by_me(batch_id), db_session()
    errors = Errors()
    attempt(lambda: vv.raise_finding(session, current_actor(), "monitoring_period", mp.id, request.form.get("kind", ""),
                                     request.form.get("text", "")), errors, {"kind", "text", "status"})
    return _after("vvb", mp, errors, _("已提出发现。"))


@bp.post("/vvb/batches/<int:batch_id>/report")
@pages_of("workspace.vvb")
def vvb_batch_report(batch_id: int):
    mp, session = _verified_by_me(batch_id), db_session()
    errors = Errors()
    signed_report(errors, "verify", lambda move, **context: monitoring.fire(session, current_actor(), mp.id, move, **context))
    return _after("vvb", mp, errors, _("已出具核查报告。"))


# ---- the registry ------------------------------------------------------------------------------------------


@bp.get("/registry/batches/<int:batch_id>")
@pages_of("workspace.registry")
def registry_batch(batch_id: int):
    return _page("registry", monitoring.get(db_session(), batch_id))


@bp.post("/registry/batches/<int:batch_id>/decide")
@pages_of("workspace.registry")
def registry_batch_decide(batch_id: int):
    session = db_session()
    mp = monitoring.get(session, batch_id)
    decision = request.form.get("decision", "")
    if decision not in ("register", "return", "refuse"):
        abort(404)
    errors = Errors()
    attempt(lambda: monitoring.fire(session, current_actor(), mp.id, decision, reason=request.form.get("reason", "")),
            errors, {"reason", "status"})
    done = {"register": _("已登记；签发待第二位登记人员确认。"), "return": _("已退回补充。"), "refuse": _("已不予登记。")}[decision]
    return _after("registry", mp, errors, done)
